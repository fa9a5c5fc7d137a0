"""Task runners (flows/runners.py): choice and validation, pickling of what crosses a process
boundary, and the same warehouse rows from threads, a process pool and a local Dask cluster."""
from __future__ import annotations

import importlib.util
import os
import pickle
import shutil
from pathlib import Path

import duckdb
import pytest

from flows.runners import AUTO_PROCESSES_MIN_FILES, make_task_runner, run_options

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"

CORPUS_SIZE = 300


# --- choice and validation -------------------------------------------------------------------


def test_runner_names_map_to_prefect_task_runners():
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    threads = make_task_runner()
    assert isinstance(threads, ThreadPoolTaskRunner) and threads._max_workers == 1
    assert make_task_runner("threads", workers=4)._max_workers == 4
    procs = run_options("Processes", workers=2)
    assert isinstance(procs["task_runner"], ThreadPoolTaskRunner) and procs["processes"] == 2
    assert run_options("threads", workers=2)["processes"] == 0

    # the CLI's default: a worker process per core, used only by a run of 1,000 files or more
    auto = run_options()
    assert isinstance(auto["task_runner"], ThreadPoolTaskRunner)
    assert auto["processes"] == (os.cpu_count() or 1) and auto["min_files_for_processes"] == AUTO_PROCESSES_MIN_FILES
    assert run_options("processes", workers=2)["min_files_for_processes"] == 0
    assert run_options("threads")["processes"] == 0 and run_options("threads")["task_runner"]._max_workers == 1

    local = make_task_runner("dask", workers=3)
    assert isinstance(local, DaskTaskRunner) and local.address is None
    assert local.cluster_kwargs["n_workers"] == 3 and local.cluster_kwargs["threads_per_worker"] == 1
    assert local.cluster_kwargs["host"] == "127.0.0.1"

    remote = make_task_runner(dask_address="tcp://10.0.0.5:8786")  # an address implies dask
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"
    assert make_task_runner("dask", dask_address=" tcp://h:8786 ").address == "tcp://h:8786"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"runner": "spark"}, "unknown runner 'spark'"),
        ({"workers": 0}, "workers must be"),
        ({"workers": -2}, "workers must be"),
        ({"workers": 1.5}, "workers must be"),
        ({"runner": "processes", "dask_address": "tcp://h:8786"}, "needs the dask runner"),
        ({"dask_address": "h:8786"}, "not a scheduler address"),
        ({"dask_address": "tcp://"}, "not a scheduler address"),
    ],
)
def test_bad_choices_fail_with_one_line(kwargs, message):
    with pytest.raises(ValueError) as exc:
        make_task_runner(**kwargs)
    assert message in str(exc.value) and "\n" not in str(exc.value)


# --- what crosses a process boundary ---------------------------------------------------------


def test_task_inputs_and_batch_round_trip_through_pickle(tmp_path: Path):
    """The local worker pool pickles with pickle, Dask with pickle/cloudpickle: both ways."""
    import cloudpickle

    from flows.batch import build_batch
    from flows.config import Limits
    from flows.ingest import scan

    entries, _ = scan(RAW)
    limits = Limits(max_file_bytes=1 << 20, max_paragraph_chars=10_000)
    batch = build_batch(RAW, entries, {}, limits)
    assert batch.mentions.num_rows > 40
    for dumps, loads in ((pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)):
        assert loads(dumps(entries)) == entries
        assert loads(dumps(limits)) == limits
        back = loads(dumps(batch))
        for name in ("docs", "paths", "mentions", "quarantined", "touched"):
            assert getattr(back, name).equals(getattr(batch, name)), name
        assert back.stage_seconds == batch.stage_seconds
    # The task object itself is shipped to the workers too.
    from flows.pipeline import Opaque, transform_task

    from flows.batch import read_spool

    shipped = cloudpickle.loads(cloudpickle.dumps(transform_task))
    work = cloudpickle.loads(cloudpickle.dumps(Opaque((entries, {}))))
    seconds = shipped.fn(str(RAW), work, limits, str(tmp_path / "spool"))
    assert read_spool(tmp_path / "spool", seconds).mentions.equals(batch.mentions)


# --- same rows whatever the runner -----------------------------------------------------------


def _generate(out: Path, n: int) -> None:
    """The benchmark's synthetic corpus (seed articles reshuffled, re-encoded, HTML or text)."""
    spec = importlib.util.spec_from_file_location("bankmetrics_bench", ROOT / "benchmarks" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.generate(out, n)


def warehouse_rows(db: Path) -> dict[str, list[tuple]]:
    """Every row of the tables a run fills, minus what differs by run: run ids and timestamps."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for table in ("dim_documents", "dim_source_files", "fct_mentions", "etl_quarantine"):
            cols = [
                name
                for name, dtype in con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if name != "run_id" and not dtype.startswith("TIMESTAMP")
            ]
            select = ", ".join(f'"{c}"' for c in cols)
            out[table] = con.execute(f"select {select} from {table} order by all").fetchall()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The two seeds plus a generated corpus of a few hundred documents."""
    raw = tmp_path_factory.mktemp("corpus") / "raw"
    shutil.copytree(RAW, raw)
    _generate(raw / "generated", CORPUS_SIZE)
    return raw


@pytest.fixture(scope="module")
def baseline(corpus: Path, tmp_path_factory) -> tuple[dict, dict]:
    """The default runner's summary and rows."""
    from flows.pipeline import run_etl

    db = tmp_path_factory.mktemp("threads") / "w.duckdb"
    summary = run_etl(raw_dir=str(corpus), db=str(db), batch_size=100)
    return summary, warehouse_rows(db)


@pytest.mark.prefect
@pytest.mark.parametrize("runner", ["processes", "dask"])
def test_processes_and_a_local_dask_cluster_load_the_same_rows(runner, corpus, baseline, tmp_path):
    from flows.pipeline import run_etl

    base_summary, base_rows = baseline
    assert base_summary["docs_new"] == CORPUS_SIZE + 2 and base_summary["files_quarantined"] == 0
    assert len(base_rows["fct_mentions"]) == base_summary["mentions_loaded"] > 20 * CORPUS_SIZE

    db = tmp_path / "w.duckdb"
    # batch_size 100: four transform tasks, so both workers get some.
    summary = run_etl(**run_options(runner, workers=2), raw_dir=str(corpus), db=str(db), batch_size=100)
    assert {k: summary[k] for k in ("files_seen", "docs_new", "mentions_loaded", "files_quarantined")} == {
        k: base_summary[k] for k in ("files_seen", "docs_new", "mentions_loaded", "files_quarantined")
    }
    rows = warehouse_rows(db)
    for table, expected in base_rows.items():
        assert rows[table] == expected, f"{table} differs on {runner}"


def test_a_warmed_worker_hides_what_it_holds_from_the_collector():
    import gc

    from flows import workers

    gc.unfreeze()
    try:
        workers._warm()
        assert gc.get_freeze_count() > 1000  # modules, rules and compiled patterns
    finally:
        gc.unfreeze()
