"""The path past one machine, on real processes (issue 14): a `dask scheduler` and two `dask worker`
processes on loopback, each its own process as if on its own host, a Prefect server they all
report to, and `PREFECT_API_URL=... bankmetrics run --dask-address tcp://127.0.0.1:PORT
--spool-dir SHARED` as docs/scheduling.md says to run it.

1. The cluster loads exactly the rows the threads runner loads.
2. One worker is SIGKILLed while it runs a transform task (it signals that it started one and then
   holds it, so the kill lands mid-task however slow the machine): Dask gives the task to the other
   worker and the run completes with the same rows, or the run fails with one clear line and
   nothing half-loaded, and a rerun completes. Either way the rows end up identical.

Everything listens on 127.0.0.1; everything started here is SIGKILLed here (process groups).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.serve import free_port, start_server, stop_process_group, wait_healthy
from test_crash import check_warehouse, kill_group
from test_runners import _generate, warehouse_rows

pytestmark = [pytest.mark.server, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
N_GENERATED = 120
BATCH = 20  # 7 transform tasks: both workers get some
READY_TIMEOUT = 240.0  # scheduler up and workers registered: ~5 s on an idle machine
RUN_TIMEOUT = 600.0

# A worker preload: this worker's transform tasks touch $HOLD_STARTED, then hold (for at most
# 10 minutes), so the test can SIGKILL the worker in the middle of one.
HOLD_PRELOAD = '''
import os, time
import flows.batch as batch
_real = batch.build_spooled_batch
def _held(*args, **kwargs):
    open(os.environ["HOLD_STARTED"], "a").close()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return _real(*args, **kwargs)
batch.build_spooled_batch = _held
'''


def env() -> dict:
    e = dict(os.environ, DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false", PYTHONUNBUFFERED="1")
    e.pop("PREFECT_API_URL", None)
    return e


class Cluster:
    def __init__(self, home: Path):
        self.home = home
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.api = ""  # the Prefect server's API

    def _start(self, name: str, args: list[str], extra_env: dict | None = None) -> subprocess.Popen:
        log = open(self.home / f"{name}.log", "ab")
        proc = subprocess.Popen(
            [str(BIN / "dask"), *args], cwd=ROOT, env=dict(env(), **(extra_env or {})), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def start_scheduler(self) -> None:
        port = self.address.rsplit(":", 1)[1]
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", port,
                                  "--dashboard-address", "127.0.0.1:0"])

    def start_worker(self, name: str, preload: Path | None = None, extra_env: dict | None = None) -> None:
        args = ["worker", self.address, "--name", name, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                "--no-dashboard", "--local-directory", str(self.home / f"scratch-{name}")]
        if preload is not None:
            args += ["--preload", str(preload)]
        # INFO: each worker logs the task runs it executes (the test counts them)
        self._start(name, args, dict(extra_env or {}, PREFECT_LOGGING_LEVEL="INFO"))

    def wait_for_workers(self, names: set[str]) -> None:
        """Until exactly `names` are registered with the scheduler (bounded)."""
        from distributed import Client

        deadline = time.monotonic() + READY_TIMEOUT
        with Client(self.address, timeout=READY_TIMEOUT) as client:
            while True:
                seen = {w["name"] for w in client.scheduler_info()["workers"].values()}
                if seen == names:
                    return
                for name in names:
                    assert self.procs[name].poll() is None, f"worker {name} exited:\n{self.log(name)}"
                assert time.monotonic() < deadline, f"workers {seen}, not {names}, after {READY_TIMEOUT:.0f}s"
                time.sleep(0.2)

    def kill(self, name: str) -> None:
        kill_group(self.procs[name])

    def log(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        for proc in self.procs.values():
            kill_group(proc)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("cluster-corpus") / "raw"
    raw.mkdir()
    for p in (ROOT / "raw").iterdir():
        (raw / p.name).write_bytes(p.read_bytes())
    _generate(raw / "generated", N_GENERATED)
    return raw


@pytest.fixture(scope="module")
def threads_rows(corpus: Path, tmp_path_factory) -> dict:
    """What the threads runner loads from the corpus."""
    from flows.pipeline import run_etl

    db = tmp_path_factory.mktemp("threads") / "w.duckdb"
    summary = run_etl(raw_dir=str(corpus), db=str(db), batch_size=BATCH)
    assert summary["docs_new"] == N_GENERATED + 2 and summary["files_quarantined"] == 0
    return warehouse_rows(db)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Prefect server, a Dask scheduler and a first worker, started together; the tests add the
    second worker. Without the server, every worker would start a temporary Prefect server of its
    own for its task runs (the flow's ephemeral one listens on loopback only): the run reports
    to one server reachable from every host, as on two hosts."""
    home = tmp_path_factory.mktemp("dask-cluster")
    c = Cluster(home)
    t0 = time.monotonic()
    port = free_port()
    server = start_server(port, home / "prefect-server.log", env=dict(env(), PREFECT_HOME=str(home / "prefect")),
                          ui=False)
    try:
        c.start_scheduler()
        c.start_worker("steady")
        c.api = f"http://127.0.0.1:{port}/api"
        wait_healthy(c.api, server, timeout=READY_TIMEOUT)
        print(f"\nPrefect server and cluster up in {time.monotonic() - t0:.1f}s")
        yield c
    finally:
        c.stop()
        stop_process_group(server)
    print(f"\ncluster lived {time.monotonic() - t0:.1f}s")


def run_env(cluster: Cluster) -> dict:
    return dict(env(), PREFECT_API_URL=cluster.api, PREFECT_LOGGING_LEVEL="INFO", PREFECT_API_REQUEST_TIMEOUT="120")


def run_cmd(raw: Path, db: Path, spool: Path, address: str) -> list[str]:
    return [str(BIN / "bankmetrics"), "run", "--raw-dir", str(raw), "--db", str(db), "--no-export",
            "--dask-address", address, "--spool-dir", str(spool), "--batch-size", str(BATCH)]


def bankmetrics_run(cluster: Cluster, raw: Path, db: Path, spool: Path, log: Path) -> subprocess.CompletedProcess:
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.run(run_cmd(raw, db, spool, cluster.address), cwd=db.parent, env=run_env(cluster),
                              stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT)


def task_run_states(cluster: Cluster, db: Path, name: str) -> list[str]:
    """States of the task runs named `name`-... of the run recorded in `db`, on the Prefect server."""
    import duckdb
    import httpx

    con = duckdb.connect(str(db), read_only=True)
    [(flow_run_id,)] = con.execute("select flow_run_id from etl_runs").fetchall()
    con.close()
    r = httpx.post(f"{cluster.api}/task_runs/filter", timeout=120, json={
        "flow_runs": {"id": {"any_": [flow_run_id]}}, "task_runs": {"name": {"like_": name}}, "limit": 200})
    r.raise_for_status()
    return sorted(t["state_type"] for t in r.json())


def test_a_scheduler_and_two_worker_processes_load_the_rows_of_the_threads_runner(
        cluster: Cluster, corpus: Path, threads_rows: dict, tmp_path: Path):
    t0 = time.monotonic()
    cluster.start_worker("second")
    try:
        cluster.wait_for_workers({"steady", "second"})
        ready = time.monotonic() - t0
        spool = tmp_path / "shared-spool"  # the folder every host would mount at the same path
        t1 = time.monotonic()
        res = bankmetrics_run(cluster, corpus, tmp_path / "w.duckdb", spool, tmp_path / "run.log")
        secs = time.monotonic() - t1
        worked = {name: cluster.log(name).count("transform-batch") for name in ("steady", "second")}
    finally:
        cluster.kill("second")
    text = (tmp_path / "run.log").read_text()
    assert res.returncode == 0, text[-3000:]
    assert f"Connecting to an existing Dask cluster at {cluster.address}" in text
    assert f"{N_GENERATED + 2} new" in text
    assert warehouse_rows(tmp_path / "w.duckdb") == threads_rows
    assert list(spool.iterdir()) == []  # each batch's spool folder went once loaded
    print(f"\ncluster ready in {ready:.1f}s, run {secs:.1f}s, transform tasks per worker {worked}")
    assert all(worked.values()), worked  # both processes did some of the work
    # ...and reported their task runs to the one Prefect server, not to temporary ones of their own
    assert "Starting temporary server" not in cluster.log("steady") + cluster.log("second")
    n_batches = -(-(N_GENERATED + 2) // BATCH)
    assert sum(worked.values()) == n_batches
    assert task_run_states(cluster, tmp_path / "w.duckdb", "transform-batch") == ["COMPLETED"] * n_batches


def test_a_worker_killed_mid_task_costs_no_row(cluster: Cluster, corpus: Path, threads_rows: dict, tmp_path: Path):
    preload = tmp_path / "hold_preload.py"
    preload.write_text(HOLD_PRELOAD)
    started = tmp_path / "a-task-started"
    cluster.start_worker("doomed", preload=preload, extra_env={"HOLD_STARTED": str(started)})
    cluster.wait_for_workers({"steady", "doomed"})
    db, spool, log = tmp_path / "w.duckdb", tmp_path / "shared-spool", tmp_path / "run.log"

    t0 = time.monotonic()
    out = open(log, "w", encoding="utf-8")
    run = subprocess.Popen(run_cmd(corpus, db, spool, cluster.address), cwd=tmp_path, env=run_env(cluster),
                           stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while not started.exists():  # the doomed worker is inside a transform task
            assert run.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no transform task reached the doomed worker"
            time.sleep(0.05)
        cluster.kill("doomed")
        killed_at = time.monotonic() - t0
        code = run.wait(timeout=RUN_TIMEOUT)
    finally:
        kill_group(run)
        out.close()
    secs = time.monotonic() - t0
    text = log.read_text()
    assert cluster.procs["doomed"].returncode == -signal.SIGKILL
    if code == 0:
        outcome = "completed: Dask gave the lost task to the other worker"
        # the task the killed worker held ran again on the other one: every task run ends completed
        assert task_run_states(cluster, db, "transform-batch") == ["COMPLETED"] * -(-(N_GENERATED + 2) // BATCH)
    else:
        # The other allowed outcome: a clear one-line failure, nothing half-loaded, then a rerun.
        lines = [ln for ln in text.splitlines() if ln.startswith("bankmetrics:")]
        assert code == 1 and len(lines) == 1 and "run failed" in lines[0], text[-3000:]
        check_warehouse(db, {p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file()})
        rerun = bankmetrics_run(cluster, corpus, db, spool, tmp_path / "rerun.log")
        assert rerun.returncode == 0, (tmp_path / "rerun.log").read_text()[-3000:]
        outcome = f"failed ({lines[0]}), rerun completed"
    assert warehouse_rows(db) == threads_rows
    print(f"\nworker killed {killed_at:.1f}s into the run; run {outcome}; {secs:.1f}s in all")
