"""The claims catalogue: the paper's Table 3 claims, Table 4 hypotheses and
review flow, loaded from ``claims.toml`` (package data) and validated.

The file is data so that researchers can read, cite and correct it without
touching code; :func:`load_catalogue` refuses a malformed file with a message
naming the file and the offending entry.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from ..errors import InputError

Basis = Literal["large-scale measurement", "small-scale measurement", "survey", "interviews", "case study"]
BASES: tuple[str, ...] = get_args(Basis)
Wording = Literal["verbatim", "paraphrase"]
WORDINGS: tuple[str, ...] = get_args(Wording)
Content = Literal["confirmed", "reconstructed"]
CONTENTS: tuple[str, ...] = get_args(Content)

REVIEW_FLOW_KEYS = (
    "papers_found",
    "papers_after_dedup",
    "papers_included",
    "claims_discussed",
    "claims_kept",
    "claims_kept_motivation",
    "claims_kept_work",
    "claims_consolidated",
    "claims_lacking_quantitative_support",
)


@dataclass(frozen=True)
class Claim:
    id: str
    theme: str
    text: str
    wording: str
    content: str
    source: str
    basis: tuple[str, ...]
    cited_works: tuple[str, ...]
    lacked_quantitative_support: bool
    metrics: tuple[str, ...]
    not_measurable: str | None = None
    extra: bool = False  # True for ptmscope's own claims (not in the paper)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["basis"] = list(self.basis)
        d["cited_works"] = list(self.cited_works)
        d["metrics"] = list(self.metrics)
        return d


@dataclass(frozen=True)
class Hypothesis:
    id: str
    claim: str
    metric: str
    metric_name: str
    hypothesis: str
    wording: str
    paper_measured: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Catalogue:
    path: str
    paper: dict[str, Any]
    review_flow: dict[str, int]
    claims: tuple[Claim, ...]
    hypotheses: tuple[Hypothesis, ...]
    metrics: dict[str, dict[str, str]] = field(default_factory=dict)

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)

    def claims_for_metric(self, metric: str) -> list[Claim]:
        return [c for c in self.claims if metric in c.metrics]

    def to_dict(self) -> dict[str, Any]:
        return {
            "paper": dict(self.paper),
            "review_flow": dict(self.review_flow),
            "claims": [c.to_dict() for c in self.claims],
            "hypotheses": [h.to_dict() for h in self.hypotheses],
            "metrics": {k: dict(v) for k, v in sorted(self.metrics.items())},
        }


def toml_error_line(exc: Exception) -> int | None:
    """The line of a TOML syntax error (``lineno`` on Python >= 3.14, else from the message)."""
    line = getattr(exc, "lineno", None)
    if line is None:
        m = re.search(r"at line (\d+)", str(exc))
        line = int(m.group(1)) if m else None
    return line


def read_toml(path: str | Path, what: str = "TOML file") -> dict[str, Any]:
    """Parse a TOML file; every way it can fail is one InputError naming it."""
    p = Path(path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(p, "no such file") from None
    except IsADirectoryError:
        raise InputError(p, f"is a folder, not a {what}") from None
    except UnicodeDecodeError:
        raise InputError(p, f"not UTF-8 text: not a {what}") from None
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(p, f"not valid TOML: {exc}", line=toml_error_line(exc)) from None


def default_catalogue_path() -> Path:
    return Path(str(resources.files("ptmscope.claims").joinpath("claims.toml")))


def _req(entry: dict[str, Any], key: str, typ: type | tuple[type, ...], where: str, path: Path) -> Any:
    if key not in entry:
        raise InputError(path, f"{where}: missing key {key!r}")
    v = entry[key]
    if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
        raise InputError(path, f"{where}: {key!r} must be {getattr(typ, '__name__', typ)}, got {type(v).__name__}")
    return v


def _str_list(entry: dict[str, Any], key: str, where: str, path: Path) -> tuple[str, ...]:
    v = _req(entry, key, list, where, path)
    if not all(isinstance(x, str) and x for x in v):
        raise InputError(path, f"{where}: {key!r} must be a list of non-empty strings")
    return tuple(v)


def parse_catalogue(data: dict[str, Any], path: Path) -> Catalogue:
    """Validate the parsed TOML of a catalogue; raise :class:`InputError` on any defect."""
    if data.get("schema_version") != 1:
        raise InputError(path, f"schema_version must be 1, got {data.get('schema_version')!r}")
    paper = _req(data, "paper", dict, "top level", path)
    flow = _req(data, "review_flow", dict, "top level", path)
    for k in REVIEW_FLOW_KEYS:
        v = _req(flow, k, int, "[review_flow]", path)
        if v < 0:
            raise InputError(path, f"[review_flow]: {k} must be >= 0")
    unknown = sorted(set(flow) - set(REVIEW_FLOW_KEYS))
    if unknown:
        raise InputError(path, f"[review_flow]: unknown keys {unknown}")
    # internal consistency of the flow: each stage no larger than the one before
    if not flow["papers_found"] >= flow["papers_after_dedup"] >= flow["papers_included"]:
        raise InputError(path, "[review_flow]: papers must shrink found >= after_dedup >= included")
    if not flow["claims_discussed"] >= flow["claims_kept"] >= flow["claims_consolidated"]:
        raise InputError(path, "[review_flow]: claims must shrink discussed >= kept >= consolidated")
    if flow["claims_kept_motivation"] + flow["claims_kept_work"] != flow["claims_kept"]:
        raise InputError(path, "[review_flow]: claims_kept_motivation + claims_kept_work must equal claims_kept")

    metrics_tbl = data.get("metrics", {})
    if not isinstance(metrics_tbl, dict):
        raise InputError(path, "[metrics] must be a table")
    metric_ids = set(metrics_tbl)

    claims: list[Claim] = []
    seen: set[str] = set()
    for section, extra in (("claims", False), ("extra_claims", True)):
        for i, entry in enumerate(data.get(section, [])):
            where = f"[[{section}]] #{i + 1}"
            if not isinstance(entry, dict):
                raise InputError(path, f"{where}: must be a table")
            cid = _req(entry, "id", str, where, path)
            where = f"{where} ({cid})"
            if cid in seen:
                raise InputError(path, f"{where}: duplicate claim id")
            seen.add(cid)
            wording = _req(entry, "wording", str, where, path)
            if wording not in WORDINGS:
                raise InputError(path, f"{where}: wording must be one of {', '.join(WORDINGS)}")
            content = _req(entry, "content", str, where, path)
            if content not in CONTENTS:
                raise InputError(path, f"{where}: content must be one of {', '.join(CONTENTS)}")
            basis = _str_list(entry, "basis", where, path) if "basis" in entry else ()
            bad = [b for b in basis if b not in BASES]
            if bad:
                raise InputError(path, f"{where}: unknown basis {bad}; allowed: {', '.join(BASES)}")
            metrics = _str_list(entry, "metrics", where, path)
            bad = [m for m in metrics if m not in metric_ids]
            if bad:
                raise InputError(path, f"{where}: unknown metric {bad}; declare it under [metrics]")
            not_measurable = entry.get("not_measurable")
            if not metrics and not (isinstance(not_measurable, str) and not_measurable.strip()):
                raise InputError(path, f"{where}: a claim no metric tests must say why in not_measurable")
            claims.append(
                Claim(
                    id=cid,
                    theme=_req(entry, "theme", str, where, path),
                    text=_req(entry, "text", str, where, path),
                    wording=wording,
                    content=content,
                    source=_req(entry, "source", str, where, path),
                    basis=basis,
                    cited_works=_str_list(entry, "cited_works", where, path),
                    lacked_quantitative_support=_req(entry, "lacked_quantitative_support", bool, where, path),
                    metrics=metrics,
                    not_measurable=not_measurable,
                    extra=extra,
                )
            )
    paper_claims = [c for c in claims if not c.extra]
    if len(paper_claims) != flow["claims_consolidated"]:
        raise InputError(
            path, f"[[claims]]: {len(paper_claims)} claims but review_flow says {flow['claims_consolidated']}"
        )
    lacking = sum(c.lacked_quantitative_support for c in paper_claims)
    if lacking != flow["claims_lacking_quantitative_support"]:
        raise InputError(
            path,
            f"[[claims]]: {lacking} claims marked lacked_quantitative_support but review_flow says "
            f"{flow['claims_lacking_quantitative_support']}",
        )

    hyps: list[Hypothesis] = []
    for i, entry in enumerate(data.get("hypotheses", [])):
        where = f"[[hypotheses]] #{i + 1}"
        hid = _req(entry, "id", str, where, path)
        where = f"{where} ({hid})"
        claim = _req(entry, "claim", str, where, path)
        if claim not in seen:
            raise InputError(path, f"{where}: unknown claim {claim!r}")
        metric = _req(entry, "metric", str, where, path)
        if metric not in metric_ids:
            raise InputError(path, f"{where}: unknown metric {metric!r}")
        wording = _req(entry, "wording", str, where, path)
        if wording not in WORDINGS:
            raise InputError(path, f"{where}: wording must be one of {', '.join(WORDINGS)}")
        hyps.append(
            Hypothesis(
                id=hid,
                claim=claim,
                metric=metric,
                metric_name=_req(entry, "metric_name", str, where, path),
                hypothesis=_req(entry, "hypothesis", str, where, path),
                wording=wording,
                paper_measured=_req(entry, "paper_measured", bool, where, path),
            )
        )
    if len({h.id for h in hyps}) != len(hyps):
        raise InputError(path, "[[hypotheses]]: duplicate ids")
    return Catalogue(
        path=str(path),
        paper=paper,
        review_flow={k: flow[k] for k in REVIEW_FLOW_KEYS},
        claims=tuple(claims),
        hypotheses=tuple(hyps),
        metrics={k: {kk: str(vv) for kk, vv in v.items()} for k, v in metrics_tbl.items()},
    )


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate a catalogue (default: the one shipped with ptmscope)."""
    p = Path(path) if path is not None else default_catalogue_path()
    data = read_toml(p, "claims catalogue (TOML file)")
    return parse_catalogue(data, p)
