"""A small hand-made warehouse for the reporting tests (views, exports, report, docs).

Rows go straight into the tables through registered Arrow tables, so these tests depend on the
schema in sql/ only, never on the extraction code. Offsets are computed from the text, so every
mention's evidence holds: substr(body_text, char_start + 1, char_end - char_start) = surface.

What the fixture holds, and which test relies on it:
  ICBC personal_customers level: 6.6亿 exact (2020-06-30), 7.55亿 exact + "超7.5亿" over
       (2024-09-30, two documents, reconcile) -> growth 6.6亿 -> 7.55亿, no conflict
  ICBC personal_financial_assets level: "超15.5万亿" over and "突破16万亿" over (2020-06-30):
       bounds only, agreed value = greatest lower bound 16万亿
  CCB personal_customers level 2023-12-31: exact 7.2亿 vs exact 6.6亿 -> a conflict, beyond
       rounding (rpt_disagreements)
  CCB npl_ratio level: 1.37% (2023-12-31) -> 1.35% (2024-06-30): a change in pp, not annualised
  ICBC personal_customers change +2000万 (2024-01-01..2024-09-30)
  a sentence holding <script>, a mention without a period, one with a metric but no entity,
  one with an unknown unit, a duplicate path, two quarantined files
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from flows.load import open_warehouse

RUN_ID = "fixture-run-0001"
SCRIPT_SENTENCE = "工行表示<script>alert('x')</script>手机银行月活客户达1.2亿户。"

# (doc_id, path, title, source, published_at, extra paths, [mention specs])
# mention spec: (sentence, surface, value, unit, qualifier, kind, period_start, period_end,
#                metric_key, entity)
DOCS = [
    ("d01", "icbc/2020_h1.html", "工商银行2020年半年报解读", "人民网", date(2020, 8, 30), ["mirror/2020_h1.html"], [
        ("截至6月末，工行个人客户达6.6亿户。", "6.6亿户", Decimal("660000000"), "count", "exact", "level",
         None, date(2020, 6, 30), "personal_customers", "ICBC"),
        ("个人客户金融资产规模超15.5万亿元。", "15.5万亿元", Decimal("15500000000000"), "CNY", "over", "level",
         None, date(2020, 6, 30), "personal_financial_assets", "ICBC"),
        ("网点发放300元红包。", "300元", Decimal("300"), "CNY", "exact", "level",
         None, None, None, None),
    ]),
    ("d02", "icbc/2024_q3.html", "工行前三季度个人客户增长", "新华网", date(2024, 10, 30), [], [
        ("截至9月末，个人客户达7.55亿户。", "7.55亿户", Decimal("755000000"), "count", "exact", "level",
         None, date(2024, 9, 30), "personal_customers", "ICBC"),
        ("前三季度个人客户新增2000万户。", "2000万户", Decimal("20000000"), "count", "exact", "change",
         date(2024, 1, 1), date(2024, 9, 30), "personal_customers", "ICBC"),
        (SCRIPT_SENTENCE, "1.2亿户", Decimal("120000000"), "count", "exact", "level",
         None, date(2024, 9, 30), "mobile_banking_mau", "ICBC"),
    ]),
    ("d03", "icbc/2024_q3_wire.txt", "工行零售业务快讯", "财新", date(2024, 11, 2), [], [
        ("工行个人客户超7.5亿户。", "7.5亿户", Decimal("750000000"), "count", "over", "level",
         None, date(2024, 9, 30), "personal_customers", "ICBC"),
        ("个人金融资产突破16万亿元。", "16万亿元", Decimal("16000000000000"), "CNY", "over", "level",
         None, date(2020, 6, 30), "personal_financial_assets", "ICBC"),
    ]),
    ("d04", "ccb/2023_annual.html", "建设银行2023年报", "证券时报", date(2024, 3, 28), [], [
        ("建行个人客户达7.2亿户。", "7.2亿户", Decimal("720000000"), "count", "exact", "level",
         None, date(2023, 12, 31), "personal_customers", "CCB"),
        ("不良贷款率1.37%。", "1.37%", Decimal("1.37"), "percent", "exact", "level",
         None, date(2023, 12, 31), "npl_ratio", "CCB"),
        ("手机银行用户数约5亿。", "5亿", Decimal("500000000"), "widgets", "approx", "level",
         None, date(2023, 12, 31), None, "CCB"),
    ]),
    ("d05", "ccb/2024_h1.html", "建行半年报", "中国证券报", date(2024, 8, 29), [], [
        ("2023年末个人客户6.6亿户。", "6.6亿户", Decimal("660000000"), "count", "exact", "level",
         None, date(2023, 12, 31), "personal_customers", "CCB"),
        ("6月末不良贷款率1.35%。", "1.35%", Decimal("1.35"), "percent", "exact", "level",
         None, date(2024, 6, 30), "npl_ratio", "CCB"),
        ("某行私人银行客户近20万户。", "20万户", Decimal("200000"), "count", "approx", "level",
         None, date(2024, 6, 30), "private_banking_customers", None),
    ]),
]
QUARANTINE = [
    ("bad/empty.txt", "empty", "0 bytes"),
    ("bad/blob.bin", "binary", "NUL bytes in the first 8 KiB"),
]


def _rows(docs, loaded_at: datetime):
    doc_rows, path_rows, mention_rows = [], [], []
    for doc_id, path, title, source, published, extra_paths, specs in docs:
        sentences = [s[0] for s in specs]
        body = "\n".join([title, *sentences])
        for no, (sentence, surface, value, unit, qual, kind, p_start, p_end, metric, entity) in enumerate(specs, 1):
            s_start = body.index(sentence)
            c_start = body.index(surface, s_start)
            mention_rows.append({
                "doc_id": doc_id, "mention_no": no, "char_start": c_start,
                "char_end": c_start + len(surface), "surface": surface, "sentence": sentence,
                "sentence_start": s_start, "value": value, "unit": unit,
                "measure_word": None, "scale_word": None, "qualifier": qual, "kind": kind,
                "period_start": p_start, "period_end": p_end, "subject": None,
                "metric_key": metric, "entity": entity, "is_implied_unit": False,
                "run_id": RUN_ID,
            })
        doc_rows.append({
            "doc_id": doc_id, "title": title, "body_text": body, "format": "html",
            "encoding": "utf-8", "script": "simplified", "published_at": published,
            "published_precision": "day", "published_raw": published.isoformat(),
            "source": source, "url": f"https://example.com/{doc_id}", "sidecar_entity": None,
            "byte_size": len(body.encode()), "n_chars": len(body), "n_paragraphs": len(specs) + 1,
            "primary_path": path, "sidecar_hash": None, "loaded_at": loaded_at, "run_id": RUN_ID,
        })
        for p in [path, *extra_paths]:
            path_rows.append({
                "path": p, "doc_id": doc_id, "size": len(body.encode()), "mtime_ns": 1,
                "sidecar_sig": None, "sidecar_hash": None, "first_seen_at": loaded_at,
                "last_seen_at": loaded_at, "run_id": RUN_ID,
            })
    return doc_rows, path_rows, mention_rows


def insert_rows(con, table: str, rows: list[dict]) -> None:
    """Insert dict rows by column name through a registered Arrow table (no SQL text values)."""
    if not rows:
        return
    if table == "fct_mentions":
        # Keep values exact: Arrow decimal128(38, 10), like the loader.
        arrow = pa.Table.from_pylist(rows).set_column(
            list(rows[0]).index("value"), "value",
            pa.array([r["value"] for r in rows], pa.decimal128(38, 10)),
        )
    else:
        arrow = pa.Table.from_pylist(rows)
    con.register("fixture_rows", arrow)
    try:
        con.execute(f"insert into {table} by name select * from fixture_rows")
    finally:
        con.unregister("fixture_rows")


def mention(doc_id: str, mention_no: int, sentence: str, surface: str, **fields) -> dict:
    """One extra fct_mentions row (for tests adding hostile or edge-case rows)."""
    row = {
        "doc_id": doc_id, "mention_no": mention_no, "char_start": 0, "char_end": len(surface),
        "surface": surface, "sentence": sentence, "sentence_start": 0, "value": Decimal("1"),
        "unit": "count", "measure_word": None, "scale_word": None, "qualifier": "exact",
        "kind": "level", "period_start": None, "period_end": None, "subject": None,
        "metric_key": None, "entity": None, "is_implied_unit": False, "run_id": RUN_ID,
    }
    row.update(fields)
    return row


def build_warehouse(path: Path, close: bool = True):
    """Create the fixture warehouse at `path` (migrations applied); returns the path, or the open
    connection when close=False."""
    con = open_warehouse(path)
    loaded_at = datetime(2024, 11, 3, 12, 0, 0)
    docs, paths, mentions = _rows(DOCS, loaded_at)
    insert_rows(con, "dim_documents", docs)
    insert_rows(con, "dim_source_files", paths)
    insert_rows(con, "fct_mentions", mentions)
    insert_rows(con, "etl_quarantine", [
        {"path": p, "reason": r, "detail": d, "size": 0, "mtime_ns": 1, "sidecar_sig": None,
         "first_seen_at": loaded_at, "last_seen_at": loaded_at, "run_id": RUN_ID}
        for p, r, d in QUARANTINE
    ])
    con.execute(
        "insert into etl_runs (run_id, started_at, finished_at, status, raw_dir, files_seen, "
        "docs_new, mentions_loaded) values (?, ?, ?, 'completed', 'raw', 8, 5, ?)",
        [RUN_ID, loaded_at, loaded_at, len(mentions)],
    )
    if close:
        con.close()
        return path
    return con
