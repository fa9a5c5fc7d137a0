"""How figures and dates read in the report and the workbook: as Chinese articles write them.

    amount(755000000, "count")              -> "7.55亿"
    amount(15500000000000, "CNY", "over")   -> "超15.5万亿元"
    amount(1.35, "percent")                 -> "1.35%"
    amount(-0.02, "pp")                     -> "-0.02个百分点"
    zh_date(date(2025, 6, 30))              -> "2025年6月末"      iso_date(...) -> "2025-06-30"
    zh_period(date(2025, 1, 1), date(2025, 6, 30)) -> "2025年1-6月"

Unit and qualifier words, and the Chinese column labels, live in templates/labels_zh.toml; bank
and metric names come from the warehouse (dim_institutions, dim_metrics), never from code.
"""
from __future__ import annotations

import calendar
import tomllib
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from flows.lexicon import unit_codes

LABELS_FILE = Path(__file__).with_name("templates") / "labels_zh.toml"
_SCALES = ((Decimal(10) ** 12, "万亿"), (Decimal(10) ** 8, "亿"), (Decimal(10) ** 4, "万"))
# money and counts: amounts scaled to 万/亿/万亿 on axes (units.toml [codes] says which codes they are)
STOCK_UNITS = frozenset(code for code, (nature, _) in unit_codes().items() if nature in ("money", "count"))


@lru_cache(maxsize=1)
def labels() -> dict:
    return tomllib.loads(LABELS_FILE.read_text(encoding="utf-8"))


def column_label(name: str) -> str:
    """The Chinese header of a view column, or the column name when the file has none."""
    return labels()["columns"].get(name, name)


def plain(v: Decimal) -> str:
    """An exact decimal without exponent or trailing zeros: 7.5500000000 -> '7.55'."""
    s = format(v, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def scaled(value, digits: int = 4) -> str:
    """A number in 万 / 亿 / 万亿 as articles write it (at most `digits` decimals): 7.55亿."""
    v = Decimal(value)
    step = Decimal(1).scaleb(-digits)
    for i, (scale, word) in enumerate(_SCALES):
        if abs(v) >= scale:
            q = (v / scale).quantize(step)
            if i and abs(q) >= 10000:  # 9999.999万 rounds to 1亿, not 10000万
                scale, word = _SCALES[i - 1]
                q = (v / scale).quantize(step)
            return f"{plain(q)}{word}"
    return plain(v)


def amount(value, unit: str | None, qualifier: str | None = None, digits: int = 2) -> str:
    """Qualifier word + figure + unit word: 超15.5万亿元, 约5亿, 1.35%, -0.02个百分点, 2.5倍.

    Amounts in 万/亿/万亿 keep at most `digits` decimals (38.2351万亿 -> 38.24万亿, as articles
    write it); `exact()` gives the stored value, shown on hover in the report."""
    if value is None:
        return ""
    v = Decimal(value)
    lab = labels()
    body = plain(v) if unit in ("percent", "pp", "times") else scaled(v, digits)
    suffix = lab["units"].get(unit or "", "" if unit is None else f" {unit}")
    prefix = lab["qualifiers"].get(qualifier or "exact", "")
    return f"{prefix}{body}{suffix}"


def signed(value, unit: str | None, digits: int = 2) -> str:
    """A change with its sign: +9500万, -0.02个百分点."""
    if value is None:
        return ""
    text = amount(value, unit, digits=digits)
    return text if text.startswith("-") else "+" + text


def exact(value, unit: str | None = None) -> str:
    """The exact stored value with thousands separators: 755,000,000 (the unit code after it)."""
    if value is None:
        return ""
    s = format(Decimal(value).normalize(), ",f")
    return f"{s} {unit}" if unit else s


def pct(x, signed_: bool = True) -> str:
    return "" if x is None else (f"{x:+.2f}%" if signed_ else f"{x:.2f}%")


def _as_date(d) -> date | None:
    if d is None:
        return None
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    return date.fromisoformat(str(d)[:10])


def iso_date(d) -> str:
    d = _as_date(d)
    return "" if d is None else d.isoformat()


def _month_end(d: date) -> bool:
    return d.day == calendar.monthrange(d.year, d.month)[1]


def zh_date(d) -> str:
    """An as-of date as articles write it: 2025年末, 2025年6月末, 2025年6月15日."""
    d = _as_date(d)
    if d is None:
        return ""
    if d.month == 12 and d.day == 31:
        return f"{d.year}年末"
    if _month_end(d):
        return f"{d.year}年{d.month}月末"
    return f"{d.year}年{d.month}月{d.day}日"


def zh_period(start, end) -> str:
    """A period: 2025年 (a whole year), 2025年1-6月 (months of one year), else the dates."""
    start, end = _as_date(start), _as_date(end)
    if start is None:
        return zh_date(end)
    if end is None:
        return iso_date(start)
    if start.year == end.year and start.day == 1 and _month_end(end):
        if start.month == 1 and end.month == 12:
            return f"{end.year}年"
        if start.month == end.month:
            return f"{end.year}年{end.month}月"
        return f"{end.year}年{start.month}-{end.month}月"
    return f"{iso_date(start)}至{iso_date(end)}"
