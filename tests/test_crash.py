"""Issue 6.2: crash safety. A run killed with SIGKILL while it loads a few thousand documents
leaves a warehouse that reopens, holds no half-loaded document, and that the next run completes.

Two kills: one from outside (the test SIGKILLs `bankmetrics run` once the log shows batches
loaded, wherever the process then is; its fourth load is held, so on a slow machine the run cannot
finish first), and one that cannot miss the window that matters: a run
whose connection SIGKILLs its own process inside a load transaction, after the batch's documents
were inserted and before their mentions were.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.prefect

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = ROOT / ".venv" / "bin" / "bankmetrics"
N_DOCS = 2400
BATCH = 200


def seed_paragraphs() -> list[str]:
    """Body paragraphs of the two seed articles that state a number."""
    from flows.clean import clean_document
    from flows.ingest import read_document, scan

    raw = ROOT / "raw"
    paras: list[str] = []
    for e in scan(raw)[0]:
        paras += [p for p in clean_document(read_document(raw, e)).paragraphs if re.search(r"\d", p)]
    return paras


def make_corpus(raw: Path, n: int = N_DOCS) -> list[str]:
    """`n` small articles built from seed paragraphs, each with its numbers perturbed so every
    file has distinct bytes. Returns their paths."""
    raw.mkdir(parents=True, exist_ok=True)
    paras = seed_paragraphs()
    names = []
    for i in range(n):
        body = [paras[(i + k) % len(paras)] for k in range(2)]
        body = [re.sub(r"\d+(?=\.\d)", lambda m: str(int(m.group()) + i % 89 + 1), p) for p in body]
        name = f"{i // 500:02d}/doc_{i:05d}.txt"
        (raw / name).parent.mkdir(exist_ok=True)
        (raw / name).write_text(f"第{i}号快讯\n" + "\n".join(body) + "\n", encoding="utf-8")
        names.append(name)
    return names


def run_env() -> dict:
    env = dict(os.environ)
    env["PREFECT_LOGGING_LEVEL"] = "INFO"  # the test watches task runs finish
    env["PYTHONUNBUFFERED"] = "1"
    return env


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process this test started, and any child it started (same new session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def check_warehouse(db: Path, expected_paths: set[str]) -> dict:
    """The invariants a crash must not break. Returns counts for the caller."""
    from flows.batch import fit_decimal
    from flows.models import DocContext
    from flows.normalise import extract_mentions

    con = duckdb.connect(str(db))  # read-write, as the next run opens it: replays the WAL
    try:
        docs = con.execute(
            """select d.doc_id, d.body_text, d.title, d.published_at, d.published_precision,
                      d.sidecar_entity, count(m.doc_id)
               from dim_documents d left join fct_mentions m using (doc_id)
               group by all"""
        ).fetchall()
        one = lambda sql: con.execute(sql).fetchall()[0][0]  # noqa: E731
        orphan_mentions = one("select count(*) from fct_mentions where doc_id not in (select doc_id from dim_documents)")
        docs_without_path = one(
            "select count(*) from dim_documents where doc_id not in (select doc_id from dim_source_files)"
        )
        paths_without_doc = one(
            "select count(*) from dim_source_files where doc_id not in (select doc_id from dim_documents)"
        )
        dup_docs = one("select count(*) - count(distinct doc_id) from dim_documents")
        dup_paths = one("select count(*) - count(distinct path) from dim_source_files")
        dup_mentions = one("select count(*) - count(distinct (doc_id, mention_no)) from fct_mentions")
        paths = {r[0] for r in con.execute("select path from dim_source_files").fetchall()}
        quarantined = one("select count(*) from etl_quarantine")
        runs = con.execute("select status from etl_runs order by started_at").fetchall()
    finally:
        con.close()
    assert (orphan_mentions, docs_without_path, paths_without_doc) == (0, 0, 0)
    assert (dup_docs, dup_paths, dup_mentions) == (0, 0, 0)
    assert paths <= expected_paths and quarantined == 0
    # All or none: each document holds exactly the mentions a fresh extraction of its text gives.
    for doc_id, text, title, published_at, precision, entity, n_loaded in docs:
        ctx = DocContext(published_at=published_at, published_precision=precision, entity=entity, title=title)
        n_fresh = sum(1 for m in extract_mentions(text, ctx) if fit_decimal(m.value) is not None)
        assert n_loaded == n_fresh, (doc_id, n_loaded, n_fresh)
    return {"docs": len(docs), "paths": len(paths), "runs": [r[0] for r in runs],
            "mentions": sum(d[-1] for d in docs)}


def rerun_completes(raw: Path, db: Path, loaded_before: int, expected: set[str]) -> None:
    from flows.pipeline import etl

    summary = etl(raw_dir=str(raw), db=str(db), batch_size=BATCH)
    assert summary["docs_new"] == len(expected) - loaded_before, summary["docs_new"]
    assert summary["docs_unchanged"] == loaded_before
    assert summary["files_quarantined"] == 0
    after = check_warehouse(db, expected)
    assert after["paths"] == len(expected) and after["docs"] == len(expected)
    assert after["runs"][-1] == "completed" and "crashed" in after["runs"]


# `bankmetrics run` whose fourth load waits (bounded) for a file that never comes: however slow
# the machine, the run cannot finish before the test has seen three loads and killed it.
_HOLD_THE_FOURTH_LOAD = r"""
import os, sys, time
import flows.load as wh
real, loads = wh.load_batch, []
def load_batch(*args, **kwargs):
    loads.append(1)
    deadline = time.monotonic() + 300
    while len(loads) >= 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    return real(*args, **kwargs)
wh.load_batch = load_batch
from flows.cli import app
sys.argv[0] = "bankmetrics"
app()
"""


def test_sigkill_from_outside_mid_run_then_rerun_completes(tmp_path: Path):
    raw, db = tmp_path / "raw", tmp_path / "w.duckdb"
    expected = set(make_corpus(raw))
    log = open(tmp_path / "run.log", "w+", encoding="utf-8")
    proc = subprocess.Popen(
        [PYTHON, "-c", _HOLD_THE_FOURTH_LOAD, "run", "--raw-dir", str(raw), "--db", str(db), "--no-export",
         "--batch-size", str(BATCH)],
        stdout=log, stderr=subprocess.STDOUT, env=run_env(), cwd=tmp_path, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            log.seek(0)
            if len(re.findall(r"load-batch-\S+ - Finished in state Completed", log.read())) >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed:\n" + (tmp_path / "run.log").read_text()
    finally:
        kill_group(proc)
    assert proc.returncode == -signal.SIGKILL
    before = check_warehouse(db, expected)
    assert 3 * BATCH <= before["docs"] < len(expected)
    assert before["runs"] == ["running"]  # nobody recorded the end of the killed run
    rerun_completes(raw, db, before["docs"], expected)


# Runs the real flow with a connection that SIGKILLs its own process inside the third batch's
# load transaction: after the batch's documents were inserted, before their mentions are.
_DIE_INSIDE_A_LOAD = r"""
import os, signal, sys
import flows.load as wh

class DieInsideLoad:
    def __init__(self, con):
        self._con, self._loads = con, 0
    def __getattr__(self, name):
        return getattr(self._con, name)
    def execute(self, sql, *args, **kw):
        if isinstance(sql, str) and sql.lstrip().lower().startswith("insert into fct_mentions"):
            self._loads += 1
            if self._loads == 3:
                print("dying inside the load transaction", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
        return self._con.execute(sql, *args, **kw)

_open = wh.open_warehouse
wh.open_warehouse = lambda db: DieInsideLoad(_open(db))
from flows.pipeline import etl
etl(raw_dir=sys.argv[1], db=sys.argv[2], batch_size=int(sys.argv[3]))
"""


def test_sigkill_inside_a_load_transaction_leaves_no_half_loaded_document(tmp_path: Path):
    raw, db = tmp_path / "raw", tmp_path / "w.duckdb"
    expected = set(make_corpus(raw))
    log = tmp_path / "run.log"
    with open(log, "w", encoding="utf-8") as out:
        # Output to a file, not a pipe: Prefect's temporary server (a child) outlives the kill.
        proc = subprocess.Popen(
            [PYTHON, "-c", _DIE_INSIDE_A_LOAD, str(raw), str(db), str(BATCH)],
            stdout=out, stderr=subprocess.STDOUT, env=run_env(), cwd=ROOT, start_new_session=True,
        )
        try:
            proc.wait(timeout=300)
        finally:
            kill_group(proc)
    text = log.read_text(encoding="utf-8")
    assert proc.returncode == -signal.SIGKILL and "dying inside the load transaction" in text, text[-3000:]
    before = check_warehouse(db, expected)
    assert before["docs"] == 2 * BATCH  # the third batch's documents were rolled back with it
    rerun_completes(raw, db, before["docs"], expected)


# Exports the fixture warehouse, SIGKILLing itself once the second Parquet file has been written.
_DIE_INSIDE_AN_EXPORT = r"""
import os, signal, sys
import pyarrow.parquet as pq
import flows.export as ex

_write, calls = pq.write_table, []
def write_table(*a, **kw):
    _write(*a, **kw)
    calls.append(1)
    if len(calls) == 2:
        print("dying inside the export", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
ex.pq.write_table = write_table
ex.export_all(sys.argv[1], sys.argv[2], "killed-export")
"""


def assert_complete_export(folder: Path) -> str:
    """Every file the manifest lists is there and readable; returns its run id."""
    import json

    import pyarrow.dataset as pads

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for info in manifest["files"].values():
        target = folder / info["path"]
        assert target.exists(), target
        assert pads.dataset(str(target), format="parquet").count_rows() == info["rows"]
    assert (folder / manifest["report"]["path"]).is_file()
    return manifest["run_id"]


def test_sigkill_inside_an_export_leaves_the_previous_export_whole(tmp_path: Path):
    from report_fixture import RUN_ID, build_warehouse

    from flows.export import export_all

    db = build_warehouse(tmp_path / "w.duckdb")
    exports = tmp_path / "exports"
    export_all(db, exports, None)
    assert assert_complete_export(exports) == RUN_ID

    log = tmp_path / "export.log"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([PYTHON, "-c", _DIE_INSIDE_AN_EXPORT, str(db), str(exports)],
                                stdout=out, stderr=subprocess.STDOUT, env=run_env(), cwd=ROOT,
                                start_new_session=True)
        try:
            proc.wait(timeout=300)
        finally:
            kill_group(proc)
    assert proc.returncode == -signal.SIGKILL and "dying inside the export" in log.read_text(), log.read_text()
    assert assert_complete_export(exports) == RUN_ID  # the old export, untouched and whole
    export_all(db, exports, "after-the-crash")
    assert assert_complete_export(exports) == "after-the-crash"
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".exports"))
    print("staging folders left by the killed export:", leftovers)
