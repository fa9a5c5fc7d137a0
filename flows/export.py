"""Export: every `rpt_` view as Parquet, a manifest, and the HTML report, swapped in whole.

Layout of an export folder (`exports/` by default):

    manifest.json                     what each file holds, its row count, the run id
    README.md                         the same for a human
    rpt_mentions/entity=ICBC/year=2024/part-0.parquet      Hive-style partitions
    rpt_metric_series/entity=.../year=.../part-0.parquet   (year = year(period_end))
    rpt_latest_metrics.parquet, rpt_metric_growth.parquet, rpt_documents.parquet, ...
    report/index.html + report/*.png  the static report (flows/report.py)

Why it is built this way:
- DuckDB lets one process write the warehouse and then nobody else may open it. Analysts who
  want to read while a run loads read these files instead; `export_all` opens the warehouse
  read-only and only for as long as it copies.
- A reader never sees half an export: everything is written into a hidden staging folder next
  to the target (same filesystem) and renamed into place; the previous export is renamed away
  first and deleted after. Between those two renames (microseconds) the folder is absent; it is
  never partial.
- Nothing written is named by data without encoding: partition values are URI-encoded by
  pyarrow (`/` -> %2F, NULL -> `__HIVE_DEFAULT_PARTITION__`, which DuckDB, pyarrow and Spark read
  back as NULL); view names must match `rpt_[a-z0-9_]+`; every path is checked to stay inside
  the staging folder before it is written.
- The export folder is replaced whole, so we refuse a target that holds anything but an
  earlier export (no manifest.json) and a target that contains the warehouse itself.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.load import WarehouseError, connect, discover_migrations

MANIFEST = "manifest.json"
REPORT_DIR = "report"
_VIEW_NAME = re.compile(r"^rpt_[a-z0-9_]+$")
_MAX_PARTITION_NAME = 200  # bytes of one encoded directory name; filesystems allow 255

# Views exported as Hive-partitioned folders: column holding the partition date -> year.
PARTITIONED = {"rpt_mentions": "period_end", "rpt_metric_series": "period_end"}
PARTITION_SCHEMA = pa.schema([("entity", pa.string()), ("year", pa.int32())])

# One line per view for the manifest and README (the SQL files' headers say more).
DESCRIPTIONS = {
    "rpt_mentions": "one row per mention with its evidence sentence and document",
    "rpt_metric_series": "one row per entity x metric x kind x period x unit: agreed value, "
    "n_documents, n_mentions, first/last published, has_conflict",
    "rpt_latest_metrics": "one row per entity x metric x unit: newest level, its as-of date and one "
    "evidence mention",
    "rpt_metric_growth": "one row per entity x metric x unit x consecutive as-of dates: change "
    "absolute, percent, annualised",
    "rpt_disagreements": "one row per statement of a series whose sources disagree beyond rounding "
    "(the review queue, queue_rank 1 = newest)",
    "rpt_documents": "one row per loaded document or quarantined file: paths, mention counts, status",
    "rpt_data_quality": "one row per issue: conflict, unresolved_period, unattributed_metric, "
    "unknown_unit, unknown_qualifier, quarantined_file",
}


class ExportError(WarehouseError):
    """The export cannot be written; the message is one line a user can act on."""


def safe_child(base: Path, *parts: str) -> Path:
    """`base/parts...`, refusing absolute parts, `..` and anything resolving outside `base`.

    Every name derived from data goes through here (or through pyarrow's URI encoding, checked
    after the fact with the same test).
    """
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\\" in part or "\x00" in part \
                or os.path.isabs(part):
            raise ExportError(f"unsafe file name {part!r} refused")
    path = base.joinpath(*parts)
    if not _inside(base, path):
        raise ExportError(f"{path} would escape {base}")
    return path


def _inside(base: Path, path: Path) -> bool:
    return path.resolve().is_relative_to(base.resolve())


def rpt_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's `rpt_` views, in name order (only names that are safe as file names)."""
    names = [
        r[0]
        for r in con.execute(
            "select view_name from duckdb_views() where not internal and view_name like 'rpt\\_%' "
            "escape '\\' order by view_name"
        ).fetchall()
    ]
    return [n for n in names if _VIEW_NAME.match(n)]


def _write_partitioned(table: pa.Table, folder: Path) -> int:
    """Write `table` (with entity and year columns) as entity=/year= folders; returns files."""
    for value in pc.unique(table.column("entity")).to_pylist():
        if value is not None and len(value.encode()) * 3 + len("entity=") > _MAX_PARTITION_NAME:
            raise ExportError(f"entity value too long for a partition name: {value[:40]!r}...")
    written: list[str] = []
    pads.write_dataset(
        table,
        folder,
        format="parquet",
        partitioning=pads.partitioning(PARTITION_SCHEMA, flavor="hive"),
        basename_template="part-{i}.parquet",
        existing_data_behavior="error",
        max_partitions=100_000,  # pyarrow's default (1024) is below 15 banks x 100 years x nulls
        file_visitor=lambda f: written.append(f.path),
    )
    for path in written:
        if not _inside(folder, Path(path)):  # pyarrow encodes; this is the belt to its braces
            raise ExportError(f"partition path {path} escapes {folder}")
    if not written:  # an empty view still leaves a readable (empty) file
        pq.write_table(table.drop_columns(["entity", "year"]), safe_child(folder, "part-0.parquet"))
        written.append("part-0.parquet")
    return len(written)


def write_views(con: duckdb.DuckDBPyConnection, out_dir: Path) -> dict[str, dict]:
    """Write every `rpt_` view under `out_dir`; returns the manifest's `files` entries."""
    files: dict[str, dict] = {}
    for name in rpt_views(con):
        if name in PARTITIONED:
            date_col = PARTITIONED[name]
            table = con.sql(
                f'select *, cast(year("{date_col}") as integer) as year from "{name}"'
            ).to_arrow_table()
            folder = safe_child(out_dir, name)
            folder.mkdir()
            n_files = _write_partitioned(table, folder)
            files[name] = {
                "path": f"{name}/",
                "rows": table.num_rows,
                "files": n_files,
                "partitioned_by": ["entity", "year"],
                "year_from": date_col,
                "read_with": f"read_parquet('{name}/**/*.parquet', hive_partitioning = true)",
            }
        else:
            table = con.sql(f'select * from "{name}"').to_arrow_table()
            target = safe_child(out_dir, f"{name}.parquet")
            pq.write_table(table, target)
            files[name] = {"path": f"{name}.parquet", "rows": table.num_rows, "files": 1}
        files[name]["description"] = DESCRIPTIONS.get(name, "")
        files[name]["columns"] = [f.name for f in table.schema if f.name != "year" or name not in PARTITIONED]
    return files


def _check_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Fail with one actionable line when the warehouse lacks migrations this code expects:
    read-only, we cannot apply them ourselves."""
    try:
        applied = {r[0] for r in con.execute("select version from etl_schema_migrations").fetchall()}
    except duckdb.Error:
        applied = set()
    pending = [m.name for m in discover_migrations() if m.version not in applied]
    if pending:
        raise ExportError(
            f"the warehouse lacks {len(pending)} migration(s) ({', '.join(pending[:3])}...): "
            "run `bankmetrics run` once to apply them, then export"
        )


def _check_target(target: Path, db_path: Path) -> None:
    """Refuse targets we must not replace whole."""
    if target == Path(target.anchor) or target == Path.home().resolve():
        raise ExportError(f"refusing to export into {target}: choose a folder of its own")
    if db_path.resolve().is_relative_to(target):
        raise ExportError(f"refusing to export into {target}: it contains the warehouse {db_path}")
    if target.exists():
        if not target.is_dir():
            raise ExportError(f"{target} exists and is not a folder")
        if any(target.iterdir()) and not (target / MANIFEST).is_file():
            raise ExportError(
                f"{target} is not empty and holds no {MANIFEST}: not an earlier export, not replaced"
            )


STALE_STAGING_SECONDS = 3600


def _remove_stale_staging(target: Path) -> None:
    """Staging folders a killed export left beside `target` (older than an hour) go."""
    if not target.parent.is_dir():
        return
    cutoff = time.time() - STALE_STAGING_SECONDS
    for prefix in (f".{target.name}.tmp-", f".{target.name}.old-"):
        for stale in target.parent.glob(prefix + "*"):
            try:
                if stale.is_dir() and not stale.is_symlink() and stale.stat().st_mtime < cutoff:
                    shutil.rmtree(stale, ignore_errors=True)
            except OSError:
                pass


def _swap_in(staging: Path, target: Path) -> None:
    """Rename `staging` to `target`, moving an earlier export out of the way first."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        if old is not None:  # put the previous export back rather than leave nothing
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _readme(manifest: dict) -> str:
    lines = [
        "# bankmetrics export",
        "",
        f"Run `{manifest['run_id']}`, exported {manifest['exported_at']} from `{manifest['warehouse']}`.",
        "Written whole and swapped in: the files here always belong to one export.",
        "",
        "| file | rows | what it holds |",
        "| --- | ---: | --- |",
    ]
    for name, info in sorted(manifest["files"].items()):
        lines.append(f"| `{info['path']}` | {info['rows']} | {info['description']} |")
    lines += [
        "",
        "Partitioned folders are Hive-style (`entity=ICBC/year=2024/`; year = year(period_end);",
        "`__HIVE_DEFAULT_PARTITION__` holds NULLs; values are URI-encoded). Read them with:",
        "",
        "```sql",
        "select * from read_parquet('rpt_mentions/**/*.parquet', hive_partitioning = true);",
        "```",
        "",
        f"The report: `{manifest['report']['path']}`.",
        "",
    ]
    return "\n".join(lines)


def export_all(db_path: str | Path, export_dir: str | Path, run_id: str | None = None) -> dict:
    """Export the warehouse at `db_path` into `export_dir`; returns the manifest.

    Opens the warehouse read-only (by path, not a connection: the caller must have closed any
    writing connection of this process first, and a running load makes this fail with
    WarehouseBusy). `run_id` names the run the export belongs to; None (a manual
    `bankmetrics export`) takes the newest completed run's id, else "manual-<time>".
    """
    from flows.report import render_report  # matplotlib is imported only when exporting

    t0 = time.perf_counter()
    db_path = Path(db_path)
    target = Path(export_dir).expanduser().resolve()
    _check_target(target, db_path)
    _remove_stale_staging(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        raise ExportError(f"cannot write next to {target}: {exc.strerror or exc}") from None
    try:
        con = connect(db_path, read_only=True)
        try:
            _check_schema(con)
            if run_id is None:
                row = con.execute(
                    "select run_id from etl_runs where status = 'completed' "
                    "order by finished_at desc limit 1"
                ).fetchall()
                run_id = row[0][0] if row else f"manual-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
            files = write_views(con, staging)
            report = render_report(con, safe_child(staging, REPORT_DIR), run_id)
        finally:
            con.close()
        manifest = {
            "run_id": run_id,
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "warehouse": str(db_path),
            "files": files,
            "report": report,
            "seconds": round(time.perf_counter() - t0, 3),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
                                        encoding="utf-8")
        (staging / "README.md").write_text(_readme(manifest), encoding="utf-8")
        os.chmod(staging, 0o755)  # mkdtemp makes it 0700; an export is meant to be shared
        _swap_in(staging, target)
    except duckdb.Error as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(f"export failed: {str(exc).splitlines()[0]}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    manifest["export_dir"] = str(target)
    return manifest


def _in_flow_run() -> bool:
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


def publish_artifacts(manifest: dict) -> None:
    """Prefect artifacts for the run: a table of row counts and a summary linking the report.

    Only inside a flow run: outside one there is no run to attach them to.
    """
    if not _in_flow_run():
        return
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    table = [
        {"file": info["path"], "rows": info["rows"], "what": info["description"]}
        for _, info in sorted(manifest["files"].items())
    ]
    create_table_artifact(table=table, key="bankmetrics-export-counts",
                          description=f"rows exported by run {manifest['run_id']}")
    report = manifest["report"]
    page = Path(manifest["export_dir"]) / report["path"]
    dq = ", ".join(f"{k}: {v}" for k, v in sorted(report.get("data_quality", {}).items())) or "none"
    md = "\n".join([
        f"# bankmetrics export, run `{manifest['run_id']}`",
        "",
        f"- report: [{page}]({page.as_uri()})",
        f"- exports: `{manifest['export_dir']}` ({len(manifest['files'])} views)",
        f"- mentions: {manifest['files'].get('rpt_mentions', {}).get('rows', 0)}, "
        f"series: {manifest['files'].get('rpt_metric_series', {}).get('rows', 0)}",
        f"- data quality: {dq}",
    ])
    create_markdown_artifact(markdown=md, key="bankmetrics-report",
                             description="link to the static HTML report")


@task(name="export", cache_policy=NO_CACHE)
def export_task(db: str, export_dir: str, run_id: str) -> dict:
    """Prefect task: export, then publish the run's artifacts. Returns the manifest."""
    manifest = export_all(db, export_dir, run_id)
    publish_artifacts(manifest)
    return manifest
