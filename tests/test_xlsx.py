"""flows/xlsx.py and `bankmetrics export --format xlsx`: one workbook, a sheet per rpt_ view, two
header rows (name, Chinese label), read back with openpyxl (an independent reader) equal to the views."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from flows.display import labels
from flows.load import connect
from flows.xlsx import NOTES_SHEET, write_workbook
from report_fixture import build_warehouse, insert_rows, mention

openpyxl = pytest.importorskip("openpyxl")

HOSTILE = "=HYPERLINK(\"http://x\",\"点我\")\x01 <b>"


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    root = tmp_path_factory.mktemp("xlsx")
    con = build_warehouse(root / "w.duckdb", close=False)
    insert_rows(con, "fct_mentions", [mention("d02", 50, HOSTILE, "=1+1", entity="ICBC",
                                              metric_key="total_assets", unit="CNY", value=Decimal("1.5"),
                                              period_end=date(2024, 9, 30))])
    con.close()
    info = write_workbook(root / "w.duckdb", root / "out" / "bank.xlsx")
    return root / "w.duckdb", Path(info["path"]), info


def _views(db: Path) -> list[str]:
    con = connect(db, read_only=True)
    try:
        return [r[0] for r in con.execute("select view_name from duckdb_views() where view_name like 'rpt\\_%' "
                                          "escape '\\' order by 1").fetchall()]
    finally:
        con.close()


def _trim(row) -> list:
    """A read-only sheet pads rows to the widest row of the workbook's dimension: drop the padding."""
    row = list(row)
    while row and row[-1] is None:
        row.pop()
    return row


def _normal(v):
    if isinstance(v, (Decimal, float)) and not isinstance(v, bool):
        return pytest.approx(float(v), rel=1e-15)  # Excel keeps 15-17 significant digits
    if isinstance(v, datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    if isinstance(v, (list, tuple)):
        return "; ".join(str(x) for x in v)
    if isinstance(v, str):  # openpyxl reads the control character back as its escape
        return v.replace("\x01", "_x0001_")
    return v


def test_a_sheet_per_view_with_two_header_rows(book):
    db, path, info = book
    wb = openpyxl.load_workbook(path, read_only=True)
    views = _views(db)
    assert wb.sheetnames == [NOTES_SHEET, *views]
    assert set(info["sheets"]) == set(views)
    for name in views:
        rows = [_trim(r) for r in wb[name].iter_rows(min_row=1, max_row=2, values_only=True)]
        con = connect(db, read_only=True)
        cols = [r[0] for r in con.execute(f"describe {name}").fetchall()]
        con.close()
        assert list(rows[0]) == cols
        missing = [c for c in cols if c not in labels()["columns"]]
        assert not missing, f"{name}: no Chinese label for {missing} in templates/labels_zh.toml"
        assert list(rows[1]) == [labels()["columns"][c] for c in cols]
    head = _trim(list(wb["rpt_latest_metrics"].iter_rows(min_row=2, max_row=2, values_only=True))[0])
    assert "银行" in head and "截至日期" in head and "指标" in head


@pytest.mark.parametrize("name", ["rpt_latest_metrics", "rpt_disagreements", "rpt_mentions",
                                  "rpt_metric_series", "rpt_documents", "rpt_metric_growth", "rpt_data_quality"])
def test_sheet_reads_back_as_the_view(book, name):
    db, path, _ = book
    con = connect(db, read_only=True)
    from flows.xlsx import order_of

    view = con.execute(f"select * from {name} order by {order_of(name)}").fetchall()
    con.close()
    wb = openpyxl.load_workbook(path, read_only=True)
    back = list(wb[name].iter_rows(min_row=3, values_only=True))
    assert len(back) == len(view) > 0
    for got, want in zip(back, view):
        want = [_normal(v) for v in want]
        assert list(got)[:len(want)] == want and not any(list(got)[len(want):])


def test_text_stays_text(book):
    _, path, _ = book
    ws = openpyxl.load_workbook(path)["rpt_mentions"]  # full mode: cell types
    cells = [c for row in ws.iter_rows(min_row=3) for c in row if c.value == "=1+1"]
    assert cells and all(c.data_type == "s" for c in cells), "an article's '=' never becomes a formula"
    sentences = [c for row in ws.iter_rows(min_row=3) for c in row
                 if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
    assert sentences and all(c.data_type == "s" and c.hyperlink is None for c in sentences)
    dates = [c for row in ws.iter_rows(min_row=3) for c in row if isinstance(c.value, datetime)]
    assert dates and dates[0].number_format == "yyyy-mm-dd"


def test_notes_sheet_and_row_limit(book, tmp_path):
    db, path, info = book
    notes = list(openpyxl.load_workbook(path, read_only=True)[NOTES_SHEET].values)
    text = "\n".join(" ".join(str(v) for v in row if v is not None) for row in notes)
    assert "来源分歧" in text and "rpt_disagreements" in text and "第二行为中文名" in text
    assert not any(s["cut"] for s in info["sheets"].values())
    # a sheet longer than the limit keeps its first rows in reading order and says so
    cut = write_workbook(db, tmp_path / "cut.xlsx", max_rows=3)
    assert cut["sheets"]["rpt_mentions"] == {"rows": info["sheets"]["rpt_mentions"]["rows"], "written": 3,
                                            "cut": True}
    wb = openpyxl.load_workbook(tmp_path / "cut.xlsx", read_only=True)
    assert len(list(wb["rpt_mentions"].iter_rows(min_row=3))) == 3
    assert "Parquet" in "".join(str(v) for row in wb[NOTES_SHEET].values for v in row if v)


def test_cli_writes_one_workbook(book, tmp_path):
    db, _, _ = book
    out = tmp_path / "folder"
    out.mkdir()
    res = subprocess.run([str(Path(sys.executable).parent / "bankmetrics"), "export", "--format", "xlsx",
                          "--db", str(db), "--to", str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "rpt_disagreements: 2 rows" in res.stdout and (out / "bankmetrics.xlsx").is_file()
    assert [p.name for p in out.iterdir()] == ["bankmetrics.xlsx"], "no temporary file left behind"
    assert (out / "bankmetrics.xlsx").stat().st_mode & 0o777 == 0o644
    cut = subprocess.run([str(Path(sys.executable).parent / "bankmetrics"), "export", "--format", "xlsx",
                          "--db", str(db), "--to", str(tmp_path / "small.xlsx"), "--max-rows", "2"],
                         capture_output=True, text=True, timeout=120)
    assert cut.returncode == 0 and "rpt_mentions: 15 rows (2 written, the rest in Parquet)" in cut.stdout, cut
    bad = subprocess.run([str(Path(sys.executable).parent / "bankmetrics"), "export", "--format", "csv",
                          "--db", str(db)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "parquet, xlsx" in bad.stderr
