from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows import load as wh
from flows.config import SQL_DIR
from flows.plan import chunks, make_plan
from flows.ingest import FileEntry


def doc_row(doc_id: str, path: str, text: str = "标题\n正文7.55亿户") -> dict:
    return {
        "doc_id": doc_id, "title": "标题", "body_text": text, "format": "text", "encoding": "utf-8",
        "script": "simplified", "published_at": date(2024, 11, 1), "published_precision": "month",
        "published_raw": "2024-11", "source": "src", "url": None, "sidecar_entity": None,
        "byte_size": 10, "n_chars": len(text), "n_paragraphs": 1, "primary_path": path,
        "sidecar_hash": None, "warnings": [],
    }


def mention_row(doc_id: str, no: int, value: str = "755000000") -> dict:
    return {
        "doc_id": doc_id, "mention_no": no, "char_start": 5, "char_end": 11, "surface": "7.55亿户",
        "sentence": "正文7.55亿户", "sentence_start": 3, "value": Decimal(value), "unit": "count",
        "measure_word": "户", "scale_word": "亿", "qualifier": "exact", "kind": "level",
        "period_start": None, "period_end": date(2024, 9, 30), "subject": "个人客户数",
        "metric_key": "personal_customers", "entity": "ICBC", "is_implied_unit": False,
    }


def path_row(path: str, doc_id: str, mtime: int = 1) -> dict:
    return {"path": path, "doc_id": doc_id, "size": 10, "mtime_ns": mtime, "sidecar_sig": None, "sidecar_hash": None}


def batch(docs=(), paths=(), mentions=(), quarantined=(), touched=()) -> wh.Batch:
    return wh.Batch(
        pa.Table.from_pylist(list(docs), wh.DOC_SCHEMA),
        pa.Table.from_pylist(list(paths), wh.PATH_SCHEMA),
        pa.Table.from_pylist(list(mentions), wh.MENTION_SCHEMA),
        pa.Table.from_pylist(list(quarantined), wh.QUARANTINE_SCHEMA),
        pa.Table.from_pylist(list(touched), wh.PATH_SCHEMA),
    )


@pytest.fixture
def con(tmp_path: Path):
    c = wh.open_warehouse(tmp_path / "w.duckdb")
    yield c
    c.close()


def counts(con) -> tuple[int, int, int, int]:
    return tuple(
        con.execute(f"select count(*) from {t}").fetchall()[0][0]
        for t in ("dim_documents", "dim_source_files", "fct_mentions", "etl_quarantine")
    )


def test_migrations_apply_in_order_once_and_are_recorded(tmp_path: Path):
    c = wh.connect(tmp_path / "w.duckdb")
    applied = wh.migrate(c)
    assert applied == [m.name for m in wh.discover_migrations()]
    assert applied == sorted(applied)
    assert wh.migrate(c) == []
    versions = [r[0] for r in c.execute("select version from etl_schema_migrations order by version").fetchall()]
    assert versions == [m.version for m in wh.discover_migrations()]


def test_an_older_warehouse_upgrades_in_place(tmp_path: Path):
    old_sql = tmp_path / "sql"
    old_sql.mkdir()
    all_migrations = sorted(SQL_DIR.glob("*.sql"))
    for f in all_migrations[:2]:
        shutil.copy(f, old_sql)
    c = wh.connect(tmp_path / "w.duckdb")
    assert len(wh.migrate(c, old_sql)) == 2
    c.execute("insert into dim_source_files values ('a.txt', 'd1', 1, 1, null, null, now(), now(), 'r0')")
    newer = wh.migrate(c)  # the full folder: only what the old warehouse lacks runs
    assert len(newer) == len(all_migrations) - 2
    assert c.execute("select count(*) from dim_source_files").fetchall()[0][0] == 1


def test_the_long_text_columns_are_stored_with_zstd_and_survive_the_rebuild(tmp_path: Path):
    """070 rebuilds dim_documents and fct_mentions with zstd text columns: a warehouse from
    before it keeps its rows, its views still answer, and new checkpoints write zstd."""
    old_sql = tmp_path / "sql"
    old_sql.mkdir()
    for f in sorted(SQL_DIR.glob("*.sql")):  # what a warehouse from before 070 had applied
        if int(f.name[:3]) < 70 or 300 <= int(f.name[:3]) <= 450:
            shutil.copy(f, old_sql)
    c = wh.connect(tmp_path / "w.duckdb")
    wh.migrate(c, old_sql)
    wh.load_batch(c, without_decode_repairs(
        batch([doc_row("d1", "a.txt")], [path_row("a.txt", "d1")], [mention_row("d1", 1)])), "r0")
    before = c.execute("select * from rpt_mentions").fetchall()
    assert "070_text_columns_zstd" in wh.migrate(c)
    # rpt_mentions as it was defined then is int_mentions since 460 (which adds display names)
    assert c.execute("select * from int_mentions").fetchall() == before
    assert counts(c) == (1, 1, 1, 0)
    wh.load_batch(c, batch([doc_row("d2", "b.txt", "标题\n另一篇正文")], [path_row("b.txt", "d2")],
                           [mention_row("d2", 1)]), "r1")
    c.execute("checkpoint")
    stored = set(c.execute(
        """select column_name, compression from pragma_storage_info('dim_documents') where column_name = 'body_text'
           union all
           select column_name, compression from pragma_storage_info('fct_mentions') where column_name = 'sentence'"""
    ).fetchall())
    assert {("body_text", "ZSTD"), ("sentence", "ZSTD")} <= stored
    c.close()


DECODE_REPAIR_COLUMNS = ["truncated_bytes", "replaced_byte_offsets"]  # 090


def without_decode_repairs(b: wh.Batch) -> wh.Batch:
    """`b` as the loader wrote it before 090: its documents without the decode-repair columns."""
    b.docs = b.docs.drop_columns(DECODE_REPAIR_COLUMNS)
    return b


def test_a_warehouse_from_before_decode_repairs_upgrades_in_place(tmp_path: Path):
    """090 adds dim_documents.truncated_bytes and replaced_byte_offsets, 470 their rows in
    rpt_data_quality: an older warehouse keeps its rows (0 and [] for them: they were read
    strictly) and its data-quality rows, then takes documents with repairs."""
    old_sql = tmp_path / "sql"
    old_sql.mkdir()
    for f in sorted(SQL_DIR.glob("*.sql")):
        if f.name[:3] not in ("090", "470"):
            shutil.copy(f, old_sql)
    c = wh.connect(tmp_path / "w.duckdb")
    wh.migrate(c, old_sql)
    quarantined = {"path": "bad.txt", "reason": "binary", "detail": "d", "size": 1, "mtime_ns": 1, "sidecar_sig": None}
    wh.load_batch(c, without_decode_repairs(batch([doc_row("d1", "a.txt")], [path_row("a.txt", "d1")],
                                                  [mention_row("d1", 1)], [quarantined])), "r0")
    quality_before = c.execute("select * from rpt_data_quality order by all").fetchall()
    assert quality_before and wh.migrate(c) == ["090_dim_documents_decode_repairs", "470_rpt_data_quality"]
    assert c.execute("select truncated_bytes, replaced_byte_offsets from dim_documents").fetchall() == [(0, [])]
    assert c.execute("select * from rpt_data_quality order by all").fetchall() == quality_before

    cut = dict(doc_row("d2", "cut.txt"), truncated_bytes=2, replaced_byte_offsets=[])
    stray = dict(doc_row("d3", "stray.txt"), truncated_bytes=0, replaced_byte_offsets=list(range(100, 125)))
    wh.load_batch(c, batch([cut, stray], [path_row("cut.txt", "d2"), path_row("stray.txt", "d3")]), "r1")
    rows = c.execute(
        """select check_name, severity, doc_id, path, detail from rpt_data_quality
           where check_name in ('truncated_file', 'replaced_bytes') order by all""").fetchall()
    assert rows == [
        ("replaced_bytes", "warning", "d3", "stray.txt",
         "25 invalid bytes read as U+FFFD at byte offsets " + ", ".join(str(o) for o in range(100, 120))
         + ", ...; mentions touching them were not loaded"),
        ("truncated_file", "warning", "d2", "cut.txt",
         "the file ends inside a character (cut short?): its last 2 bytes (an incomplete utf-8 character) "
         "were dropped"),
    ]
    c.close()


def test_misnamed_migration_fails_loudly(tmp_path: Path):
    (tmp_path / "1_bad.sql").write_text("select 1")
    with pytest.raises(wh.WarehouseError, match="NNN_snake_name"):
        wh.discover_migrations(tmp_path)


def test_load_is_idempotent_and_a_changed_file_replaces_its_document(con):
    b1 = batch([doc_row("d1", "a.txt")], [path_row("a.txt", "d1")], [mention_row("d1", 1), mention_row("d1", 2)])
    wh.load_batch(con, b1, "r1")
    wh.load_batch(con, b1, "r1")
    assert counts(con) == (1, 1, 2, 0)
    # a.txt now holds other bytes: d1 goes, d2 comes, with its own mentions only
    b2 = batch([doc_row("d2", "a.txt")], [path_row("a.txt", "d2", 2)], [mention_row("d2", 1, "1")])
    wh.load_batch(con, b2, "r2")
    assert counts(con) == (1, 1, 1, 0)
    assert con.execute("select doc_id, value from fct_mentions").fetchall() == [("d2", Decimal("1"))]
    first_seen = con.execute("select first_seen_at, last_seen_at from dim_source_files").fetchall()[0]
    assert first_seen[0] <= first_seen[1]


def test_identical_bytes_under_two_names_are_one_document_with_two_paths(con):
    wh.load_batch(con, batch([doc_row("d1", "a.txt")], [path_row("a.txt", "d1")], [mention_row("d1", 1)]), "r1")
    # b.txt arrives later with the same bytes; a.txt sorts first and keeps its metadata
    wh.load_batch(con, batch([doc_row("d1", "b.txt")], [path_row("b.txt", "d1")], [mention_row("d1", 1)]), "r2")
    assert counts(con) == (1, 2, 1, 0)
    assert con.execute("select primary_path from dim_documents").fetchall()[0] == ("a.txt",)
    wh.remove_paths(con, ["a.txt"])
    assert counts(con) == (1, 1, 1, 0)
    assert con.execute("select primary_path from dim_documents").fetchall()[0] == ("b.txt",)
    wh.remove_paths(con, ["b.txt"])
    assert counts(con) == (0, 0, 0, 0)


def test_quarantine_then_fix_clears_the_row(con):
    q = {"path": "bad.txt", "reason": "empty", "detail": "x", "size": 0, "mtime_ns": 1, "sidecar_sig": None}
    wh.load_batch(con, batch(quarantined=[q]), "r1")
    wh.load_batch(con, batch(quarantined=[q]), "r2")
    assert counts(con) == (0, 0, 0, 1)
    first, last = con.execute("select first_seen_at, last_seen_at from etl_quarantine").fetchall()[0]
    assert first < last
    wh.load_batch(con, batch([doc_row("d1", "bad.txt")], [path_row("bad.txt", "d1")]), "r3")
    assert counts(con) == (1, 1, 0, 0)


def test_a_failing_batch_leaves_nothing_behind(con):
    wh.load_batch(con, batch([doc_row("d1", "a.txt")], [path_row("a.txt", "d1")], [mention_row("d1", 1)]), "r1")
    bad = batch([doc_row("d2", "b.txt")], [path_row("b.txt", "d2")], [mention_row("d2", 1)])
    bad.mentions = bad.mentions.set_column(0, "doc_id", pa.array([None], pa.string()))  # violates NOT NULL
    with pytest.raises(duckdb.Error):
        wh.load_batch(con, bad, "r2")
    assert counts(con) == (1, 1, 1, 0)


def test_hostile_names_only_ever_travel_as_data(con):
    name = "x'; drop table fct_mentions; --\"报告 (1).txt"
    wh.load_batch(con, batch([doc_row("d1", name)], [path_row(name, "d1")], [mention_row("d1", 1)]), "r1")
    assert con.execute("select path from dim_source_files").fetchall()[0] == (name,)
    wh.remove_paths(con, [name])
    assert counts(con) == (0, 0, 0, 0)


def test_runs_are_recorded_and_a_dead_run_is_marked_crashed(con):
    wh.start_run(con, "r1", "raw", None)
    wh.start_run(con, "r2", "raw", None)  # r1 never finished
    wh.finish_run(con, "r2", {"files_seen": 3, "docs_new": 1, "seconds": 0.5})
    rows = dict(con.execute("select run_id, status from etl_runs").fetchall())
    assert rows == {"r1": "crashed", "r2": "completed"}


def test_plan_skips_unchanged_files_by_stat():
    known = {
        "same.txt": wh.KnownFile("d1", 10, 5, None, False),
        "moved.txt": wh.KnownFile("d2", 10, 5, None, False),
        "gone.txt": wh.KnownFile("d3", 10, 5, None, False),
        "bad.txt": wh.KnownFile(None, 0, 5, None, True),
    }
    entries = [
        FileEntry("bad.txt", 0, 5, None),
        FileEntry("moved.txt", 10, 6, None),
        FileEntry("new.txt", 1, 1, None),
        FileEntry("same.txt", 10, 5, None),
    ]
    plan = make_plan(entries, known)
    assert [e.path for e in plan.todo] == ["moved.txt", "new.txt"]
    assert plan.new_paths == {"new.txt"}
    assert plan.unchanged == ["same.txt"] and plan.still_quarantined == ["bad.txt"]
    assert plan.removed == ["gone.txt"]
    assert chunks(list(range(5)), 2) == [[0, 1], [2, 3], [4]]


def test_a_small_run_is_split_between_the_workers():
    assert chunks(list(range(6)), 2000, workers=2) == [[0, 1, 2], [3, 4, 5]]
    assert chunks(list(range(5)), 2000, workers=2) == [[0, 1, 2], [3, 4]]
    assert chunks(list(range(10)), 2, workers=2) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert chunks([], 2000, workers=2) == []


def test_a_long_run_ends_in_smaller_batches_so_the_last_load_is_short():
    sizes = [len(c) for c in chunks(list(range(20_000)), 2000, workers=2)]
    assert sizes == [2000] * 8 + [1000, 1000, 500, 500, 250, 250, 250, 250]
    # one worker: nothing runs beside the loader, nothing to gain from a taper
    assert {len(c) for c in chunks(list(range(20_000)), 2000)} == {2000}


@given(st.integers(0, 3000), st.integers(1, 300), st.integers(1, 4))
def test_chunks_keep_every_item_once_in_order_within_the_size(n, size, workers):
    out = chunks(list(range(n)), size, workers)
    assert [x for c in out for x in c] == list(range(n))
    assert all(0 < len(c) <= size for c in out)


def test_one_unstorable_value_quarantines_its_file_not_the_batch(tmp_path: Path, monkeypatch):
    from flows import batch as batch_mod
    from flows.ingest import scan

    (tmp_path / "a.txt").write_text("标题\n截至6月末，工行个人客户数达7.55亿户。", encoding="utf-8")
    (tmp_path / "b.txt").write_text("标题\n截至6月末，建行个人客户数达7.45亿户。", encoding="utf-8")
    real = batch_mod.extract_mentions

    def poisoned(text, ctx):
        mentions = real(text, ctx)
        if "建行" in text:  # b.txt
            mentions[0] = dataclasses.replace(mentions[0], char_start=2**40)  # does not fit int32
        return mentions

    monkeypatch.setattr(batch_mod, "extract_mentions", poisoned)
    entries, _ = scan(tmp_path)
    b = batch_mod.build_batch(tmp_path, entries)
    assert b.paths.column("path").to_pylist() == ["a.txt"]
    assert b.quarantined.column("path").to_pylist() == ["b.txt"]
    assert b.mentions.num_rows >= 1


def test_a_spooled_batch_reads_back_identical(tmp_path: Path):
    from flows.batch import read_spool, write_spool

    b = batch([doc_row("d1", "a.txt")], [path_row("a.txt", "d1")], [mention_row("d1", 1), mention_row("d1", 2)])
    write_spool(b, tmp_path / "s")
    back = read_spool(tmp_path / "s", {"clean": 1.5})
    for name in ("docs", "paths", "mentions", "quarantined", "touched"):
        assert getattr(back, name).equals(getattr(b, name)), name
    assert back.stage_seconds == {"clean": 1.5}
