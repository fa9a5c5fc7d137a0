"""The `bankmetrics` command line: run | sql | eval | export | serve.

Built on typer and rich, which Prefect already depends on. Every failure that stops a command
is one line on stderr and a non-zero exit code; a run that completed exits 0 even when it
quarantined files (they are listed in its summary), and 4 when its load committed but the export
after it failed.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from flows.config import DEFAULT_BATCH_SIZE, DEFAULT_DB, DEFAULT_EXPORT_DIR, DEFAULT_RAW_DIR, Limits

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="bankmetrics: Chinese bank news -> evidenced quantities in a DuckDB warehouse.",
)

# Prefect phones home and warns about it offline; nothing here needs that.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# A run without PREFECT_API_URL starts a temporary Prefect server and waits for it, 20 s by
# Prefect's default: on a busy machine a cold start takes longer, and the run failed ("Timed out
# while attempting to connect to ephemeral Prefect API server"). Bounded, but generous.
EPHEMERAL_STARTUP_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
os.environ.setdefault(EPHEMERAL_STARTUP_TIMEOUT_ENV, "180")


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"bankmetrics: {message}", err=True)
    raise typer.Exit(code)


def wait_for_warehouse(db: Path, wait_seconds: float, quiet: bool = False) -> None:
    """Open (and migrate) the warehouse, waiting up to `wait_seconds` while another run holds it;
    says so on stdout, unless `quiet` (--json: stdout is the summary only)."""
    from flows.load import WarehouseBusy, open_warehouse

    deadline = time.monotonic() + wait_seconds
    said = False
    while True:
        try:
            open_warehouse(db).close()
            return
        except WarehouseBusy:
            if time.monotonic() >= deadline:
                raise
            if not said and not quiet:
                typer.echo(f"warehouse busy (another run holds {db}): waiting up to {wait_seconds:g}s")
                said = True
            time.sleep(0.5)


@app.command()
def run(
    raw_dir: Path = typer.Option(DEFAULT_RAW_DIR, "--raw-dir", help="folder of article files"),
    db: Path = typer.Option(DEFAULT_DB, "--db", help="DuckDB warehouse file"),
    export_dir: Optional[Path] = typer.Option(
        DEFAULT_EXPORT_DIR, "--export-dir", help="Parquet exports and report after the run"
    ),
    no_export: bool = typer.Option(False, "--no-export", help="skip exports and report"),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", min=1, help="files per Prefect task"),
    runner: str = typer.Option(
        "auto", "--runner",
        help="where batches are transformed: auto (processes from 1,000 files, else threads) | threads | "
             "processes | dask",
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", min=1,
        help="worker threads, processes or Dask workers (default: one per core for auto and processes, else 1)",
    ),
    dask_address: Optional[str] = typer.Option(
        None, "--dask-address", help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --runner dask)"
    ),
    spool_dir: Optional[Path] = typer.Option(
        None, "--spool-dir",
        help="where transformed batches wait for the loader (default: beside the warehouse); with Dask "
             "workers on other hosts, a folder they share at the same path",
    ),
    max_file_bytes: int = typer.Option(Limits.max_file_bytes, "--max-file-bytes", min=1),
    max_paragraph_chars: int = typer.Option(Limits.max_paragraph_chars, "--max-paragraph-chars", min=1),
    wait: float = typer.Option(30.0, "--wait", min=0, help="seconds to wait while another run holds the warehouse"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Run the ETL flow on RAW_DIR into DB and print what it did."""
    from flows.load import WarehouseBusy, WarehouseError
    from flows.runners import run_options

    if not raw_dir.is_dir():
        fail(f"cannot run: raw folder {raw_dir} does not exist or is not a folder")
    try:
        options = run_options(runner, workers, dask_address)
    except ValueError as exc:
        fail(str(exc))
    try:
        wait_for_warehouse(db, wait, quiet=as_json)
    except WarehouseBusy as exc:
        fail(f"cannot run: {exc}", code=3)
    except WarehouseError as exc:
        fail(f"cannot run: {exc}")

    from flows.pipeline import ExportFailed, run_etl, summary_lines
    from flows.progress import on_terminal

    try:
        with on_terminal(sys.stderr):  # a live bar on a terminal; plain log lines otherwise
            summary = run_etl(
                **options,
                wait_seconds=wait,
                raw_dir=str(raw_dir),
                db=str(db),
                export_dir=None if no_export or export_dir is None else str(export_dir),
                batch_size=batch_size,
                max_file_bytes=max_file_bytes,
                max_paragraph_chars=max_paragraph_chars,
                spool_dir=None if spool_dir is None else str(spool_dir.resolve()),
            )
    except ExportFailed as exc:  # etl_runs says completed_export_failed
        for line in summary_lines(exc.summary):
            typer.echo(line)
        fail(f"export failed: {exc}", code=4)
    except WarehouseBusy as exc:
        fail(f"cannot run: {exc}", code=3)
    except WarehouseError as exc:
        fail(f"cannot run: {exc}")
    except Exception as exc:  # the flow already logged the traceback
        fail(f"run failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", code=1)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, default=str, indent=2))
    else:
        for line in summary_lines(summary):
            typer.echo(line)


@app.command()
def sql(
    query: str = typer.Argument(..., help="a SQL query, e.g. \"select * from rpt_latest_metrics\""),
    db: Path = typer.Option(DEFAULT_DB, "--db"),
    fmt: str = typer.Option("table", "--format", help="table | csv | json"),
    limit: int = typer.Option(200, "--limit", help="rows shown in table format (0: all)"),
) -> None:
    """Run ad-hoc SQL against the warehouse (read-only) and print the result."""
    import duckdb

    from flows.load import WarehouseError, connect

    if fmt not in ("table", "csv", "json"):
        fail("--format is one of table, csv, json")
    try:
        con = connect(db, read_only=True)
    except WarehouseError as exc:
        fail(str(exc), code=3 if "busy" in str(exc) else 2)
    try:
        df = con.execute(query).df()
    except duckdb.Error as exc:
        fail(f"query failed: {str(exc).splitlines()[0]}")
    finally:
        con.close()
    if fmt == "csv":
        df.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        typer.echo(df.to_json(orient="records", force_ascii=False, date_format="iso"))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(show_lines=False)
        for col in df.columns:
            table.add_column(str(col), overflow="fold")
        shown = df if limit <= 0 else df.head(limit)
        for row in shown.itertuples(index=False):
            table.add_row(*("" if v is None else str(v) for v in row))
        console = Console(width=max(120, Console().width))
        console.print(table)
        typer.echo(f"{len(df)} rows" + (f" ({len(shown)} shown)" if len(shown) < len(df) else ""))


@app.command("eval")
def eval_(
    db: Path = typer.Option(DEFAULT_DB, "--db"),
    gold: Path = typer.Option(Path("tests/fixtures/seed_gold.jsonl"), "--gold"),
    check: bool = typer.Option(False, "--check", help="exit 1 when below the accuracy bar"),
) -> None:
    """Score rpt_mentions in DB against hand labels (GOLD_FORMAT.md) and print the figures."""
    from flows.evaluate import format_score, load_gold, score
    from flows.load import WarehouseError

    try:
        pred = predictions_from_db(db)
    except WarehouseError as exc:
        fail(str(exc))
    result = score(pred, load_gold(gold))
    typer.echo(format_score(result))
    if check and not meets_bar(result):
        fail("below the accuracy bar (recall/precision >= 0.95, every field >= 0.90)", code=1)


@app.command()
def export(
    db: Path = typer.Option(DEFAULT_DB, "--db"),
    to: Optional[Path] = typer.Option(
        None, "--to", help="export folder, swapped in whole (default exports/); for xlsx the workbook "
                           "(default bankmetrics.xlsx; a folder gets bankmetrics.xlsx inside)"),
    fmt: str = typer.Option("parquet", "--format", help="parquet (Parquet files, manifest and report) | xlsx "
                                                        "(one workbook, a sheet per rpt_ view)"),
    max_rows: Optional[int] = typer.Option(None, "--max-rows", min=1,
                                           help="xlsx: rows per sheet at most (default: Excel's limit)"),
) -> None:
    """Write every rpt_ view as Parquet, a manifest and the HTML report into TO, or as one workbook."""
    from flows.export import export_all
    from flows.load import WarehouseError

    if fmt not in ("parquet", "xlsx"):
        fail("--format is one of parquet, xlsx")
    if fmt == "xlsx":
        from flows.xlsx import write_workbook

        target = to or Path("bankmetrics.xlsx")
        if target.is_dir():
            target = target / "bankmetrics.xlsx"
        try:
            book = write_workbook(db, target, max_rows)
        except WarehouseError as exc:
            fail(str(exc), code=3 if "busy" in str(exc) else 2)
        except OSError as exc:
            fail(f"cannot write {target}: {exc.strerror or exc}")
        for name, info in book["sheets"].items():
            typer.echo(f"{name}: {info['rows']} rows" + (f" ({info['written']} written, the rest in Parquet)"
                                                         if info["cut"] else ""))
        typer.echo(f"wrote {target}")
        return
    to = to or Path(DEFAULT_EXPORT_DIR)
    try:
        manifest = export_all(str(db), str(to), None)
    except WarehouseError as exc:
        fail(str(exc), code=3 if "busy" in str(exc) else 2)
    for name, info in sorted(manifest.get("files", {}).items()):
        typer.echo(f"{name}: {info.get('rows', '?')} rows")
    typer.echo(f"exported to {to}")


@app.command()
def serve(
    raw_dir: Optional[Path] = typer.Option(None, "--raw-dir", help="default: the deployment's parameter"),
    db: Optional[Path] = typer.Option(None, "--db"),
    export_dir: Optional[Path] = typer.Option(None, "--export-dir"),
    no_export: bool = typer.Option(False, "--no-export", help="skip exports and report"),
    health_timeout: Optional[float] = typer.Option(
        None, "--health-timeout", min=0.001,
        help="seconds to wait for the Prefect server's /api/health before giving up "
             "(default: $BANKMETRICS_HEALTH_TIMEOUT, else 180)",
    ),
) -> None:
    """Run the `daily` deployment's schedule from prefect.yaml in this process (flow.serve).

    Uses PREFECT_API_URL when set; otherwise starts a Prefect server on loopback, and stops it on exit.
    """
    from flows.serve import serve as serve_

    # Paths given here are the user's, relative to where they stand (prefect.yaml's are the project's).
    overrides = {
        k: str(v.resolve()) for k, v in {"raw_dir": raw_dir, "db": db, "export_dir": export_dir}.items() if v
    }
    try:
        serve_(echo=typer.echo, no_export=no_export, health_timeout_s=health_timeout, **overrides)
    except (ValueError, RuntimeError) as exc:
        fail(str(exc))


def predictions_from_db(db: Path) -> dict[str, list[dict]]:
    """rpt_mentions rows grouped by document stem, shaped as the scorer expects."""
    from flows.load import connect

    con = connect(db, read_only=True)
    try:
        df = con.execute(
            """select source_file, entity, metric_key, subject, cast(value as double) as value, unit,
                      qualifier, kind, strftime(period_start, '%Y-%m-%d') as period_start,
                      strftime(period_end, '%Y-%m-%d') as period_end, surface
               from rpt_mentions"""
        ).df()
    finally:
        con.close()
    out: dict[str, list[dict]] = {}
    for row in df.astype(object).where(df.notna(), None).to_dict("records"):
        stem = os.path.basename(str(row["source_file"])).split(".")[0]
        out.setdefault(stem, []).append(row)
    return out


def meets_bar(result: dict) -> bool:
    return (
        result["recall"] >= 0.95
        and result["precision"] >= 0.95
        and all(v >= 0.90 for v in result["fields"].values())
    )


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
