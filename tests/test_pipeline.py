"""End-to-end: the real Prefect flow (ephemeral mode) on the seeds and on tricky files."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

SEED_STEMS = ("000_ab545eb3df99d10b", "001_b419b8a76fd784a7")

pytestmark = pytest.mark.prefect

SEED_001 = f"{SEED_STEMS[1]}.txt"
GBK_ARTICLE = "建设银行个人存款\n截至2024年末，建设银行个人存款余额达15.2万亿元，较上年末增长8.5%。\n"


def run(raw: Path, db: Path, **kw) -> dict:
    from flows.pipeline import etl

    return etl(raw_dir=str(raw), db=str(db), **kw)


def table_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: con.execute(f"select count(*) from {t}").fetchall()[0][0]
            for t in ("dim_documents", "dim_source_files", "fct_mentions", "etl_quarantine")
        }
    finally:
        con.close()


def test_seeds_load_with_valid_evidence_then_a_rerun_changes_nothing(raw_copy: Path, tmp_path: Path):
    db = tmp_path / "w.duckdb"
    first = run(raw_copy, db)
    assert (first["files_seen"], first["docs_new"], first["docs_changed"], first["docs_unchanged"]) == (2, 2, 0, 0)
    assert first["files_quarantined"] == 0 and first["mentions_loaded"] > 40

    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        """select m.surface, substr(d.body_text, m.char_start + 1, m.char_end - m.char_start),
                  m.sentence, substr(d.body_text, m.sentence_start + 1, length(m.sentence))
           from fct_mentions m join dim_documents d using (doc_id)"""
    ).fetchall()
    assert rows and all(surface == span and sentence == sent for surface, span, sentence, sent in rows)
    files = {r[0] for r in con.execute("select distinct source_file from rpt_mentions").fetchall()}
    assert files == {f"{s}.txt" for s in SEED_STEMS}
    snapshot = con.execute("select doc_id, loaded_at from dim_documents order by doc_id").fetchall()
    con.close()

    second = run(raw_copy, db)
    assert (second["docs_new"], second["docs_changed"], second["docs_unchanged"]) == (0, 0, 2)
    assert second["mentions_loaded"] == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select doc_id, loaded_at from dim_documents order by doc_id").fetchall() == snapshot
    runs = con.execute("select status, docs_new, docs_unchanged from etl_runs order by started_at").fetchall()
    con.close()
    assert runs == [("completed", 2, 0), ("completed", 0, 2)]


def test_encodings_html_named_txt_duplicates_changes_and_removals(raw_copy: Path, tmp_path: Path):
    db = tmp_path / "w.duckdb"
    (raw_copy / "gbk.txt").write_bytes(GBK_ARTICLE.encode("gbk"))
    (raw_copy / "utf16.dat").write_bytes(GBK_ARTICLE.replace("15.2", "16.1").encode("utf-16"))
    (raw_copy / "page.txt").write_text(
        "<html><head><title>农行 - 新闻</title></head><body><nav>首页</nav>"
        "<p>截至6月末，农业银行个人贷款余额<b>8.9万亿元</b>。</p></body></html>",
        encoding="utf-8",
    )
    (raw_copy / "nested").mkdir()
    shutil.copy(raw_copy / SEED_001, raw_copy / "nested" / "copy.txt")
    s = run(raw_copy, db)
    assert (s["files_seen"], s["docs_new"], s["files_quarantined"]) == (6, 6, 0)
    c = table_counts(db)
    assert (c["dim_documents"], c["dim_source_files"]) == (5, 6)

    con = duckdb.connect(str(db), read_only=True)
    enc = dict(con.execute("select primary_path, encoding || '/' || format from dim_documents").fetchall())
    con.close()
    assert enc["gbk.txt"] == "gb18030/text"
    assert enc["utf16.dat"] == "utf-16/text"
    assert enc["page.txt"] == "utf-8/html"

    # The seed changes; its old bytes live on in nested/copy.txt, so the old document stays.
    with open(raw_copy / SEED_001, "a", encoding="utf-8") as fh:
        fh.write("\n截至三季度末，工商银行个人贷款余额达8.9万亿元。\n")
    # nested/copy.txt now carries it and is read again: the old document's metadata follows it
    # (it has no sidecar), no longer the changed seed's.
    s = run(raw_copy, db)
    assert (s["docs_new"], s["docs_changed"], s["docs_unchanged"]) == (0, 2, 4)
    assert table_counts(db)["dim_documents"] == 6
    con = duckdb.connect(str(db), read_only=True)
    moved = con.execute("select source, published_at from dim_documents where primary_path = 'nested/copy.txt'").fetchall()
    con.close()
    assert moved == [(None, None)]

    # The copy goes: the old bytes have no path left, and their document and mentions go too.
    os.remove(raw_copy / "nested" / "copy.txt")
    s = run(raw_copy, db)
    assert s["files_removed"] == 1
    c = table_counts(db)
    assert (c["dim_documents"], c["dim_source_files"]) == (5, 5)
    con = duckdb.connect(str(db), read_only=True)
    orphans = con.execute(
        "select count(*) from fct_mentions where doc_id not in (select doc_id from dim_documents)"
    ).fetchall()[0][0]
    dup_docs = con.execute("select count(*) - count(distinct doc_id) from dim_documents").fetchall()[0][0]
    con.close()
    assert orphans == 0 and dup_docs == 0


def test_bad_files_are_quarantined_and_cleared_once_fixed(raw_copy: Path, tmp_path: Path):
    db = tmp_path / "w.duckdb"
    (raw_copy / "empty.txt").write_bytes(b"")
    (raw_copy / "blob.html").write_bytes(bytes(range(256)) * 8)
    s = run(raw_copy, db)
    assert s["docs_new"] == 2
    reasons = {q["path"]: q["reason"] for q in s["quarantine"]}
    assert set(reasons) == {"empty.txt", "blob.html"} and reasons["empty.txt"] == "empty"
    again = run(raw_copy, db)
    assert again["files_quarantined"] == 2 and again["docs_new"] == 0
    (raw_copy / "empty.txt").write_text("标题\n截至6月末，招商银行零售客户数达1.9亿户。", encoding="utf-8")
    fixed = run(raw_copy, db)
    assert fixed["docs_new"] == 1
    assert [q["path"] for q in fixed["quarantine"]] == ["blob.html"]


def mention_rows(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            """select * exclude (run_id) from fct_mentions order by doc_id, mention_no"""
        ).fetchall()
    finally:
        con.close()


def test_worker_processes_give_the_same_rows_as_one_thread(raw_copy: Path, tmp_path: Path):
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.pipeline import run_etl

    for i in range(12):  # enough files for several batches
        shutil.copy(raw_copy / SEED_001, raw_copy / f"copy{i}.txt")
        with open(raw_copy / f"copy{i}.txt", "a", encoding="utf-8") as fh:
            fh.write(f"\n截至三季度末，工商银行个人贷款余额达{i + 1}.5万亿元。\n")
    one = run(raw_copy, tmp_path / "one.duckdb", batch_size=3)
    two = run_etl(task_runner=ThreadPoolTaskRunner(2), raw_dir=str(raw_copy), db=str(tmp_path / "two.duckdb"),
                  batch_size=3, processes=2)
    assert one["docs_new"] == two["docs_new"] == 14
    rows = mention_rows(tmp_path / "one.duckdb")
    assert len(rows) > 14 * 30 and rows == mention_rows(tmp_path / "two.duckdb")


def rules_hashes(db: Path) -> set[str | None]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("select rules_hash from dim_documents").fetchall()}
    finally:
        con.close()


def test_documents_are_extracted_again_when_the_rules_change(raw_copy: Path, tmp_path: Path, monkeypatch):
    from flows import lexicon

    db = tmp_path / "w.duckdb"
    shutil.copy(raw_copy / SEED_001, raw_copy / "same_bytes.txt")  # one document, two paths
    first = run(raw_copy, db)
    assert (first["docs_new"], first["docs_reextracted"]) == (3, 0)
    assert rules_hashes(db) == {lexicon.rules_fingerprint()}
    rows, counts = mention_rows(db), table_counts(db)

    # an analyst edits a rule file: the unchanged articles are read and extracted again, replaced
    # whole (nothing doubled), and the documents record the rules they now come from
    monkeypatch.setattr(lexicon, "rules_fingerprint", lambda: "edited-rules")
    second = run(raw_copy, db)
    assert (second["docs_new"], second["docs_changed"], second["docs_reextracted"]) == (0, 0, 3)
    assert second["mentions_loaded"] == len(rows)
    assert mention_rows(db) == rows and table_counts(db) == counts
    assert rules_hashes(db) == {"edited-rules"}

    third = run(raw_copy, db)
    assert (third["docs_reextracted"], third["docs_unchanged"], third["mentions_loaded"]) == (0, 3, 0)


def test_an_ephemeral_run_sends_no_heartbeats(tmp_path: Path, monkeypatch):
    # Heartbeats tell a server when a run died; the ephemeral server dies with the run, and the
    # engine's heartbeat thread held the end of every run for up to a second.
    from prefect.settings import get_current_settings

    from flows import load as wh
    from flows.pipeline import run_etl

    seen = []
    real = wh.start_run

    def spy(*args, **kwargs):
        seen.append(get_current_settings().flows.heartbeat_frequency)
        return real(*args, **kwargs)

    monkeypatch.setattr(wh, "start_run", spy)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    (tmp_path / "raw").mkdir()
    run_etl(raw_dir=str(tmp_path / "raw"), db=str(tmp_path / "w.duckdb"))
    assert seen == [None]
    assert get_current_settings().flows.heartbeat_frequency is not None  # restored after the run


def test_auto_runner_starts_worker_processes_only_for_a_large_run(raw_copy: Path, tmp_path: Path):
    from flows.pipeline import run_etl
    from flows.runners import run_options

    small = run_etl(**run_options("auto", workers=2), raw_dir=str(raw_copy), db=str(tmp_path / "a.duckdb"))
    assert small["worker_processes"] == 0 and small["docs_new"] == 2  # 2 files: below the threshold
    big = run_etl(**{**run_options("auto", workers=2), "min_files_for_processes": 2},
                  raw_dir=str(raw_copy), db=str(tmp_path / "b.duckdb"))
    assert big["worker_processes"] == 2 and big["mentions_loaded"] == small["mentions_loaded"]


def test_an_export_that_fails_after_the_load_is_recorded_and_raised(raw_copy: Path, tmp_path: Path, monkeypatch):
    """Issue 14: the load commits, the export fails: etl_runs says completed_export_failed with
    the reason (not completed), and the flow fails saying the load committed."""
    import flows.report
    from flows.pipeline import EXPORT_FAILED, ExportFailed

    def boom(*a, **k):
        raise RuntimeError("chart failed: disk full")

    monkeypatch.setattr(flows.report, "render_report", boom)
    db = tmp_path / "w.duckdb"
    with pytest.raises(ExportFailed) as exc:
        run(raw_copy, db, export_dir=str(tmp_path / "exports"))
    assert "the load committed (2 new" in str(exc.value) and "chart failed: disk full" in str(exc.value)
    assert exc.value.summary["docs_new"] == 2
    con = duckdb.connect(str(db), read_only=True)
    runs = con.execute("select status, message, docs_new from etl_runs").fetchall()
    con.close()
    assert runs == [(EXPORT_FAILED, f"export to {tmp_path / 'exports'} failed: chart failed: disk full", 2)]
    assert table_counts(db)["dim_documents"] == 2

    monkeypatch.undo()  # the next run exports again, and says completed
    again = run(raw_copy, db, export_dir=str(tmp_path / "exports"))
    assert again["docs_unchanged"] == 2 and again["export"]["files"]
    con = duckdb.connect(str(db), read_only=True)
    assert [r[0] for r in con.execute("select status from etl_runs order by started_at").fetchall()] == [
        EXPORT_FAILED, "completed"]
    con.close()


def test_metadata_follows_the_path_that_still_carries_the_document(tmp_path: Path):
    """Issue 14: identical bytes under a.txt and b.txt, each with its own sidecar. The document takes
    a.txt's metadata (it sorts first); when a.txt is removed, or comes to hold other bytes, the
    document takes b.txt's, and its mentions are extracted again with it (今年 is b's year)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    text = "工行个人客户\n截至今年6月末，工商银行个人客户数达7.55亿户，较年初增加1400万户。\n"
    for name, source, published in (("a", "甲报", "2020-07"), ("b", "乙报", "2024-11"), ("c", "丙报", "2023-05")):
        (raw / f"{name}.txt").write_text(text, encoding="utf-8")
        (raw / f"{name}.meta.json").write_text(f'{{"source": "{source}", "published_at": "{published}"}}',
                                              encoding="utf-8")
    db = tmp_path / "w.duckdb"

    def state() -> tuple:
        con = duckdb.connect(str(db), read_only=True)
        try:
            docs = con.execute("select primary_path, source, published_at, rules_hash is not null "
                               "from dim_documents order by primary_path").fetchall()
            ends = con.execute("select distinct m.doc_id, year(m.period_end) from fct_mentions m "
                               "order by all").fetchall()
            quality = con.execute("select count(*) from rpt_mentions").fetchall()[0][0]
        finally:
            con.close()
        return docs, ends, quality

    first = run(raw, db)
    assert first["docs_new"] == 3
    docs, ends, n_mentions = state()
    assert [(d[0], d[1]) for d in docs] == [("a.txt", "甲报")] and [e[1] for e in ends] == [2020]

    os.remove(raw / "a.txt")  # its sidecar stays behind, unused
    second = run(raw, db)
    # both paths that still carry the document are read again (counted per file, as changes)
    assert (second["files_removed"], second["docs_new"], second["docs_changed"], second["docs_unchanged"]) == (1, 0, 2, 0)
    docs, ends, again = state()
    assert [(d[0], d[1], d[2].year, d[3]) for d in docs] == [("b.txt", "乙报", 2024, True)]
    assert [e[1] for e in ends] == [2024] and again == n_mentions

    # b.txt comes to hold other bytes while c.txt still carries the document: c's metadata now.
    (raw / "b.txt").write_text(text.replace("7.55", "7.60"), encoding="utf-8")
    third = run(raw, db)
    assert (third["docs_new"], third["docs_changed"], third["docs_unchanged"]) == (0, 2, 0)
    docs, _, _ = state()
    assert [(d[0], d[1], d[2].year, d[3]) for d in docs] == [("b.txt", "乙报", 2024, True), ("c.txt", "丙报", 2023, True)]
    con = duckdb.connect(str(db), read_only=True)
    by_path = dict(con.execute("select d.primary_path, list(distinct year(m.period_end)) from dim_documents d "
                               "join fct_mentions m using (doc_id) group by 1").fetchall())
    con.close()
    assert by_path == {"b.txt": [2024], "c.txt": [2023]}
    assert run(raw, db)["docs_unchanged"] == 2  # and a rerun reads nothing


def test_a_run_clears_its_own_warehouses_stale_spools_and_leaves_another_warehouses(tmp_path: Path):
    """Two warehouses may share a folder (warehouse/eval/seeds.duckdb beside holdout.duckdb), and a
    run on one must not delete the batches a run on the other is spooling there."""
    from flows.pipeline import clear_stale_spools, spool_prefix

    mine = tmp_path / (spool_prefix(str(tmp_path / "seeds.duckdb")) + "dead-run")
    other = tmp_path / (spool_prefix(str(tmp_path / "holdout.duckdb")) + "live-run")
    for d in (mine, other):
        (d / "batch-000000").mkdir(parents=True)
        (d / "batch-000000" / "docs.arrow").write_bytes(b"x")
    assert clear_stale_spools(tmp_path, str(tmp_path / "seeds.duckdb")) == 1
    assert not mine.exists() and (other / "batch-000000" / "docs.arrow").exists()
