"""A PROXY for Table 3 claim T3.4 ("Forking repositories introduces low severity
vulnerabilities"): do derived models ship weights only in pickle-based formats
more often than the models they derive from?

Vulnerability severity (CVE/CVSS scores) is not in registry data and is not
measured here.  What registry data does show is whether a repository's
weights exist only in formats that run code when loaded (Python pickle:
``torch.save`` ``.bin``/``.pt``/``.pth``/``.ckpt``, ``.pkl``/``.pickle``,
``.joblib``; and Keras ``.h5``, which the issue lists with them: a Keras
HDF5 file can carry a ``Lambda`` layer's code), with no ``.safetensors``
file beside them.  A descendant that is *pickle-only* while its base offers
safetensors is one way forking introduces a (low-severity, loader-dependent)
risk; the reverse is forking removing it.

**File lists** (``package_files``: Hub ``siblings``) of a snapshot with
resolved lineage.  A repository is

* ``pickle_only``: at least one file with a pickle-based suffix and no
  ``.safetensors`` file;
* ``safetensors``: at least one ``.safetensors`` file;
* ``other``: neither, but a weight file in another format (``.onnx``,
  ``.msgpack``, ``.gguf``, ``.ggml``, ``.tflite``, ``.mlmodel``, ``.npz``,
  ``.keras``);
* without weights (no such file): left out.

Training-state files (``training_args.bin``, ``optimizer.pt``,
``scheduler.pt``, ``scaler.pt``, ``rng_state*.pth``) are pickles but not
weights and are ignored.  For every lineage edge (distinct child, resolved
parent) whose two ends have weights: ``desc_share`` = share of the edges
whose child is pickle-only, ``base_share`` = share whose parent is, and
``diff = desc_share - base_share``, with a 95% percentile cluster bootstrap
over parents (a parent's children are not independent); ``introduced`` /
``removed`` count the discordant edges.  The snapshot is the one with the
most such edges among those where some repository has a ``.safetensors``
file: where none has (the 2022-02 dump predates the format), every model
with weights is pickle-only and the comparison cannot tell anything; such
snapshots are still tabulated.

**Commit history** (``commits``): a repository's formats are those of every
file its commits touched, each classed by its ``formats`` label where the
history gives one (the safetensors-history data: ``torch.save``,
``pickle``, ``h5/hdf5``, ``joblib`` are pickle-based) or by its suffix;
training-state files are ignored.  Pickle-only = some
pickle-based weight commit and never a safetensors one.  Descendants and
bases are repositories that are a lineage child (with a resolved parent) or
a resolved parent in *any* Hub snapshot of the store (case-insensitive ids).
Also: the share of repositories still pickle-only at the end of each month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import numpy as np
from pydantic import Field

from ..errors import NotMeasurable, PtmscopeError
from ..snapshots import SnapshotRef, as_selection, pick, resolve
from .naming import wilson
from .registry import Context, Metric, Params, ReportTable, register

NAME = "pickle_only"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".h5")
OTHER_SUFFIXES = (".onnx", ".msgpack", ".gguf", ".ggml", ".tflite", ".mlmodel", ".npz", ".keras")
SAFETENSORS = ".safetensors"
TRAINING_STATE = r"^(training_args\.bin|optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state.*\.pth)$"
PICKLE_FORMATS = ("torch.save", "pickle", "h5/hdf5", "joblib")
CAPTION = (
    "A proxy, not the claim: CVE severity is not measurable from registry data; shown is whether weights exist "
    "only in pickle-based formats."
)


class PickleOnlyParams(Params):
    n_boot: int = Field(1000, ge=0, description="Bootstrap resamples (over parent models) for the 95% intervals.")
    seed: int = Field(0, description="Bootstrap seed.")


DEFAULTS = PickleOnlyParams()


@dataclass(frozen=True)
class PickleOnlyResult:
    metric: str
    proxy_for: str
    not_measurable: str
    caption_note: str
    synthetic: bool
    files: dict[str, Any] | None  # {"snapshot_id" (the primary), "by_snapshot": [...]}
    files_missing: str | None
    commits: dict[str, Any] | None
    commits_missing: str | None
    rests_on: list[dict[str, Any]]
    notes: list[str]  # what could not be measured, and why (shown as notes in the report)
    method: str = (
        "file suffixes per repository; edge-level shares of pickle-only children vs parents, cluster bootstrap over "
        "parents; commit formats per repository"
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bare(msg: str | None) -> str:
    """A reason without this metric's name in front (the combined message names it once)."""
    return (msg or "").removeprefix(f"{NAME}: ")


def _ends(s: Any, suffixes: tuple[str, ...]) -> Any:
    low = s.lower()
    out = low.endswith(suffixes[0])
    for x in suffixes[1:]:
        out = out | low.endswith(x)
    return out


def weight_classes(backend: Any, snapshot_ids: list[str]) -> ibis.Table:
    """snapshot_id, package_id, st, pk, po (pickle-only) for repositories with at least one weight file."""
    f = backend.table("package_files")
    f = f.filter(f.snapshot_id.isin(snapshot_ids))
    base = f.path.re_extract(r"[^/]*$", 0).lower()
    f = f.mutate(
        st=_ends(f.path, (SAFETENSORS,)),
        pk=_ends(f.path, PICKLE_SUFFIXES) & ~base.re_search(TRAINING_STATE),
        ot=_ends(f.path, OTHER_SUFFIXES),
    )
    g = f.group_by(["snapshot_id", "package_id"]).aggregate(st=f.st.any(), pk=f.pk.any(), ot=f.ot.any())
    g = g.filter(g.st | g.pk | g.ot)
    return g.mutate(po=g.pk & ~g.st)


def _cluster_ci(prof: Any, n_boot: int, seed: int) -> tuple[list[float | None], list[float | None]]:
    """95% intervals of desc_share and diff, resampling parents (rows: n children, pickle-only children, parent po)."""
    if n_boot == 0 or prof.empty:
        return [None, None], [None, None]
    n = prof["n"].to_numpy(float)
    k = prof["k"].to_numpy(float)
    ppo = prof["ppo"].to_numpy(float)
    c = prof["count"].to_numpy(float)
    rng = np.random.default_rng(seed)
    total = int(c.sum())
    w = rng.multinomial(total, c / total, size=n_boot).astype(float)
    den = w @ n
    with np.errstate(invalid="ignore", divide="ignore"):
        desc = (w @ k) / den
        diff = desc - (w @ (n * ppo)) / den

    def q(x: np.ndarray) -> list[float | None]:
        x = x[np.isfinite(x)]
        return [float(v) for v in np.quantile(x, [0.025, 0.975])] if x.size else [None, None]

    return q(desc), q(diff)


def files_block(backend: Any, snap: SnapshotRef, p: PickleOnlyParams) -> dict[str, Any]:
    """The file-list comparison on one snapshot."""
    sid = snap.snapshot_id
    w = weight_classes(backend, [sid])
    counts = (
        backend.table("package_files")
        .filter(ibis._.snapshot_id == sid)
        .aggregate(models_with_files=ibis._.package_id.nunique())
        .execute()
        .iloc[0]
    )
    wc = w.aggregate(
        models_with_weights=w.count(), n_pickle_only=w.po.sum(), safetensors=w.st.sum(), other=(~w.po & ~w.st).sum()
    ).execute()
    wc = wc.iloc[0]
    ln = backend.table("lineage")
    ln = ln.filter((ln.snapshot_id == sid) & ln.parent_id.notnull())
    e = ln.group_by(["child", "parent_id"]).aggregate(known=ln.relation.min(where=ln.relation != "unknown"))
    e = e.select("child", "parent_id", relation=e.known.fill_null("unknown"))
    ch = w.select(cid=w.package_id, cpo=w.po)
    pa = w.select(ppid=w.package_id, ppo=w.po)
    j = e.join(ch, e.child == ch.cid).join(pa, e.parent_id == pa.ppid)
    per_parent = j.group_by("parent_id").aggregate(n=j.count(), k=j.cpo.sum(), ppo=j.ppo.any().cast("int64"))
    # ordered: the bootstrap draws multinomial weights per row, so the row order is part of the interval
    prof = per_parent.group_by(["n", "k", "ppo"]).aggregate(count=per_parent.count()).order_by(["n", "k", "ppo"])
    prof = prof.execute()
    rel = (
        j.group_by("relation")
        .aggregate(
            edges=j.count(),
            child_pickle_only=j.cpo.sum(),
            parent_pickle_only=j.ppo.sum(),
            introduced=(j.cpo & ~j.ppo).sum(),
            removed=(j.ppo & ~j.cpo).sum(),
        )
        .order_by([ibis.desc("edges"), "relation"])
        .execute()
    )
    children = e.select(dc=e.child).distinct()
    nondesc = w.left_join(children, w.package_id == children.dc).filter(ibis._.dc.isnull())
    nd = nondesc.aggregate(n=nondesc.count(), po=nondesc.po.sum()).execute().iloc[0]
    n = prof["n"].to_numpy(float)
    c = prof["count"].to_numpy(float)
    edges = float((n * c).sum())
    k_sum = float((prof["k"].to_numpy(float) * c).sum())
    base_po = float((n * prof["ppo"].to_numpy(float) * c).sum())
    desc_ci, diff_ci = _cluster_ci(prof, p.n_boot, p.seed)
    n_bases = int(c.sum())
    bases_po = int((prof["ppo"].to_numpy(float) * c).sum())
    mw = int(wc["models_with_weights"] or 0)
    relation_rows = [
        {
            "relation": str(r.relation),
            "edges": int(r.edges),
            "child_pickle_only": int(r.child_pickle_only),
            "parent_pickle_only": int(r.parent_pickle_only),
            "introduced": int(r.introduced),
            "removed": int(r.removed),
        }
        for r in rel.itertuples(index=False)
    ]
    return {
        "snapshot_id": sid,
        "taken_at": snap.taken_at.isoformat(),
        "models_with_files": int(counts["models_with_files"] or 0),
        "models_with_weights": mw,
        "n_pickle_only": int(wc["n_pickle_only"] or 0),
        "safetensors": int(wc["safetensors"] or 0),
        "other_formats_only": int(wc["other"] or 0),
        "share_pickle_only": int(wc["n_pickle_only"] or 0) / mw if mw else None,
        "any_safetensors": bool(int(wc["safetensors"] or 0) > 0),
        "edges": int(edges),
        "desc_share": k_sum / edges if edges else None,
        "desc_share_ci": desc_ci,
        "base_share": base_po / edges if edges else None,
        "diff": (k_sum - base_po) / edges if edges else None,
        "diff_ci": diff_ci,
        "introduced": sum(r["introduced"] for r in relation_rows),
        "removed": sum(r["removed"] for r in relation_rows),
        "bases": n_bases,
        "bases_pickle_only": bases_po,
        "bases_share": bases_po / n_bases if n_bases else None,
        "non_descendants": int(nd["n"] or 0),
        "non_descendants_share": int(nd["po"] or 0) / int(nd["n"]) if nd["n"] else None,
        "by_relation": relation_rows,
    }


def _commit_classes(backend: Any, sid: str) -> ibis.Table:
    """package_id, commit_id, committed_at, st, pk for commits that touched a weight file.

    Each touched file is classed by its format label (where the history gives one) or its suffix;
    training-state files are ignored whatever their label.
    """
    c = backend.table("commits")
    c = c.filter(c.snapshot_id == sid)
    keys = ["package_id", "commit_id", "committed_at"]
    fl = c.select(*keys, f=c.files).unnest("f", offset="i")
    fm = c.select(mp=c.package_id, mc=c.commit_id, x=c.formats).unnest("x", offset="j")
    j = fl.left_join(fm, (fl.package_id == fm.mp) & (fl.commit_id == fm.mc) & (fl.i == fm.j))
    base = j.f.re_extract(r"[^/]*$", 0).lower()
    weight = ~base.re_search(TRAINING_STATE)
    fmt = j.x.fill_null("")
    j = j.select(
        *keys,
        st=weight & ((fmt == "safetensors") | _ends(j.f, (SAFETENSORS,))),
        pk=weight & (fmt.isin(PICKLE_FORMATS) | _ends(j.f, PICKLE_SUFFIXES)),
    )
    g = j.group_by(keys).aggregate(st=j.st.any(), pk=j.pk.any())
    return g.filter(g.st | g.pk)


def commits_block(backend: Any, snap: SnapshotRef) -> dict[str, Any]:
    sid = snap.snapshot_id
    g = _commit_classes(backend, sid)
    repos = g.group_by(rid=g.package_id.lower()).aggregate(
        first=g.committed_at.min(),
        first_st=g.committed_at.min(where=g.st),
        st=g.st.any(),
        pk=g.pk.any(),
        commits=g.count(),
    )
    hub = backend.table("snapshots").filter(ibis._.registry == "hf").select(hsid=ibis._.snapshot_id)
    ln = backend.table("lineage")
    ln = ln.join(hub, ln.snapshot_id == hub.hsid).filter(ln.parent_id.notnull())
    kids = ln.select(kid=ln.child.lower()).distinct()
    parents = ln.select(par=ln.parent_id.lower()).distinct()
    r = repos.left_join(kids, repos.rid == kids.kid).left_join(parents, ibis._.rid == parents.par)
    r = r.mutate(
        role=ibis.cases(
            (r.kid.notnull() & r.par.notnull(), "descendant and base"),
            (r.kid.notnull(), "descendant"),
            (r.par.notnull(), "base"),
            else_="no lineage known",
        ),
        po=r.pk & ~r.st,
    )
    by_role = (
        r.group_by("role")
        .aggregate(repos=r.count(), n_pickle_only=r.po.sum(), safetensors=r.st.sum(), commits=r.commits.sum())
        .order_by("role")
        .execute()
    )
    times = (
        r.group_by(m0=r["first"].truncate("M"), m1=r.first_st.truncate("M"))
        .aggregate(n=ibis._.count(), pk=ibis._.pk.sum())
        .execute()
    )
    if times.empty:
        raise NotMeasurable(f"{NAME}: the commits of {sid} touch no weight file of a known format")

    def month(v: Any) -> str | None:
        if v is None or v != v:  # null / NaT
            return None
        d = v.date() if hasattr(v, "date") else dt.date.fromisoformat(str(v)[:10])
        return d.isoformat()[:7]

    firsts = [(month(a), month(b), int(n)) for a, b, n in zip(times["m0"], times["m1"], times["n"], strict=True)]
    months = sorted({m for a, b, _ in firsts for m in (a, b) if m})
    adoption = []
    for m in months:
        active = sum(n for a, _, n in firsts if a and a <= m)
        with_st = sum(n for _, b, n in firsts if b and b <= m)
        adoption.append(
            {"month": m, "repos": active, "with_safetensors": with_st, "share_pickle_only": 1 - with_st / active}
        )
    roles: list[dict[str, Any]] = []
    for row in by_role.itertuples(index=False):
        n = int(row.repos)
        k = int(row.n_pickle_only)
        roles.append(
            {
                "role": str(row.role),
                "repos": n,
                "commits": int(row.commits),
                "n_pickle_only": k,
                "safetensors": int(row.safetensors),
                "share_pickle_only": k / n if n else None,
                "share_pickle_only_ci": wilson(k, n) if n else [None, None],
            }
        )
    n_repos = sum(x["repos"] for x in roles)
    n_po = sum(x["n_pickle_only"] for x in roles)
    return {
        "snapshot_id": sid,
        "taken_at": snap.taken_at.isoformat(),
        "repos": n_repos,
        "weight_commits": sum(x["commits"] for x in roles),
        "n_pickle_only": n_po,
        "share_pickle_only": n_po / n_repos if n_repos else None,
        "by_role": roles,
        "adoption": adoption,
    }


def pickle_only(backend: Any, *, selection: Any = None, params: PickleOnlyParams | None = None) -> PickleOnlyResult:
    """Both comparisons (module docstring); each names the snapshot it rests on or says why it is missing."""
    p = params or DEFAULTS
    sel = as_selection(selection)
    snaps = resolve(backend, "hf", sel)
    if not snaps and not sel.empty:
        raise PtmscopeError(f"{NAME}: no complete hf snapshot matches {sel.describe()}")
    rests: list[dict[str, Any]] = []
    files: dict[str, Any] | None = None
    commits: dict[str, Any] | None = None
    files_missing = commits_missing = None
    ids = [s.snapshot_id for s in snaps]
    w = weight_classes(backend, ids)
    ln = backend.table("lineage")
    ln = ln.filter(ln.snapshot_id.isin(ids) & ln.parent_id.notnull())
    e = ln.select("snapshot_id", "child", "parent_id").distinct()
    ch = w.select(csid=w.snapshot_id, cid=w.package_id)
    pa = w.select(psid=w.snapshot_id, ppid=w.package_id)
    usable = e.join(ch, (e.snapshot_id == ch.csid) & (e.child == ch.cid)).join(
        pa, (ibis._.snapshot_id == pa.psid) & (ibis._.parent_id == pa.ppid)
    )
    usable = usable.select("snapshot_id", "child", "parent_id")
    per = usable.group_by("snapshot_id").aggregate(n=usable.count()).execute()
    with_edges = {str(a): int(b) for a, b in zip(per["snapshot_id"], per["n"], strict=True) if int(b) > 0}
    informative = w.filter(w.st).select("snapshot_id").distinct().execute()["snapshot_id"].astype(str).tolist()
    try:
        rows = usable.filter(usable.snapshot_id.isin([s for s in with_edges if s in informative] or ["\x00"]))
        primary = pick(
            backend,
            "hf",
            sel,
            table="lineage",
            rows=rows,
            what=NAME,
            rows_meaning="lineage edges whose two ends list weight files, in a snapshot where some repository has "
            "a .safetensors file",
        ).snapshot
        blocks = [files_block(backend, s, p) for s in snaps if s.snapshot_id in with_edges]
        files = {"snapshot_id": primary.snapshot_id, "by_snapshot": blocks}
        main = next(b for b in blocks if b["snapshot_id"] == primary.snapshot_id)
        rests.append(
            {
                "snapshot_id": primary.snapshot_id,
                "what": f"lineage edges between repositories with weight files ({main['models_with_weights']:,} "
                "repositories with weights)",
                "n": main["edges"],
            }
        )
    except PtmscopeError as exc:  # NotMeasurable, or a named snapshot without such edges
        files_missing = str(exc)
        if with_edges:
            blocks = [files_block(backend, s, p) for s in snaps if s.snapshot_id in with_edges]
            files = {"snapshot_id": None, "by_snapshot": blocks}
    try:
        csnap = pick(backend, "hf", sel, table="commits", what=NAME).snapshot
        commits = commits_block(backend, csnap)
        rests.append(
            {
                "snapshot_id": csnap.snapshot_id,
                "what": f"repositories with weight commits ({commits['weight_commits']:,} commits)",
                "n": commits["repos"],
            }
        )
    except PtmscopeError as exc:
        commits_missing = str(exc)
    if files is None and commits is None:
        raise NotMeasurable(f"{NAME}: {_bare(files_missing)}; {_bare(commits_missing)}")
    return PickleOnlyResult(
        metric=NAME,
        proxy_for="T3.4 (Forking repositories introduces low severity vulnerabilities)",
        not_measurable="vulnerability severity (CVE/CVSS) is not in registry data: this is a proxy",
        caption_note=CAPTION,
        synthetic=any(s.synthetic for s in snaps),
        files=files,
        files_missing=files_missing,
        commits=commits,
        commits_missing=commits_missing,
        rests_on=rests,
        notes=[
            f"{what} not measurable: {_bare(why)}"
            for what, why in (("file lists", files_missing), ("commit histories", commits_missing))
            if why
        ],
    )


def summarise(result: PickleOnlyResult, p: PickleOnlyParams) -> dict[str, Any]:
    """The primary file-list comparison (what the ext.pickle_only rule reads) and the commit history's shares."""
    out: dict[str, Any] = {"proxy": True, "not_measurable": result.not_measurable}
    f = result.files
    if f and f.get("snapshot_id"):
        b = next(x for x in f["by_snapshot"] if x["snapshot_id"] == f["snapshot_id"])
        out.update(
            {
                "snapshot_id": b["snapshot_id"],
                "n_edges": b["edges"],
                "desc_share": b["desc_share"],
                "base_share": b["base_share"],
                "diff": b["diff"],
                "diff_ci": b["diff_ci"],
                "diff_ci_low": b["diff_ci"][0],
                "diff_ci_high": b["diff_ci"][1],
                "introduced": b["introduced"],
                "removed": b["removed"],
            }
        )
    c = result.commits
    if c:
        roles = {r["role"]: r for r in c["by_role"]}
        for key, role in (("commits_descendants", "descendant"), ("commits_bases", "base")):
            r = roles.get(role)
            out[f"{key}_repos"] = r["repos"] if r else 0
            out[f"{key}_share_pickle_only"] = r["share_pickle_only"] if r else None
        out["commits_share_pickle_only"] = c["share_pickle_only"]
    return out


def _compute(ctx: Context, p: PickleOnlyParams) -> PickleOnlyResult:
    return pickle_only(ctx.backend, selection=ctx.selection, params=p)


def _figure(result: PickleOnlyResult, p: PickleOnlyParams) -> Any:
    from ..figures.pickle_only import pickle_only_figure

    return pickle_only_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    out = [
        ReportTable(
            "What this measures",
            ("", ""),
            [["proxy for", data.get("proxy_for")], ["not measured", data.get("not_measurable")]],
        ),
        ReportTable(
            "Data this rests on",
            ("snapshot", "what", "n"),
            [[r["snapshot_id"], r["what"], r["n"]] for r in data.get("rests_on", [])],
        ),
    ]
    f = data.get("files")
    if f:
        out.append(
            ReportTable(
                "Pickle-only weights: descendants vs their bases (lineage edges, file lists)",
                (
                    "snapshot",
                    "repos with weights",
                    "pickle-only share",
                    "any safetensors",
                    "edges",
                    "descendants pickle-only",
                    "95% CI",
                    "their bases pickle-only",
                    "difference",
                    "95% CI",
                    "introduced",
                    "removed",
                ),
                [
                    [
                        b["snapshot_id"],
                        b["models_with_weights"],
                        b["share_pickle_only"],
                        b["any_safetensors"],
                        b["edges"],
                        b["desc_share"],
                        b["desc_share_ci"],
                        b["base_share"],
                        b["diff"],
                        b["diff_ci"],
                        b["introduced"],
                        b["removed"],
                    ]
                    for b in f["by_snapshot"]
                ],
            )
        )
        main = next((b for b in f["by_snapshot"] if b["snapshot_id"] == f.get("snapshot_id")), None)
        if main:
            out.append(
                ReportTable(
                    f"By relation ({main['snapshot_id']})",
                    ("relation", "edges", "child pickle-only", "parent pickle-only", "introduced", "removed"),
                    [
                        [
                            r["relation"],
                            r["edges"],
                            r["child_pickle_only"],
                            r["parent_pickle_only"],
                            r["introduced"],
                            r["removed"],
                        ]
                        for r in main["by_relation"]
                    ],
                )
            )
    c = data.get("commits")
    if c:
        out.append(
            ReportTable(
                f"Commit histories ({c['snapshot_id']}): repositories pickle-only over their whole history",
                ("lineage role", "repositories", "weight commits", "pickle-only", "share", "95% CI"),
                [
                    [
                        r["role"],
                        r["repos"],
                        r["commits"],
                        r["n_pickle_only"],
                        r["share_pickle_only"],
                        r["share_pickle_only_ci"],
                    ]
                    for r in c["by_role"]
                ],
            )
        )
    return out


METRIC = register(
    Metric(
        name=NAME,
        title="Pickle-only weights of descendants vs their bases (a proxy for T3.4)",
        params=PickleOnlyParams,
        compute=_compute,
        summarise=summarise,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("not_measurable", "not measured"),
            ("summary.snapshot_id", "file lists of"),
            ("summary.n_edges", "lineage edges with weights at both ends"),
            ("summary.desc_share", "descendants pickle-only"),
            ("summary.base_share", "their bases pickle-only"),
            ("summary.diff", "difference"),
            ("summary.diff_ci", "95% CI"),
            ("summary.introduced", "edges where forking introduced pickle-only weights"),
            ("summary.removed", "edges where forking removed them"),
            ("commits.snapshot_id", "commit histories of"),
            ("commits.repos", "repositories with weight commits"),
            ("summary.commits_share_pickle_only", "pickle-only over their whole history"),
            ("summary.commits_descendants_repos", "of them lineage descendants"),
            ("summary.commits_descendants_share_pickle_only", "descendants pickle-only (commit history)"),
        ),
        caveats=(
            "a proxy: CVE severity is not measurable from registry data; pickle-only weights are a loading risk, not "
            "a known vulnerability, and safetensors beside a pickle file does not stop a user loading the pickle.",
            "suffixes decide the class: a spaCy or fastText .bin is not a pickle, and Keras .h5 is HDF5 (counted "
            "because it can carry code); file lists show what a repository holds at the snapshot, not what users load.",
            "the commit history holds only commits that touched a weight file, and only 1,031 repositories; few of "
            "them appear in the lineage of the store's Hub snapshots.",
        ),
        needs="file lists (package_files) and resolved lineage of one Hub snapshot; commit histories with formats",
    )
)
