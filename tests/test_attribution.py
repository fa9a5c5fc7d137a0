"""Which bank a figure belongs to (flows/attribution.py): tests/cases/attribution_cases.toml, and the
rule file attribution.toml."""
from __future__ import annotations

import shutil
from datetime import date
import tomllib
from pathlib import Path

import pytest

from flows.attribution import index
from flows.extract import find_spans, matching_copy
from flows.lexicon import RULES_DIR, RuleError, load_lexicon_from
from flows.models import DocContext
from flows.normalise import extract_mentions
from tests.test_normalise import test_case as _extract_case

CASES = tomllib.loads((Path(__file__).parent / "cases" / "attribution_cases.toml").read_text(encoding="utf-8"))["case"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case):
    _extract_case(case)  # the same checks as extract_cases.toml


def _main(text: str, entity: str | None = None) -> str | None:
    m = matching_copy(text)
    spans = [sp.start for sp in find_spans(text, m)]
    return index(text, m, DocContext(entity=entity, title=text.split("\n")[0]), m.find("\n"), spans).main


def test_main_bank_is_the_one_named_most_and_a_roundup_has_none():
    assert _main("工行年报\n工商银行净利润3600亿元。工行个人客户7亿户，与建行合作。") == "ICBC"
    assert _main("银行年报\n工商银行净利润3600亿元。建设银行净利润3300亿元。农业银行净利润2700亿元。") is None
    # named twice as often as any other, but not half the names: a roundup still
    assert _main("六大行\n中国银行、工商银行、农业银行、建设银行、交通银行上半年利润均增长5%以上。中行净利润1276亿元。") \
        is None
    assert _main("银行年报\n工商银行净利润3600亿元。", entity="建行") == "CCB"  # the sidecar says
    assert _main("中銀香港業績\n中銀香港盈利增長。亦與中國銀行合作。") is None  # the title's institution is no registry bank
    # a bank named after the lead in sentences without figures is named in passing
    lead = "盈利增長4%，淨經營收入增長7%，淨利息收入下跌2%。" * 12
    assert _main(f"中銀香港首季經營溢利增長4%，{lead}亦與母公司中國銀行合作。並與中行合作推出產品。") is None


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "rules"
    shutil.copytree(RULES_DIR, dst)
    return dst


def test_a_brand_of_an_unknown_bank_names_the_file(rules_copy):
    p = rules_copy / "attribution.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('PAB = ["平安"]', 'XYZ = ["平安"]'), encoding="utf-8")
    with pytest.raises(RuleError, match=r"attribution\.toml: \[brands\] unknown institution code 'XYZ'"):
        load_lexicon_from(rules_copy)


def test_a_bad_number_names_the_file_and_key(rules_copy):
    p = rules_copy / "attribution.toml"
    p.write_text(p.read_text(encoding="utf-8").replace("dominance = 2", "dominance = 0"), encoding="utf-8")
    with pytest.raises(RuleError, match=r"attribution\.toml: \[main\.dominance\] must be"):
        load_lexicon_from(rules_copy)


def test_an_initial_used_twice_fails(rules_copy):
    p = rules_copy / "attribution.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('CMB = "招"', 'CMB = "工"'), encoding="utf-8")
    with pytest.raises(RuleError, match=r"attribution\.toml: \[initials\] CMB"):
        load_lexicon_from(rules_copy)


def test_a_figure_stated_for_a_list_of_banks_is_a_row_for_each():
    text = "城商行年报\n其中，北京银行、江苏银行、上海银行资产总额超3万亿元，宁波银行贷款余额1.2万亿元。"
    ms = extract_mentions(text, DocContext(published_at=date(2024, 6, 30)))
    shared = [m for m in ms if m.surface == "3万亿元"]
    assert [m.entity for m in shared] == ["BOB", "JSB", "BOSH"]
    assert {(m.char_start, m.value, m.metric_key, m.qualifier) for m in shared} == {
        (shared[0].char_start, shared[0].value, "total_assets", "over")}
    assert [m.entity for m in ms if m.surface == "1.2万亿元"] == ["NBCB"]  # one bank, one row
    respectively = extract_mentions("农行\n农业银行、建设银行分别为25.6万户、23.15万户。", DocContext())
    assert [m.entity for m in respectively] == ["ABC", "CCB"]  # 分别: one bank a figure


def test_a_bank_outside_the_registry_keeps_its_row_and_place_in_a_list():
    # 中原银行 has no registry code: its row has none, and the rows follow the list's order
    text = "城商行年报\n2024年末，中原银行、成都银行和长沙银行资产总额均在1万亿元以上。"
    ms = extract_mentions(text, DocContext(published_at=date(2025, 6, 26)))
    assert [m.entity for m in ms if m.surface == "1万亿元"] == [None, "BOCD", "CSCB"]
    aggregate = extract_mentions("国有大行\n工商银行、建设银行等4家国有大行合计净利润超8000亿元。", DocContext())
    assert [m.entity for m in aggregate if m.unit == "CNY"] == [None]  # a total across them: one row, nobody's


def test_a_group_with_each_names_its_members():
    from flows.normalise import extract_mentions
    text = "大行三季报\n前三季度，四大行营业收入均超6000亿元。"
    rows = extract_mentions(text, DocContext(published_at=date(2025, 10, 31)))
    assert sorted(r.entity for r in rows) == ["ABC", "BOC", "CCB", "ICBC"]
    assert {(r.surface, r.qualifier, r.metric_key) for r in rows} == {("6000亿元", "over", "operating_income")}


def test_places_listed_before_respectively_are_the_banks_of_the_kind_the_sentence_is_about():
    text = ("农商行年报\n在几大农商行利润增速上，北京农商银行以16.66%居首位，广州、上海、重庆分别实现了15.37%、"
            "14.68%和12.59%的增长。\n城商行方面，北京、上海、南京分别实现净利润200亿元、180亿元和150亿元。\n"
            "农商行之外，我们在广州、上海分别设立了两家分行。\n农商行中，北京、拉萨分别增长3%、4%。")
    ms = {m.surface: m.entity for m in extract_mentions(text, DocContext(published_at=date(2018, 3, 1)))}
    # 农商行 in the sentence: 广州 is 广州农村商业银行; 城商行: 北京 is 北京银行 (not 北京农商银行)
    assert [ms[s] for s in ("15.37%", "14.68%", "12.59%")] == ["GRCB", "SRCB", "CQRCB"]
    assert [ms[s] for s in ("200亿元", "180亿元", "150亿元")] == ["BOB", "BOSH", "NJCB"]
    # the kind word in another sentence says nothing of this one's places: no bank
    assert ms["两家"] is None
    # a place the registry has no bank of the kind for leaves the whole list alone
    assert ms["3%"] != "BJRCB" and ms["4%"] is None


def test_a_place_two_banks_of_a_kind_share_is_left_out(rules_copy):
    rural = load_lexicon_from(rules_copy).attribution.place_lists["rural"][1]
    assert rural["广州"] == "GRCB" and rural["苏州"] == "SZRCB" and rural["江苏苏州"] == "SZRCB"
    # a second 苏州 rural bank (浙江 is also a leading province a name may drop): 苏州 is ambiguous
    p = rules_copy / "institutions.csv"
    p.write_text(p.read_text(encoding="utf-8") + "ZSRCB,浙江苏州农村商业银行,浙苏农商,rural\n", encoding="utf-8")
    q = rules_copy / "entities.csv"
    q.write_text(q.read_text(encoding="utf-8") + "ZSRCB,浙苏农商\n", encoding="utf-8")
    rural = load_lexicon_from(rules_copy).attribution.place_lists["rural"][1]
    assert "苏州" not in rural and rural["江苏苏州"] == "SZRCB" and rural["浙江苏州"] == "ZSRCB"


def test_a_group_word_restating_the_banks_just_listed_gives_each_bank_its_row():
    text = ("大行普惠\n2021年工商银行、农业银行、中国银行、建设银行、交通银行五大国有商业银行普惠型小微企业贷款"
            "同比增速均保持在30%以上。\n中国农业银行和中国交通银行的金融科技投资额分别为127.90亿元和50.45亿元。")
    ms = extract_mentions(text, DocContext(published_at=date(2022, 4, 1)))
    each = [m for m in ms if m.surface == "30%"]
    # 五大 between the list and the total restates the five banks: a row each, not one for nobody
    assert [m.entity for m in each] == ["ICBC", "ABC", "BOC", "CCB", "BOCOM"]
    # the bank is the row's entity: its subject names the measure, not the group
    assert {m.subject for m in each} == {"普惠型小微企业贷款同比增速"}
    # 中国交通银行 is 交通银行: the list keeps its last item, and 分别 deals the figures out
    assert [m.entity for m in ms if m.unit == "CNY"] == ["ABC", "BOCOM"]


def test_a_groups_member_rows_show_the_measure_alone():
    rows = extract_mentions("大行三季报\n前三季度，四大行营业收入均超6000亿元。", DocContext(published_at=date(2025, 10, 31)))
    assert {r.subject for r in rows} == {"营业收入"} and len(rows) == 4


def test_a_total_joined_to_a_bank_makes_the_figure_nobodys():
    text = "信用卡\n此外，5家国有大行和招行的发卡量增幅在10%至20%之间。招行和工行的发卡量增幅为15%。"
    ms = extract_mentions(text, DocContext(published_at=date(2017, 3, 1)))
    # the group and the bank together: no one bank's figure
    assert [m.entity for m in ms if m.surface in ("10%", "20%")] == [None, None]
    # two banks joined: a row each, as before
    assert [m.entity for m in ms if m.surface == "15%"] == ["CMB", "ICBC"]
