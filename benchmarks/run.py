"""Scale benchmark: ingest, each metric, the whole pipeline, DuckDB vs Spark vs the paper's pandas code.

    .venv/bin/python benchmarks/run.py                                # the full run (about an hour)
    .venv/bin/python benchmarks/run.py --sizes 20k,50k --no-spark    # a quick look

For every size N (models per snapshot; S snapshots, default 4) it measures,
each phase in a fresh subprocess so peak memory (max RSS) is per phase:

* ``ingest``: synthetic world -> DuckDB store (:func:`ptmscope.synth.write_store`,
  cards off: the C1/C2 metrics do not read them);
* ``synth`` (up to ``--synth-max``): the same with ``ptmscope synth``'s defaults,
  model cards in every snapshot (the store is deleted afterwards);
* each metric on DuckDB, point estimates only (``n_boot=0``, what the pandas
  baseline computes too): turnover (hf, K=1000, all S snapshots), preservation
  (``paper`` = eq. 1 and ``artifact``), descendants (``own`` and the code's
  ``descendants_sum``);
* ``pipeline``: all of the above in one process, plus npm and PyPI turnover
  (point estimates); ``pipeline_stats``: the same with the metrics' default
  statistics (bootstrap intervals, correlations), up to ``--stats-max``;
* ``spark``: Spark local mode: session + export + views, then each metric;
* ``baseline``: ``benchmarks/baseline_pandas.py`` on frames loaded from the
  store (loading not timed), each algorithm capped at ``--budget`` seconds
  and extrapolated beyond it;
* ``reference``: each metric's point estimate, ptmscope (warm) against the
  hand-written DuckDB SQL of ``benchmarks/reference_sql.py``, numbers compared;
* ``cli``: ``ptmscope metric NAME --json`` in a fresh process with default
  statistics, up to ``--cli-max``.

A last table sets issue 14's targets (SQL ratio, cold call, pandas ratio,
peak memory, ingest rate, scaling exponent) against the numbers of the run.

Results: ``benchmarks/results/<timestamp>.json`` and the tables in
``docs/scale.md`` (between the BEGIN/END markers), with the machine's
description and load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

METRICS = ("turnover", "preservation", "preservation_artifact", "descendants", "descendants_sum")
# `ptmscope metric NAME` called cold by the cli phase (default statistics)
# the hand-written eq. 1 SQL runs out of memory at 3M x 4 under ptmscope's default limit (1 GiB); the library does not
REFERENCE_MEMORY = "2GB"
CLI_METRICS = "preservation,turnover,descendants,growth,concentration,naming,attributes"
BASELINE_OF = {
    "turnover": "turnover",
    "preservation": "preservation_eq1",
    "preservation_artifact": "preservation_artifact",
    "descendants_sum": "descendants",
}


def parse_size(s: str) -> int:
    s = s.strip().lower()
    mult = 1
    if s.endswith("k"):
        mult, s = 1000, s[:-1]
    elif s.endswith("m"):
        mult, s = 1_000_000, s[:-1]
    return int(float(s) * mult)


def fmt_size(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------
# phases (run in subprocesses)
# ---------------------------------------------------------------------------


def run_metric(backend: Any, name: str, *, n_boot: int | None = 0, registry: str = "hf") -> Any:
    from ptmscope.metrics.descendants import descendants
    from ptmscope.metrics.preservation import preservation
    from ptmscope.metrics.turnover import turnover

    kw = {} if n_boot is None else {"n_boot": n_boot}
    if name == "turnover":
        return turnover(backend, registry, k=1000)
    if name == "preservation":
        return preservation(backend, mode="paper", **kw)
    if name == "preservation_artifact":
        return preservation(backend, mode="artifact", **kw)
    if name == "descendants":
        return descendants(backend, popularity="own", **kw)
    if name == "descendants_sum":
        return descendants(backend, popularity="descendants_sum", mode="artifact", **kw)
    raise ValueError(name)


def phase_ingest(a: argparse.Namespace) -> dict[str, Any]:
    from ptmscope.synth import SynthConfig, write_store

    p = Path(a.store)
    for suffix in ("", ".wal"):
        Path(str(p) + suffix).unlink(missing_ok=True)
    cfg = SynthConfig(models=a.size, snapshots=a.snapshots, seed=a.seed, cards="none")
    t0 = time.perf_counter()
    res = write_store(p, cfg)
    el = time.perf_counter() - t0
    return {
        "seconds": el,
        "maxrss_mb": maxrss_mb(),
        "rows": sum(r.rows for r in res),
        "store_mb": p.stat().st_size / 1e6,
    }


def phase_synth(a: argparse.Namespace) -> dict[str, Any]:
    """``ptmscope synth`` as a user runs it: the default configuration, model cards included."""
    from ptmscope.store import Store
    from ptmscope.synth import SynthConfig, write_store

    p = Path(a.store + ".synth.duckdb")
    for suffix in ("", ".wal"):
        Path(str(p) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    res = write_store(p, SynthConfig(models=a.size, snapshots=a.snapshots, seed=a.seed))
    el = time.perf_counter() - t0
    with Store(p, read_only=True) as st:
        tables = ("packages", "package_libraries", "lineage", "cards")
        rows_all = sum(st.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
    out = {
        "seconds": el,
        "maxrss_mb": maxrss_mb(),
        "rows": sum(r.rows for r in res),
        "rows_all_tables": rows_all,
        "store_mb": p.stat().st_size / 1e6,
    }
    p.unlink(missing_ok=True)
    return out


def _import_metrics() -> None:
    # imports (scipy, statsmodels ...) are not part of a metric's cost
    import ptmscope.metrics.descendants
    import ptmscope.metrics.preservation
    import ptmscope.metrics.turnover  # noqa: F401


def phase_metric(a: argparse.Namespace) -> dict[str, Any]:
    from ptmscope.engine import connect

    _import_metrics()
    t0 = time.perf_counter()
    be = connect(a.store)
    run_metric(be, a.metric)
    return {"seconds": time.perf_counter() - t0, "maxrss_mb": maxrss_mb()}


def phase_pipeline(a: argparse.Namespace, n_boot: int | None = 0) -> dict[str, Any]:
    from ptmscope.engine import connect

    _import_metrics()
    t0 = time.perf_counter()
    be = connect(a.store)
    parts = {}
    for name in METRICS:
        t1 = time.perf_counter()
        run_metric(be, name, n_boot=n_boot)
        parts[name] = time.perf_counter() - t1
    for reg in ("npm", "pypi"):
        t1 = time.perf_counter()
        run_metric(be, "turnover", registry=reg)
        parts[f"turnover_{reg}"] = time.perf_counter() - t1
    return {"seconds": time.perf_counter() - t0, "maxrss_mb": maxrss_mb(), "parts": parts}


def _jvm_peak_mb(backend: Any) -> float | None:
    try:
        proc = backend._session.sparkContext._gateway.proc  # the JVM launched by pyspark
        status = Path(f"/proc/{proc.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except Exception:
        return None
    return None


def phase_spark(a: argparse.Namespace) -> dict[str, Any]:
    from ptmscope.spark import connect_spark

    _import_metrics()
    t0 = time.perf_counter()
    be = connect_spark(a.store, conf={"spark.driver.memory": a.spark_memory})
    out: dict[str, Any] = {"connect_seconds": time.perf_counter() - t0, "metrics": {}}
    print(json.dumps({**out, "partial": True}), flush=True)
    for name in METRICS:
        t1 = time.perf_counter()
        run_metric(be, name)
        out["metrics"][name] = time.perf_counter() - t1
        # partial results survive a --spark-timeout kill
        print(json.dumps({**out, "partial": True, "jvm_peak_mb": _jvm_peak_mb(be)}), flush=True)
    out["maxrss_mb"] = maxrss_mb()
    out["jvm_peak_mb"] = _jvm_peak_mb(be)
    be._session.stop()
    return out


def phase_baseline(a: argparse.Namespace) -> dict[str, Any]:
    import baseline_pandas as bp
    from ptmscope.store import Store

    with Store(a.store, read_only=True) as st:
        snaps = [s.snapshot_id for s in st.snapshots("hf")]
        t0 = time.perf_counter()
        frames = bp.load(st.con, snaps)
        load_s = time.perf_counter() - t0
    # the snapshot each ptmscope metric chooses by default (most usable rows), so both sides see the same rows
    pres_sid, desc_sid = _default_snapshots(a.store)
    pres = {k: v[v["snapshot_id"] == pres_sid] for k, v in frames.items()}
    desc = {k: v[v["snapshot_id"] == desc_sid] for k, v in frames.items()}
    out: dict[str, Any] = {"load_seconds": load_s, "metrics": {}, "snapshots": [pres_sid, desc_sid]}
    runs = [
        bp.turnover([frames["models"][frames["models"]["snapshot_id"] == s] for s in snaps]),
        bp.preservation_eq1(pres["model_to_library"], pres["model_to_base_model"], a.budget),
        bp.preservation_artifact(pres["model_to_library"], pres["model_to_base_model"], a.budget),
        bp.descendants(desc["models"], desc["model_to_base_model"], a.budget),
    ]
    for r in runs:
        out["metrics"][r.name] = {
            "seconds": r.seconds,
            "extrapolated": r.extrapolated,
            "groups_done": r.groups_done,
            "groups_total": r.groups_total,
        }
    out["maxrss_mb"] = maxrss_mb()
    out["agreement"] = agreement(a.store, {r.name: r for r in runs})
    return out


def _default_snapshots(store: str) -> tuple[str, str]:
    """The snapshots preservation and descendants choose by default (untimed point estimates)."""
    from ptmscope.engine import connect
    from ptmscope.metrics.descendants import descendants
    from ptmscope.metrics.preservation import preservation

    be = connect(store)
    return preservation(be, mode="paper", n_boot=0).snapshot.snapshot_id, descendants(be, n_boot=0).snapshot.snapshot_id


def agreement(store: str, runs: dict[str, Any]) -> dict[str, Any]:
    """Does the pandas baseline compute what ptmscope's corresponding mode computes? (untimed)"""
    from ptmscope.engine import connect
    from ptmscope.metrics.descendants import descendants
    from ptmscope.metrics.preservation import preservation
    from ptmscope.metrics.turnover import turnover

    be = connect(store)
    out: dict[str, Any] = {}
    r = runs["turnover"].result
    t = turnover(be, "hf", k=1000, mode="artifact")
    mine = [{"Newcomers": s.newcomers, "Returning": s.returning, "Remained": s.remained} for s in t.steps]
    out["turnover (artifact mode)"] = mine == r["steps"] and t.distinct_ever == r["distinct_ever"]
    for bname, mode in (("preservation_artifact", "artifact"), ("preservation_eq1", "paper")):
        b = runs[bname]
        if b.extrapolated:
            out[f"preservation ({mode} mode)"] = None
            continue
        col = "prop" if mode == "artifact" else "rate"
        want = {str(k): v for k, v in zip(b.result["library"], b.result[col], strict=False) if v == v and v is not None}
        got = {x.library: x.rate for x in preservation(be, mode=mode, n_boot=0).libraries if x.rate is not None}
        out[f"preservation ({mode} mode)"] = want.keys() == got.keys() and all(
            abs(want[k] - got[k]) < 1e-12 for k in want
        )
    b = runs["descendants"]
    if b.extrapolated:
        out["descendants (descendants_sum, artifact mode)"] = None
    else:
        d = descendants(be, popularity="descendants_sum", mode="artifact", n_boot=0)
        pairs = sorted(zip(b.result["pairs"]["count"].tolist(), b.result["pairs"]["downloads"].tolist(), strict=False))
        mine = sorted(zip(d.count_values.astype(int).tolist(), d.popularity_values.astype(int).tolist(), strict=False))
        out["descendants (descendants_sum, artifact mode)"] = (
            pairs == mine and abs(d.fit.slope - b.result["slope"]) < 1e-9
        )
    return out


def phase_reference(a: argparse.Namespace) -> dict[str, Any]:
    """Each metric's point estimate: the library (warm) against the hand-written SQL of reference_sql.py, same run."""
    import reference_sql as rs
    from ptmscope.engine import connect
    from ptmscope.store import set_engine_defaults

    _import_metrics()
    # both sides under one memory limit (they share DuckDB's database instance in this process)
    set_engine_defaults(memory_limit=a.reference_memory)
    con = rs.connect_duckdb(a.store)
    be = connect(a.store)
    out: dict[str, Any] = {}
    for name, (ref, lib) in rs.REFERENCES.items():
        t_ref, got_ref = rs.timed(lambda ref=ref: ref(con), repeat=a.repeat)
        t_lib, got_lib = rs.timed(lambda lib=lib: lib(be), repeat=a.repeat)
        out[name] = {"sql_seconds": t_ref, "library_seconds": t_lib, "same": rs.same(got_ref, got_lib)}
    return {"metrics": out, "maxrss_mb": maxrss_mb(), "loadavg": os.getloadavg(), "memory_limit": a.reference_memory}


def phase_cli(a: argparse.Namespace) -> dict[str, Any]:
    """``ptmscope metric NAME --json`` as a user runs it: a fresh process, default statistics, import included."""
    out: dict[str, Any] = {}
    for name in a.cli_metrics.split(","):
        cmd = [sys.executable, "-m", "ptmscope", "metric", name, "--json", "--store", a.store]
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        timer = threading.Timer(a.cli_timeout, lambda p=p: os.killpg(p.pid, 9))
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        timer.cancel()
        err = p.stderr.read().decode(errors="replace") if p.stderr else ""
        res: dict[str, Any] = {"seconds": time.perf_counter() - t0, "maxrss_mb": ru.ru_maxrss / 1024}
        code = os.waitstatus_to_exitcode(status)
        if code == -9:
            res["timeout"] = f"stopped after {a.cli_timeout:.0f} s"
        elif code != 0:
            res["error"] = (err.strip().splitlines() or [f"exit {code}"])[-1]
        res["loadavg"] = os.getloadavg()
        out[name] = res
        print(json.dumps({"metric": name, **res}), file=sys.stderr, flush=True)
    return {"metrics": out}


def phase_pipeline_stats(a: argparse.Namespace) -> dict[str, Any]:
    return phase_pipeline(a, n_boot=None)


PHASES = {
    "ingest": phase_ingest,
    "synth": phase_synth,
    "metric": phase_metric,
    "pipeline": phase_pipeline,
    "pipeline_stats": phase_pipeline_stats,
    "spark": phase_spark,
    "baseline": phase_baseline,
    "reference": phase_reference,
    "cli": phase_cli,
}


def sub(phase: str, a: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "_phase",
        phase,
        "--store",
        str(a.store_for),
        "--size",
        str(a.size_now),
        "--snapshots",
        str(a.snapshots),
        "--seed",
        str(a.seed),
        "--budget",
        str(a.budget),
        "--spark-memory",
        a.spark_memory,
        "--repeat",
        str(a.repeat),
        "--cli-metrics",
        a.cli_metrics,
        "--cli-timeout",
        str(a.cli_timeout),
    ]
    for k, v in extra.items():
        cmd += [f"--{k}", str(v)]
    t0 = time.perf_counter()
    timeout = a.spark_timeout if phase == "spark" and a.spark_timeout > 0 else None
    p = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        start_new_session=True,
    )
    timed_out = False
    try:
        stdout, stderr = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(p.pid, 9)  # the phase and its children (e.g. the Spark JVM) only
        stdout, stderr = p.communicate()
    lines = [ln for ln in (stdout or "").strip().splitlines() if ln.startswith("{")]
    if timed_out:
        res = json.loads(lines[-1]) if lines else {}
        res["timeout"] = f"stopped after {timeout:.0f} s"
    elif p.returncode != 0 or not lines:
        print((stderr or "")[-3000:], file=sys.stderr)
        return {
            "error": stderr.strip().splitlines()[-1] if (stderr or "").strip() else f"exit {p.returncode}",
            "wall_seconds": time.perf_counter() - t0,
        }
    else:
        res = json.loads(lines[-1])
    res["wall_seconds"] = time.perf_counter() - t0
    return res


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import duckdb
    import ibis
    import pandas

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "duckdb": duckdb.__version__,
        "ibis": ibis.__version__,
        "pandas": pandas.__version__,
    }
    try:
        import pyspark

        info["pyspark"] = pyspark.__version__
    except ImportError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info["loadavg_start"] = os.getloadavg()
    return info


def fit_k(sizes: list[int], secs: list[float]) -> float | None:
    import numpy as np

    pts = [(n, s) for n, s in zip(sizes, secs, strict=False) if s and s > 0]
    if len(pts) < 2:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def main_run(a: argparse.Namespace) -> dict[str, Any]:
    sizes = [parse_size(s) for s in a.sizes.split(",")]
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "snapshots": a.snapshots,
        "seed": a.seed,
        "budget_s": a.budget,
        "sizes": {},
    }
    for n in sizes:
        a.size_now = n
        a.store_for = work / f"bench-{fmt_size(n)}.duckdb"
        r: dict[str, Any] = {}
        print(f"== {fmt_size(n)} models x {a.snapshots} snapshots", flush=True)
        r["ingest"] = sub("ingest", a)
        print("  ingest", r["ingest"], flush=True)
        if a.synth_max and n <= parse_size(a.synth_max):
            r["synth"] = sub("synth", a)
            print("  synth (cards included)", r["synth"], flush=True)
        r["duckdb"] = {m: sub("metric", a, metric=m) for m in METRICS}
        print("  duckdb", {m: round(v.get("seconds", -1), 2) for m, v in r["duckdb"].items()}, flush=True)
        r["pipeline"] = sub("pipeline", a)
        print("  pipeline", r["pipeline"], flush=True)
        if n <= parse_size(a.stats_max):
            r["pipeline_stats"] = sub("pipeline_stats", a)
            print("  pipeline with default statistics", r["pipeline_stats"], flush=True)
        if not a.no_spark and (a.spark_max is None or n <= parse_size(a.spark_max)):
            r["spark"] = sub("spark", a)
            print("  spark", r["spark"], flush=True)
        if not a.no_reference and n <= parse_size(a.reference_max):
            r["reference"] = sub("reference", a, **{"reference-memory": a.reference_memory})
            print("  library vs hand-written SQL", r["reference"], flush=True)
        if not a.no_cli and n <= parse_size(a.cli_max):
            r["cli"] = sub("cli", a)
            print("  ptmscope metric NAME, cold, default statistics", r["cli"], flush=True)
        if not a.no_baseline:
            r["baseline"] = sub("baseline", a)
            print("  baseline", r["baseline"], flush=True)
        report["sizes"][fmt_size(n)] = {"n": n, **r}
        if not a.keep:
            a.store_for.unlink(missing_ok=True)
    report["machine"]["loadavg_end"] = os.getloadavg()
    report["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    # scaling exponents
    ns = [v["n"] for v in report["sizes"].values()]
    k: dict[str, Any] = {}
    k["ingest"] = fit_k(ns, [v["ingest"].get("seconds") for v in report["sizes"].values()])
    if all("synth" in v for v in report["sizes"].values()):
        k["synth"] = fit_k(ns, [v["synth"].get("seconds") for v in report["sizes"].values()])
    for m in METRICS:
        k[m] = fit_k(ns, [v["duckdb"][m].get("seconds") for v in report["sizes"].values()])
    k["pipeline"] = fit_k(ns, [v["pipeline"].get("seconds") for v in report["sizes"].values()])
    for m in METRICS:
        k[f"{m} (warm)"] = fit_k(ns, [v["pipeline"].get("parts", {}).get(m) for v in report["sizes"].values()])
    for b in sorted(set(BASELINE_OF.values())):
        k[f"pandas baseline {b}"] = fit_k(
            ns, [v.get("baseline", {}).get("metrics", {}).get(b, {}).get("seconds") for v in report["sizes"].values()]
        )
    report["scaling_k"] = k
    return report


def f(x: Any, nd: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        if 0 < abs(x) < 0.1 and nd >= 1:
            return f"{x:.3f}"
        return f"{x:,.{nd}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Run {report['started']} .. {report['finished']}; {report['snapshots']} snapshots; seed {report['seed']}; "
        f"baseline budget {report['budget_s']:.0f} s per algorithm.",
        "",
        f"Machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('mem_gb')} GB RAM; {m.get('platform')}; "
        f"Python {m.get('python')}, DuckDB {m.get('duckdb')}, Ibis {m.get('ibis')}, pandas {m.get('pandas')}, "
        f"PySpark {m.get('pyspark', '–')}. Load average at start {tuple(round(x, 1) for x in m['loadavg_start'])}, "
        f"at end {tuple(round(x, 1) for x in m['loadavg_end'])} (the machine is shared with other jobs).",
        "",
        "### Ingest and pipeline (DuckDB)",
        "",
        (
            "| models/snapshot | rows written | ingest s | ingest peak MB | store MB | pipeline s | pipeline peak MB "
            "| ingest + pipeline s | pipeline with default statistics s |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, v in report["sizes"].items():
        ing, pip = v["ingest"], v["pipeline"]
        tot = (ing.get("seconds") or 0) + (pip.get("seconds") or 0) if "seconds" in ing and "seconds" in pip else None
        lines.append(
            f"| {label} | {f(ing.get('rows'))} | {f(ing.get('seconds'), 1)} | {f(ing.get('maxrss_mb'), 0)} | "
            f"{f(ing.get('store_mb'), 0)} | {f(pip.get('seconds'), 1)} | {f(pip.get('maxrss_mb'), 0)} | {f(tot, 1)} | "
            f"{f(v.get('pipeline_stats', {}).get('seconds'), 1)} |"
        )
    lines += [
        "",
        "### Each metric: DuckDB vs Spark local vs the paper's pandas code (point estimates, seconds)",
        "",
        "Cold = a fresh process (connect, compile, first queries), as one CLI call; warm = the same call "
        "inside the pipeline process. Ratios are baseline time / ptmscope time.",
        "",
        "| models/snapshot | metric | DuckDB cold s | DuckDB warm s | DuckDB peak MB | Spark s | pandas baseline s "
        "| baseline / cold | baseline / warm |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, v in report["sizes"].items():
        for met in METRICS:
            d = v["duckdb"][met]
            warm = v.get("pipeline", {}).get("parts", {}).get(met)
            sp = v.get("spark", {}).get("metrics", {}).get(met)
            bname = BASELINE_OF.get(met)
            b = v.get("baseline", {}).get("metrics", {}).get(bname) if bname else None
            bs = None if b is None else b["seconds"]
            mark = (
                ""
                if not b or not b["extrapolated"]
                else f" (extrapolated from {b['groups_done']:,}/{b['groups_total']:,} groups)"
            )
            r1 = None if not bs or not d.get("seconds") else bs / d["seconds"]
            r2 = None if not bs or not warm else bs / warm
            lines.append(
                f"| {label} | {met} | {f(d.get('seconds'))} | {f(warm)} | {f(d.get('maxrss_mb'), 0)} | {f(sp)} | "
                f"{f(bs)}{mark} | {(f(r1, 1) if r1 >= 1 else f'{r1:.2f}') + 'x' if r1 else '–'} | "
                f"{(f(r2, 1) if r2 >= 1 else f'{r2:.2f}') + 'x' if r2 else '–'} |"
            )
    lines += ["", "Does the baseline compute the same numbers as ptmscope's matching mode (checked, untimed)?", ""]
    for label, v in report["sizes"].items():
        ag = v.get("baseline", {}).get("agreement")
        if ag:
            lines.append(
                f"- {label}: "
                + "; ".join(
                    f"{k}: {'same' if ok else 'not checked (extrapolated)' if ok is None else 'DIFFERENT'}"
                    for k, ok in ag.items()
                )
            )
    synth = [(label, v["synth"]) for label, v in report["sizes"].items() if "synth" in v]
    if synth:
        lines += ["", "`ptmscope synth` with its defaults (model cards in every snapshot):", ""]
        for label, sy in synth:
            lines.append(
                f"- {label}: {f(sy.get('seconds'), 1)} s, peak {f(sy.get('maxrss_mb'), 0)} MB, "
                f"{f(sy.get('rows_all_tables'))} rows in all tables, store {f(sy.get('store_mb'), 0)} MB"
            )
    lines += render_reference(report)
    lines += render_targets(report)
    lines += ["", "Spark session start + store export + views:"]
    for label, v in report["sizes"].items():
        sp = v.get("spark")
        if sp and "connect_seconds" in sp:
            extra = (
                f"; {sp['timeout']}, metrics not finished: "
                + ", ".join(m for m in METRICS if m not in sp.get("metrics", {}))
                if sp.get("timeout")
                else ""
            )
            lines.append(
                f"- {label}: {f(sp['connect_seconds'], 1)} s; driver (Python) peak {f(sp.get('maxrss_mb'), 0)} MB, "
                f"JVM peak {f(sp.get('jvm_peak_mb'), 0)} MB{extra}"
            )
        elif sp:
            lines.append(f"- {label}: error: {sp.get('error')}")
    lines += ["", "Scaling exponent k (time ∝ N^k, least squares on log-log over the sizes above):", ""]
    lines += [f"- {name}: k = {f(val)}" for name, val in report["scaling_k"].items()]
    return "\n".join(lines) + "\n"


def render_reference(report: dict[str, Any]) -> list[str]:
    """Tables of the reference and cli phases (empty when they did not run)."""
    lines: list[str] = []
    ref = [(label, v["reference"]) for label, v in report["sizes"].items() if "reference" in v]
    if ref:
        lines += [
            "",
            "### Each metric's point estimate: ptmscope vs hand-written DuckDB SQL (benchmarks/reference_sql.py)",
            "",
            "Warm, best of each side's runs in one process, both under one DuckDB memory limit "
            f"({ref[0][1].get('memory_limit', '?')}); ratio = ptmscope / SQL (the target is <= 2).",
            "",
            "| models/snapshot | metric | SQL s | ptmscope s | ratio | same numbers | load average |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, r in ref:
            if "metrics" not in r:
                lines.append(f"| {label} | – | – | – | – | {r.get('error', '?')} | – |")
                continue
            load = ", ".join(f"{x:.1f}" for x in r.get("loadavg", ())[:1])
            for name, m in r["metrics"].items():
                ratio = m["library_seconds"] / m["sql_seconds"] if m["sql_seconds"] else None
                lines.append(
                    f"| {label} | {name} | {f(m['sql_seconds'])} | {f(m['library_seconds'])} | {f(ratio, 1)}x | "
                    f"{'yes' if m['same'] else 'NO'} | {load} |"
                )
    cli = [(label, v["cli"]) for label, v in report["sizes"].items() if "cli" in v]
    if cli:
        lines += [
            "",
            "### `ptmscope metric NAME --json`, cold (a fresh process: import, connect, default statistics)",
            "",
            "| models/snapshot | metric | seconds | peak MB | load average | note |",
            "|---|---|---|---|---|---|",
        ]
        for label, r in cli:
            for name, m in r.get("metrics", {}).items():
                note = m.get("timeout") or m.get("error") or ""
                lines.append(
                    f"| {label} | {name} | {f(m.get('seconds'), 1)} | {f(m.get('maxrss_mb'), 0)} | "
                    f"{m.get('loadavg', [0])[0]:.1f} | {note} |"
                )
    return lines


GB = 1e9 / 2**20  # MiB in a GB (peak memory is measured in MiB; the targets say GB)
TARGETS = {"sql_ratio": 2.0, "cli_s": 5.0, "baseline_x": 10.0, "peak_mib": 2 * GB, "rows_per_s": 200_000, "k": 1.05}


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else "met" if ok else "**missed**"


def render_targets(report: dict[str, Any]) -> list[str]:
    """Issue 14's targets against this run's numbers: one row per target and size, computed, not written by hand."""
    t = TARGETS
    sizes = report["sizes"]
    rows: list[tuple[str, str, str, bool | None]] = []
    for label in ("1M", "3M"):
        ref = sizes.get(label, {}).get("reference", {}).get("metrics", {})
        for name, m in ref.items():
            if name == "turnover_checked":
                continue  # the SQL side of turnover with the check the library needs; reported in the table above
            ratio = m["library_seconds"] / m["sql_seconds"] if m["sql_seconds"] else None
            ok = None if ratio is None else ratio <= t["sql_ratio"] and bool(m["same"])
            same = "" if m["same"] else ", numbers DIFFER"
            rows.append(
                (f"{name} within {t['sql_ratio']:.0f}x of hand-written SQL", label, f"{f(ratio, 1)}x{same}", ok)
            )
    for label, v in sizes.items():
        for name, m in v.get("cli", {}).get("metrics", {}).items():
            sec = m.get("seconds")
            ok = None if sec is None or m.get("error") else sec <= t["cli_s"] and not m.get("timeout")
            note = m.get("timeout") or m.get("error") or ""
            rows.append(
                (f"`ptmscope metric {name}` cold <= {t['cli_s']:.0f} s", label, f"{f(sec, 1)} s {note}".strip(), ok)
            )
    for label in ("1M",):
        v = sizes.get(label, {})
        for met in ("turnover", "preservation", "preservation_artifact"):
            b = v.get("baseline", {}).get("metrics", {}).get(BASELINE_OF[met])
            warm = v.get("pipeline", {}).get("parts", {}).get(met)
            cold = v.get("duckdb", {}).get(met, {}).get("seconds")
            if not b or not warm:
                continue
            x_warm, x_cold = b["seconds"] / warm, (b["seconds"] / cold if cold else None)
            rows.append(
                (
                    f"{met} >= {t['baseline_x']:.0f}x the paper's pandas code",
                    label,
                    f"{f(x_warm, 1)}x warm, {f(x_cold, 1)}x cold",
                    x_warm >= t["baseline_x"],
                )
            )
    for label, v in sizes.items():
        if label != "3M":
            continue
        for phase, what in (
            ("ingest", "ingest (cards off)"),
            ("synth", "`ptmscope synth` (cards on)"),
            ("pipeline", "pipeline, point estimates"),
            ("pipeline_stats", "pipeline, default statistics"),
        ):
            mb = v.get(phase, {}).get("maxrss_mb")
            if mb is not None:
                rows.append((f"peak memory of {what} <= 2 GB", label, f"{f(mb, 0)} MiB", mb <= t["peak_mib"]))
        ing = v.get("ingest", {})
        if ing.get("seconds"):
            rate = ing["rows"] / ing["seconds"]
            rows.append(
                (f"ingest >= {t['rows_per_s']:,} rows/s", label, f"{f(rate, 0)} rows/s", rate >= t["rows_per_s"])
            )
    if len(sizes) > 1:
        span = f"{next(iter(sizes))}..{list(sizes)[-1]}"
        for name, k in report.get("scaling_k", {}).items():
            if k is None or name.startswith("pandas"):
                continue
            rows.append((f"scaling exponent of {name} <= {t['k']}", span, f"k = {f(k)}", k <= t["k"]))
    if not rows:
        return []
    lines = [
        "",
        "### Targets of this run (computed from the numbers above)",
        "",
        "| target | size | result | verdict |",
        "|---|---|---|---|",
    ]
    lines += [f"| {what} | {size} | {res} | {_verdict(ok)} |" for what, size, res, ok in rows]
    met = sum(1 for *_, ok in rows if ok)
    judged = sum(1 for *_, ok in rows if ok is not None)
    lines += ["", f"{met} of {judged} targets met."]
    return lines


def write_docs(text: str, path: Path) -> None:
    begin, end = "<!-- BEGIN BENCHMARK RESULTS -->", "<!-- END BENCHMARK RESULTS -->"
    doc = path.read_text() if path.exists() else f"# Scale\n\n{begin}\n{end}\n"
    if begin not in doc:
        doc += f"\n{begin}\n{end}\n"
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{text}{end}{tail}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    if len(sys.argv) > 1 and sys.argv[1] == "_phase":
        ap.add_argument("_phase")
        ap.add_argument("phase", choices=sorted(PHASES))
        ap.add_argument("--store", required=True)
        ap.add_argument("--size", type=int, required=True)
        ap.add_argument("--snapshots", type=int, default=4)
        ap.add_argument("--seed", type=int, default=0)
        ap.add_argument("--budget", type=float, default=300)
        ap.add_argument("--metric")
        ap.add_argument("--spark-memory", default="4g")
        ap.add_argument("--repeat", type=int, default=3)
        ap.add_argument("--reference-memory", default=REFERENCE_MEMORY)
        ap.add_argument("--cli-metrics", default=CLI_METRICS)
        ap.add_argument("--cli-timeout", type=float, default=300)
        a = ap.parse_args()
        print(json.dumps(PHASES[a.phase](a)))
        return
    ap.add_argument("--sizes", default="100k,1m,3m")
    ap.add_argument("--snapshots", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--budget", type=float, default=90, help="seconds per pandas baseline algorithm before extrapolating"
    )
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--spark-max", default=None, help="largest size to run on Spark (e.g. 1m; default: every size)")
    ap.add_argument("--spark-memory", default="4g")
    ap.add_argument(
        "--spark-timeout",
        type=float,
        default=0,
        help="stop the Spark phase after this many seconds (0: never), keeping the metrics it finished",
    )
    ap.add_argument(
        "--synth-max", default="3m", help="largest size for the synth phase (default configuration, cards included)"
    )
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--no-reference", action="store_true", help="skip the library vs hand-written SQL phase")
    ap.add_argument("--reference-max", default="3m", help="largest size for the library vs hand-written SQL phase")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side in the reference phase (best kept)")
    ap.add_argument(
        "--reference-memory",
        default=REFERENCE_MEMORY,
        help="DuckDB memory limit of both sides in the reference phase (the hand-written eq. 1 SQL needs 2GB at 3M)",
    )
    ap.add_argument("--no-cli", action="store_true", help="skip the cold `ptmscope metric` calls")
    ap.add_argument("--cli-max", default="1m", help="largest size for the cold `ptmscope metric` calls")
    ap.add_argument("--cli-metrics", default=CLI_METRICS, help="metrics called cold, comma-separated")
    ap.add_argument("--cli-timeout", type=float, default=300, help="seconds before a cold metric call is stopped")
    ap.add_argument("--stats-max", default="3m", help="largest size for the pipeline with default bootstrap statistics")
    ap.add_argument("--workdir", default="/tmp/ptmscope-bench")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark stores")
    ap.add_argument("--docs", default=str(ROOT / "docs" / "scale.md"))
    ap.add_argument("--no-docs", action="store_true")
    a = ap.parse_args()
    report = main_run(a)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = report["started"].replace(":", "").replace("-", "")[:15]
    (out / f"{stamp}.json").write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    text = render(report)
    print(text)
    if not a.no_docs:
        write_docs(text, Path(a.docs))


if __name__ == "__main__":
    main()
