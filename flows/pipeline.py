"""The Prefect flow `bankmetrics-etl`: thin tasks around the stage modules, wired in order.

scan -> plan -> transform batches (in the task runner: threads, processes or Dask) -> load each
batch in one transaction in the flow process (DuckDB is a single writer) -> remove files that
left the folder -> record the run -> export. Tasks work on batches of hundreds of files, never
one file: each Prefect task run costs milliseconds of bookkeeping.
"""
from __future__ import annotations

import shutil
import time
import uuid
from collections import deque
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

from flows import NATIVE, lexicon
from flows import progress as progress_
from flows import load as wh
from flows.batch import build_spooled_batch, read_spool
from flows.config import DEFAULT_BATCH_SIZE, DEFAULT_DB, DEFAULT_RAW_DIR, Limits
from flows.ingest import FileEntry, scan
from flows.plan import chunks, make_plan
from flows.workers import local_pool


@task(name="scan", cache_policy=NO_CACHE)
def scan_task(raw_dir: str) -> list[FileEntry]:
    # Unreadable, hidden and special files come back as entries too: they get quarantined.
    entries, _ = scan(Path(raw_dir))
    return entries


class Opaque:
    """A task argument Prefect passes on without looking inside.

    Prefect walks lists, dicts and dataclasses in task arguments for futures to wait on: 0.9 s
    for a list of 20,000 dicts (measured), per task run. A batch's file list and known hashes
    have no futures in them. (`prefect.utilities.annotations.quote` does the same locally but
    reaches a Dask worker still wrapped.)
    """

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value


@task(name="transform-batch", cache_policy=NO_CACHE)
def transform_task(raw_dir: str, work: Opaque, limits: Limits, spool: str, processes: int = 0) -> dict[str, float]:
    """Decode, clean and extract one batch into the spool folder `spool`; returns stage seconds.

    `work` holds (entries, known): the batch's files and the (doc_id, sidecar_hash) the warehouse
    holds for those it knows. Runs here, or in the local worker pool when `processes` > 0 (or on a
    Dask worker, which then needs the raw folder and the spool folder at the same paths).
    """
    entries, known = work.value
    if processes > 0:
        return local_pool(processes).submit(build_spooled_batch, raw_dir, entries, known, limits, spool).result()
    return build_spooled_batch(raw_dir, entries, known, limits, spool)


def _warehouse_busy(task, task_run, state) -> bool:
    """Retry only what is transient: another process holding DuckDB's lock."""
    try:
        state.result()
    except wh.WarehouseBusy:
        return True
    except Exception:
        return False
    return False


BUSY_RETRY_DELAYS = (5, 15, 30, 60)


def busy_retry_delays(wait_seconds: float) -> list[int]:
    """The retry delays for a busy warehouse that fit in `wait_seconds` (5, 15, 30, 60 s)."""
    out: list[int] = []
    for d in BUSY_RETRY_DELAYS:
        if sum(out) + d > wait_seconds:
            break
        out.append(d)
    return out


@task(name="open-warehouse", cache_policy=NO_CACHE, retry_condition_fn=_warehouse_busy)
def open_warehouse_task(db: str):
    return wh.open_warehouse(db)


@task(name="load-batch", cache_policy=NO_CACHE)
def load_task(con, batch: wh.Batch, run_id: str) -> int:
    wh.load_batch(con, batch, run_id)
    return batch.n_mentions


def _flow_run_id() -> str | None:
    try:
        return str(get_run_context().flow_run.id)
    except Exception:  # called outside a flow run (plain function use)
        return None


@flow(name="bankmetrics-etl", log_prints=False)
def etl(
    raw_dir: str = DEFAULT_RAW_DIR,
    db: str = DEFAULT_DB,
    export_dir: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_file_bytes: int = Limits.max_file_bytes,
    max_paragraph_chars: int = Limits.max_paragraph_chars,
    in_flight: int = 2,
    processes: int = 0,
    min_files_for_processes: int = 0,
    wait_seconds: float = 110,
    spool_dir: str | None = None,
) -> dict:
    """Load every new or changed article under `raw_dir` into the warehouse `db`.

    Returns the run summary (also stored in `etl_runs`). `in_flight` bounds how many transformed
    batches wait for the loader, so memory follows the batch size, not the corpus size.
    `processes` > 0 transforms batches in that many local worker processes (flows/workers.py),
    when the run reads at least `min_files_for_processes` files (else in the flow's threads).
    `wait_seconds` bounds how long the run waits for a warehouse another process holds.
    `spool_dir` holds transformed batches until they are loaded (default: a folder beside the
    warehouse, removed at the end of the run; with Dask workers on other machines, a shared path).
    """
    log = get_run_logger()
    t_start = time.perf_counter()
    limits = Limits(max_file_bytes=max_file_bytes, max_paragraph_chars=max_paragraph_chars)
    run_id = uuid.uuid4().hex[:16]
    stage: dict[str, float] = {}

    t = time.perf_counter()
    entries = scan_task(raw_dir)
    stage["scan"] = time.perf_counter() - t

    # Transformed batches wait for the loader as Arrow files here (see flows/batch.py).
    spool_base = Path(spool_dir) if spool_dir else Path(db).resolve().parent
    spool_root = spool_base / f".spool-{run_id}"
    con = open_warehouse_task.with_options(
        retries=len(delays := busy_retry_delays(wait_seconds)), retry_delay_seconds=delays or 0
    )(db)
    try:
        # Holding the warehouse, no other run is alive: spool folders left here died with theirs.
        for stale in spool_base.glob(".spool-*"):
            shutil.rmtree(stale, ignore_errors=True)
        wh.start_run(con, run_id, str(raw_dir), _flow_run_id())
        t = time.perf_counter()
        known = wh.known_files(con)
        plan = make_plan(entries, known, lexicon.rules_fingerprint())
        stage["plan"] = time.perf_counter() - t
        log.info(
            "scan: %d files, %d to read (%d for changed rules), %d unchanged, %d still quarantined, "
            "%d removed (%.2fs)", len(entries), len(plan.todo), len(plan.stale), len(plan.unchanged),
            len(plan.still_quarantined), len(plan.removed), stage["scan"] + stage["plan"],
        )
        # what the warehouse holds for each path, so a file whose bytes and sidecar are the same is
        # only touched; a path extracted with other rules is left out: its document is extracted again
        known_ids = {p: (k.doc_id, k.sidecar_hash) for p, k in known.items() if k.doc_id and p not in plan.stale}

        counts = {"docs_new": 0, "docs_changed": 0, "docs_reextracted": 0, "touched": 0, "quarantined": 0,
                  "mentions": 0}
        pending: deque = deque()
        if len(plan.todo) < min_files_for_processes:
            processes = 0  # a small run: starting the worker pool costs more than it saves
        log.info("transform: %s; extraction modules: %s",
                 f"{processes} worker processes" if processes else "in the flow process", NATIVE)
        batches = chunks(plan.todo, batch_size, max(processes, 1))
        progress = progress_.current(log)  # a bar on a terminal, else plain log lines
        progress.start(len(plan.todo))

        def drain_one() -> None:
            folder, future, n_files = pending.popleft()
            batch = read_spool(folder, future.result())
            t0 = time.perf_counter()
            counts["mentions"] += load_task(con, batch, run_id)
            stage["load"] = stage.get("load", 0.0) + time.perf_counter() - t0
            for name, secs in batch.stage_seconds.items():
                stage[name] = stage.get(name, 0.0) + secs
            loaded = batch.paths.column("path").to_pylist()
            counts["docs_new"] += sum(1 for p in loaded if p in plan.new_paths)
            counts["docs_reextracted"] += sum(1 for p in loaded if p in plan.stale)
            counts["docs_changed"] += sum(1 for p in loaded if p not in plan.new_paths and p not in plan.stale)
            counts["touched"] += batch.touched.num_rows
            counts["quarantined"] += batch.quarantined.num_rows
            progress.loaded(n_files, batch.quarantined.num_rows)
            shutil.rmtree(folder, ignore_errors=True)

        for no, entries_chunk in enumerate(batches):
            sub_known = {e.path: known_ids[e.path] for e in entries_chunk if e.path in known_ids}
            folder = str(spool_root / f"batch-{no:06d}")
            future = transform_task.submit(raw_dir, Opaque((entries_chunk, sub_known)), limits, folder, processes)
            progress_.when_done(future, progress.read, len(entries_chunk))
            pending.append((folder, future, len(entries_chunk)))
            while len(pending) > max(in_flight, processes + 1):
                drain_one()
        while pending:
            drain_one()
        progress.finish()

        t = time.perf_counter()
        removed = wh.remove_paths(con, plan.removed)
        wh.touch_quarantine(con, plan.still_quarantined, run_id)
        stage["finalise"] = time.perf_counter() - t

        quarantine = wh.quarantine_reasons(con)
        summary = {
            "run_id": run_id,
            "raw_dir": str(raw_dir),
            "db": str(db),
            "files_seen": len(entries),
            "docs_new": counts["docs_new"],
            "docs_changed": counts["docs_changed"],
            "docs_reextracted": counts["docs_reextracted"],
            "docs_unchanged": len(plan.unchanged) + counts["touched"],
            "files_removed": removed,
            "files_quarantined": len(quarantine),
            "quarantined_this_run": counts["quarantined"],
            "quarantine": [{"path": p, "reason": r, "detail": d} for p, r, d in quarantine],
            "mentions_loaded": counts["mentions"],
            "worker_processes": processes,
            "stage_seconds": {k: round(v, 4) for k, v in stage.items()},
        }
        summary["seconds"] = round(time.perf_counter() - t_start, 3)
        wh.finish_run(con, run_id, summary)
        log.info(
            "loaded: %d new, %d changed, %d unchanged, %d removed, %d quarantined, %d mentions in %.2fs",
            summary["docs_new"], summary["docs_changed"], summary["docs_unchanged"], removed,
            summary["files_quarantined"], counts["mentions"], summary["seconds"],
        )
        log.info("stage seconds: %s", summary["stage_seconds"])
    except BaseException as exc:
        try:
            wh.finish_run(con, run_id, {"message": f"{type(exc).__name__}: {exc}"[:500]}, status="failed")
        except Exception:
            pass
        raise
    finally:
        con.close()
        shutil.rmtree(spool_root, ignore_errors=True)
    if export_dir:
        from flows.export import export_task  # issue 4: exports and report after the load

        summary["export"] = {**export_task(db, export_dir, run_id), "export_dir": export_dir}
    return summary


def summary_lines(summary: dict) -> list[str]:
    """Human summary of a run, one fact per line (the CLI prints these)."""
    lines = [
        f"files seen: {summary['files_seen']}",
        f"documents: {summary['docs_new']} new, {summary['docs_changed']} changed, "
        f"{summary['docs_unchanged']} unchanged, {summary['files_removed']} removed"
        + (f", {summary['docs_reextracted']} extracted again (the rules changed)"
           if summary.get("docs_reextracted") else ""),
        f"mentions loaded: {summary['mentions_loaded']}",
        f"quarantined: {summary['files_quarantined']}",
    ]
    lines += [f"  {q['path']}: {q['reason']} ({q['detail']})" for q in summary.get("quarantine", [])]
    lines.append(f"time: {summary['seconds']:.2f}s (run {summary['run_id']})")
    export = summary.get("export")
    if export:
        files = export.get("files", {})
        lines.append(f"exported {len(files)} files to {export.get('export_dir', 'the export folder')}"
                     + (f", report {export['report']['path']}" if export.get("report") else ""))
    return lines



def run_etl(task_runner=None, **params) -> dict:
    """Run the flow in this process, on `task_runner` when given (threads by default).

    The runner only changes where `transform-batch` tasks run; loads always stay in this
    process, the single DuckDB writer.
    """
    flow_ = etl.with_options(task_runner=task_runner) if task_runner is not None else etl
    if get_current_settings().api.url:
        return flow_(**params)  # a running server: heartbeats let it tell when this run died
    # Prefect's ephemeral server lives and dies with this process, so flow-run heartbeats tell it
    # nothing; and the engine's heartbeat thread, which sleeps a second at a time, held the end of
    # every run for up to a second (measured: 0.3 to 1.1 s a run).
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return flow_(**params)


# The scheduled deployment (prefect.yaml) tries once more ten minutes after a failed run, e.g. a
# warehouse held longer than open-warehouse's retries. CLI runs and tests fail fast instead.
scheduled_etl = etl.with_options(retries=1, retry_delay_seconds=600)
