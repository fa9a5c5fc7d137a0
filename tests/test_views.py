"""The reporting views (sql/3NN_int_*, sql/4NN_rpt_*) on the hand-made fixture warehouse:
grain, reconciliation, the agreed-value and conflict rules, growth arithmetic."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flows.config import SQL_DIR
from flows.load import migrate, open_warehouse
from report_fixture import build_warehouse, insert_rows, mention

# view -> the columns that make one row (the grain comment at the top of its file)
GRAIN = {
    "int_mention_bounds": ["doc_id", "mention_no"],
    "rpt_mentions": ["doc_id", "mention_no"],
    "rpt_metric_series": ["entity", "metric_key", "kind", "period_start", "period_end", "unit"],
    "rpt_latest_metrics": ["entity", "metric_key", "unit"],
    "rpt_metric_growth": ["entity", "metric_key", "unit", "period_to"],
    "rpt_documents": ["doc_id", "primary_path"],
    "rpt_disagreements": ["doc_id", "mention_no"],
    "rpt_data_quality": ["check_name", "entity", "metric_key", "kind", "unit", "period_start",
                         "period_end", "doc_id", "mention_no", "path"],
}
REPORT_SQL = sorted(p for p in SQL_DIR.glob("*.sql") if re.match(r"^[34]\d\d_", p.name))


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = build_warehouse(tmp_path_factory.mktemp("views") / "w.duckdb", close=False)
    yield c
    c.close()


def one(con, sql, params=None):
    return con.execute(sql, params or []).fetchone()


@pytest.mark.parametrize("view", sorted(GRAIN))
def test_grain_is_unique(con, view):
    cols = ", ".join(GRAIN[view])
    n, distinct = one(con, f"select count(*), count(distinct ({cols})) from {view}")
    # count(distinct (row)) treats NULL fields as values, which is what a grain means here
    assert n > 0 and n == distinct, f"{view}: {n} rows but {distinct} distinct ({cols})"


@pytest.mark.parametrize("path", REPORT_SQL, ids=lambda p: p.name)
def test_sql_file_is_one_documented_view(path):
    text = path.read_text(encoding="utf-8")
    name = re.sub(r"^\d{3}_", "", path.stem)
    assert text.startswith(f"-- {name}:"), "the file opens with a comment naming its object"
    assert "one row per" in text.split("create")[0], "the header states the grain"
    creates = re.findall(r"^create\s+or\s+replace\s+view\s+(\w+)", text, re.M | re.I)
    assert creates == [name], "one object per file, named like the file"
    assert text.rstrip().endswith("select * from final;")
    assert name in GRAIN, "every view has a grain test"


def test_migrations_add_views_once(tmp_path):
    con = open_warehouse(tmp_path / "w.duckdb")
    assert migrate(con) == []  # a second run applies nothing
    views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
    assert set(GRAIN) <= views
    con.close()


def test_series_reconcile_with_mentions(con):
    # every mention with an entity, a metric and a period is behind exactly one series
    total, behind = one(con, """
        select (select sum(n_mentions) from rpt_metric_series),
               (select count(*) from fct_mentions
                where entity is not null and metric_key is not null and period_end is not null)""")
    assert total == behind
    mismatched = con.execute("""
        select s.entity, s.metric_key, s.n_mentions, count(m.doc_id), s.n_documents,
               count(distinct m.doc_id)
        from rpt_metric_series s
        left join fct_mentions m
          on m.entity = s.entity and m.metric_key = s.metric_key and m.kind = s.kind
         and m.unit = s.unit and m.period_end = s.period_end
         and m.period_start is not distinct from s.period_start
        group by s.entity, s.metric_key, s.kind, s.unit, s.period_start, s.period_end,
                 s.n_mentions, s.n_documents
        having s.n_mentions <> count(m.doc_id) or s.n_documents <> count(distinct m.doc_id)
    """).fetchall()
    assert mismatched == []


def test_documents_reconcile_with_mentions(con):
    assert one(con, "select sum(n_mentions) from rpt_documents") == one(con, "select count(*) from fct_mentions")
    assert one(con, "select count(*) from rpt_documents where status = 'loaded'") == one(
        con, "select count(*) from dim_documents")
    assert one(con, "select count(*) from rpt_documents where status = 'quarantined'") == one(
        con, "select count(*) from etl_quarantine")


def series(con, entity, metric, period_end, kind="level"):
    cur = con.execute(
        "select * from rpt_metric_series where entity = ? and metric_key = ? and period_end = ? and kind = ?",
        [entity, metric, period_end, kind])
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    assert len(rows) == 1
    return rows[0]


def test_series_agreed_value_rules(con):
    s = series(con, "ICBC", "personal_customers", date(2024, 9, 30))
    # "7.55亿" exact and "超7.5亿" over reconcile; the exact statement is the agreed value
    assert (s["value"], s["qualifier"], s["value_rule"], s["has_conflict"]) == (
        Decimal("755000000"), "exact", "exact_mode", False)
    assert (s["n_documents"], s["n_mentions"], s["n_sources"]) == (2, 2, 2)
    assert (s["first_published_at"], s["last_published_at"]) == (date(2024, 10, 30), date(2024, 11, 2))
    assert s["doc_ids"] == ["d02", "d03"]
    # bounds only: the greatest lower bound wins
    s = series(con, "ICBC", "personal_financial_assets", date(2020, 6, 30))
    assert (s["value"], s["qualifier"], s["value_rule"], s["has_conflict"]) == (
        Decimal("16000000000000"), "over", "lower_bound", False)
    # exact 7.2亿 against exact 6.6亿: a conflict; the tie goes to the newest publication
    s = series(con, "CCB", "personal_customers", date(2023, 12, 31))
    assert s["has_conflict"] and s["lower_bound"] > s["upper_bound"]
    assert s["value"] == Decimal("660000000") and s["n_exact_values"] == 2


def test_values_stay_exact_decimals(con):
    types = dict(con.execute(
        "select column_name, column_type from (describe rpt_metric_series)").fetchall())
    assert types["value"] == "DECIMAL(38,10)"
    growth = dict(con.execute("select column_name, column_type from (describe rpt_metric_growth)").fetchall())
    assert growth["change_abs"].startswith("DECIMAL") and growth["change_pct"] == "DOUBLE"


@pytest.mark.parametrize("a, b, conflict", [
    (("over", "660000000"), ("exact", "700000000"), False),   # the brief's example
    (("exact", "660000000"), ("exact", "700000000"), True),
    (("approx", "660000000"), ("exact", "662000000"), False),  # 约6.6亿 vs 6.62亿
    (("approx", "600000000"), ("exact", "700000000"), True),
    (("under", "660000000"), ("exact", "700000000"), True),
    (("up_to", "700000000"), ("exact", "700000000"), False),   # bounds are inclusive
    (("over", "700000000"), ("under", "660000000"), True),
    (("over", "-50"), ("exact", "-60"), False),  # "下降超50%" allows -60
    (("over", "-50"), ("exact", "-40"), True),
])
def test_qualifiers_reconcile(tmp_path, a, b, conflict):
    con = build_warehouse(tmp_path / "w.duckdb", close=False)
    rows = [mention("d01", 100 + i, "s", "x", qualifier=q, value=Decimal(v), entity="ABC",
                    metric_key="personal_customers", period_end=date(2022, 12, 31))
            for i, (q, v) in enumerate([a, b])]
    insert_rows(con, "fct_mentions", rows)
    s = series(con, "ABC", "personal_customers", date(2022, 12, 31))
    assert s["has_conflict"] is conflict
    flagged = one(con, "select count(*) from rpt_data_quality where check_name = 'conflict' and entity = 'ABC'")[0]
    assert flagged == int(conflict)
    con.close()


def test_latest_metrics(con):
    cur = con.execute("select * from rpt_latest_metrics where entity = 'ICBC' and metric_key = 'personal_customers'")
    r = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    assert (r["value"], r["as_of_date"], r["unit"]) == (Decimal("755000000"), date(2024, 9, 30), "count")
    assert (r["doc_id"], r["mention_no"], r["source"], r["surface"]) == ("d02", 1, "新华网", "7.55亿户")
    assert r["surface"] in r["sentence"]
    # every latest row has evidence stating exactly its value
    assert one(con, """select count(*) from rpt_latest_metrics l
                       join rpt_mentions m using (doc_id, mention_no)
                       where m.value <> l.value or l.doc_id is null""")[0] == 0
    # only levels: the change series (+2000万) is not "latest personal_customers"
    assert one(con, "select count(*) from rpt_latest_metrics where value = 20000000")[0] == 0


def test_metric_growth(con):
    cur = con.execute("select * from rpt_metric_growth order by entity, metric_key")
    rows = {(r[0], r[1]): dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()}
    g = rows[("ICBC", "personal_customers")]
    assert (g["period_from"], g["period_to"]) == (date(2020, 6, 30), date(2024, 9, 30))
    assert (g["value_from"], g["value_to"], g["change_abs"]) == (
        Decimal("660000000"), Decimal("755000000"), Decimal("95000000"))
    assert g["days"] == 1553 and g["change_unit"] == "count" and g["is_exact"]
    assert g["change_pct"] == pytest.approx(95 / 660 * 100)
    assert g["change_pct_annualised"] == pytest.approx(((755 / 660) ** (365.25 / 1553) - 1) * 100)
    npl = rows[("CCB", "npl_ratio")]
    # a ratio changes in percentage points and is not compounded
    assert npl["change_abs"] == Decimal("-0.02") and npl["change_unit"] == "pp"
    assert npl["change_pct_annualised"] is None
    # the conflicting CCB personal_customers point alone makes no pair
    assert ("CCB", "personal_customers") not in rows


def test_documents_view(con):
    cur = con.execute("select * from rpt_documents order by status, primary_path")
    rows = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
    d01 = next(r for r in rows if r["doc_id"] == "d01")
    assert d01["paths"] == ["icbc/2020_h1.html", "mirror/2020_h1.html"] and d01["n_paths"] == 2
    assert (d01["n_mentions"], d01["n_mentions_without_period"], d01["n_mentions_without_metric"]) == (3, 1, 1)
    q = [r for r in rows if r["status"] == "quarantined"]
    assert {(r["primary_path"], r["quarantine_reason"]) for r in q} == {
        ("bad/empty.txt", "empty"), ("bad/blob.bin", "binary")}
    assert all(r["doc_id"] is None for r in q)


def test_data_quality_counts(con):
    counts = dict(con.execute(
        "select check_name, count(*) from rpt_data_quality group by check_name").fetchall())
    assert counts == {"conflict": 1, "unresolved_period": 1, "unattributed_metric": 1,
                      "unknown_unit": 1, "quarantined_file": 2}
    sev = dict(con.execute("select check_name, any_value(severity) from rpt_data_quality group by 1").fetchall())
    assert sev["conflict"] == "error" and sev["unknown_unit"] == "warning"


def test_disagreements_list_every_statement_of_the_series(con):
    cur = con.execute("select * from rpt_disagreements order by queue_rank, value")
    rows = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
    # the fixture's one disagreement: CCB personal_customers 2023-12-31, 7.2亿 (d04) vs 6.6亿 (d05)
    assert [(r["entity"], r["metric_key"], r["period_end"], r["value"], r["doc_id"]) for r in rows] == [
        ("CCB", "personal_customers", date(2023, 12, 31), Decimal("660000000"), "d05"),
        ("CCB", "personal_customers", date(2023, 12, 31), Decimal("720000000"), "d04")]
    r = rows[1]
    assert r["entity_name_zh"] == "建设银行" and r["metric_name_zh"] == "个人客户数"
    assert r["surface"] == "7.2亿户" and r["surface"] in r["sentence"]
    assert r["source_file"] == "ccb/2023_annual.html" and r["source"] == "证券时报"
    assert r["rounding"] == Decimal("5000000")  # half of 0.1亿
    assert (r["agreed_value"], r["min_value"], r["max_value"]) == (
        Decimal("660000000"), Decimal("660000000"), Decimal("720000000"))
    assert r["spread_pct"] == pytest.approx(60 / 660 * 100)
    assert r["deviation_pct"] == pytest.approx(60 / 660 * 100) and rows[0]["deviation_pct"] == 0
    assert {x["queue_rank"] for x in rows} == {1}


@pytest.mark.parametrize("a, b, beyond", [
    (("exact", "700000000", "7亿"), ("exact", "660000000", "6.6亿"), False),   # 6.6亿 rounds to 7亿
    (("exact", "720000000", "7.2亿"), ("exact", "660000000", "6.6亿"), True),
    (("exact", "755000000", "7.55亿"), ("exact", "750000000", "7.5亿"), False),  # 7.549亿 writes as both
    (("exact", "755000000", "7.55亿"), ("exact", "756000000", "7.56亿"), False),  # 7.555亿 writes as both
    (("exact", "755000000", "7.55亿"), ("exact", "757000000", "7.57亿"), True),
    (("exact", "20000000", "2000万"), ("exact", "20100000", "2010万"), True),     # trailing zeros count
    (("exact", "20000000", "两千万"), ("exact", "20100000", "2010万"), False),    # 两千万: ± 500万
    (("exact", "20000000", "２，０００万"), ("exact", "20100000", "2010万"), True),  # full-width digits
    (("exact", "1.35", "1.35%"), ("exact", "1.37", "1.37%"), True),
    (("exact", "1.35", "1.35%"), ("exact", "1.4", "1.4%"), False),
    (("over", "750000000", "7.5亿"), ("exact", "755000000", "7.55亿"), False),    # never conflicted
    (("approx", "600000000", "6亿"), ("exact", "700000000", "7亿"), False),       # 约6亿 ± 5%, 7亿 ± 0.5亿
    (("approx", "600000000", "6.0亿"), ("exact", "720000000", "7.2亿"), True),
    (("exact", "-0.02", "0.02个百分点"), ("exact", "-0.05", "0.05个百分点"), True),
])
def test_disagreement_is_beyond_rounding(tmp_path, a, b, beyond):
    con = build_warehouse(tmp_path / "w.duckdb", close=False)
    rows = [mention("d01", 100 + i, f"句子{s}", s, qualifier=q, value=Decimal(v), entity="ABC",
                    metric_key="personal_customers", period_end=date(2022, 12, 31))
            for i, (q, v, s) in enumerate([a, b])]
    insert_rows(con, "fct_mentions", rows)
    n = one(con, "select count(*) from rpt_disagreements where entity = 'ABC'")[0]
    assert n == (2 if beyond else 0)
    if beyond:  # a disagreement beyond rounding is always a conflict of the series too
        assert series(con, "ABC", "personal_customers", date(2022, 12, 31))["has_conflict"]
    con.close()


def test_disagreement_queue_is_newest_first(con, tmp_path):
    c = build_warehouse(tmp_path / "w.duckdb", close=False)
    insert_rows(c, "fct_mentions", [
        mention("d01", 100 + i, "s", s, value=Decimal(v), entity="ICBC", metric_key="total_assets",
                unit="CNY", period_end=pe)
        for i, (v, s, pe) in enumerate([("10", "10元", date(2025, 6, 30)), ("12", "12元", date(2025, 6, 30)),
                                        ("10", "10元", date(2021, 6, 30)), ("12", "12元", date(2021, 6, 30))])])
    ranks = c.execute("select distinct queue_rank, period_end from rpt_disagreements order by 1").fetchall()
    c.close()
    assert [pe for _, pe in ranks] == [date(2025, 6, 30), date(2023, 12, 31), date(2021, 6, 30)]
    assert [r for r, _ in ranks] == [1, 2, 3]


def test_units_are_read_from_dim_units(tmp_path):
    # a Taiwan bank's deposits in TWD at two year-ends: a known stock unit, so no unknown_unit
    # warning and a compounded growth; a unit no rule file names is still flagged
    con = build_warehouse(tmp_path / "w.duckdb", close=False)
    rows = [mention("d01", 200 + i, "s", "x", value=Decimal(v), unit="TWD", entity="ABC",
                    metric_key="total_deposits", period_end=end)
            for i, (v, end) in enumerate([("100", date(2023, 12, 31)), ("121", date(2025, 12, 31))])]
    rows.append(mention("d01", 210, "s", "y", unit="XAU"))
    insert_rows(con, "fct_mentions", rows)
    flagged = {r[0] for r in con.execute(
        "select unit from rpt_data_quality where check_name = 'unknown_unit'").fetchall()}
    assert "XAU" in flagged and "TWD" not in flagged
    g = one(con, """select change_pct_annualised from rpt_metric_growth
                    where entity = 'ABC' and metric_key = 'total_deposits' and unit = 'TWD'""")[0]
    assert g == pytest.approx(((121 / 100) ** (365.25 / 731) - 1) * 100)
    assert one(con, "select nature, name_zh from dim_units where unit = 'MOP'") == ("money", "澳门元")
    con.close()
