"""`bankmetrics export --format xlsx`: one Excel workbook, a sheet per `rpt_` view.

What an analyst opens: the first sheet (说明) says what each sheet holds, how many rows, and
whether a sheet was cut at Excel's row limit; each view's sheet has two header rows, the column
name (as in SQL and Parquet) and its Chinese label (templates/labels_zh.toml), frozen, with a
filter on the second; dates are Excel dates, values Excel numbers (the exact decimal stays in
Parquet: Excel holds 15 significant digits, enough for every figure an article writes).

- Written with XlsxWriter in constant-memory mode (rows are streamed, memory stays flat) and
  with every text cell written as text: an article sentence starting with "=" never becomes a
  formula, and no string becomes a link or a number.
- Excel stops at 1,048,576 rows. A longer view keeps its first rows in the view's own reading
  order (newest first where the view has one) and the 说明 sheet says where to read the rest.
- Written to a temporary file beside the target and renamed over it: never half a workbook.
"""
from __future__ import annotations

import os
import tempfile
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from flows.display import column_label, labels
from flows.load import connect

EXCEL_MAX_ROWS = 1_048_576
HEADER_ROWS = 2
MAX_CELL_CHARS = 32_767
NOTES_SHEET = "说明"
# The order a cut sheet keeps: what an analyst reads first.
ORDER_BY = {
    "rpt_mentions": "published_at desc nulls last, doc_id, mention_no",
    "rpt_disagreements": "queue_rank, value, doc_id, mention_no",
    "rpt_metric_series": "period_end desc, entity, metric_key, kind, unit, period_start nulls first",
    "rpt_documents": "published_at desc nulls last, primary_path",
    "rpt_latest_metrics": "entity, metric_key, unit",
    "rpt_metric_growth": "entity, metric_key, unit, period_to",
    "rpt_data_quality": "severity, check_name, path, doc_id, mention_no, entity, metric_key, kind, unit, "
                        "period_start, period_end",
}


def order_of(view: str) -> str:
    """The ORDER BY of a sheet: the reading order above, else every column (stable between exports)."""
    return ORDER_BY.get(view, "all")


_WIDE = {"sentence": 60, "title": 40, "statements": 40, "detail": 40, "source_file": 30, "path": 30,
         "primary_path": 30, "paths": 30, "url": 30, "quarantine_detail": 30}


def _cell(ws, row: int, col: int, value, fmt: dict) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value))
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value.replace(tzinfo=None), fmt["datetime"])
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt["date"])
    elif isinstance(value, (list, tuple)):
        ws.write_string(row, col, "; ".join("" if v is None else str(v) for v in value)[:MAX_CELL_CHARS])
    else:
        ws.write_string(row, col, str(value)[:MAX_CELL_CHARS])


def write_workbook(db_path: str | Path, out_path: str | Path, max_rows: int | None = None) -> dict:
    """Write every `rpt_` view of the warehouse at `db_path` into the workbook `out_path`.

    `max_rows` caps the data rows of a sheet (default: what Excel holds under the two header
    rows). Returns {"path", "sheets": {view: {"rows", "written", "cut"}}, "seconds"}.
    """
    import xlsxwriter

    from flows.export import _check_schema, rpt_views

    t0 = time.perf_counter()
    out_path = Path(out_path)
    limit = min(max_rows or EXCEL_MAX_ROWS, EXCEL_MAX_ROWS - HEADER_ROWS)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    os.close(fd)
    sheets: dict[str, dict] = {}
    con = connect(db_path, read_only=True)
    spill = tempfile.TemporaryDirectory(prefix=".xlsx-spill-", dir=out_path.parent)
    try:
        # Sorting a million-row view needs more than the loader's 512 MB cap: spill to disk, and
        # give rpt_data_quality's union (3 million rows on the 200,000-article bench) 1 GB.
        con.execute("set temp_directory = '" + spill.name.replace("'", "''") + "'")
        con.execute("set memory_limit = '1GB'")
        _check_schema(con)
        run = con.execute("select run_id from etl_runs where status = 'completed' "
                          "order by finished_at desc limit 1").fetchall()
        wb = xlsxwriter.Workbook(tmp_name, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "nan_inf_to_errors": True})
        fmt = {"date": wb.add_format({"num_format": "yyyy-mm-dd"}),
               "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
               "head": wb.add_format({"bold": True, "bg_color": "#F4F6F8", "bottom": 1}),
               "zh": wb.add_format({"bold": True, "bg_color": "#FFF8E1", "bottom": 1}),
               "title": wb.add_format({"bold": True, "font_size": 14})}
        notes = wb.add_worksheet(NOTES_SHEET)  # first, written last (constant memory: rows in order)
        views = rpt_views(con)
        for name in views:
            ws = wb.add_worksheet(name[:31])
            # No LIMIT: a plain ORDER BY sorts out of core (spilling), a top-N of a million wide
            # rows would not fit; reading stops at the limit instead.
            cur = con.execute(f'select * from "{name}" order by {order_of(name)}')
            cols = [d[0] for d in cur.description]
            # constant memory: a row is flushed once the next one starts, so each row whole, in order
            for c, col in enumerate(cols):
                ws.set_column(c, c, _WIDE.get(col, 14))
                ws.write_string(0, c, col, fmt["head"])
            for c, col in enumerate(cols):
                ws.write_string(1, c, column_label(col), fmt["zh"])
            ws.freeze_panes(HEADER_ROWS, 0)
            row = HEADER_ROWS
            while row - HEADER_ROWS < limit and (batch := cur.fetchmany(min(10_000, limit - row + HEADER_ROWS))):
                for record in batch:
                    for c, value in enumerate(record):
                        _cell(ws, row, c, value, fmt)
                    row += 1
            ws.autofilter(1, 0, max(row - 1, 1), max(len(cols) - 1, 0))
            total = con.execute(f'select count(*) from "{name}"').fetchone()[0]
            sheets[name] = {"rows": total, "written": row - HEADER_ROWS, "cut": total > row - HEADER_ROWS}
        described = labels().get("views", {})
        notes.set_column(0, 0, 24)
        notes.set_column(1, 1, 28)
        notes.set_column(2, 3, 12)
        notes.set_column(4, 4, 70)
        notes.write_string(0, 0, "bankmetrics 导出", fmt["title"])
        notes.write_string(1, 0, f"运行 {run[0][0] if run else '-'} · 导出于 "
                                 f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} · {Path(db_path).name}")
        notes.write_string(2, 0, "每个工作表对应仓库中的一个 rpt_ 视图：第一行为字段名（与 SQL、Parquet 相同），"
                                 "第二行为中文名。数值为基本单位（元、户、百分数）。")
        for c, head in enumerate(["工作表 sheet", "内容", "行数 rows", "已写入", "说明"]):
            notes.write_string(4, c, head, fmt["head"])
        for r, name in enumerate(views, start=5):
            info = sheets[name]
            notes.write_string(r, 0, name[:31])
            notes.write_string(r, 1, described.get(name, ""))
            notes.write_number(r, 2, info["rows"])
            notes.write_number(r, 3, info["written"])
            if info["cut"]:
                notes.write_string(r, 4, f"超过 Excel 的行数上限，只写入前 {info['written']} 行"
                                         f"（order by {order_of(name)}）；全部数据见 Parquet 导出")
        wb.close()
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; a workbook is meant to be shared
        os.replace(tmp_name, out_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    finally:
        con.close()
        spill.cleanup()
    return {"path": str(out_path), "sheets": sheets, "seconds": round(time.perf_counter() - t0, 3)}
