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


def spool_prefix(db: str) -> str:
    """Spool folders of runs on the warehouse `db` start with this: named by the warehouse, since
    warehouses may share a folder (warehouse/eval/seeds.duckdb beside holdout.duckdb)."""
    return f".spool-{Path(db).name}-"


def clear_stale_spools(spool_base: Path, db: str) -> int:
    """Remove the spool folders earlier runs on `db` left in `spool_base` (called holding the
    warehouse: no other run on it is alive); another warehouse's spools stay. How many went."""
    n = 0
    for stale in spool_base.glob(spool_prefix(db) + "*"):
        shutil.rmtree(stale, ignore_errors=True)
        n += 1
    return n


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
    spool_root = spool_base / f"{spool_prefix(db)}{run_id}"
    con = open_warehouse_task.with_options(
        retries=len(delays := busy_retry_delays(wait_seconds)), retry_delay_seconds=delays or 0
    )(db)
    try:
        clear_stale_spools(spool_base, db)
        wh.start_run(con, run_id, str(raw_dir), _flow_run_id())
        t = time.perf_counter()
        fingerprint = lexicon.rules_fingerprint()
        known = wh.known_files(con)
        plan = make_plan(entries, known, fingerprint)
        rules_stale = plan.stale
        removed = 0
        if plan.removed:
            # Files that left the folder go first: a renamed file then loads once, as a new
            # document, and a document whose primary path left but whose bytes another path still
            # carries is marked for extraction again from that path (wh.remove_paths), so its
            # metadata follows the path that still carries it. Planned again to read those.
            removed = wh.remove_paths(con, plan.removed)
            known = wh.known_files(con)
            plan = make_plan(entries, known, fingerprint)
        stage["plan"] = time.perf_counter() - t
        log.info(
            "scan: %d files, %d to read (%d for changed rules), %d unchanged, %d still quarantined, "
            "%d removed (%.2fs)", len(entries), len(plan.todo), len(rules_stale), len(plan.unchanged),
            len(plan.still_quarantined), removed, stage["scan"] + stage["plan"],
        )

        counts = {"docs_new": 0, "docs_changed": 0, "docs_reextracted": 0, "quarantined": 0, "mentions": 0}
        counted: set[str] = set()  # paths loaded by this run (a second round must not count them twice)
        touched: set[str] = set()
        pending: deque = deque()
        if len(plan.todo) < min_files_for_processes:
            processes = 0  # a small run: starting the worker pool costs more than it saves
        log.info("transform: %s; extraction modules: %s",
                 f"{processes} worker processes" if processes else "in the flow process", NATIVE)
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
            for p in batch.paths.column("path").to_pylist():
                if p in counted:
                    continue
                counted.add(p)
                kind = ("docs_new" if p in plan.new_paths else
                        "docs_reextracted" if p in rules_stale else "docs_changed")  # changed bytes or metadata
                counts[kind] += 1
            touched.update(batch.touched.column("path").to_pylist())
            counts["quarantined"] += batch.quarantined.num_rows
            progress.loaded(n_files, batch.quarantined.num_rows)
            shutil.rmtree(folder, ignore_errors=True)

        def transform_and_load(todo: list[FileEntry], stale: set[str], first_no: int) -> int:
            # what the warehouse holds for each path, so a file whose bytes and sidecar are the same
            # is only touched; a stale path is left out: its document is extracted again
            known_ids = {p: (k.doc_id, k.sidecar_hash) for p, k in known.items() if k.doc_id and p not in stale}
            no = first_no
            for entries_chunk in chunks(todo, batch_size, max(processes, 1)):
                sub_known = {e.path: known_ids[e.path] for e in entries_chunk if e.path in known_ids}
                folder = str(spool_root / f"batch-{no:06d}")
                no += 1
                future = transform_task.submit(raw_dir, Opaque((entries_chunk, sub_known)), limits, folder,
                                               processes)
                progress_.when_done(future, progress.read, len(entries_chunk))
                pending.append((folder, future, len(entries_chunk)))
                while len(pending) > max(in_flight, processes + 1):
                    drain_one()
            while pending:
                drain_one()
            return no

        n_batches = transform_and_load(plan.todo, plan.stale, 0)
        # A load can take a document's primary path away while another path still carries its bytes
        # (the primary changed or went bad): the loader marked it for extraction again (rules_hash
        # NULL); a second, usually empty, round extracts it from the path that now carries it.
        if wh.has_documents_to_extract_again(con, fingerprint):
            known = wh.known_files(con)
            again = make_plan(entries, known, fingerprint)
            todo = [e for e in again.todo if e.path in again.stale]
            if todo:
                log.info("extracting again %d files whose document lost its primary path", len(todo))
                transform_and_load(todo, again.stale, n_batches)
        progress.finish()

        t = time.perf_counter()
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
            "docs_unchanged": len((set(plan.unchanged) | touched) - counted),
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

        try:
            summary["export"] = {**export_task(db, export_dir, run_id), "export_dir": export_dir}
        except Exception as exc:
            reason = (str(exc).splitlines() or [""])[0] or type(exc).__name__
            recorded = _record_export_failure(db, run_id, f"export to {export_dir} failed: {reason}"[:500])
            log.error("the load committed, but the export to %s failed: %s%s", export_dir, reason,
                      "" if recorded else " (the warehouse was busy: etl_runs still says completed)")
            raise ExportFailed(
                f"the load committed ({summary['docs_new']} new, {summary['docs_changed']} changed, "
                f"{summary['mentions_loaded']} mentions), but the export to {export_dir} failed: {reason}; "
                "`bankmetrics export` tries again", summary,
            ) from exc
    return summary


class ExportFailed(RuntimeError):
    """The run's load committed, the export after it failed. `summary` is the load's summary;
    the run's etl_runs row says `completed_export_failed` with the reason."""

    def __init__(self, message: str, summary: dict):
        super().__init__(message)
        self.summary = summary


EXPORT_FAILED = "completed_export_failed"


def _record_export_failure(db: str, run_id: str, message: str, wait_seconds: float = 30) -> bool:
    """Mark the run `completed_export_failed` with `message`; False if the warehouse stayed busy
    (another run took it since) for `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = wh.connect(db)
        except wh.WarehouseBusy:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)
            continue
        try:
            con.execute("update etl_runs set status = ?, message = ? where run_id = ?", [EXPORT_FAILED, message, run_id])
        finally:
            con.close()
        return True


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
