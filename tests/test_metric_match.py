"""Metric matching (flows/metric_match.py) against tests/cases/metric_cases.toml, and its rules."""
from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from flows.extract import matching_copy
from flows.lexicon import RULES_DIR, RuleError, load_lexicon, load_lexicon_from
from flows.metric_match import match
from flows.script import to_simplified

CASES = tomllib.loads((Path(__file__).parent / "cases" / "metric_cases.toml").read_text(encoding="utf-8"))["case"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['subject']}-{c['unit']}-{c.get('nth', '')}" for c in CASES])
def test_case(case):
    rule = match(matching_copy(case["subject"]), case["unit"], case.get("kind", "level"), case.get("nth", -1))
    assert (rule.key if rule else "") == case["key"], rule


def test_every_taxonomy_key_has_synonyms_and_cases_in_both_scripts():
    lex = load_lexicon()
    named = {m.key for m in lex.metrics}
    assert named == set(lex.metric_catalog), set(lex.metric_catalog) ^ named
    simplified = {c["key"] for c in CASES if c.get("script") != "t"}
    traditional = {c["key"] for c in CASES if c.get("script") == "t"}
    assert set(lex.metric_catalog) <= simplified, set(lex.metric_catalog) - simplified
    assert set(lex.metric_catalog) <= traditional, set(lex.metric_catalog) - traditional
    for c in CASES:  # a case marked Traditional really is (else it would test Simplified twice)
        assert (c.get("script") == "t") == (to_simplified(c["subject"]) != c["subject"]), c["subject"]


def test_every_synonym_names_its_own_key():
    # a synonym must not be read as another key's, nor as a segment of its own
    for m in load_lexicon().metrics:
        rule = match(m.synonym, m.unit, "level")
        assert rule is not None and rule.key == m.key, (m.synonym, m.key, rule)


def test_the_nth_figure_of_a_respectively_run_takes_the_nth_metric():
    assert match("营业收入和净利润", "CNY", "flow", 0).key == "operating_income"
    assert match("营业收入和净利润", "CNY", "flow", 1).key == "net_profit"
    assert match("营业收入和净利润", "CNY", "flow", 2).key == "operating_income"  # the run goes round


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "rules"
    shutil.copytree(RULES_DIR, dst)
    return dst


def test_a_key_without_synonym_fails_at_load(rules_copy):
    p = rules_copy / "metrics.csv"
    lines = [x for x in p.read_text(encoding="utf-8").splitlines() if not x.startswith("branches,")]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"metrics\.csv: no synonym for \['branches'\]"):
        load_lexicon_from(rules_copy)


def test_a_bad_variant_names_the_file(rules_copy):
    p = rules_copy / "metric_words.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('"産" = "产"', '"産" = "产品"'), encoding="utf-8")
    with pytest.raises(RuleError, match=r"metric_words\.toml: \[variants\] '産'"):
        load_lexicon_from(rules_copy)


def test_a_missing_word_list_names_the_file_and_key(rules_copy):
    p = rules_copy / "metric_words.toml"
    p.write_text(p.read_text(encoding="utf-8").replace("bare_heads = [", "bare_headz = ["), encoding="utf-8")
    with pytest.raises(RuleError, match=r"metric_words\.toml: missing key \[words\.bare_heads\]"):
        load_lexicon_from(rules_copy)


def test_synonyms_of_two_keys_that_read_alike_fail_with_the_line(monkeypatch, rules_copy):
    import flows.metric_match as mm

    p = rules_copy / "metrics.csv"
    p.write_text(p.read_text(encoding="utf-8") + "net_profit,贷款规模\n", encoding="utf-8")  # reads as 贷款
    lex = load_lexicon_from(rules_copy)
    monkeypatch.setattr(mm, "load_lexicon", lambda: lex)
    mm.matcher.cache_clear()
    try:
        with pytest.raises(RuleError, match=r"metrics\.csv:\d+: synonym '贷款规模' reads as '贷款'"):
            mm.matcher()
    finally:
        mm.matcher.cache_clear()


# ---- issue 13: the metric a figure reads from its sentence (metric_match.context_name)

from flows.metric_match import context_name, name_after, names_nothing  # noqa: E402


@pytest.mark.parametrize("subject,nothing", [
    (None, True), ("城商行", True), ("水平", True), ("略微", True), ("较上一年同期", True),
    ("拨备覆盖率", False), ("公允价值变动收益", False), ("流通户数", False), ("营收", False),
    # a measure glossed with its abbreviation, Taiwan's 盈余: concepts of their own
    ("每股盈余(EPS)", False), ("税前盈余", False), ("合库金(5880-TW)", True),
])
def test_names_nothing(subject, nothing):
    assert names_nothing(subject) is nothing


@pytest.mark.parametrize("text,phrase", [
    ("杭州银行拨备覆盖率541.45%排名第一，苏州银行(", "杭州银行拨备覆盖率"),
    ("营收同比增幅超过10%的有长沙银行、成都银行，分别为", "营收同比增幅超"),
    ("净利同比下降的有贵阳银行(", "净利同比下降的"),
    ("私人银行客户（月日均资产600万元以上）近7.8万户，较去年底增长逾", "私人银行客户"),
    ("江苏银行净利润占比12.5%，宁波银行(", None),  # 净利润 inside another concept's name
    ("另外，重农行第三季赚", "另外，重农行第三季赚"[3:]),  # the verb names earnings
    ("今年以来，各行加快数字化转型，", None),
])
def test_context_name(text, phrase):
    got = context_name(text, 0, len(text))
    assert (text[got[0]:got[2]] if got else None) == phrase


def test_context_name_keys_through_the_matcher():
    text = "杭州银行拨备覆盖率541.45%排名第一，苏州银行("
    a, _, e = context_name(text, 0, len(text))
    assert match(text[a:e], "percent", "level").key == "provision_coverage_ratio"
    text = "营收同比增幅超过10%的有长沙银行、成都银行，分别为"
    a, _, e = context_name(text, 0, len(text))
    assert match(text[a:e], "percent", "change").key == "operating_income"
    assert match(text[a:e], "percent", "level") is None  # a CNY metric: only its change is a percent


@pytest.mark.parametrize("text,number,phrase", [
    ("招商银行以9478.43亿元信用卡透支余额领跑", "9478.43亿元", "信用卡透支余额"),
    ("工商银行以6万亿元的规模位居榜首", "6万亿元", None),  # 规模 alone names nothing
    ("江苏银行以318.43亿元归母净利润排名第一", "318.43亿元", "归母净利润"),
])
def test_name_after(text, number, phrase):
    got = name_after(text, text.index(number) + len(number), len(text))
    assert (text[got[0]:got[2]] if got else None) == phrase


def test_context_name_with_a_growth_word_takes_the_name_that_carried_it():
    text = "资产规模增速超过10%的城商行有15家，营收达100亿元。其中，齐鲁银行增速最高("
    a, _, e = context_name(text, 0, len(text), head="增速")
    assert text[a:e].startswith("资产规模增速")
    a, _, e = context_name(text, 0, len(text))
    assert text[a:e].endswith("营收达")  # without the growth word: the last name


def test_context_name_not_taken_from_a_list_of_causes():
    text = "主要缘于其发放贷款和垫款、金融投资等的增长；成都银行("
    assert context_name(text, 0, len(text)) is None


def test_an_inserted_business_word_and_net_loans_keep_their_metric():
    from flows.metric_match import match
    assert match("私行业务达标客户数", "count", "level").key == "private_banking_customers"
    assert match("贷款净额", "CNY", "level").key == "total_loans"
    assert match("逾期放款比率", "percent", "level").key == "npl_ratio"
    assert match("利息收入", "CNY", "flow") is None  # gross interest income is no metric (净额 is no tail word)
