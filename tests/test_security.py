"""Issue 6.5: hostile input never becomes SQL, a path outside its folder, or markup.

- File names, sidecar fields and article text reach DuckDB only as bound parameters or
  registered Arrow tables: every statement a run executes is recorded, and none contains any
  of the hostile strings, while the warehouse stores each of them verbatim.
- Export and report paths stay inside their folders whatever an entity code holds.
- The HTML report escapes article text and titles and links only http(s) URLs.
"""
from __future__ import annotations

import json
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

MARK = "HOSTILE"  # in every hostile string, so a leak into SQL text is easy to spot
HOSTILE_NAMES = [
    f"{MARK}1'); drop table dim_documents; --.txt",
    f'{MARK}2"; delete from fct_mentions; --.txt',
    f"{MARK}3 $now $run_id ? %s {{0}}.txt",
    f"{MARK}4 \\'; select 1; \\.txt",
    f"{MARK}5 换行\n名字；第2期.txt",
    f"{MARK}6 ' or '1'='1.html",
]
ARTICLE = (
    "{title}\n截至今年6月末，工商银行个人客户金融资产规模突破15.{n}万亿元，较年初增长9.{n}%。\n"
    "该行表示<script>alert('{MARK}')</script><img src=x onerror=alert(1)>手机银行月活客户达1.{n}亿户。\n"
)


class RecordingConnection:
    """Wraps a DuckDB connection and keeps the text of every statement sent through it."""

    def __init__(self, con, log: list[str]):
        self._con, self._log = con, log

    def __getattr__(self, name):
        return getattr(self._con, name)

    def _record(self, method, sql, *args, **kw):
        self._log.append(sql if isinstance(sql, str) else repr(sql))
        return getattr(self._con, method)(sql, *args, **kw)

    def execute(self, sql, *a, **kw):
        return self._record("execute", sql, *a, **kw)

    def sql(self, sql, *a, **kw):
        return self._record("sql", sql, *a, **kw)

    def query(self, sql, *a, **kw):
        return self._record("query", sql, *a, **kw)

    def executemany(self, sql, *a, **kw):
        return self._record("executemany", sql, *a, **kw)


@pytest.fixture
def recorded_sql(monkeypatch) -> list[str]:
    import flows.export
    import flows.load

    log: list[str] = []
    real_connect = flows.load.connect
    real_open = flows.load.open_warehouse

    def connect(*a, **kw):
        return RecordingConnection(real_connect(*a, **kw), log)

    def open_warehouse(db):
        con = connect(db)
        flows.load.migrate(con)
        return con

    monkeypatch.setattr(flows.load, "connect", connect)
    monkeypatch.setattr(flows.load, "open_warehouse", open_warehouse)
    monkeypatch.setattr(flows.export, "connect", connect, raising=False)
    assert real_open is not None
    return log


def hostile_corpus(raw: Path) -> dict[str, dict]:
    """Files with hostile names, sidecars and text; returns path -> sidecar written."""
    raw.mkdir()
    sidecars = {}
    for n, name in enumerate(HOSTILE_NAMES):
        (raw / name).write_text(ARTICLE.format(title=f"标题{n}", n=n, MARK=MARK), encoding="utf-8")
        meta = {
            "published_at": "2024-06-30",
            "source": f"{MARK} x'); drop table etl_runs; -- <b>来源</b>",
            "url": f"javascript:alert('{MARK}{n}')" if n % 2 else f"https://example.com/{MARK}?q=1&x=<script>",
            "title": f"<script>alert('{MARK}')</script>标题{n} '; drop table dim_source_files; --",
            "entity": f"{MARK}' or 1=1 --",
        }
        stem = name.rsplit(".", 1)[0]
        (raw / f"{stem}.meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        sidecars[name] = meta
    return sidecars


@pytest.mark.prefect
def test_hostile_names_fields_and_text_never_reach_sql_text(tmp_path: Path, recorded_sql: list[str]):
    from flows.export import export_all
    from flows.pipeline import etl

    raw, db = tmp_path / "raw", tmp_path / "w.duckdb"
    sidecars = hostile_corpus(raw)
    first = etl(raw_dir=str(raw), db=str(db))
    assert (first["docs_new"], first["files_quarantined"]) == (len(HOSTILE_NAMES), 0)
    again = etl(raw_dir=str(raw), db=str(db))
    assert (again["docs_new"], again["docs_unchanged"]) == (0, len(HOSTILE_NAMES))
    os.remove(raw / HOSTILE_NAMES[0])  # removal matches hostile paths too
    removed = etl(raw_dir=str(raw), db=str(db))
    assert removed["files_removed"] == 1
    export_all(db, tmp_path / "exports")

    assert recorded_sql, "the recording connection was not used"
    leaked = [sql for sql in recorded_sql if MARK in sql or "<script>" in sql]
    assert leaked == []

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        assert {"dim_documents", "dim_source_files", "fct_mentions", "etl_runs"} <= tables
        rows = con.execute(
            "select s.path, d.source, d.url, d.title, d.sidecar_entity from dim_source_files s "
            "join dim_documents d using (doc_id) order by s.path"
        ).fetchall()
        n_mentions = con.execute("select count(*) from fct_mentions").fetchall()[0][0]
    finally:
        con.close()
    assert [r[0] for r in rows] == sorted(HOSTILE_NAMES[1:])
    for path, source, url, title, entity in rows:
        meta = sidecars[path]
        assert (source, url, title, entity) == (meta["source"], meta["url"], meta["title"], meta["entity"])
    assert n_mentions > 0


def test_export_and_report_paths_stay_inside_their_folders(tmp_path: Path):
    """Entity codes that look like paths: every file written lands inside the export folder."""
    from report_fixture import build_warehouse, insert_rows, mention

    from flows.export import ExportError, export_all, safe_child

    work = tmp_path / "work"
    work.mkdir()
    db = work / "w.duckdb"
    con = build_warehouse(db, close=False)
    hostile_entities = ["../../escaped", "/tmp/abs", "..", ".", "a/b\\c", "x\x00y", "~root", "%2e%2e%2f", "CON"]
    insert_rows(con, "fct_mentions", [
        mention("d01", 100 + i, "截至6月末，个人客户达6.6亿户。", "6.6亿户", value=Decimal("660000000"),
                entity=e, metric_key="personal_customers", period_end=date(2024, 6, 30))
        for i, e in enumerate(hostile_entities)
    ])
    con.close()
    outside_before = sorted(p for p in tmp_path.rglob("*") if "exports" not in p.parts)

    manifest = export_all(db, work / "exports", None)

    written = [p for p in (work / "exports").rglob("*")]
    root = (work / "exports").resolve()
    assert written and all(p.resolve().is_relative_to(root) for p in written)
    outside_after = sorted(p for p in tmp_path.rglob("*") if "exports" not in p.parts)
    assert [p for p in outside_after if not p.name.startswith("w.duckdb")] == \
        [p for p in outside_before if not p.name.startswith("w.duckdb")]
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/abs").exists()
    assert manifest["files"]["rpt_mentions"]["rows"] > 0

    for bad in ("..", "../x", "/etc/passwd", "a/b", "", "x\x00"):
        with pytest.raises(ExportError):
            safe_child(work, bad)
    os.symlink("/tmp", work / "link_out")
    with pytest.raises(ExportError):
        safe_child(work, "link_out", "x")


@pytest.mark.prefect
def test_report_escapes_article_text_and_titles(tmp_path: Path):
    from flows.export import export_all
    from flows.pipeline import etl

    raw, db = tmp_path / "raw", tmp_path / "w.duckdb"
    hostile_corpus(raw)
    etl(raw_dir=str(raw), db=str(db))
    export_all(db, tmp_path / "exports")
    pages = list((tmp_path / "exports").rglob("*.html"))
    assert pages
    con = duckdb.connect(str(db), read_only=True)
    n_script_sentences = con.execute(
        "select count(*) from fct_mentions where sentence like '%<script>%'"
    ).fetchall()[0][0]
    con.close()
    assert n_script_sentences > 0  # the hostile sentence reached the warehouse as evidence
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script", html, re.I), page
        assert not re.search(r"<img[^>]*onerror", html, re.I), page
        assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", html, re.I), page
