"""docs/reporting.md is tested: every fenced ```sql block runs (and returns rows) against the
fixture warehouse, opened read-only the way the page says, and every ```python block runs, from
a folder laid out like the project (warehouse/bankmetrics.duckdb, exports/)."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from flows.export import export_all
from report_fixture import build_warehouse

DOC = Path(__file__).resolve().parent.parent / "docs" / "reporting.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(lang: str) -> list[str]:
    return [body for kind, body in BLOCK.findall(DOC.read_text(encoding="utf-8")) if kind == lang]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    db = build_warehouse(root / "warehouse" / "bankmetrics.duckdb")
    export_all(db, root / "exports", "docs-run")
    return root


def test_the_page_has_five_queries_and_the_clients():
    text = DOC.read_text(encoding="utf-8")
    assert len(blocks("sql")) >= 5
    assert "duckdb -readonly warehouse/bankmetrics.duckdb" in text
    assert 'duckdb.connect("warehouse/bankmetrics.duckdb", read_only=True)' in text
    for view in ("rpt_mentions", "rpt_metric_series", "rpt_latest_metrics", "rpt_metric_growth",
                 "rpt_documents", "rpt_data_quality"):
        assert view in text


@pytest.mark.parametrize("i", range(len(blocks("sql"))))
def test_sql_block_runs(project, monkeypatch, i):
    monkeypatch.chdir(project)
    con = duckdb.connect("warehouse/bankmetrics.duckdb", read_only=True)
    try:
        rows = con.execute(blocks("sql")[i]).fetchall()
    finally:
        con.close()
    assert rows, f"query {i + 1} returns nothing on the fixture:\n{blocks('sql')[i]}"


@pytest.mark.parametrize("i", range(len(blocks("python"))))
def test_python_block_runs(project, monkeypatch, capsys, i):
    monkeypatch.chdir(project)
    exec(compile(blocks("python")[i], f"{DOC.name}[python {i + 1}]", "exec"), {})
    assert capsys.readouterr().out.strip()
