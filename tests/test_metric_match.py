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
