"""The rule tables load, validate, and a bad file fails with its name and line or key."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.lexicon import (RULES_DIR, RuleError, alternation, canonical_entity, unit_codes,
                           first_chars, first_pairs, load_lexicon, load_lexicon_from)


def test_loads_once_and_is_complete():
    lex = load_lexicon()
    assert load_lexicon() is lex
    assert set(lex.entity_aliases.values()) == set(lex.institutions)
    assert {m.key for m in lex.metrics} >= {
        "personal_customers", "personal_financial_assets", "mobile_banking_customers", "mobile_banking_mau",
        "private_banking_customers", "personal_deposits", "personal_loans", "consumer_loans", "card_spending",
        "wealth_management", "personal_pension_accounts", "total_assets", "net_profit", "npl_ratio"}
    for r in lex.period_rules:
        re.compile(r.pattern)


@pytest.mark.parametrize("alias,code", [
    ("工行", "ICBC"), ("工商银行", "ICBC"), ("中国工商银行", "ICBC"), ("ICBC", "ICBC"), ("icbc", "ICBC"),
    ("中國工商銀行", "ICBC"), ("建行", "CCB"), ("農行", "ABC"), ("中国银行", "BOC"), ("交行", "BOCOM"),
    ("邮储银行", "PSBC"), ("招行", "CMB"), ("中信银行", "CITIC"), ("兴业银行", "CIB"), ("浦发银行", "SPDB"),
    ("民生银行", "CMBC"), ("光大银行", "CEB"), ("华夏银行", "HXB"), ("平安银行", "PAB"), ("浙商银行", "CZB"),
    ("重慶農商銀行", "CQRCB"), ("国家开发银行", "CDB"), ("進出口銀行", "EXIM"), ("微众银行", "WEBANK"),
    ("不是银行", None), (None, None),
])
def test_canonical_entity(alias, code):
    assert canonical_entity(alias) == code


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "rules"
    shutil.copytree(RULES_DIR, dst)
    return dst


def test_copy_loads(rules_copy):
    assert load_lexicon_from(rules_copy).metrics


def test_bad_csv_row_names_file_and_line(rules_copy):
    p = rules_copy / "metrics.csv"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[2] = "personal_customer,个人客户数"  # a key the taxonomy does not have
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"metrics\.csv:3: unknown metric key"):
        load_lexicon_from(rules_copy)


def test_catalogues_match_the_shared_registry():
    """The rule files are derived from ../shared/eval (tools/derive_catalogues.py): every key and code."""
    import csv
    shared = Path(__file__).resolve().parents[2] / "shared" / "eval"
    if not shared.is_dir():
        pytest.fail(f"{shared} is missing: the catalogues cannot be checked against it")
    lex = load_lexicon()
    with open(shared / "metric_taxonomy.csv", encoding="utf-8") as f:
        taxonomy = {r["key"]: r for r in csv.DictReader(f)}
    assert {k: (m.unit, m.nature, m.name_zh) for k, m in lex.metric_catalog.items()} == {
        k: (r["unit"], r["nature"], r["name_zh"]) for k, r in taxonomy.items()}
    with open(shared / "institutions.csv", encoding="utf-8") as f:
        registry = {r["code"]: r for r in csv.DictReader(f)}
    assert {c: i.name_zh for c, i in lex.institutions.items()} == {c: r["name_zh"] for c, r in registry.items()}
    assert lex.institutions["ICBC"].short_name_zh == "工商银行" and lex.institutions["BOC"].short_name_zh == "中国银行"
    for code, r in registry.items():  # every name the registry has seen resolves to its bank, but the
        # two-character abbreviations, which a person adds by hand (口行 stands inside 出口行业)
        for name in [r["name_zh"], *(n for n in r["names_seen"].split("|") if n and (len(n) > 2 or n.isascii()))]:
            assert canonical_entity(name) == code, name


def test_metric_key_outside_taxonomy_unit_mismatch(rules_copy):
    p = rules_copy / "metric_taxonomy.csv"
    p.write_text(p.read_text(encoding="utf-8").replace("total_assets,CNY,stock", "total_assets,dollars,stock"),
                 encoding="utf-8")
    with pytest.raises(RuleError, match=r"metric_taxonomy\.csv:2: bad unit"):
        load_lexicon_from(rules_copy)


def test_unknown_entity_code(rules_copy):
    p = rules_copy / "entities.csv"
    p.write_text(p.read_text(encoding="utf-8") + "XYZ,某银行\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"entities\.csv:\d+: unknown institution code"):
        load_lexicon_from(rules_copy)


@pytest.mark.parametrize("row, message", [
    ("601999,XYZ", r"stock_codes\.csv:\d+: unknown institution code 'XYZ'"),
    ("1398,ICBC", r"stock_codes\.csv:\d+: a code is 6 digits .* not '1398'"),
    ("601288,ICBC", r"stock_codes\.csv:\d+: code '601288' maps to two institutions"),
])
def test_a_bad_stock_code_row_names_file_and_line(rules_copy, row, message):
    p = rules_copy / "stock_codes.csv"
    p.write_text(p.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")
    with pytest.raises(RuleError, match=message):
        load_lexicon_from(rules_copy)


def test_bad_toml_names_file_and_line(rules_copy):
    p = rules_copy / "units.toml"
    p.write_text("broken = = 1\n" + p.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(RuleError, match=r"units\.toml: .*line 1"):
        load_lexicon_from(rules_copy)


@pytest.mark.parametrize("file, old, new, message", [
    ("qualifiers.toml", '"约" = "approx"', '"约" = "roughly"', r"qualifiers\.toml: \[prefix\] '约'"),
    ("periods.toml", 'annual_report_due = "04-30"', 'annual_report_due = "04-31"',
     r"periods\.toml: '04-31' is not a MM-DD day"),
    ("attribution.toml", '"四大行" = ["ICBC",', '"四大行" = ["ICBX",',
     r"attribution\.toml: \[groups\.members\] '四大行': unknown institution code 'ICBX'"),
    ("cues.toml", 'period_ratio_metrics = ["net_interest_margin"', 'period_ratio_metrics = ["nim"',
     r"period_ratio_metrics: unknown metric key 'nim'"),
    ("periods.toml", '"http://example.com/20190312/x.htm"]', '"http://example.com/2019031/x.htm"]',
     r"periods\.toml: \[url_date\] example 'http://example.com/2019031/x.htm' does not match"),
], ids=["qualifier_value", "annual_report_due", "group_member", "period_ratio_metric", "url_date_example"])
def test_a_bad_value_names_file_and_key(rules_copy, file, old, new, message):
    p = rules_copy / file
    text = p.read_text(encoding="utf-8")
    assert old in text  # the edit must land, or the test proves nothing
    p.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(RuleError, match=message):
        load_lexicon_from(rules_copy)


def test_bad_period_regex_names_rule(rules_copy):
    p = rules_copy / "periods.toml"
    p.write_text(p.read_text(encoding="utf-8") + "\n[rules.broken]\npattern = '(unclosed'\ntype = \"point\"\nresolve = \"day\"\n",
                 encoding="utf-8")
    with pytest.raises(RuleError, match=r"periods\.toml: \[rules\.broken\]"):
        load_lexicon_from(rules_copy)


def test_missing_file(rules_copy):
    (rules_copy / "idioms.csv").unlink()
    with pytest.raises(RuleError, match=r"idioms\.csv: missing"):
        load_lexicon_from(rules_copy)


def test_fullwidth_map_must_keep_length(rules_copy):
    p = rules_copy / "numerals.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('"％" = "%"', '"％" = "pct"'), encoding="utf-8")
    with pytest.raises(RuleError, match=r"numerals\.toml: \[fullwidth\]"):
        load_lexicon_from(rules_copy)


def test_currency_rules_name_file_and_key(rules_copy):
    p = rules_copy / "currency.toml"
    text = p.read_text(encoding="utf-8")
    p.write_text(text.replace('".hk" = "HKD"', '".hk" = "HKG"'), encoding="utf-8")
    with pytest.raises(RuleError, match=r"currency\.toml: \[domains\] '\.hk'"):
        load_lexicon_from(rules_copy)
    p.write_text(text.replace("(?P<cur>", "(?P<currency>"), encoding="utf-8")
    with pytest.raises(RuleError, match=r"currency\.toml: \[statement\] pattern needs a \(\?P<cur>"):
        load_lexicon_from(rules_copy)
    p.write_text(text.replace('"(人民币;下同)"', '"[人民币]"'), encoding="utf-8")
    with pytest.raises(RuleError, match=r"currency\.toml: \[statement\] example '\[人民币\]'"):
        load_lexicon_from(rules_copy)


def test_currency_subunit_needs_a_factor_and_a_known_currency(rules_copy):
    p = rules_copy / "units.toml"
    text = p.read_text(encoding="utf-8")
    p.write_text(text.replace('"分" = { factor = "0.01", currency = "" }', '"分" = { factor = "百分之一", currency = "" }'),
                 encoding="utf-8")
    with pytest.raises(RuleError, match=r"units\.toml: \[currency_subunits\] '分': factor"):
        load_lexicon_from(rules_copy)
    p.write_text(text.replace('"港仙" = { factor = "0.01", currency = "HKD" }', '"港仙" = { factor = "0.01", currency = "HK" }'),
                 encoding="utf-8")
    with pytest.raises(RuleError, match=r"units\.toml: \[currency_subunits\] '港仙': currency"):
        load_lexicon_from(rules_copy)


def test_unit_codes_cover_every_unit_the_extractor_writes(rules_copy):
    assert unit_codes(rules_copy)["TWD"] == ("money", "新台币") and unit_codes(rules_copy)["pp"][0] == "pp"
    unit_codes.cache_clear()  # cached by folder: the edits below are read afresh
    p = rules_copy / "units.toml"
    text = p.read_text(encoding="utf-8")
    p.write_text(text.replace('MOP = { nature = "money", name_zh = "澳门元" }\n', ""), encoding="utf-8")
    with pytest.raises(RuleError, match=r"units\.toml: \[codes\] must list .*missing \['MOP'\]"):
        load_lexicon_from(rules_copy)
    p.write_text(text.replace('nature = "money", name_zh = "澳门元"', 'nature = "cash", name_zh = "澳门元"'),
                 encoding="utf-8")
    unit_codes.cache_clear()
    with pytest.raises(RuleError, match=r"units\.toml: \[codes\] MOP needs nature"):
        load_lexicon_from(rules_copy)
    unit_codes.cache_clear()


def test_first_chars():
    assert first_chars("(?:截至|到)?6月") == frozenset("截到6")
    assert first_chars(r"\d+") is None
    assert first_chars("a?") is None
    assert first_chars("(?=x)[ab]c{2,}") == frozenset("ab")  # lookarounds take no character
    assert first_chars("(?i)a") is None  # ignoring case, a is also A


def test_first_pairs():
    assert first_pairs("(?:截至|到)?6月") == {"截": frozenset("至"), "到": frozenset("6"), "6": frozenset("月")}
    # 上 can end a match (上升?): nothing is known of what follows it
    assert first_pairs("上半年|上年|上升?") == {"上": None}
    assert first_pairs(r"(?:19|20)\d{2}年|a\d") == {"1": frozenset("9"), "2": frozenset("0"), "a": None}
    assert first_pairs("x{0,3}y") == {"x": frozenset("xy"), "y": None}
    assert first_pairs(r"\d+") is None
    assert first_pairs("a?") is None
    assert first_pairs("(?i:ab)") is None


def _flat(words, ascii_guard=False) -> str:
    """The plain longest-first alternation `alternation` must behave as."""
    out = []
    for w in sorted(set(words), key=lambda w: (-len(w), w)):
        guarded = ascii_guard and w[:1].isascii() and w
        out.append(("(?<![A-Za-z])" if guarded else "") + re.escape(w)
                   + ("(?![A-Za-z])" if guarded and w.isascii() else ""))
    return "|".join(out)


_WORD = st.text(alphabet="ab上年Ix", max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=8), st.text(alphabet="ab上年Ix ", max_size=30),
       st.booleans())
def test_alternation_matches_as_the_flat_longest_first_list(words, text, guard):
    # alone, and followed by more pattern, so backtracking into the alternation is compared too
    for wrap in ("{}", "(?:{})b", "(?:{})+年"):
        got = re.compile(wrap.format(alternation(words, ascii_guard=guard)))
        want = re.compile(wrap.format(_flat(words, ascii_guard=guard)))
        assert [x.span() for x in got.finditer(text)] == [x.span() for x in want.finditer(text)]


def test_period_rule_examples_are_checked(rules_copy):
    p = rules_copy / "periods.toml"
    text = p.read_text(encoding="utf-8").replace('examples = ["前三季度"', 'examples = ["前三个季度末"', 1)
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError, match=r"periods\.toml: \[rules\.first_quarters\]: example"):
        load_lexicon_from(rules_copy)


def test_period_examples_are_found_whole_by_the_combined_scan():
    """Alternation order matters: the scan must take each example whole, not a shorter rule's prefix."""
    from flows.context import period_scans

    sc = period_scans()
    for i, rule in enumerate(load_lexicon().period_rules):
        for example in rule.examples:
            x = sc.periods.search(example)
            assert x and x.start() == 0 and x.end() == len(example), (rule.name, example, x and x.group())


def test_fixed_change_must_be_a_number(rules_copy):
    p = rules_copy / "units.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('"翻一番" = "100"', '"翻一番" = "double"'),
                 encoding="utf-8")
    with pytest.raises(RuleError, match=r"units\.toml: \[fixed_changes\] '翻一番'"):
        load_lexicon_from(rules_copy)


def test_bad_heading_marker_names_file_and_key(rules_copy):
    p = rules_copy / "subject.toml"
    text = p.read_text(encoding="utf-8")
    start = text.index("heading_marker = ")
    end = text.index("\n", start)
    p.write_text(text[:start] + "heading_marker = '[unclosed'" + text[end:], encoding="utf-8")
    with pytest.raises(RuleError, match=r"subject\.toml: \[heading_marker\] bad pattern"):
        load_lexicon_from(rules_copy)


@given(st.lists(st.integers(-50, 50)), st.integers(-60, 60))
def test_compiled_bisect_agrees_with_the_standard_library(values, x):
    # flows.lexicon.bisect_left/right replace the bisect module in the compiled hot path
    import bisect as std

    from flows import lexicon

    a = sorted(values)
    assert lexicon.bisect_left(a, x) == std.bisect_left(a, x)
    assert lexicon.bisect_right(a, x) == std.bisect_right(a, x)
