"""flows.values: the currency a bare 元 takes, and direction words next to a number."""
from __future__ import annotations

from datetime import date

import pytest

from flows.extract import matching_copy
from flows.lexicon import load_lexicon
from flows.models import DocContext
from flows.normalise import extract_mentions
from flows.values import adjacent_direction, document_currency

HK_TEXT = "業績\n該行上半年溢利98億元。"  # Traditional, no currency named


def _units(text: str, **ctx) -> list[tuple[str, str]]:
    return [(m.surface, m.unit) for m in extract_mentions(text, DocContext(**ctx))]


@pytest.mark.parametrize("url,unit", [
    ("https://www.example.com.hk/a/1.html", "HKD"),   # .hk
    ("http://news.example.mo/x", "MOP"),              # .mo
    ("https://example.com.tw/x", "TWD"),              # .tw
    ("https://hk.finance.example.com/x", "HKD"),      # hk. prefix
    ("https://www.881903.com/news/1", "HKD"),         # a listed outlet, subdomain
    ("881903.com", "HKD"),                            # a bare host as the source
    ("https://not881903.com/x", "CNY"),               # not a subdomain of it
    ("https://www.example.com/hk/1", "CNY"),          # .hk in the path only
    (None, "CNY"),
])
def test_outlet_domain(url, unit):
    assert _units(HK_TEXT, url=url) == [("98億元", unit)]


def test_source_name_and_host_in_source():
    assert _units(HK_TEXT, source="明報") == [("98億元", "HKD")]
    assert _units(HK_TEXT, source="www.example.com.hk") == [("98億元", "HKD")]
    assert _units(HK_TEXT, source="某报") == [("98億元", "CNY")]


def test_a_mainland_bank_is_reported_in_yuan_anywhere():
    text = "業績\n招商銀行上半年淨利潤748億元。"
    assert _units(text, url="https://www.example.com.hk/1") == [("748億元", "CNY")]
    assert _units(HK_TEXT, url="https://www.example.com.hk/1", entity="CMB") == [("98億元", "CNY")]


def test_currency_words_count_only_in_traditional_text():
    trad = "業績\n該行發行20億港元債券，上半年溢利98億元。"
    simp = "业绩\n该行发行20亿港元债券，上半年利润98亿元。"
    assert _units(trad) == [("20億港元", "HKD"), ("98億元", "HKD")]
    assert _units(simp) == [("20亿港元", "HKD"), ("98亿元", "CNY")]


def test_most_named_local_currency_wins():
    text = "業績\n該行澳門業務存款50億澳門元、貸款30億澳門元，香港分行存款20億港元；總資產900億元。"
    assert _units(text)[-1] == ("900億元", "MOP")


def test_same_below_reaches_from_its_sentence_on():
    text = "業績\n去年溢利10億元。今年溢利12億元(美元;下同)，收入30億元。\n另一段：成本8億元。"
    assert _units(text) == [("10億元", "CNY"), ("12億元", "USD"), ("30億元", "USD"), ("8億元", "USD")]
    # without 下同 the bracket states only its own amount
    text = "業績\n今年溢利12億元(美元)，收入30億元。"
    assert _units(text) == [("12億元", "USD"), ("30億元", "CNY")]


def test_clause_currency_word_wins_in_a_local_document():
    text = "存款\n本港人民幣存款達4077億元，港元存款增加300億元。"
    assert _units(text, url="https://www.example.com.hk/1") == [("4077億元", "CNY"), ("300億元", "HKD")]
    # in a plain (yuan) document nothing changes
    text = "存款\n本港人民币存款达4077亿元，港元存款增加300亿元。"
    assert _units(text) == [("4077亿元", "CNY"), ("300亿元", "CNY")]


def test_document_currency_is_none_for_plain_documents():
    text = "业绩\n工商银行净利润3600亿元。"
    m = matching_copy(text)
    assert document_currency(text, m, DocContext(), None) is None
    assert document_currency(text, m, DocContext(url="https://a.example.com.hk/"), "ICBC") is None
    assert document_currency(text, m, DocContext(url="https://a.example.com.hk/"), None).default == "HKD"


@pytest.mark.parametrize("text,want", [
    ("较同业低约8个基点", "neg"),
    ("较同业低 8个基点", "neg"),
    ("较同业高0.3个百分点", "pos"),
    ("最低1.5%", None),
    ("创新高300亿元", None),
    ("录得5%的跌幅", "neg"),
    ("录得5% 的增幅", "pos"),
    ("收入5%，跌幅居前", None),  # after a clause mark: not this number's
    ("规模1200亿元", None),
])
def test_adjacent_direction(text, want):
    m = matching_copy(text)
    i = next(i for i, c in enumerate(m) if c.isdigit())
    q = i - 1 if m[i - 1] == "约" else i
    end = i
    while end < len(m) and (m[end].isdigit() or m[end] in ".%亿元个基点百分"):
        end += 1
    assert adjacent_direction(load_lexicon(), m, q, end) == want


def test_subunits_take_the_document_currency():
    text = "派息\n末期息每股派68仙，特別息每股派50港仙。"
    got = [(m.surface, str(m.value), m.unit)
           for m in extract_mentions(text, DocContext(published_at=date(2024, 3, 1), source="明報"))]
    assert got == [("68仙", "0.68", "HKD"), ("50港仙", "0.5", "HKD")]


def test_a_traditional_page_naming_no_currency_takes_the_place_it_names():
    # a Taiwan paper: no 新台幣 anywhere, but 金管會 and 本國銀行
    text = "放款\n金管會公佈本國銀行放款資料，總餘額18兆549億元，比五月成長486億元。"
    assert [u for _, u in _units(text)] == ["TWD", "TWD"]
    text = "澳門\n本澳銀行業去年營收292億元。"
    assert _units(text) == [("292億元", "MOP")]
    # a currency word outweighs the places: 港元 named once, 台灣 twice
    text = "銀行\n台灣與台灣以外，該行發行20億港元債券，溢利98億元。"
    assert _units(text)[-1] == ("98億元", "HKD")
    # Simplified text names places without making them the currency
    assert _units("放款\n金管会公布本国银行放款总余额486亿元。") == [("486亿元", "CNY")]
    # 國銀 inside 我國銀行業 or 全國銀行 names no place: a mainland page in Traditional script stays in yuan
    assert _units("信用卡\n我國銀行業與全國銀行卡量合計114萬億元。") == [("114萬億元", "CNY")]
    assert _units("盈餘\n國銀稅前盈餘5,070.8億元，國銀獲利創高。")[0][1] == "TWD"


def test_an_implied_money_unit_takes_the_document_currency():
    # 292億 has no 元: the subject says money, the Macau outlet says which
    assert _units("營收\n去年銀行營收292億，跌逾6%。", url="https://www.cyberctm.com/x") == [
        ("292億", "MOP"), ("6%", "percent")]
    assert _units("营收\n去年银行营收292亿，跌逾6%。") == [("292亿", "CNY"), ("6%", "percent")]


def _dated(text: str, **ctx) -> list[tuple[str, str | None]]:
    return [(m.surface, m.period_end and m.period_end.isoformat())
            for m in extract_mentions(text, DocContext(**ctx))]


def test_years_of_the_republic_of_china_in_brackets_or_after_minguo():
    # 98 = 2009 (+1911): only in brackets (今(98)年) or after 民國; a bare 98年 may be 1998
    assert _dated("放款\n今(98)年五月放款總餘額18兆549億元。") == [("18兆549億元", "2009-05-31")]
    assert _dated("放款\n民國98年放款增加486億元。") == [("486億元", "2009-12-31")]
    # not a year of the Republic: 中国 ends in 国, and a bare 30年
    assert _dated("改革\n中国30年来贷款增长500亿元。") == [("500亿元", None)]
    assert _dated("盈餘\n今(2025)年1~10月國銀稅前盈餘5,070.8億元。")[0][1] == "2025-10-31"


def test_a_series_of_dates_dates_the_figures_after_respectively_one_by_one():
    text = "营收\n2020年-2024年，该行营收增速分别为33.69%、35.76%、31.03%、11.3%和-3.13%。"
    assert [e for _, e in _dated(text)] == [f"{y}-12-31" for y in range(2020, 2025)]
    text = "养老金\n截至2022年底、2023年3月底，参与者人数分别为1954万人、3324万人。"
    assert _dated(text) == [("1954万人", "2022-12-31"), ("3324万人", "2023-03-31")]
    text = "放款\n回溯去(97)年十二月到今(98)年二月，單月放款餘額分別下降1,531.86億元、1,000.68億元、1,783.28億元，降幅縮小。"
    assert [e for _, e in _dated(text)] == ["2008-12-31", "2009-01-31", "2009-02-28"]
    # as many figures as dates, or no series: three years, two figures
    text = "营收\n2020年-2022年，该行营收增速分别为33.69%和35.76%。"
    assert [e for _, e in _dated(text)] == ["2022-12-31", "2022-12-31"]


def test_the_year_before_and_a_month_compared_with():
    text = "業績\n2024年度溢利3284億元，非利息收入佔總收入19%，上年度為17%。"
    assert _dated(text)[-1] == ("17%", "2023-12-31")
    text = "放款\n2009年六月份放款總餘額18兆549億元，比起五月份成長486億元。"
    assert [e for _, e in _dated(text)] == ["2009-06-30", "2009-06-30"]


def _vals(text: str) -> list[tuple[str, str, str, str]]:
    return [(m.surface, str(m.value), m.unit, m.qualifier) for m in extract_mentions(text, DocContext())]


def test_a_bare_lower_bound_before_a_hyphen_takes_the_upper_bound_unit_and_scale():
    assert _vals("净息差\n净息差下降0.04-0.23个百分点。") == [
        ("0.04", "-0.04", "pp", "over"), ("0.23个百分点", "-0.23", "pp", "up_to")]
    assert _vals("规模\n规模为20-30亿元。") == [
        ("20", "2000000000", "CNY", "over"), ("30亿元", "3000000000", "CNY", "up_to")]
    # codes and ranks stay out; two numbers with their own units are no range
    assert _vals("交易\nT-1交易，第1-3名。") == []
    assert _vals("占比\n同比-3.28%，占比5%-8%。") == [
        ("3.28%", "-3.28", "percent", "exact"), ("5%", "5", "percent", "exact"), ("8%", "8", "percent", "exact")]


def test_a_unit_head_before_a_list_mark_shares_the_next_unit():
    got = _vals("增幅\n某行增幅同比下降3.01个和4.3个百分点。")
    assert [(s, u) for s, _, u, _ in got] == [("3.01个", "pp"), ("4.3个百分点", "pp")]
    assert [(s, u) for s, _, u, _ in _vals("网点\n新设3个和5个网点。")] == [("3个", "count"), ("5个", "count")]


def test_qualifier_words_of_real_pages():
    got = _vals("规模\n总资产突破了24万亿元，贷款不低于900亿元，拨备覆盖率高达462.95%，零售客户6 亿+，客户数300 万起步。")
    assert [(s, q) for s, _, _, q in got] == [
        ("24万亿元", "over"), ("900亿元", "over"), ("462.95%", "exact"), ("6 亿", "over"), ("300 万", "over")]


def test_a_direction_before_the_first_number_makes_it_a_change_not_a_range():
    got = _vals("卡\n流通户数减少153.53万户至4539.08万户，规模1000万至2000万元。")
    assert [(s, q) for s, _, _, q in got] == [
        ("153.53万户", "exact"), ("4539.08万户", "exact"), ("1000万", "over"), ("2000万元", "up_to")]


def test_the_same_period_continues_the_previous_paragraph_dates():
    text = "卡\n截至2025年6月末，民生银行信用卡贷款4499亿元。\n平安银行同期信用卡应收账款余额3948亿元。"
    assert [e for _, e in _dated(text)] == ["2025-06-30", "2025-06-30"]
    text = "卡\n截至2025年6月末，民生银行信用卡贷款4499亿元。\n平安银行去年同期信用卡余额3948亿元。"
    assert _dated(text, published_at=date(2025, 8, 30))[-1][1] != "2025-06-30"


def test_an_open_period_runs_to_the_lead_date():
    text = "农发行\n农发行今年前三季度累放贷款21408亿元。\n今年累放农地贷款2344亿元。"
    assert _dated(text, published_at=date(2022, 10, 2)) == [("21408亿元", "2022-09-30"), ("2344亿元", "2022-09-30")]


def test_a_table_with_its_unit_in_the_column_headers():
    text = ("業績\n某行年度業績。\n2024年度 2023年度 2022年度\n財務資料 (%) (%) (%)\n"
            "------------------------\n淨利差 1﹒33 1﹒50 1﹒81\n資本充足比率* 19﹒69 -0.5\n\n其後 12 34")
    got = [(m.surface, str(m.value), m.unit, m.period_end and m.period_end.isoformat())
           for m in extract_mentions(text, DocContext())]
    assert got == [("1﹒33", "1.33", "percent", "2024-12-31"), ("1﹒50", "1.5", "percent", "2023-12-31"),
                   ("1﹒81", "1.81", "percent", "2022-12-31"), ("19﹒69", "19.69", "percent", "2024-12-31"),
                   ("0.5", "-0.5", "percent", "2023-12-31")]
    # one marker is no column header; a row wider than the header is no row of it
    assert _vals("資料\n比率 (%)\n淨利差 1.33 1.50") == []
    assert _vals("資料\n比率 (%) (%)\n淨利差 1.33 1.50 1.81") == []


def test_a_menu_of_other_headlines_states_nothing_of_the_article():
    menu = "".join(f"\n  • {h}" for h in ["越國會主席辭職", "美首季經濟增1.6%遜於預期", "我公民在菲潛水溺亡",
                                          "旅局料酒店訂房近九成", "旅博會開鑼 料3.7萬人次入場", "字節跳動:不賣"])
    text = "新聞" + menu + "\n銀行營收292.69億元,按年跌6.32%。"
    assert [s for s, _, _, _ in _vals(text)] == ["292.69億元", "6.32%"]
    # a bullet summary of the article's own figures stays: most of its lines hold a number
    summary = "".join(f"\n• {h}" for h in ["营收增长5%", "净利润增长3%", "不良率1.2%", "拨备覆盖率200%", "资产总额3万亿元"])
    assert len(_vals("业绩" + summary)) == 5


def test_a_date_written_right_before_a_number_dates_that_number_only():
    text = "理财\n2016年上半年增幅为11.83%，这与2014年46.68%和2015年56.46%的增速相比大幅下降。"
    assert _dated(text) == [("11.83%", "2016-06-30"), ("46.68%", "2014-12-31"), ("56.46%", "2015-12-31")]
    text = "理财\n同比开放型产品2014年211%的增速，2016年上半年增速仅为9.11%。"
    assert _dated(text) == [("211%", "2014-12-31"), ("9.11%", "2016-06-30")]
    # a month after the year is still a month
    assert _dated("贷款\n2024年1-9月新增贷款500亿元。") == [("500亿元", "2024-09-30")]


def test_a_minus_in_words_and_less_by():
    got = _vals("贷款\n剪刀差为负156亿元，不良貸款餘額較去年底少127.36億元，至少100家，负债200亿元。")
    assert [(s, v) for s, v, _, _ in got] == [
        ("156亿元", "-15600000000"), ("127.36億元", "-12736000000"), ("100家", "100"), ("200亿元", "20000000000")]


def test_a_month_before_since_is_no_date_of_the_figure():
    text = "澳門\n截至2024年12月,不良貸款比率為5.5%,為2004年8月以來的最高水準,較2023年底增加了1.6個百分點。"
    assert [e for _, e in _dated(text)] == ["2024-12-31", "2024-12-31"]
