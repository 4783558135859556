"""A real distributed run: a standalone Spark master and one worker, started from the pyspark
installation, compute the C1/C2 metrics and agree with DuckDB.

The driver runs in its own Python process (one SparkContext per process: the parity tests'
local session must not be reused), configured only the way a user would configure the CLI:
``PTMSCOPE_SPARK_MASTER``, ``PTMSCOPE_SPARK_CONF`` and ``PTMSCOPE_SPARK_EXPORT_DIR``.  The
export folder stands in for shared storage (driver and worker are on this machine).  Both
daemons are stopped by their own process ids, also when the test fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spark.c1c2 import CALLS
from spark.test_parity import same

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

# One driver process, configured only through the environment, as a CLI user would.
DRIVER = """
import json, sys
from ptmscope.engine import connect
from ptmscope.spark import close_spark
from spark.c1c2 import CALLS

be = connect(sys.argv[1], engine="spark")
sc = be._session.sparkContext
out = {
    "master": sc.master,
    "export_dir": be._ptmscope_export_dir,
    "executors": sc._jsc.sc().getExecutorMemoryStatus().size() - 1,
    "results": {name: fn(be).to_dict() for name, fn in CALLS.items()},
}
close_spark(be, stop=True)
print("RESULT " + json.dumps(out, default=str))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(what: str, ok, procs: list[subprocess.Popen[bytes]], logs: list[Path], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ok():
            return
        for p, log in zip(procs, logs, strict=True):
            if p.poll() is not None:
                raise AssertionError(f"{what}: process {p.pid} exited {p.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    raise AssertionError(f"{what}: not ready after {timeout:.0f} s:\n" + "\n".join(x.read_text()[-2000:] for x in logs))


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stop(p: subprocess.Popen[bytes]) -> None:
    """SIGTERM by pid (the daemons' shutdown hooks stop their executors), SIGKILL if it hangs."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=30)


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory) -> Iterator[str]:
    pyspark = pytest.importorskip("pyspark", reason="pyspark not installed (extra [spark])")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH (Spark needs Java 17+)")
    home = Path(pyspark.__file__).resolve().parent
    spark_class = home / "bin" / "spark-class"
    if not spark_class.exists():
        pytest.skip(f"{spark_class} missing: this pyspark installation cannot start daemons")
    tmp = tmp_path_factory.mktemp("cluster")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(tmp / "logs"),
        "SPARK_WORKER_DIR": str(tmp / "work"),
        "SPARK_DAEMON_MEMORY": "512m",
        "PYSPARK_PYTHON": sys.executable,
    }
    port, ui, worker_ui = _free_port(), _free_port(), _free_port()
    url = f"spark://127.0.0.1:{port}"
    master_log, worker_log = tmp / "master.log", tmp / "worker.log"
    master_args = ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)]
    worker_args = ["--host", "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", str(worker_ui)]
    worker_args += ["--work-dir", str(tmp / "work"), url]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with master_log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [str(spark_class), "org.apache.spark.deploy.master.Master", *master_args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                )
            )
        _wait_for("master", lambda: _port_open(port), procs, [master_log])
        with worker_log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [str(spark_class), "org.apache.spark.deploy.worker.Worker", *worker_args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                )
            )
        _wait_for(
            "worker registration",
            lambda: "Successfully registered with master" in worker_log.read_text(errors="replace"),
            procs,
            [master_log, worker_log],
        )
        yield url
    finally:
        for p in reversed(procs):
            _stop(p)
    assert all(p.poll() is not None for p in procs)


def test_c1_c2_metrics_on_a_standalone_cluster_match_duckdb(standalone_cluster, tmp_path):
    from ptmscope.engine import connect
    from ptmscope.synth import SynthConfig, write_store

    store = tmp_path / "world.duckdb"
    write_store(store, SynthConfig(models=400, snapshots=3, seed=11, top_list_size=200, cards="none"))
    shared = tmp_path / "shared-export"  # what driver and executors both read
    env = {
        **os.environ,
        "PTMSCOPE_SPARK_MASTER": standalone_cluster,
        "PTMSCOPE_SPARK_EXPORT_DIR": str(shared),
        "PTMSCOPE_SPARK_CONF": ";".join(
            [
                "spark.executor.memory=512m",
                "spark.cores.max=1",
                "spark.driver.memory=1g",
                "spark.driver.host=127.0.0.1",
                "spark.driver.bindAddress=127.0.0.1",
                "spark.sql.shuffle.partitions=2",
                # tiny data: generated code and adaptive re-planning cost more than they save
                "spark.sql.codegen.wholeStage=false",
                "spark.sql.adaptive.enabled=false",
            ]
        ),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(store)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    got = json.loads(lines[-1][len("RESULT ") :])
    assert got["master"] == standalone_cluster
    assert got["executors"] == 1  # the one worker ran the tasks, not the driver
    assert Path(got["export_dir"]).parent == shared and not Path(got["export_dir"]).exists()  # removed at exit

    duck = connect(store)
    assert sorted(got["results"]) == sorted(CALLS)
    for name, fn in CALLS.items():
        want = json.loads(json.dumps(fn(duck).to_dict(), default=str))
        same(want, got["results"][name], name)
