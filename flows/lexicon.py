"""Rule tables for quantity extraction, loaded from ``flows/rules/`` and validated once.

Every word list the extractor and normaliser use lives in a TOML or CSV file next to this module
(scales, units, qualifiers, period phrases, kind and direction cues, idioms, metrics, entity
aliases, subject trimming). A bad file fails at load with the file name and the key or line, so a
typo in a rule stops the pipeline at start-up instead of silently changing results mid-run.
"""
from __future__ import annotations

import csv
import hashlib
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from flows.config import RULES_DIR


UNITS = frozenset({"CNY", "USD", "HKD", "MOP", "TWD", "EUR", "JPY", "GBP", "count", "percent", "pp", "times"})
UNIT_NATURES = frozenset({"money", "count", "percent", "pp", "times"})
QUALIFIERS = frozenset({"exact", "approx", "over", "under", "up_to"})
PERIOD_TYPES = frozenset({"point", "range", "open", "reset"})
PERIOD_RESOLVERS = frozenset({
    "day", "month_end", "quarter_end", "half1_end", "year_end", "first_quarters", "first_months",
    "half1", "half2", "quarter", "since_year", "year_to_date", "year", "rel_year", "none",
    "months_ending", "report_end", "half_code", "month", "year_span", "month_span",
})
BASIS_STARTS = frozenset({"year_start", "prev_year_end", "none"})
NATURES = frozenset({"stock", "flow", "ratio"})
INSTITUTION_KINDS = frozenset({"large_state", "joint_stock", "city", "rural", "policy", "private", "foreign"})


class RuleError(ValueError):
    """A rule file is malformed; the message names the file and the key or line."""


@dataclass(frozen=True)
class PeriodRule:
    name: str
    pattern: str  # fragments expanded, named groups not yet prefixed
    type: str
    resolve: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricInfo:
    """One key of the metric taxonomy (metric_taxonomy.csv): what analysts see it as."""

    key: str
    unit: str
    nature: str  # stock | flow | ratio (a ratio is a level, in percent)
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Institution:
    """One bank of the registry (institutions.csv)."""

    code: str
    name_zh: str
    short_name_zh: str
    kind: str


@dataclass(frozen=True)
class MetricRule:
    key: str
    unit: str
    nature: str
    synonym: str
    line: int = 0  # of metrics.csv, for messages


@dataclass(frozen=True)
class MetricWords:
    """metric_words.toml: how subjects and synonyms are brought to one form (flows/metric_match.py)."""

    variants: dict[str, str]  # one character -> one character
    abbreviations: dict[str, str]
    cut_at: tuple[str, ...]
    cut_not_before: tuple[str, ...]  # 前三 ranks, 前三季 dates: no cut before these
    tail: tuple[str, ...]
    segments: tuple[str, ...]
    bare_heads: frozenset[str]
    coordinators: tuple[str, ...]
    coordinated_reach: int  # characters of its own a coordinated name may have before it (年化, 核心)
    particles: str  # characters a segment may stand before the name with (代销的理财)
    boundary_chars: frozenset[str]
    boundary_words: tuple[str, ...]
    # a figure whose subject names nothing reads its metric from the sentence (metric_words.toml [context])
    context_followers: tuple[str, ...]  # words that may follow a metric name read from the context
    context_reach: int  # characters of the phrase before such a name the matcher sees
    concept_ends: str  # last characters of a subject that names a concept of its own (公允价值变动收益)
    concept_abbreviations: tuple[str, ...]  # abbreviations ending such a subject (EPS)
    name_after: tuple[str, ...]  # a number after one of these is named after it (以6万亿元的规模)
    item_marks: str  # a name followed by one of these is an item of a list (发放贷款和垫款、金融投资)
    average_keys: frozenset[str]  # metrics defined on average balances (roe, roa): for them ...
    average_words: tuple[str, ...]  # ... these segments before the name are part of it (平均净资产收益率)


@dataclass(frozen=True)
class AttributionRules:
    """attribution.toml: which bank a figure belongs to (flows/attribution.py)."""

    brands: dict[str, str]  # bare brand word -> bank code (平安 -> PAB), a bank only in context
    initials: dict[str, str]  # one character -> bank code (工 -> ICBC), in a run like 工、农、中、建、交行
    other_names: tuple[str, ...]
    group_brands: tuple[str, ...]
    subsidiary_words: tuple[str, ...]
    bank_subsidiary_words: tuple[str, ...]
    branch_words: tuple[str, ...]
    other_bank_suffixes: tuple[str, ...]
    other_bank_after: tuple[str, ...]
    other_bank_not_before: tuple[str, ...]
    other_bank_generic: frozenset[str]
    other_bank_counting: tuple[str, ...]
    aggregates: tuple[str, ...]
    aggregate_not_before: tuple[str, ...]
    count_measure_words: frozenset[str]
    restating_words: tuple[str, ...]  # 五大: between a list of banks and a total that restates it
    bank_nouns: tuple[str, ...]
    list_count_reach: int
    carry_reach: int  # a total across banks this close before a bank-less sentence's clause covers its figure
    carry_words: frozenset[str]  # the non_bank.csv words that name such a total (银行业)
    comparison_before: tuple[str, ...]
    comparison_after: tuple[str, ...]
    comparison_not_between: tuple[str, ...]
    comparison_possessive: tuple[str, ...]
    comparison_apposition: str  # 低于作为城市商业银行的北京银行: what the target is said to be
    comparison_reach: int
    list_marks: tuple[str, ...]
    respectively: tuple[str, ...]
    list_totals: tuple[str, ...]  # 合计, 区间: a figure past a list's last bank after one is the total or range, nobody's
    threshold_list: str  # 破百亿元的有6家,分别为: a threshold figure then the banks past it
    dominance: int
    share: int  # percent
    title_weight: int
    title_max_len: int
    lead_chars: int
    group_members: dict[str, tuple[str, ...]]  # 四大行 -> its four codes
    group_each_words: tuple[str, ...]  # 均: the figure after the group is each member's
    group_each_not_after: dict[str, str]  # 均 -> 平日…: 平均, 日均 are no each word
    group_reach: int
    short_endings: dict[str, tuple[str, ...]]  # 农村商业银行 -> (农商银行, 农商行): names written short
    short_drop_leading: tuple[str, ...]  # a leading province a short name leaves out (江苏)
    # 广州、上海、重庆分别… in a sentence about 农商行: kind -> (its words, place -> its bank's code)
    place_lists: dict[str, tuple[tuple[str, ...], dict[str, str]]]
    place_list_reach: int


@dataclass(frozen=True)
class TableWords:
    """tables.toml: how a text table's lines, headers, labels and units are read (flows/tables.py)."""

    separators: tuple[str, ...]
    min_cells: int
    min_rows: int
    unit_markers: tuple[str, ...]
    scales: dict[str, int]  # 千元 -> 1000, longest first
    currencies: dict[str, str]  # 人民币 -> CNY
    columns: tuple[tuple[str, tuple[str, ...]], ...]  # (column kind, header words), in the order tried
    label_leads: tuple[str, ...]
    per_share: tuple[str, ...]
    flat_skip: int
    pp_words: tuple[str, ...]
    down_words: tuple[str, ...]
    up_words: tuple[str, ...]
    bp_words: tuple[str, ...]  # a cell's basis-point word (-7BP)
    bank_columns: tuple[str, ...]  # a header's first cell naming a column of banks (银行名称)
    bank_header_cells: tuple[str, ...]  # ... opening a header whose cells are spaces apart
    growth_words: tuple[str, ...]  # a measure column that is a growth rate (营业收入增速)
    spaced_heads: tuple[str, ...]  # regexes of a column head in a table whose cells are spaces apart
    growth_rows: tuple[str, ...]  # a row label that says only "the growth of the row above" ((+/-)%)
    growth_suffix: str  # ... shown after that row's subject (营业收入增速)
    stock_endings: tuple[str, ...]  # a row label ending in one is a balance at the column's end
    multiples: tuple[str, ...]  # a row label naming a valuation multiple (市净率): its cells in times
    ratio_endings: tuple[str, ...]  # a row label ending in one (资本充足率) states percents


_TABLE_COLUMNS = ("change", "report_end", "prev_year_end", "prev_same_period", "report_period")


def _table_words(rules_dir: Path) -> TableWords:
    f = "tables.toml"
    data = _read_toml(rules_dir / f)
    scales = _get(data, "scales", dict, f)
    for k, v in scales.items():
        if not isinstance(v, int) or v < 1:
            raise RuleError(f"{f}: [scales] {k!r} = {v!r} must be a positive whole number")
    columns = _get(data, "columns", dict, f)
    unknown = sorted(set(columns) - set(_TABLE_COLUMNS))
    if unknown:
        raise RuleError(f"{f}: [columns] {unknown[0]!r} is not one of {list(_TABLE_COLUMNS)}")
    return TableWords(
        separators=_words(data, "separators", f),
        min_cells=_get(data, "min_cells", int, f),
        min_rows=_get(data, "min_rows", int, f),
        unit_markers=_words(data, "unit_markers", f),
        scales=dict(sorted(scales.items(), key=lambda kv: -len(kv[0]))),
        currencies=_str_map(data, "currencies", f, UNITS),
        columns=tuple((k, _longest_first(_words(data, f"columns.{k}", f))) for k in _TABLE_COLUMNS if k in columns),
        label_leads=_longest_first(_words(data, "label_leads", f)),
        per_share=_words(data, "per_share", f),
        flat_skip=_get(data, "flat_skip", int, f),
        pp_words=_longest_first(_words(data, "pp_words", f)),
        down_words=_words(data, "down_words", f),
        up_words=_words(data, "up_words", f),
        bp_words=_words(data, "bp_words", f),
        bank_columns=_words(data, "bank_columns", f),
        bank_header_cells=_longest_first(_words(data, "bank_header_cells", f)),
        growth_words=_words(data, "growth_words", f),
        spaced_heads=_regexes(data, "spaced_heads", f),
        growth_rows=_words(data, "growth_rows", f),
        growth_suffix=_get(data, "growth_suffix", str, f),
        stock_endings=_longest_first(_words(data, "stock_endings", f)),
        multiples=_words(data, "multiples", f),
        ratio_endings=_words(data, "ratio_endings", f),
    )


@dataclass(frozen=True)
class Lexicon:
    """All rule tables, typed. Built by `load_lexicon`; never mutated."""

    digits: dict[str, int]
    small_scales: dict[str, int]
    big_scales: dict[str, int]
    fullwidth: dict[str, str]
    decimal_points: tuple[str, ...]
    scale_words: tuple[str, ...]
    over_infix: tuple[str, ...]
    currencies: dict[str, str]
    currency_prefixes: dict[str, str]
    percent: tuple[str, ...]
    percent_prefix: tuple[str, ...]
    pp: tuple[str, ...]
    bp: tuple[str, ...]
    times: tuple[str, ...]
    tenths: tuple[str, ...]
    tenths_not_before: frozenset[str]
    tenths_half: frozenset[str]  # 一成半: half a tenth more
    count_words: tuple[str, ...]
    not_after: tuple[str, ...]
    ratio_per: tuple[str, ...]
    ratio_then: tuple[str, ...]
    unit_not_before: dict[str, frozenset[str]]
    min_bare_chinese: int
    flow_measure_words: frozenset[str]
    stock_measure_words: frozenset[str]
    qualifier_prefix: dict[str, str]
    qualifier_suffix: dict[str, str]
    qualifier_infix: dict[str, str]
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    to_level: tuple[str, ...]
    flat_at: tuple[str, ...]  # 环比持平于1.23%: the number after one of these is a level, whatever basis
    count_of_those: tuple[str, ...]  # 放缓的有7家: a count of the things that did so, a level
    level_after: tuple[str, ...]  # 2.32厘水平: a level held up against another
    level_after_change: tuple[str, ...]  # 增长了22.30%达到6.25万亿元: the new level after a change
    share_after: tuple[str, ...]  # 新增额占全部贷款新增额比重为94.44%: the direction word is in a share's name
    pair_joiners: tuple[str, ...]  # 4.0%及2.2%的跌幅: the first figure takes the second's direction
    from_words: tuple[str, ...]
    period_ratio_metrics: frozenset[str]  # their from-level (由1.7%扩阔至1.9%) is the same period a year before
    direction_reach: int
    not_direction: tuple[str, ...]
    basis: dict[str, str]
    flow_words: tuple[str, ...]
    cumulative_words: tuple[str, ...]
    stock_words: tuple[str, ...]
    flow_over_stock: tuple[str, ...]
    flow_verbs: tuple[str, ...]  # kind.flow_over_stock alone: verbs that win over a stock measure word too
    stock_names: tuple[str, ...]  # balances whose name holds a flow head (留存收益, 未分配利润)
    change_heads: tuple[str, ...]
    growth_nouns: tuple[str, ...]  # …12.59%的快速增长: a growth rate (cues.toml)
    copulas: tuple[str, ...]  # 利润增速最高，为16.66%: a clause of a copula restates the rate before
    period_rules: tuple[PeriodRule, ...]
    basis_prefixes: tuple[str, ...]
    basis_joiners: frozenset[str]
    basis_tails: tuple[str, ...]
    cause_openers: tuple[str, ...]
    cause_closers: tuple[str, ...]
    asat_prefixes: tuple[str, ...]  # 於2018年12月31日，…: opening a clause, an as-at date
    dated_basis_prefixes: tuple[str, ...]
    asof_prefixes: tuple[str, ...]
    continuation_openers: tuple[str, ...]
    item_marks: str  # (一) (二) inside a line: each item a paragraph of its own for the dates it carries
    item_mark_after: frozenset[str]  # ... after a line start or one of these
    relative_years: dict[str, int]
    lead_lines: int
    frame_cues: tuple[str, ...]
    month_frame_cues: tuple[str, ...]  # a bare month frames a statistics release (2025年12月的货币统计)
    source_after: tuple[str, ...]
    source_before: tuple[str, ...]
    source_then: tuple[str, ...]
    disclosure_verbs: tuple[str, ...]  # 截至4月4日…披露了2018年年报: the day the reports were out
    disclosure_reports: tuple[str, ...]  # source_after and these: the reports a disclosure names
    disclosure_reach: int
    annual_report_due: tuple[int, int]  # (month, day) an undated annual-results document is taken as written
    future_words: tuple[str, ...]  # 将在2026年7月底届期: a date looked ahead to does not date an undated page
    future_reach: int
    future_after: tuple[str, ...]  # 2024-2026年EPS预测: forecast years do not date an undated page
    comparison_openers: tuple[str, ...]
    comparison_closers: tuple[str, ...]
    comparison_reach: int
    idioms: tuple[str, ...]
    metrics: tuple[MetricRule, ...]
    metric_catalog: dict[str, MetricInfo]
    metric_words: MetricWords
    institutions: dict[str, Institution]
    entity_aliases: dict[str, str]
    bank_sites: dict[str, str]  # a bank's own web host (icbc.com.cn) -> its code (bank_sites.csv)
    stock_codes: dict[str, str]  # a listed bank's stock code (601288, 01288) -> its code (stock_codes.csv)
    entity_exclusions: tuple[str, ...]
    attribution: AttributionRules
    non_bank: tuple[str, ...]
    self_reference: tuple[str, ...]
    lead_words: tuple[str, ...]
    speech_verbs: tuple[str, ...]  # 又表示年内非利息收入…: the subject starts after the last one
    scope_open: tuple[str, ...]  # 资产规模在众多农商行中: a scope closing the subject (在 … 中)
    scope_close: frozenset[str]
    scope_reach: int
    segment_marks: str
    generic_heads: tuple[str, ...]
    trail_words: tuple[str, ...]
    stop_after: tuple[str, ...]
    cut_at: tuple[str, ...]
    enumeration: tuple[str, ...]
    topic_frames: tuple[str, ...]
    topic_attributes: tuple[str, ...]
    empty_subjects: frozenset[str]
    chrome_subjects: frozenset[str]
    chrome_measure_words: frozenset[str]
    subject_max_len: int
    subject_min_len: int
    of_marks: tuple[str, ...]  # 5000多亿的储蓄存款: the noun after the mark is the number's
    money_cues: tuple[str, ...]
    count_cues: tuple[str, ...]
    fixed_changes: dict[str, str]
    qualifier_particles: tuple[str, ...]  # 突破了: between a qualifier word and its number
    continuation_words: tuple[str, ...]  # 同期: periods.toml
    continuation_not_after: str
    prior_same_period: tuple[str, ...]  # 去年同期为8亿元: the figure of the same period a year before
    menu_bullets: tuple[str, ...]
    menu_min_lines: int
    menu_max_len: int
    table_units: dict[str, str]  # (%) -> % (units.toml [tables])
    table_max_rows: int
    minus_words: str  # 负156亿元: a minus in words (units.toml [signs])
    bare_lower_marks: tuple[str, ...]  # 0.04-0.23个百分点: a bare lower bound before these
    shared_unit_heads: tuple[str, ...]  # 3.01个和4.3个百分点: 个 shares the next unit
    shared_list_openers: tuple[str, ...]  # 分别提高0.09和1.30个百分点: the bare 0.09 shares the unit
    shared_list_classes: frozenset[str]
    list_marks: tuple[str, ...]
    small_count_words: frozenset[str]  # 四家: counted below min_bare_chinese
    series_list_marks: tuple[str, ...]  # periods.toml [series]
    series_range_marks: tuple[str, ...]
    series_list_ends: str
    series_gap_ignore: str
    share_words: dict[str, str]  # 一半 -> "50" (percent)
    share_qualifiers: dict[str, str]  # 过半 -> over
    share_not_before: tuple[str, ...]
    share_not_after: tuple[str, ...]
    heading_marker: str
    heading_max_len: int
    metric_modifiers: tuple[str, ...]
    range_marks: tuple[str, ...]
    reach_verbs: tuple[str, ...]
    # how a subject is phrased for the reader (subject.toml [phrasing]: flows/subject.py)
    phrasing: dict[str, tuple[str, ...]]
    # number forms and values (units.toml, cues.toml, currency.toml)
    over_infix_not_before: frozenset[str]
    currency_symbols: dict[str, str]
    currency_subunits: dict[str, tuple[Decimal, str]]  # word -> (factor, ISO code or "" = document's)
    subunit_cues: tuple[str, ...]
    subunit_reach: int
    tenths_digit_not_before: frozenset[str]
    fraction_marks: tuple[str, ...]
    slash_max_denominator: int
    slash_not_before: tuple[str, ...]
    unit_space_after: tuple[str, ...]
    negative_adjacent: tuple[str, ...]
    positive_adjacent: tuple[str, ...]
    not_adjacent: tuple[str, ...]
    negative_after: tuple[str, ...]
    positive_after: tuple[str, ...]
    better: tuple[str, ...]
    worse: tuple[str, ...]
    lower_is_better: tuple[str, ...]
    bare_currency_units: frozenset[str]
    local_currency_words: dict[str, str]
    local_place_words: dict[str, str]
    local_place_not_after: dict[str, str]
    local_banks: dict[str, str]  # 中银香港 -> HKD: a Hong Kong, Macau or Taiwan bank names its currency
    local_bank_min_names: int  # ... when the title names it or the text this many times
    currency_domains: dict[str, str]
    currency_sources: dict[str, str]
    currency_statement: str
    url_date: str  # periods.toml [url_date]: the date in a page's address (groups y, m, d)
    currency_same_marker: str
    clause_currency_words: dict[str, str]
    # derived once here for the per-span tests of flows/values.py: the code points a word next
    # to a number must end / start with (most numbers have none: one integer test tells)
    currency_prefix_words: tuple[str, ...]
    adjacent_ords: tuple[int, ...]
    after_ords: tuple[int, ...]
    qualifier_suffix_words: tuple[str, ...]  # qualifier_suffix's words, longest first
    tables: TableWords  # tables.toml: figures laid out in text tables (flows/tables.py)


def _known_keys(keys: tuple[str, ...], catalog: dict, where: str) -> frozenset[str]:
    unknown = [k for k in keys if k not in catalog]
    if unknown:
        raise RuleError(f"{where}: unknown metric key {unknown[0]!r} (see metric_taxonomy.csv)")
    return frozenset(keys)


def _month_day(text: str, file: str) -> tuple[int, int]:
    """'04-30' -> (4, 30), a real day of the year."""
    try:
        day = date.fromisoformat(f"2000-{text}")
    except ValueError:
        raise RuleError(f"{file}: {text!r} is not a MM-DD day") from None
    return day.month, day.day


def _longest_first(words) -> tuple[str, ...]:
    # regex alternation is ordered: longer words must be tried before their prefixes
    return tuple(sorted(dict.fromkeys(words), key=lambda w: (-len(w), w)))


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise RuleError(f"{path.name}: missing rule file") from exc
    except tomllib.TOMLDecodeError as exc:  # message carries line and column
        raise RuleError(f"{path.name}: {exc}") from exc


def _get(data: dict, path: str, kind: type, file: str):
    node: object = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise RuleError(f"{file}: missing key [{path}]")
        node = node[part]
    if not isinstance(node, kind):
        raise RuleError(f"{file}: [{path}] must be a {kind.__name__}")
    return node


def _words(data: dict, path: str, file: str) -> tuple[str, ...]:
    items = _get(data, path, list, file)
    for i, w in enumerate(items):
        if not isinstance(w, str) or not w:
            raise RuleError(f"{file}: [{path}] item {i} must be a non-empty string")
    return tuple(items)


def _str_map(data: dict, path: str, file: str, allowed: frozenset[str] | None = None) -> dict[str, str]:
    table = _get(data, path, dict, file)
    for k, v in table.items():
        if not isinstance(v, str) or (allowed is not None and v not in allowed):
            raise RuleError(f"{file}: [{path}] {k!r} = {v!r} is not one of {sorted(allowed or [])}")
    return dict(table)


def _int_map(data: dict, path: str, file: str) -> dict[str, int]:
    table = _get(data, path, dict, file)
    for k, v in table.items():
        if not isinstance(v, int) or len(k) != 1:
            raise RuleError(f"{file}: [{path}] {k!r} must be one character mapped to an integer")
    return dict(table)


def _read_csv(path: Path, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RuleError(f"{path.name}: missing rule file") from exc
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames != columns:
        raise RuleError(f"{path.name}:1: header must be {','.join(columns)}, got {reader.fieldnames}")
    rows = []
    for row in reader:
        line = reader.line_num
        if any(row.get(c) in (None, "") for c in columns[:2]) or None in row:
            raise RuleError(f"{path.name}:{line}: expected {len(columns)} non-empty fields")
        rows.append((line, {k: v.strip() for k, v in row.items()}))
    return rows


def _metric_catalog(rules_dir: Path) -> dict[str, MetricInfo]:
    """metric_taxonomy.csv: the 46 keys the warehouse speaks (tools/derive_catalogues.py writes it)."""
    out: dict[str, MetricInfo] = {}
    cols = ["key", "unit", "nature", "name_zh", "name_en"]
    for line, row in _read_csv(rules_dir / "metric_taxonomy.csv", cols):
        if row["unit"] not in UNITS or row["nature"] not in NATURES or not row["name_zh"]:
            raise RuleError(f"metric_taxonomy.csv:{line}: bad unit {row['unit']!r}, nature {row['nature']!r} "
                            f"or empty name_zh")
        if row["key"] in out:
            raise RuleError(f"metric_taxonomy.csv:{line}: key {row['key']!r} listed twice")
        out[row["key"]] = MetricInfo(row["key"], row["unit"], row["nature"], row["name_zh"], row["name_en"])
    return out


def _institutions(rules_dir: Path) -> dict[str, Institution]:
    """institutions.csv: the bank registry (codes, Chinese full and short names, kind)."""
    out: dict[str, Institution] = {}
    for line, row in _read_csv(rules_dir / "institutions.csv", ["code", "name_zh", "short_name_zh", "kind"]):
        if row["kind"] not in INSTITUTION_KINDS or not row["short_name_zh"]:
            raise RuleError(f"institutions.csv:{line}: bad kind {row['kind']!r} or empty short_name_zh")
        if row["code"] in out:
            raise RuleError(f"institutions.csv:{line}: code {row['code']!r} listed twice")
        out[row["code"]] = Institution(row["code"], row["name_zh"], row["short_name_zh"], row["kind"])
    return out


def _metric_words(rules_dir: Path, catalog: dict) -> MetricWords:
    f = "metric_words.toml"
    data = _read_toml(rules_dir / f)
    variants = _str_map(data, "variants", f)
    for k, v in variants.items():
        if len(k) != 1 or len(v) != 1:
            raise RuleError(f"{f}: [variants] {k!r} -> {v!r} must map one character to one character")
    abbreviations = _str_map(data, "abbreviations", f)
    for k, v in abbreviations.items():
        if not k or not v:
            raise RuleError(f"{f}: [abbreviations] {k!r} -> {v!r} must not be empty")
    boundary = _get(data, "words.boundary_chars", str, f)
    return MetricWords(
        variants=variants,
        abbreviations=abbreviations,
        cut_at=_longest_first(_words(data, "words.cut_at", f)),
        cut_not_before=_longest_first(_words(data, "words.cut_not_before", f)),
        tail=_longest_first(_words(data, "words.tail", f)),
        segments=_longest_first(_words(data, "words.segments", f)),
        bare_heads=frozenset(_words(data, "words.bare_heads", f)),
        coordinators=_longest_first(_words(data, "words.coordinators", f)),
        coordinated_reach=_get(data, "words.coordinated_reach", int, f),
        particles=_get(data, "words.particles", str, f),
        boundary_chars=frozenset(boundary),
        boundary_words=_longest_first(_words(data, "words.boundary_words", f)),
        context_followers=_longest_first(_words(data, "context.followers", f)),
        context_reach=_get(data, "context.reach", int, f),
        concept_ends=_get(data, "context.concept_ends", str, f),
        concept_abbreviations=tuple(_words(data, "context.concept_abbreviations", f)),
        name_after=_longest_first(_words(data, "context.name_after", f)),
        item_marks=_get(data, "context.item_marks", str, f),
        average_keys=_known_keys(_words(data, "words.average_keys", f), catalog, f"{f} [words] average_keys"),
        average_words=_longest_first(_words(data, "words.average_words", f)),
    )


def _attribution(rules_dir: Path, institutions: dict[str, Institution]) -> AttributionRules:
    f = "attribution.toml"
    data = _read_toml(rules_dir / f)
    brands: dict[str, str] = {}
    for code, words in _get(data, "brands", dict, f).items():
        if code not in institutions:
            raise RuleError(f"{f}: [brands] unknown institution code {code!r} (see institutions.csv)")
        for w in _words(data, f"brands.{code}", f):
            if brands.setdefault(w, code) != code:
                raise RuleError(f"{f}: [brands] {w!r} is listed for {brands[w]} and {code}")
    initials: dict[str, str] = {}
    for code, ch in _str_map(data, "initials", f).items():
        if code not in institutions or len(ch) != 1 or ch in initials:
            raise RuleError(f"{f}: [initials] {code} = {ch!r} needs a registry code and one character of its own")
        initials[ch] = code
    ints = {}
    groups: dict[str, tuple[str, ...]] = {}
    for name in _get(data, "groups.members", dict, f):
        codes = _words(data, f"groups.members.{name}", f)
        unknown = [c for c in codes if c not in institutions]
        if unknown:
            raise RuleError(f"{f}: [groups.members] {name!r}: unknown institution code {unknown[0]!r}")
        groups[name] = codes
    for path in ("place_lists.reach", "comparison.reach", "aggregates.list_count_reach", "aggregates.carry_reach", "groups.reach", "main.dominance", "main.share", "main.title_weight", "main.title_max_len",
                 "main.lead_chars"):
        n = _get(data, path, int, f)
        if n < 1:
            raise RuleError(f"{f}: [{path}] must be a whole number >= 1")
        ints[path] = n
    drop_leading = _words(data, "short_forms.drop_leading", f)
    return AttributionRules(
        brands=brands,
        initials=initials,
        other_names=_longest_first(_words(data, "other_institutions.names", f)),
        group_brands=_longest_first(_words(data, "other_institutions.group_brands", f)),
        subsidiary_words=_longest_first(_words(data, "other_institutions.subsidiary_words", f)),
        bank_subsidiary_words=_longest_first(_words(data, "other_institutions.bank_subsidiary_words", f)),
        branch_words=_longest_first(_words(data, "other_institutions.branch_words", f)),
        other_bank_suffixes=_longest_first(_words(data, "other_banks.suffixes", f)),
        other_bank_after=_longest_first(_words(data, "other_banks.after", f)),
        other_bank_not_before=_longest_first(_words(data, "other_banks.not_before", f)),
        other_bank_generic=frozenset(_words(data, "other_banks.generic", f)),
        other_bank_counting=_words(data, "other_banks.counting", f),
        aggregates=_longest_first(_words(data, "aggregates.words", f)),
        aggregate_not_before=_longest_first(_words(data, "aggregates.not_before", f)),
        count_measure_words=frozenset(_words(data, "aggregates.count_measure_words", f)),
        restating_words=_words(data, "aggregates.restating_words", f),
        bank_nouns=_longest_first(_words(data, "aggregates.bank_nouns", f)),
        list_count_reach=ints["aggregates.list_count_reach"],
        carry_reach=ints["aggregates.carry_reach"],
        carry_words=frozenset(_words(data, "aggregates.carry_words", f)),
        comparison_before=_longest_first(_words(data, "comparison.before", f)),
        comparison_after=_longest_first(_words(data, "comparison.after", f)),
        comparison_not_between=_longest_first(_words(data, "comparison.not_between", f)),
        comparison_possessive=_words(data, "comparison.possessive", f),
        comparison_apposition=_pattern(data, "comparison.apposition", f),
        comparison_reach=ints["comparison.reach"],
        list_marks=_longest_first(_words(data, "lists.marks", f)),
        respectively=_longest_first(_words(data, "lists.respectively", f)),
        list_totals=_longest_first(_words(data, "lists.totals", f) + _words(data, "lists.ranges", f)),
        threshold_list=_pattern(data, "lists.threshold_list", f),
        dominance=ints["main.dominance"],
        share=ints["main.share"],
        title_weight=ints["main.title_weight"],
        title_max_len=ints["main.title_max_len"],
        lead_chars=ints["main.lead_chars"],
        group_members=groups,
        group_each_words=_longest_first(_words(data, "groups.each_words", f)),
        group_each_not_after=_str_map(data, "groups.each_not_after", f),
        group_reach=ints["groups.reach"],
        short_endings={k: _words(data, f"short_forms.endings.{k}", f)
                       for k in _get(data, "short_forms.endings", dict, f)},
        short_drop_leading=drop_leading,
        place_lists=_place_lists(data, f, institutions, drop_leading),
        place_list_reach=ints["place_lists.reach"],
    )


def _place_lists(data: dict, f: str, institutions: dict[str, Institution], drop_leading: tuple[str, ...],
                 ) -> dict[str, tuple[tuple[str, ...], dict[str, str]]]:
    """[place_lists]: for each bank kind, its words and the places its registry banks are named
    after (重庆农村商业银行 -> 重庆; 江苏苏州农村商业银行 -> 江苏苏州 and 苏州); a place two banks
    of the kind share is left out."""
    out: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {}
    for kind in _get(data, "place_lists.kinds", dict, f):
        if kind not in INSTITUTION_KINDS:
            raise RuleError(f"{f}: [place_lists.kinds] unknown kind {kind!r} (see institutions.csv)")
        endings = _longest_first(_words(data, f"place_lists.kinds.{kind}.name_endings", f))
        places: dict[str, str | None] = {}
        for inst in institutions.values():
            ending = next((e for e in endings if inst.name_zh.endswith(e)), None) if inst.kind == kind else None
            place = inst.name_zh[:-len(ending)] if ending else ""
            for p in {place, *(place[len(d):] for d in drop_leading if place.startswith(d))}:
                if len(p) >= 2:
                    places[p] = inst.code if places.get(p, inst.code) == inst.code else None
        out[kind] = (_longest_first(_words(data, f"place_lists.kinds.{kind}.words", f)),
                     {p: c for p, c in places.items() if c is not None})
    return out


def _short_forms(aliases: dict[str, str], rules: AttributionRules) -> dict[str, str]:
    """aliases with the short forms of their names (广州农村商业银行 -> 广州农商行): an alias listed
    in entities.csv wins, and a form two banks would share is nobody's."""
    derived: dict[str, set[str]] = {}
    for alias, code in aliases.items():
        for ending, shorts in rules.short_endings.items():
            if not alias.endswith(ending):
                continue
            stem = alias[:-len(ending)]
            stems = [stem] + [stem[len(p):] for p in rules.short_drop_leading
                              if stem.startswith(p) and len(stem) - len(p) >= 2]
            for st in stems:
                for short in shorts:
                    derived.setdefault(st + short, set()).add(code)
    return {**{w: next(iter(codes)) for w, codes in derived.items() if len(codes) == 1}, **aliases}


def _rel_years(data: dict) -> dict[str, int]:
    table = _get(data, "relative_years", dict, "periods.toml")
    for k, v in table.items():
        if not isinstance(v, int) or not 0 <= v <= 10:
            raise RuleError(f"periods.toml: [relative_years] {k!r} must be a small whole number of years back")
    return dict(table)


def _regexes(data: dict, path: str, file: str, group: str | None = None) -> tuple[str, ...]:
    """A list of patterns, each compiled once to check it (and that it has `group`, if given)."""
    out = _words(data, path, file)
    for i, pattern in enumerate(out):
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            raise RuleError(f"{file}: [{path}] item {i}: bad pattern: {exc}") from exc
        if group is not None and group not in rx.groupindex:
            raise RuleError(f"{file}: [{path}] item {i}: needs a (?P<{group}>...) group")
    return out


def _fixed_changes(data: dict, path: str = "fixed_changes") -> dict[str, str]:
    table = _str_map(data, path, "units.toml")
    for k, v in table.items():
        try:
            Decimal(v)
        except InvalidOperation as exc:
            raise RuleError(f"units.toml: [{path}] {k!r} = {v!r} must be a decimal number") from exc
    return table


def _subunits(data: dict) -> dict[str, tuple[Decimal, str]]:
    table = _get(data, "currency_subunits", dict, "units.toml")
    out = {}
    for k, v in table.items():
        where = f"units.toml: [currency_subunits] {k!r}"
        if not isinstance(v, dict) or set(v) != {"factor", "currency"}:
            raise RuleError(f"{where} must be {{ factor = \"0.01\", currency = \"\" }}")
        code = v["currency"]
        if not isinstance(code, str) or code and code not in UNITS:
            raise RuleError(f"{where}: currency {code!r} is not \"\" or one of {sorted(UNITS)}")
        try:
            factor = Decimal(v["factor"])
        except (InvalidOperation, TypeError) as exc:
            raise RuleError(f"{where}: factor {v['factor']!r} must be a decimal number") from exc
        if not 0 < factor < 1:
            raise RuleError(f"{where}: factor {v['factor']!r} must be between 0 and 1")
        out[k] = (factor, code)
    return out


def _both(cues: dict, where: str) -> tuple[str, ...]:
    """cues.toml's negative_<where> and positive_<where> direction words together."""
    return (*_words(cues, f"direction.negative_{where}", "cues.toml"),
            *_words(cues, f"direction.positive_{where}", "cues.toml"))


def _examples_pattern(data: dict, path: str, file: str, groups: tuple[str, ...] = ("cur",),
                      anywhere: bool = False) -> str:
    """A regex under [path].pattern, with the named `groups`, whose [path].examples all match (at
    their start, or `anywhere` in them)."""
    pattern = _pattern(data, f"{path}.pattern", file)
    for group in groups:
        if group not in re.compile(pattern).groupindex:
            raise RuleError(f"{file}: [{path}] pattern needs a (?P<{group}>...) group")
    for example in _words(data, f"{path}.examples", file):
        if not (re.search if anywhere else re.match)(pattern, example):
            raise RuleError(f"{file}: [{path}] example {example!r} does not match the pattern")
    return pattern


def _pattern(data: dict, path: str, file: str) -> str:
    pattern = _get(data, path, str, file)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"{file}: [{path}] bad pattern: {exc}") from exc
    return pattern


def _period_rules(data: dict, file: str) -> tuple[PeriodRule, ...]:
    fragments = _str_map(data, "fragments", file)
    rules = _get(data, "rules", dict, file)
    out = []
    for name, rule in rules.items():
        where = f"{file}: [rules.{name}]"
        if not isinstance(rule, dict):
            raise RuleError(f"{where} must be a table")
        pattern, typ, resolve = rule.get("pattern"), rule.get("type"), rule.get("resolve")
        if not isinstance(pattern, str) or typ not in PERIOD_TYPES or resolve not in PERIOD_RESOLVERS:
            raise RuleError(f"{where} needs pattern, type in {sorted(PERIOD_TYPES)}, "
                            f"resolve in {sorted(PERIOD_RESOLVERS)}")
        try:
            expanded = re.sub(r"\{([A-Z]+)\}", lambda m: fragments[m.group(1)], pattern)
        except KeyError as exc:
            raise RuleError(f"{where}: unknown fragment {exc}") from exc
        try:
            rx = re.compile(expanded)
        except re.error as exc:
            raise RuleError(f"{where}: bad pattern: {exc}") from exc
        for example in rule.get("examples", []):
            if not rx.fullmatch(example):  # the comment-examples are tests, not decoration
                raise RuleError(f"{where}: example {example!r} does not match the pattern")
        out.append(PeriodRule(name, expanded, typ, resolve, tuple(rule.get("examples", []))))
    return tuple(out)


def load_lexicon_from(rules_dir: Path) -> Lexicon:
    """Load and validate every rule file in `rules_dir`; raises RuleError naming file and key/line."""
    num = _read_toml(rules_dir / "numerals.toml")
    units = _read_toml(rules_dir / "units.toml")
    qual = _read_toml(rules_dir / "qualifiers.toml")
    cues = _read_toml(rules_dir / "cues.toml")
    per = _read_toml(rules_dir / "periods.toml")
    subj = _read_toml(rules_dir / "subject.toml")
    cur = _read_toml(rules_dir / "currency.toml")

    fullwidth = _str_map(num, "fullwidth", "numerals.toml")
    for k, v in fullwidth.items():
        if len(k) != 1 or len(v) != 1:  # offsets must stay one to one
            raise RuleError(f"numerals.toml: [fullwidth] {k!r} -> {v!r} must map one char to one char")

    catalog = _metric_catalog(rules_dir)
    _unit_codes(units)  # validated at start-up with the rest (the file already read above)
    metrics = []
    for line, row in _read_csv(rules_dir / "metrics.csv", ["key", "synonym"]):
        info = catalog.get(row["key"])
        if info is None or not row["synonym"]:
            raise RuleError(f"metrics.csv:{line}: unknown metric key {row['key']!r} (see metric_taxonomy.csv)"
                            if info is None else f"metrics.csv:{line}: empty synonym")
        metrics.append(MetricRule(info.key, info.unit, info.nature, row["synonym"], line))
    seen: dict[str, str] = {}
    for m in metrics:
        if seen.setdefault(m.synonym, m.key) != m.key:
            raise RuleError(f"metrics.csv:{m.line}: synonym {m.synonym!r} belongs to {seen[m.synonym]} and {m.key}")
    unnamed = set(catalog) - {m.key for m in metrics}
    if unnamed:
        raise RuleError(f"metrics.csv: no synonym for {sorted(unnamed)} (every taxonomy key needs one)")

    institutions = _institutions(rules_dir)
    aliases: dict[str, str] = {}
    for line, row in _read_csv(rules_dir / "entities.csv", ["code", "alias"]):
        if row["code"] not in institutions:
            raise RuleError(f"entities.csv:{line}: unknown institution code {row['code']!r} (see institutions.csv)")
        if aliases.setdefault(row["alias"], row["code"]) != row["code"]:
            raise RuleError(f"entities.csv:{line}: alias {row['alias']!r} maps to two codes")
        aliases[row["alias"]] = row["code"]
    missing = set(institutions) - set(aliases.values())
    if missing:
        raise RuleError(f"entities.csv: no alias for {sorted(missing)}")
    attribution = _attribution(rules_dir, institutions)
    sites: dict[str, str] = {}
    for line, row in _read_csv(rules_dir / "bank_sites.csv", ["host", "code"]):
        if row["code"] not in institutions:
            raise RuleError(f"bank_sites.csv:{line}: unknown institution code {row['code']!r} (see institutions.csv)")
        if sites.setdefault(row["host"].lower(), row["code"]) != row["code"]:
            raise RuleError(f"bank_sites.csv:{line}: host {row['host']!r} maps to two codes")
    stock_codes: dict[str, str] = {}
    for line, row in _read_csv(rules_dir / "stock_codes.csv", ["code", "institution"]):
        if row["institution"] not in institutions:
            raise RuleError(f"stock_codes.csv:{line}: unknown institution code {row['institution']!r} (see institutions.csv)")
        if not (row["code"].isdigit() and len(row["code"]) in (5, 6)):
            raise RuleError(f"stock_codes.csv:{line}: a code is 6 digits (Shanghai, Shenzhen) or 5 (Hong Kong), not {row['code']!r}")
        if stock_codes.setdefault(row["code"], row["institution"]) != row["institution"]:
            raise RuleError(f"stock_codes.csv:{line}: code {row['code']!r} maps to two institutions")
    exclusions = tuple(r["phrase"] for _, r in _read_csv(rules_dir / "entity_exclusions.csv", ["phrase", "why"]))
    idioms = tuple(r["phrase"] for _, r in _read_csv(rules_dir / "idioms.csv", ["phrase", "why"]))
    non_bank = tuple(r["phrase"] for _, r in _read_csv(rules_dir / "non_bank.csv", ["phrase", "why"]))
    self_ref = tuple(r["phrase"] for _, r in _read_csv(rules_dir / "self_reference.csv", ["phrase", "why"]))

    basis = _str_map(cues, "basis", "cues.toml", BASIS_STARTS)
    implied = _get(subj, "implied_unit", dict, "subject.toml")
    max_len = _get(subj, "max_len", int, "subject.toml")

    return Lexicon(
        digits=_int_map(num, "digits", "numerals.toml"),
        small_scales=_int_map(num, "small_scales", "numerals.toml"),
        big_scales=_int_map(num, "big_scales", "numerals.toml"),
        fullwidth=fullwidth,
        decimal_points=_words(num, "decimal_points", "numerals.toml"),
        scale_words=_longest_first(_words(units, "scale_words", "units.toml")),
        over_infix=_words(units, "over_infix", "units.toml"),
        currencies=_str_map(units, "currencies", "units.toml", UNITS),
        currency_prefixes=_str_map(units, "currency_prefixes", "units.toml", UNITS),
        percent=_words(units, "ratios.percent", "units.toml"),
        percent_prefix=_words(units, "ratios.percent_prefix", "units.toml"),
        pp=_longest_first(_words(units, "ratios.pp", "units.toml")),
        bp=_longest_first(_words(units, "ratios.bp", "units.toml")),
        times=_words(units, "ratios.times", "units.toml"),
        tenths=_words(units, "ratios.tenths", "units.toml"),
        tenths_not_before=frozenset(_words(units, "ratios.tenths_not_before", "units.toml")),
        tenths_half=frozenset(_words(units, "ratios.tenths_half", "units.toml")),
        count_words=_longest_first(_words(units, "measure_words.count", "units.toml")),
        not_after=_longest_first(_words(units, "filters.not_after", "units.toml")),
        ratio_per=_longest_first(_words(units, "ratio_in_words.per", "units.toml")),
        ratio_then=_longest_first(_words(units, "ratio_in_words.then", "units.toml")),
        unit_not_before={k: frozenset(_words(units, f"unit_not_before.{k}", "units.toml"))
                         for k in _get(units, "unit_not_before", dict, "units.toml")},
        min_bare_chinese=_get(units, "filters.min_bare_chinese", int, "units.toml"),
        flow_measure_words=frozenset(_words(units, "measure_words.flow", "units.toml")),
        stock_measure_words=frozenset(_words(units, "measure_words.stock", "units.toml")),
        qualifier_prefix=_str_map(qual, "prefix", "qualifiers.toml", QUALIFIERS),
        qualifier_suffix=_str_map(qual, "suffix", "qualifiers.toml", QUALIFIERS),
        qualifier_infix=_str_map(qual, "infix", "qualifiers.toml", QUALIFIERS),
        positive=_longest_first(_words(cues, "direction.positive", "cues.toml")),
        negative=_longest_first(_words(cues, "direction.negative", "cues.toml")),
        to_level=_words(cues, "direction.to_level", "cues.toml"),
        flat_at=_longest_first(_words(cues, "direction.flat_at", "cues.toml")),
        count_of_those=_longest_first(_words(cues, "direction.count_of_those", "cues.toml")),
        level_after=_longest_first(_words(cues, "direction.level_after", "cues.toml")),
        level_after_change=_words(cues, "direction.level_after_change", "cues.toml"),
        share_after=_words(cues, "direction.share_after", "cues.toml"),
        pair_joiners=_words(cues, "direction.pair_joiners", "cues.toml"),
        from_words=_words(cues, "direction.from_words", "cues.toml"),
        period_ratio_metrics=_known_keys(_words(cues, "direction.period_ratio_metrics", "cues.toml"), catalog,
                                         "cues.toml: [direction] period_ratio_metrics"),
        direction_reach=_get(cues, "direction.reach", int, "cues.toml"),
        not_direction=_longest_first(_words(cues, "direction.not_direction", "cues.toml")),
        basis=basis,
        flow_words=_longest_first(_words(cues, "kind.flow_words", "cues.toml")),
        cumulative_words=_words(cues, "kind.cumulative_words", "cues.toml"),
        stock_words=_longest_first(_words(cues, "kind.stock_words", "cues.toml")),
        flow_over_stock=_words(cues, "kind.flow_over_stock", "cues.toml") + _words(cues, "kind.flow_heads", "cues.toml"),
        flow_verbs=_words(cues, "kind.flow_over_stock", "cues.toml"),
        stock_names=_longest_first(_words(cues, "kind.stock_names", "cues.toml")),
        change_heads=_longest_first(_words(cues, "kind.change_heads", "cues.toml")),
        growth_nouns=_longest_first(_words(cues, "kind.growth_nouns", "cues.toml")),
        copulas=_words(cues, "kind.copulas", "cues.toml"),
        period_rules=_period_rules(per, "periods.toml"),
        series_list_marks=_words(per, "series.list_marks", "periods.toml"),
        series_range_marks=_words(per, "series.range_marks", "periods.toml"),
        series_gap_ignore="".join(_words(per, "series.gap_ignore", "periods.toml")),
        series_list_ends="".join(_words(per, "series.list_ends", "periods.toml")),
        basis_prefixes=_longest_first(_words(per, "basis_prefixes", "periods.toml")),
        basis_joiners=frozenset(_words(per, "basis_joiners", "periods.toml")),
        basis_tails=_longest_first(_words(per, "basis_tails", "periods.toml")),
        cause_openers=_longest_first(_words(per, "cause_openers", "periods.toml")),
        cause_closers=tuple(_words(per, "cause_closers", "periods.toml")),
        asat_prefixes=_longest_first(_words(per, "asat_prefixes", "periods.toml")),
        dated_basis_prefixes=_longest_first(_words(per, "dated_basis_prefixes", "periods.toml")),
        asof_prefixes=_longest_first(_words(per, "asof_prefixes", "periods.toml")),
        relative_years=_rel_years(per),
        continuation_openers=_longest_first(_words(per, "continuation_openers", "periods.toml")),
        item_marks=_pattern(per, "item_marks", "periods.toml"),
        item_mark_after=frozenset(_get(per, "item_mark_after", list, "periods.toml")),
        lead_lines=_get(per, "lead_lines", int, "periods.toml"),
        frame_cues=_longest_first(_words(per, "frame.results_cues", "periods.toml")),
        month_frame_cues=_longest_first(_words(per, "frame.month_cues", "periods.toml")),
        source_after=_longest_first(_words(per, "frame.source_after", "periods.toml")),
        source_before=_longest_first(_words(per, "frame.source_before", "periods.toml")),
        source_then=_longest_first(_words(per, "frame.source_then", "periods.toml")),
        disclosure_verbs=_longest_first(_words(per, "frame.disclosure_verbs", "periods.toml")),
        disclosure_reports=_longest_first(_words(per, "frame.source_after", "periods.toml")
                                          + _words(per, "frame.disclosure_reports", "periods.toml")),
        disclosure_reach=_get(per, "frame.disclosure_reach", int, "periods.toml"),
        annual_report_due=_month_day(_get(per, "frame.annual_report_due", str, "periods.toml"), "periods.toml"),
        future_words=_words(per, "frame.future_words", "periods.toml"),
        future_reach=_get(per, "frame.future_reach", int, "periods.toml"),
        future_after=_words(per, "frame.future_after", "periods.toml"),
        comparison_openers=_longest_first(_words(per, "comparison.openers", "periods.toml")),
        comparison_closers=_longest_first(_words(per, "comparison.closers", "periods.toml")),
        comparison_reach=_get(per, "comparison.reach", int, "periods.toml"),
        idioms=_longest_first(idioms),
        metrics=tuple(metrics),
        metric_catalog=catalog,
        metric_words=_metric_words(rules_dir, catalog),
        institutions=institutions,
        entity_aliases=_short_forms(aliases, attribution),
        bank_sites=sites,
        stock_codes=stock_codes,
        entity_exclusions=_longest_first(exclusions),
        attribution=attribution,
        non_bank=_longest_first(non_bank),
        self_reference=_longest_first(self_ref),
        lead_words=_longest_first(_words(subj, "lead_words", "subject.toml")),
        speech_verbs=_longest_first(_words(subj, "speech_verbs", "subject.toml")),
        scope_open=_words(subj, "scope_open", "subject.toml"),
        scope_close=frozenset(_words(subj, "scope_close", "subject.toml")),
        scope_reach=_get(subj, "scope_reach", int, "subject.toml"),
        segment_marks=_pattern(subj, "segment_marks", "subject.toml"),
        generic_heads=_longest_first(_words(subj, "generic_heads", "subject.toml")),
        trail_words=_longest_first(_words(subj, "trail_words", "subject.toml")),
        stop_after=_longest_first(_words(subj, "stop_after", "subject.toml")),
        cut_at=_longest_first(_words(subj, "cut_at", "subject.toml")),
        enumeration=_longest_first(_words(subj, "enumeration", "subject.toml")),
        topic_frames=_regexes(subj, "topic_frames", "subject.toml", "topic"),
        topic_attributes=_longest_first(_words(subj, "topic_attributes", "subject.toml")),
        empty_subjects=frozenset(_get(subj, "empty_subjects", list, "subject.toml")),
        chrome_subjects=frozenset(_words(subj, "chrome_subjects", "subject.toml")),
        chrome_measure_words=frozenset(_words(subj, "chrome_measure_words", "subject.toml")),
        subject_max_len=max_len,
        subject_min_len=_get(subj, "min_len", int, "subject.toml"),
        of_marks=_longest_first(_words(subj, "of_marks", "subject.toml")),
        money_cues=_words(implied, "money", "subject.toml"),
        count_cues=_words(implied, "count", "subject.toml"),
        fixed_changes=_fixed_changes(units),
        qualifier_particles=_words(qual, "particles.words", "qualifiers.toml"),
        continuation_words=_words(per, "continuation_words", "periods.toml"),
        continuation_not_after="".join(_words(per, "continuation_not_after", "periods.toml")),
        prior_same_period=_longest_first(_words(per, "prior_same_period", "periods.toml")),
        menu_bullets=_words(units, "filters.menu_bullets", "units.toml"),
        menu_min_lines=_get(units, "filters.menu_min_lines", int, "units.toml"),
        menu_max_len=_get(units, "filters.menu_max_len", int, "units.toml"),
        table_units=_str_map(units, "tables.header_units", "units.toml"),
        table_max_rows=_get(units, "tables.max_rows", int, "units.toml"),
        minus_words="".join(_words(units, "signs.minus_words", "units.toml")),
        bare_lower_marks=_longest_first(_words(units, "ranges.bare_lower_marks", "units.toml")),
        shared_unit_heads=_longest_first(_words(units, "ranges.shared_unit_heads", "units.toml")),
        shared_list_openers=_longest_first(_words(units, "ranges.shared_list_openers", "units.toml")),
        shared_list_classes=frozenset(_words(units, "ranges.shared_list_classes", "units.toml")),
        list_marks=_longest_first(_words(units, "ranges.list_marks", "units.toml")),
        small_count_words=frozenset(_words(units, "filters.small_count_words", "units.toml")),
        share_words=_fixed_changes(units, "share_words.percent"),
        share_qualifiers=_str_map(units, "share_words.qualifier", "units.toml", QUALIFIERS),
        share_not_before=tuple(_words(units, "share_words.not_before.words", "units.toml")),
        share_not_after=tuple(_words(units, "share_words.not_after.words", "units.toml")),
        heading_marker=_pattern(subj, "heading_marker", "subject.toml"),
        heading_max_len=_get(subj, "heading_max_len", int, "subject.toml"),
        metric_modifiers=_longest_first(_words(subj, "metric_modifiers", "subject.toml")),
        range_marks=_longest_first(_words(subj, "range_marks", "subject.toml")),
        reach_verbs=_longest_first(_words(subj, "reach_verbs", "subject.toml")),
        phrasing={k: _longest_first(_words(subj, f"phrasing.{k}", "subject.toml"))
                  for k in _get(subj, "phrasing", dict, "subject.toml")},
        over_infix_not_before=frozenset(_words(units, "over_infix_not_before", "units.toml")),
        currency_symbols=_str_map(units, "currency_symbols", "units.toml", UNITS),
        currency_subunits=_subunits(units),
        subunit_cues=_longest_first(_words(units, "subunit_context.cues", "units.toml")),
        subunit_reach=_get(units, "subunit_context.reach", int, "units.toml"),
        tenths_digit_not_before=frozenset(_words(units, "ratios.tenths_digit_not_before", "units.toml")),
        fraction_marks=_longest_first(_words(units, "fractions.marks", "units.toml")),
        slash_max_denominator=_get(units, "fractions.slash_max_denominator", int, "units.toml"),
        slash_not_before=_longest_first(_words(units, "fractions.slash_not_before", "units.toml")),
        unit_space_after=_words(units, "spacing.unit_space_after", "units.toml"),
        negative_adjacent=_longest_first(_words(cues, "direction.negative_adjacent", "cues.toml")),
        positive_adjacent=_longest_first(_words(cues, "direction.positive_adjacent", "cues.toml")),
        not_adjacent=_longest_first(_words(cues, "direction.not_adjacent", "cues.toml")),
        negative_after=_longest_first(_words(cues, "direction.negative_after", "cues.toml")),
        positive_after=_longest_first(_words(cues, "direction.positive_after", "cues.toml")),
        better=_longest_first(_words(cues, "direction.better", "cues.toml")),
        worse=_longest_first(_words(cues, "direction.worse", "cues.toml")),
        lower_is_better=_longest_first(_words(cues, "direction.lower_is_better", "cues.toml")),
        bare_currency_units=frozenset(_words(cur, "bare_units", "currency.toml")),
        local_currency_words=_str_map(cur, "local_words", "currency.toml", UNITS),
        local_place_words=_str_map(cur, "place_words", "currency.toml", UNITS),
        local_place_not_after=_str_map(cur, "place_not_after", "currency.toml"),
        local_banks=_str_map(cur, "local_banks", "currency.toml", UNITS),
        local_bank_min_names=_get(cur, "local_bank_min_names", int, "currency.toml"),
        currency_domains=_str_map(cur, "domains", "currency.toml", UNITS),
        currency_sources=_str_map(cur, "sources", "currency.toml", UNITS),
        currency_statement=_examples_pattern(cur, "statement", "currency.toml"),
        url_date=_examples_pattern(per, "url_date", "periods.toml", ("y", "m", "d"), anywhere=True),
        currency_same_marker=_get(cur, "statement.same_marker", str, "currency.toml"),
        clause_currency_words=_str_map(cur, "clause_words", "currency.toml", UNITS),
        currency_prefix_words=_longest_first(_str_map(units, "currency_prefixes", "units.toml", UNITS)),
        adjacent_ords=tuple(sorted({ord(w[-1]) for w in _both(cues, "adjacent")})),
        after_ords=tuple(sorted({ord(w[0]) for w in _both(cues, "after")})),
        qualifier_suffix_words=_longest_first(_str_map(qual, "suffix", "qualifiers.toml", QUALIFIERS)),
        tables=_table_words(rules_dir),
    )


# What the rule files cannot say: bump this when a code change alters what is extracted from the
# same text (tests/test_normalise.py's output-equivalence digest fails on such a change), so the
# next run re-extracts every document with the new code.
EXTRACTOR_VERSION = "2026-12-07zzz3 issue 13, session 27: 放款總額 is a balance, 核准 and 補助 are flows; a notice writing a table a row to a line under its 单位 line (营业收入:2025年7-9月为6,387,313,…); 2025年7-9月 is a span of months; 增减 gives no sign; a year before 上市 is a year (mend): 手續費及佣金收支淨額; a span of quarters deals a respective list a quarter each; a bank's village banks are no registry bank; the Hong Kong, Macau or Taiwan bank a page is about sets its currency before the outlet does; 以及 joins two items of a list; 依次 closes no subject; a last item naming no metric holds its place in a 分别 list; a clause opening with the group after its banks are named speaks of the group; changes after 分别 follow the measures figured before them; Taiwan names 合併淨收益, 消金放款, 企金放款, 逾放金額; 持稳 and 跳 close no subject; convertible bonds name their bank (南银转债); periods joined as a list (2023年和2024Q1) date the figures of each list in turn; 2024Q1 is a quarter; a figure a space after a Latin abbreviation (EPS 0.99元) is kept, and EPS names a concept of its own; 平均 and 人均 say nothing of each bank of a group; a page naming registry banks and no Hong Kong, Macau or Taiwan bank quotes yuan on any outlet; Taiwan banks short forms (台中银, 彰银) name their currency; an undated page framed by a year but stating a later period speaks of that period; a headline on last year (去年获利创高) puts the page in the year after its frame; a table of one cell a line under its 单位 line (years over quarters, headings between rows; the group its title names shows in the subject); a verb is no modifier a sibling subject inherits (发放贷款 -> 贷款余额); 期内 and 年内 stand before a bare metric head; session 26: a span of years then one figure a year (2024 - 2026年…预测为10.7%、12.0%、12.2%) dates them in turn; a span of years (2020至2023年) deals a 分别 list out a year each; a Taiwan holding named with its figure (臺新金129.1億元) measures the sentence's measure; 信用及其他资产减值损失, 中间业务净收入; 更 closes no subject; Taiwan holdings and Hong Kong subsidiaries named without 银行 are institutions of their own (富邦香港, 工银亚洲, 第一金); 当中 opens no subject, 一再 closes none; a year of the 2000s in two digits (○九年, 09年); a typed table under a rule (2025年上半年度 2024年度 -----) and ratio rows in percent; Hong Kong and Taiwan banks' bare yuan; 业务 inserted in a metric name; a broker's markdown table run into one line (forecast years 2024E, (+/-)% growth rows, balances and multiples at the year end, a unit in any item of the bracket); a threshold then the banks past it (破百亿元的有6家,分别为…); the item a respectively list shows names its own metric; numbered items and bullets run on in one line keep their own dates; the report a results cue names frames the page and 截至报告期末 is its end; a bullet mark ends a comparison word's reach and an apposition (作为…的) is passed over; a heading's cue before a bullet makes no change; an amount right after a rate is no change; Taiwan filing words; 一成半; net loans; subject trail words, scopes, speech verbs, ranking frames trimmed as subjects, bare amounts after a change, spaces inside Chinese phrases"


@cache
def rules_fingerprint() -> str:
    """What a document's extraction depends on besides its bytes: the rule files and the code.

    Stored with every document; a run re-extracts documents whose fingerprint differs, so an
    analyst's edit to a rule file reaches the articles already loaded, not only new ones.
    """
    h = hashlib.sha256(EXTRACTOR_VERSION.encode())
    for path in sorted(RULES_DIR.iterdir()):
        if path.is_file() and path.suffix in (".toml", ".csv"):
            h.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


@cache
def load_lexicon() -> Lexicon:
    """The process-wide lexicon from ``flows/rules/`` (loaded and validated once)."""
    return load_lexicon_from(RULES_DIR)


def canonical_entity(name: str | None) -> str | None:
    """Institution code for a code or alias (工行, ICBC, 中國工商銀行 -> 'ICBC'); None if unknown."""
    if not name:
        return None
    name = name.strip()
    lex = load_lexicon()
    if name.upper() in lex.institutions:
        return name.upper()
    aliases = lex.entity_aliases
    if name in aliases:
        return aliases[name]
    from flows.script import to_simplified  # local import: script pulls in OpenCC
    return aliases.get(to_simplified(name))


_ANY = ""  # in a prefix: a character the analysis does not enumerate (\d, ., a back-reference)
_PREFIX_CAP = 5000  # more prefixes than this make a gate too slow to be worth it


def _parsed(pattern: str, refuse: int = re.IGNORECASE):
    """`pattern` as the regex parser reads it; None when it does not parse or sets a flag of `refuse`
    (what the character analyses below cannot follow)."""
    from re import _parser as sre_parse  # type: ignore[attr-defined]  # (typeshed lacks it)

    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    return None if parsed.state.flags & refuse else parsed


def _item_chars(name: str, av) -> set[str] | None:
    """The characters one parsed regex item (a LITERAL or an IN class) matches, when they are a
    small listed set; None for anything else (NEGATE, CATEGORY such as \\d, a wide range)."""
    if name == "LITERAL":
        return {chr(av)}
    if name != "IN":
        return None
    out: set[str] = set()
    for iop, iav in av:
        iname = str(iop)
        if iname == "LITERAL":
            out.add(chr(iav))
        elif iname == "RANGE" and iav[1] - iav[0] <= 200:
            out.update(chr(c) for c in range(iav[0], iav[1] + 1))
        else:
            return None
    return out


def _prefixes(pattern: str, k: int) -> set[tuple[str, ...]] | None:
    """The first `k` characters of every match of `pattern`, as tuples of characters.

    A tuple shorter than `k` is a whole match; `_ANY` stands for any character, and nothing is
    known after it. The set may be larger than what can really match (lookarounds are ignored),
    never smaller, so a gate built from it rejects only positions where no match can start.
    None when the pattern does not parse, ignores case, or has more than `_PREFIX_CAP` prefixes.
    """
    parsed = _parsed(pattern)
    if parsed is None:
        return None
    memo: dict[tuple[int, int, int], set[tuple[str, ...]]] = {}

    def extend(heads: set[tuple[str, ...]], tails) -> set[tuple[str, ...]]:
        out: set[tuple[str, ...]] = set()
        for h in heads:
            if len(h) >= k or (h and h[-1] == _ANY):
                out.add(h)
                continue
            for t in tails(k - len(h)):
                out.add((h + t)[:k])
            if len(out) > _PREFIX_CAP:
                raise OverflowError
        return out

    def seq(items, i: int, n: int) -> set[tuple[str, ...]]:
        """Prefixes (up to `n` characters) of what items[i:] match."""
        if i == len(items) or n == 0:
            return {()}
        key = (id(items), i, n)
        if key not in memo:
            memo[key] = extend(one(items[i], n), lambda r: seq(items, i + 1, r))
        return memo[key]

    def one(item, n: int) -> set[tuple[str, ...]]:
        op, av = item
        name = str(op)
        if name in ("LITERAL", "IN"):
            chars = _item_chars(name, av)
            return {(_ANY,)} if chars is None else {(c,) for c in chars}
        if name == "SUBPATTERN":
            if av[1] & re.IGNORECASE:
                return {(_ANY,)}
            return seq(av[-1], 0, n)
        if name == "BRANCH":
            out: set[tuple[str, ...]] = set()
            for branch in av[1]:
                out |= seq(branch, 0, n)
            return out
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = av
            reps: set[tuple[str, ...]] = {()}
            out = {()} if lo == 0 else set()
            j = 0
            while j < hi and j <= lo + n:  # past lo + n repetitions nothing new fits in n
                j += 1
                reps = extend(reps, lambda r: seq(body, 0, r))
                if j >= lo:
                    out |= reps
            return out
        if name in ("ASSERT", "ASSERT_NOT", "AT"):
            return {()}  # zero-width: the next item decides
        return {(_ANY,)}  # ANY, CATEGORY, GROUPREF ...

    try:
        return seq(parsed, 0, k)
    except OverflowError:
        return None


def first_chars(pattern: str) -> frozenset[str] | None:
    """Characters a match of `pattern` can start with, or None when that is not a small set.

    Used to put a one-character lookahead in front of long alternations (period phrases), so
    the regex engine skips most positions after one test instead of trying every branch: the
    "digit first" advice for patterns that cannot start with a digit.
    """
    pre = _prefixes(pattern, 1)
    if pre is None or () in pre or any(p[0] == _ANY for p in pre):
        return None
    return frozenset(p[0] for p in pre)


def first_pairs(pattern: str) -> dict[str, frozenset[str] | None] | None:
    """For each character a match of `pattern` can start with, the characters that can follow
    it (None: any, or the match can end there); None when `first_chars` is None.

    上 starts 上半年 but also 上升 and 以上: a two-character gate tells them apart before any
    branch of the period alternation is tried.
    """
    pre = _prefixes(pattern, 2)
    if pre is None or () in pre or any(p[0] == _ANY for p in pre):
        return None
    seconds: dict[str, set[str] | None] = {}
    for p in pre:
        known = seconds.setdefault(p[0], set())
        if len(p) < 2 or p[1] == _ANY:
            seconds[p[0]] = None
        elif known is not None:
            known.add(p[1])
    return {c: None if s is None else frozenset(s) for c, s in seconds.items()}


def alternation(words, ascii_guard: bool = False) -> str:
    """A regex alternation of `words` in which the longest word at a position wins.

    The words are grouped under their first character (a one-level trie): the regex engine
    skips a branch that starts with a literal after one comparison, so ``户(?:数|)|客(?:户数|户)``
    is tried in a few steps where a flat list of a hundred words costs a hundred. Within a group
    the words keep their longest-first order and two groups can never match at the same
    position, so what matches, and the order backtracking tries the words in, is that of the
    flat longest-first list.

    Every branch starts with a literal character, so a pattern that starts with the alternation
    lets the engine build a set of first characters and skip ahead with a tight C loop to the
    next position worth trying (measured two to three times faster than a lookahead gate, which
    the engine must enter at every position).

    `ascii_guard` keeps ASCII words from matching inside longer ASCII words (ICBC but not
    xICBCx); the guard comes after the first letter, as a lookbehind over it, so the branch
    still starts with a literal.
    """
    ordered = sorted(set(words), key=lambda w: (-len(w), w))
    groups: dict[str, list[str]] = {}
    for w in ordered:
        if w:
            groups.setdefault(w[0], []).append(w)
    out = []
    for c, ws in groups.items():
        if ascii_guard and c.isascii():
            rests = "|".join(re.escape(w[1:]) + ("(?![A-Za-z])" if w.isascii() else "") for w in ws)
            out.append(f"{re.escape(c)}(?<![A-Za-z]{re.escape(c)})(?:{rests})")
        elif len(ws) > 1 or ws[0][1:]:
            out.append(re.escape(c) + "(?:" + "|".join(re.escape(w[1:]) for w in ws) + ")")
        else:
            out.append(re.escape(c))
    if "" in ordered:
        out.append("")  # the empty word, last as in the longest-first order
    return "|".join(out)


def required_chars(pattern: str) -> frozenset[str]:
    """Characters every match of `pattern` contains (月 for 截至6月末); empty when none is sure.

    A text without one of them cannot match, so the period scan leaves such rules out of its
    alternation for that document.
    """
    from re import _parser as sre_parse  # type: ignore[attr-defined]  # (typeshed lacks it)

    def req(items) -> set[str]:
        out: set[str] = set()
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                out.add(chr(av))
            elif name == "SUBPATTERN":
                out |= req(av[-1])
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                if av[0] > 0:
                    out |= req(av[2])
            elif name == "BRANCH":
                sets = [req(b) for b in av[1]]
                if sets:
                    out |= set.intersection(*sets)
            # IN, ANY, assertions, group references ...: nothing certain
        return out

    try:
        return frozenset(req(list(sre_parse.parse(pattern))))
    except re.error:
        return frozenset()


@cache
def unit_codes(rules_dir: Path = RULES_DIR) -> dict[str, tuple[str, str]]:
    """unit code -> (nature, Chinese name) from units.toml [codes]: every code of UNITS, no other."""
    return _unit_codes(_read_toml(rules_dir / "units.toml"))


def _unit_codes(units: dict) -> dict[str, tuple[str, str]]:
    table = _get(units, "codes", dict, "units.toml")
    if set(table) != UNITS:
        raise RuleError(f"units.toml: [codes] must list exactly {sorted(UNITS)}; "
                        f"missing {sorted(UNITS - set(table))}, unknown {sorted(set(table) - UNITS)}")
    out: dict[str, tuple[str, str]] = {}
    for code, row in table.items():
        nature, name = (row.get("nature"), row.get("name_zh")) if isinstance(row, dict) else (None, None)
        if nature not in UNIT_NATURES or not isinstance(name, str) or not name:
            raise RuleError(f"units.toml: [codes] {code} needs nature (one of {sorted(UNIT_NATURES)}) and name_zh")
        out[code] = (nature, name)
    return out


def one_of_chars(pattern: str) -> frozenset[str] | None:
    """Characters of which every match of `pattern` contains at least one (] or - or ) for the
    segment marks); None when the analysis finds no such set (a branch of \\s or \\d only).

    A text span without any of them cannot match: one character-class search rejects it
    before the whole alternation is tried at each of its positions.
    """

    def chars_of(op_av) -> set[str] | None:
        """The characters a single item matches, when they are a small listed set."""
        op, av = op_av
        return _item_chars(str(op), av)

    def seq(items) -> set[str] | None:
        best: set[str] | None = None  # the smallest set some mandatory item of the sequence gives
        for op, av in items:
            name = str(op)
            found: set[str] | None
            if name == "SUBPATTERN":
                found = seq(av[-1])
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                found = seq(av[2]) if av[0] > 0 else None
            elif name == "BRANCH":
                sets = [seq(b) for b in av[1]]
                found = None if any(x is None for x in sets) else set().union(*sets)  # type: ignore[arg-type]
            else:
                found = chars_of((op, av))
            if found is not None and (best is None or len(found) < len(best)):
                best = found
        return best

    parsed = _parsed(pattern)
    if parsed is None:
        return None
    found = seq(list(parsed))
    return None if not found else frozenset(found)


def bisect_left(a: list[int], x: int) -> int:
    """`bisect.bisect_left` over a sorted list of ints, compiled. The C module's function, called
    from compiled code, boxes the int and compares objects at every step; this compares machine
    ints. A compiled caller binds this module (`import flows.lexicon as bisect`) and calls it
    directly, with no global lookup."""
    lo = 0
    hi = len(a)
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def bisect_right(a: list[int], x: int) -> int:
    """`bisect.bisect_right` over a sorted list of ints, compiled (see bisect_left)."""
    lo = 0
    hi = len(a)
    while lo < hi:
        mid = (lo + hi) >> 1
        if x < a[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


def leading_literals(pattern: str) -> str | None:
    """The characters every match of `pattern` starts with, when the pattern opens with listed
    literals (a literal, a class of literals, an alternation of those); else None. (Stricter
    than `first_chars`: the match can never be empty.)"""

    def of(items: list) -> set[str] | None:
        while items and str(items[0][0]) == "SUBPATTERN":
            items = list(items[0][1][3])  # a group: its first item
        if not items:
            return None
        op, av = items[0]
        name = str(op)
        if name == "LITERAL":
            return {chr(av)}
        if name == "IN":
            if not all(str(o) == "LITERAL" for o, _ in av):
                return None  # a range, a negation, a category
            return {chr(a) for _, a in av}
        if name == "BRANCH":
            out: set[str] = set()
            for alt in av[1]:
                got = of(list(alt))
                if got is None:
                    return None
                out |= got
            return out
        return None

    parsed = _parsed(pattern, re.IGNORECASE | re.MULTILINE | re.VERBOSE)
    if parsed is None:
        return None
    got = of(list(parsed))
    return None if not got else "".join(sorted(got))


def char_positions(m: str, chars: str) -> list[int]:
    """Where any of `chars` stands in `m`, in order: `[x.start() for x in re.finditer("[chars]", m)]`
    by a str.find run per character (a match object per hit, and the engine's test of every
    character, cost more)."""
    out: list[int] = []
    for c in chars:
        i = m.find(c)
        while i >= 0:
            out.append(i)
            i = m.find(c, i + 1)
    out.sort()
    return out


def matches_from(p: re.Pattern, firsts: str, m: str) -> list[re.Match[str]]:
    """`list(p.finditer(m))` for a pattern whose matches all start with one of `firsts`
    (leading_literals): str.find lists the few places worth a try. Where the
    characters are rare this is much cheaper than the engine's scan, which tests every character
    of the text against its set."""
    starts = char_positions(m, firsts)
    out: list[re.Match[str]] = []
    pos = 0
    for i in starts:
        if i < pos:
            continue
        x = p.match(m, i)
        if x is not None:
            out.append(x)
            pos = x.end()
    return out

