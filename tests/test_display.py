"""flows/display.py: figures in 万/亿/万亿 with unit and qualifier words, dates as articles write them."""
from __future__ import annotations

import tomllib
from datetime import date, datetime
from decimal import Decimal

import pytest

from flows import display as d
from flows.lexicon import UNITS


@pytest.mark.parametrize("value, unit, qualifier, text", [
    ("755000000", "count", None, "7.55亿"),
    ("15500000000000.0000000000", "CNY", None, "15.5万亿元"),
    ("16000000000000", "CNY", "over", "超16万亿元"),
    ("38235100000000", "CNY", None, "38.24万亿元"),       # two decimals, as articles write it
    ("20000000", "count", None, "2000万"),
    ("500000000", "count", "approx", "约5亿"),
    ("300", "CNY", None, "300元"),
    ("-95000000", "count", None, "-9500万"),
    ("1.35", "percent", None, "1.35%"),
    ("-0.02", "pp", None, "-0.02个百分点"),
    ("2.5", "times", None, "2.5倍"),
    ("12000000000", "USD", "under", "不足120亿美元"),
    ("5", "widgets", None, "5 widgets"),
    ("99999999", "count", None, "1亿"),                   # 9999.9999万 rounds up a scale word
])
def test_amounts_read_as_articles_write_them(value, unit, qualifier, text):
    assert d.amount(Decimal(value), unit, qualifier) == text


def test_amount_keeps_more_digits_when_asked_and_exact_keeps_all():
    assert d.amount(Decimal("755123456"), "count", digits=4) == "7.5512亿"
    assert d.exact(Decimal("16000000000000.0000000000"), "CNY") == "16,000,000,000,000 CNY"
    assert d.amount(None, "CNY") == "" and d.exact(None) == ""


def test_signed_changes_and_percentages():
    assert d.signed(Decimal("95000000"), "count") == "+9500万"
    assert d.signed(Decimal("-0.02"), "pp") == "-0.02个百分点"
    assert d.pct(14.3939) == "+14.39%" and d.pct(-0.9) == "-0.90%" and d.pct(None) == ""


@pytest.mark.parametrize("day, text", [
    (date(2025, 6, 30), "2025年6月末"),
    (date(2024, 12, 31), "2024年末"),
    (date(2024, 2, 29), "2024年2月末"),        # leap-year month end
    (date(2023, 2, 28), "2023年2月末"),
    (date(2024, 2, 28), "2024年2月28日"),      # not the end of February 2024
    (datetime(2025, 9, 30, 0, 0), "2025年9月末"),
    ("2025-03-31", "2025年3月末"),
    (None, ""),
])
def test_zh_dates(day, text):
    assert d.zh_date(day) == text


def test_iso_dates_and_periods():
    assert d.iso_date(date(2025, 6, 30)) == "2025-06-30"
    assert d.iso_date(datetime(2025, 6, 30, 12, 0)) == "2025-06-30"
    assert d.zh_period(date(2024, 1, 1), date(2024, 12, 31)) == "2024年"
    assert d.zh_period(date(2025, 1, 1), date(2025, 6, 30)) == "2025年1-6月"
    assert d.zh_period(date(2025, 7, 1), date(2025, 7, 31)) == "2025年7月"
    assert d.zh_period(None, date(2025, 6, 30)) == "2025年6月末"
    assert d.zh_period(date(2024, 7, 1), date(2025, 6, 30)) == "2024-07-01至2025-06-30"


def test_labels_file_covers_units_qualifiers_and_kinds():
    data = tomllib.loads(d.LABELS_FILE.read_text(encoding="utf-8"))
    assert set(data["units"]) == UNITS  # every code the extractor writes has its word
    assert set(data["qualifiers"]) == set(data["qualifier_names"]) == {"exact", "approx", "over", "under", "up_to"}
    assert set(data["kinds"]) == {"level", "flow", "change"}
    assert d.column_label("as_of_date") == "截至日期" and d.column_label("no_such_column") == "no_such_column"


def test_hong_kong_macau_taiwan_amounts_read_as_money():
    # a TWD or MOP amount is scaled like any money (35亿元新台币), not printed as a bare code
    assert {"MOP", "TWD", "HKD", "CNY", "count"} <= d.STOCK_UNITS and "percent" not in d.STOCK_UNITS
    assert d.amount(Decimal("3500000000"), "TWD") == "35亿元新台币"
    assert d.amount(Decimal("80000000"), "MOP", "over") == "超8000万澳门元"
