"""Issue 6.3: concurrent runs and readers on one warehouse (docs/robustness.md, "Concurrency").

The choice: DuckDB lets one process open a database file for writing and then nobody else, not
even a reader. `bankmetrics run` waits up to `--wait` seconds (default 30) for the warehouse and
then exits 3 with one line, "warehouse busy"; a second run with a long enough `--wait` queues
behind the first. A run that got past that wait just before another run's flow took the file
queues too: the flow's `open-warehouse` task retries while the warehouse is busy. `bankmetrics sql` does not wait: while a run holds the file it exits 3 with
one line saying so (read the Parquet exports meanwhile).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from test_crash import BIN, PYTHON, check_warehouse, kill_group, make_corpus, run_env

pytestmark = pytest.mark.prefect

N_DOCS = 3000
# The first run must still hold the warehouse while the busy checks run (each starts a CLI: a few
# seconds on a loaded machine). Loads got fast enough to finish first, so that run is the real CLI
# with each batch's load held back this long, from the test's side (no hook in the code).
SLOW_LOAD_SECONDS = 0.4
_SLOW_CLI = (
    "import sys, time\n"
    "import flows.load as wh\n"
    "real = wh.load_batch\n"
    "def held(*args, **kwargs):\n"
    f"    time.sleep({SLOW_LOAD_SECONDS})\n"
    "    return real(*args, **kwargs)\n"
    "wh.load_batch = held\n"
    "from flows.cli import app\n"
    "sys.argv[0] = 'bankmetrics'\n"
    "app()\n"
)


def cli_cmd(*args: str) -> list[str]:
    return [str(BIN) if BIN.exists() else "bankmetrics", *args]


def start_run(raw: Path, db: Path, log: Path, wait: float = 30, slow: bool = False) -> subprocess.Popen:
    out = open(log, "w", encoding="utf-8")
    args = ("run", "--raw-dir", str(raw), "--db", str(db), "--no-export", "--batch-size", "100", "--wait", str(wait))
    return subprocess.Popen(
        [str(PYTHON), "-c", _SLOW_CLI, *args] if slow else cli_cmd(*args),
        stdout=out, stderr=subprocess.STDOUT, env=run_env(), cwd=raw.parent, start_new_session=True,
    )


def wait_for_log(proc: subprocess.Popen, log: Path, needle: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in log.read_text(encoding="utf-8"):
            return
        assert proc.poll() is None, log.read_text(encoding="utf-8")[-3000:]
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} never logged")


def bankmetrics_line(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("bankmetrics:")]


def test_second_run_and_reader_get_one_line_busy_third_run_queues(tmp_path: Path):
    raw, db = tmp_path / "raw", tmp_path / "w.duckdb"
    expected = set(make_corpus(raw, N_DOCS))
    first = start_run(raw, db, tmp_path / "first.log", slow=True)  # holds the file >= 12 s
    queued = None
    try:
        # "scan: ..." is logged once the flow holds the warehouse and has planned the run.
        wait_for_log(first, tmp_path / "first.log", "scan: ")

        t0 = time.monotonic()
        second = subprocess.run(
            cli_cmd("run", "--raw-dir", str(raw), "--db", str(db), "--no-export", "--wait", "1"),
            capture_output=True, text=True, env=run_env(), cwd=tmp_path, timeout=120,
        )
        waited = time.monotonic() - t0
        assert second.returncode == 3, second.stderr
        assert second.stderr.strip().count("\n") == 0 and "warehouse busy" in second.stderr
        assert 1 <= waited < 30  # waited its second, then gave up

        reader = subprocess.run(
            cli_cmd("sql", "select count(*) from dim_documents", "--db", str(db)),
            capture_output=True, text=True, env=run_env(), cwd=tmp_path, timeout=120,
        )
        assert reader.returncode == 3 and "warehouse busy" in reader.stderr
        assert reader.stderr.strip().count("\n") == 0
        assert first.poll() is None, "the first run must still be loading for this test to mean anything"

        queued = start_run(raw, db, tmp_path / "queued.log", wait=180)
        assert first.wait(timeout=180) == 0, (tmp_path / "first.log").read_text()[-3000:]
        assert queued.wait(timeout=180) == 0, (tmp_path / "queued.log").read_text()[-3000:]
    finally:
        for proc in (first, queued):
            if proc is not None:
                kill_group(proc)  # also ends a Prefect temporary server the run left behind
    assert f"files seen: {N_DOCS}" in (tmp_path / "first.log").read_text()
    assert f"0 new, 0 changed, {N_DOCS} unchanged" in (tmp_path / "queued.log").read_text()
    state = check_warehouse(db, expected)
    assert state["docs"] == state["paths"] == N_DOCS
    con = duckdb.connect(str(db), read_only=True)
    runs = con.execute("select status, docs_new from etl_runs order by started_at").fetchall()
    con.close()
    assert runs == [("completed", N_DOCS), ("completed", 0)]  # the busy run never started one


def test_a_run_that_may_wait_queues_even_when_it_starts_while_the_other_starts_up(tmp_path: Path):
    """B passes the CLI's wait while A starts Prefect, then finds A holding the warehouse when its
    flow opens it: the flow's open-warehouse task retries (busy only) instead of failing."""
    raw, db = tmp_path / "raw", tmp_path / "w.duckdb"
    n_docs = 1500
    make_corpus(raw, n_docs)
    a = start_run(raw, db, tmp_path / "a.log", wait=180)
    b = None
    try:
        # A has passed the CLI's wait and is starting Prefect; its flow has not opened the file yet.
        wait_for_log(a, tmp_path / "a.log", "Starting temporary server")
        assert "scan: " not in (tmp_path / "a.log").read_text()
        b = start_run(raw, db, tmp_path / "b.log", wait=180)
        codes = (a.wait(timeout=180), b.wait(timeout=180))
    finally:
        for proc in (a, b):
            if proc is not None:
                kill_group(proc)
    logs = [(tmp_path / n).read_text() for n in ("a.log", "b.log")]
    assert codes == (0, 0), [log[-600:] for log in logs]
    con = duckdb.connect(str(db), read_only=True)
    counts = con.execute("select count(*), count(distinct path) from dim_source_files").fetchall()
    con.close()
    assert counts == [(n_docs, n_docs)]
