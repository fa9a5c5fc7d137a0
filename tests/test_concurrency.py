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
# A run must still hold the warehouse while the busy checks run, however slow a loaded machine
# makes them: an ordering, not a race. The held run is the real CLI whose flow waits, from the
# test's side (no hook in the code), for gate files the test creates: OPEN_GATE before the flow
# opens the warehouse (the CLI's own wait opens it first and is not held), LOAD_GATE before each
# batch loads. Each wait is bounded (GATE_TIMEOUT) so a broken test cannot hang.
GATE_TIMEOUT = 300
_HELD_CLI = (
    "import os, sys, time\n"
    "import flows.load as wh\n"
    "def gate(name):\n"
    "    path, deadline = os.environ.get(name), time.monotonic() + %d\n"
    "    while path and not os.path.exists(path) and time.monotonic() < deadline:\n"
    "        time.sleep(0.05)\n"
    "real_open, real_load, opened = wh.open_warehouse, wh.load_batch, []\n"
    "def held_open(*args, **kwargs):\n"
    "    if opened:\n"
    "        gate('OPEN_GATE')\n"
    "    opened.append(1)\n"
    "    return real_open(*args, **kwargs)\n"
    "def held_load(*args, **kwargs):\n"
    "    gate('LOAD_GATE')\n"
    "    return real_load(*args, **kwargs)\n"
    "wh.open_warehouse, wh.load_batch = held_open, held_load\n"
    "from flows.cli import app\n"
    "sys.argv[0] = 'bankmetrics'\n"
    "app()\n"
) % GATE_TIMEOUT


def cli_cmd(*args: str) -> list[str]:
    return [str(BIN) if BIN.exists() else "bankmetrics", *args]


def start_run(raw: Path, db: Path, log: Path, wait: float = 30, gates: dict[str, Path] | None = None) -> subprocess.Popen:
    """`bankmetrics run` into `log`; with `gates` ({"OPEN_GATE": path, "LOAD_GATE": path}), held."""
    out = open(log, "w", encoding="utf-8")
    args = ("run", "--raw-dir", str(raw), "--db", str(db), "--no-export", "--batch-size", "100", "--wait", str(wait))
    env = dict(run_env(), **{k: str(v) for k, v in (gates or {}).items()})
    return subprocess.Popen(
        [str(PYTHON), "-c", _HELD_CLI, *args] if gates else cli_cmd(*args),
        stdout=out, stderr=subprocess.STDOUT, env=env, cwd=raw.parent, start_new_session=True,
    )


def wait_for_log(proc: subprocess.Popen, log: Path, needle: str, timeout: float = 300) -> None:
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
    release = tmp_path / "release-loads"
    first = start_run(raw, db, tmp_path / "first.log", gates={"LOAD_GATE": release})  # holds the file
    queued = None
    try:
        # "scan: ..." is logged once the flow holds the warehouse and has planned the run; its loads
        # wait for `release`, so it holds the warehouse until the checks below are done.
        wait_for_log(first, tmp_path / "first.log", "scan: ")

        t0 = time.monotonic()
        second = subprocess.run(
            cli_cmd("run", "--raw-dir", str(raw), "--db", str(db), "--no-export", "--wait", "1"),
            capture_output=True, text=True, env=run_env(), cwd=tmp_path, timeout=300,
        )
        assert second.returncode == 3, second.stderr
        assert second.stderr.strip().count("\n") == 0 and "warehouse busy" in second.stderr
        assert time.monotonic() - t0 >= 1  # it waited its second, then gave up

        reader = subprocess.run(
            cli_cmd("sql", "select count(*) from dim_documents", "--db", str(db)),
            capture_output=True, text=True, env=run_env(), cwd=tmp_path, timeout=300,
        )
        assert reader.returncode == 3 and "warehouse busy" in reader.stderr
        assert reader.stderr.strip().count("\n") == 0
        assert first.poll() is None and "loaded: " not in (tmp_path / "first.log").read_text()

        queued = start_run(raw, db, tmp_path / "queued.log", wait=GATE_TIMEOUT)
        wait_for_log(queued, tmp_path / "queued.log", "warehouse busy (another run holds")  # it queues
        release.touch()
        assert first.wait(timeout=GATE_TIMEOUT) == 0, (tmp_path / "first.log").read_text()[-3000:]
        assert queued.wait(timeout=GATE_TIMEOUT) == 0, (tmp_path / "queued.log").read_text()[-3000:]
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
    flow opens it: the flow's open-warehouse task retries (busy only) instead of failing. In that
    order, whatever the machine's load: A's flow opens the warehouse only once B is past its CLI
    wait, and loads only once B's flow has found the warehouse busy."""
    raw, db = tmp_path / "raw", tmp_path / "w.duckdb"
    n_docs = 1500
    make_corpus(raw, n_docs)
    may_open, may_load = tmp_path / "a-may-open", tmp_path / "a-may-load"
    a = start_run(raw, db, tmp_path / "a.log", wait=GATE_TIMEOUT, gates={"OPEN_GATE": may_open, "LOAD_GATE": may_load})
    b = None
    try:
        # A has passed the CLI's wait and is starting Prefect; its flow has not opened the file yet.
        wait_for_log(a, tmp_path / "a.log", "Starting temporary server")
        b = start_run(raw, db, tmp_path / "b.log", wait=GATE_TIMEOUT)
        wait_for_log(b, tmp_path / "b.log", "Starting temporary server")  # B is past its CLI wait
        may_open.touch()
        wait_for_log(a, tmp_path / "a.log", "scan: ")  # A's flow holds the warehouse
        wait_for_log(b, tmp_path / "b.log", "WarehouseBusy")  # B's flow found it busy, and retries
        assert "Retry 1/" in (tmp_path / "b.log").read_text()
        may_load.touch()
        codes = (a.wait(timeout=GATE_TIMEOUT), b.wait(timeout=GATE_TIMEOUT))
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
