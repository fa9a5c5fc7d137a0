"""Where the CPU-bound stages run: the Prefect task runner for `transform-batch` tasks.

    auto       the CLI's default: `processes` with one worker per core when the run reads at least
               AUTO_PROCESSES_MIN_FILES files (a backfill), else `threads` (a daily run: no pool to start)
    threads    one process, a thread pool (no start-up cost, no pickling)
    processes  a local pool of worker processes (flows/workers.py) fed by Prefect's thread runner:
               the stages are pure Python, so this is what uses several cores of one machine
    dask       a Dask cluster: a local one of `workers` processes, or an existing one at `dask_address`

Only decode, clean and extract move; the DuckDB load stays in the flow process whatever the
runner, because DuckDB lets one process write the warehouse. With processes and Dask the task's
inputs (`FileEntry` lists, `Limits`) and its result (`flows.load.Batch`, pyarrow tables) are
pickled between processes; tests/test_runners.py checks that they round-trip.

On one machine Dask is slower than a process pool (its scheduler and worker processes cost
start-up time and memory); it is the way to spread a large corpus over several machines
(docs/scheduling.md).
"""
from __future__ import annotations

import os

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

RUNNERS = ("auto", "threads", "processes", "dask")

# `auto` starts worker processes from this many files to read. The pool costs ~0.3 s to start and
# saves ~0.5 ms an article per extra core (measured: bench.py, 1 against 2 workers).
AUTO_PROCESSES_MIN_FILES = 1000


def _name(runner: str | None) -> str:
    return (runner or "auto").strip().lower()


def default_workers(runner: str) -> int:
    """Workers when none are given: one per core for `auto` and `processes`, else 1."""
    return (os.cpu_count() or 1) if _name(runner) in ("auto", "processes") else 1


def make_task_runner(
    runner: str = "threads", workers: int = 1, dask_address: str | None = None
) -> TaskRunner:
    """The Prefect task runner for `run_etl(task_runner=...)`.

    `workers` is the number of threads, processes or local Dask worker processes (one thread each:
    the stages hold the GIL). `dask_address` (e.g. "tcp://10.0.0.5:8786") connects to an existing
    Dask scheduler and implies `runner="dask"`; that cluster's own workers do the work, so `workers`
    is not used then. Raises ValueError with a one-line message for a bad combination.
    """
    runner = _name(runner)
    if runner not in RUNNERS:
        raise ValueError(f"unknown runner {runner!r}: use one of {', '.join(RUNNERS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number of at least 1, not {workers!r}")
    if dask_address is not None:
        dask_address = dask_address.strip()
        if runner == "processes":
            raise ValueError("a Dask address needs the dask runner, not processes")
        if "://" not in dask_address or dask_address.endswith("://"):
            raise ValueError(
                f"Dask address {dask_address!r} is not a scheduler address like tcp://host:8786"
            )
        runner = "dask"

    if runner in ("auto", "threads", "processes"):
        # "processes": each thread hands its batch to the local worker pool (see run_options);
        # Prefect's ProcessPoolTaskRunner starts interpreters that import Prefect for every run
        # (measured: 10 s for 2 trivial tasks), more than a daily run's whole work.
        return ThreadPoolTaskRunner(max_workers=max(1, workers))
    return _dask_runner(workers, dask_address)


def run_options(runner: str = "auto", workers: int | None = None, dask_address: str | None = None) -> dict:
    """Keyword arguments for `run_etl`: the task runner and the local worker processes, if any.

    `workers` None means `default_workers(runner)`.
    """
    if workers is None:
        workers = default_workers(runner)
    task_runner = make_task_runner(runner, workers, dask_address)
    name = _name(runner)
    local = name in ("auto", "processes") and dask_address is None
    return {"task_runner": task_runner, "processes": workers if local else 0,
            "min_files_for_processes": AUTO_PROCESSES_MIN_FILES if name == "auto" else 0}


def _dask_runner(workers: int, address: str | None) -> TaskRunner:
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:  # pragma: no cover - prefect-dask is in requirements.lock
        raise ValueError("the dask runner needs prefect-dask: pip install prefect-dask") from None
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": workers,
            "threads_per_worker": 1,  # the stages are pure Python: threads would share one GIL
            "processes": True,
            "host": "127.0.0.1",  # a local cluster listens on loopback only
            "dashboard_address": "127.0.0.1:0",  # its dashboard too, on a free port
        },
    )
