"""find_spans: what is a quantity span and what is not; offsets into the stored text."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.extract import (CLOSERS, FULL_SENTENCE_ENDS, SENTENCE_ENDS, find_spans, full_sentences,
                           matching_copy, split_sentences)
from flows.models import DocContext
from flows.normalise import extract_mentions


def surfaces(text: str) -> list[str]:
    return [text[s.start:s.end] for s in find_spans(text)]


@pytest.mark.parametrize("text,expected", [
    ("个人客户数达7.55亿户", ["7.55亿户"]),
    ("已累计服务1300余家客户", ["1300余家"]),
    ("累计发放“零钱包”570余万个", ["570余万个"]),
    ("已服务全行3万余名一线营销人员", ["3万余名"]),
    ("设立二十余家分行", ["二十余家"]),
    ("新增客户一千四百万户", ["一千四百万户"]),
    ("较年初增长近万亿", ["万亿"]),
    ("持仓客户数超百万。", ["百万"]),
    ("21个币种", ["21个币种"]),
    ("超越同期上证综指近24个百分点", ["24个百分点"]),
    ("同比下降15个基点", ["15个基点"]),
    ("净息差收窄12BP", ["12BP"]),
    ("基金资产增长超600亿元亿元；", ["600亿元"]),
    ("占比提升至百分之三十", ["百分之三十"]),
    ("线上化率超两成", ["两成"]),
    ("理财规模增长2倍", ["2倍"]),
    ("境外资产达500亿美元", ["500亿美元"]),
    ("净利润3,654.8亿元", ["3,654.8亿元"]),
    ("贷款余额１２，３４５．６亿元，占比３０％", ["１２，３４５．６亿元", "３０％"]),
    ("個人客戶數達1.2億戶", ["1.2億戶"]),
    ("全行每3笔业务中，就有一笔来自手机银行", ["每3笔业务中，就有一笔"]),
    ("已有3000万个人客户使用", ["3000万"]),
    ("募集资金三点五亿元", ["三点五亿元"]),
    ("上午十点三十分召开", []),
    # number forms of Hong Kong, Taiwan and the mainland press
    ("客戶存款三千六百幾億港元", ["三千六百幾億港元"]),
    ("十幾家分行", ["十幾家"]),
    ("贷款余额5000多亿元", ["5000多亿元"]),
    ("个人客户6亿多，", ["6亿多"]),
    ("个人客户6亿多样化", ["6亿"]),  # 多样: the 多 starts a word
    ("普惠贷款二十多亿元", ["二十多亿元"]),
    ("增加2亿1千多万元", ["2亿1千多万元"]),
    ("純利2億1千7百萬港元", ["2億1千7百萬港元"]),
    ("客户5万3千户", ["5万3千户"]),
    ("净利润1.2万亿1季度", ["1.2万亿"]),  # digits after a scale need another scale to join it
    ("按年增長三成五。", ["三成五"]),
    ("約三成五年期存款", ["三成"]),  # 五年期: the digit starts a word
    ("減息二十五個點子", ["二十五個點子"]),
    ("淨息差收窄6點子", ["6點子"]),
    ("净息差下降27个BP", ["27个BP"]),
    ("约三分之一的客户", ["三分之一"]),
    ("不良率千分之五", ["千分之五"]),
    ("近1/3的交易", ["1/3"]),
    ("2/3以上", ["2/3"]),
    ("每股派19.7分", ["19.7分"]),
    ("末期息每股派68港仙", ["68港仙"]),
    ("已發行HK$20億存款證", ["HK$20億"]),
    ("溢利上升29﹒7%", ["29﹒7%"]),
    ("资产总额1.13 万亿元", ["1.13 万亿元"]),
    ("资产总额1.13\u3000万亿元", ["1.13\u3000万亿元"]),
    ("净息差下降27 个bp", ["27 个bp"]),
    ("净息差下降27 个 bp", ["27 个 bp"]),
    ("下降0.5 个 百分点", ["0.5 个 百分点"]),
    # issue 13: forms of real pages
    ("客戶存款287﹐139億元", ["287﹐139億元"]),  # ﹐ (small comma) as a thousands separator
    ("近一半用户来自县域", ["一半"]),  # a share in words
    ("贡献了过半的业绩", ["过半"]),
    ("6成以上的贷款", ["6成"]),  # tenths after one Arabic digit
    ("其他四家银行净息差下降", ["四家"]),  # institutions counted from 二 on
    ("六家国有银行", ["六家"]),
    ("其他银行都在千万户以下", ["千万户"]),  # a bare scale with a qualifier after it
    ("建成高标准农田8.85万亩", ["8.85万亩"]),
    ("粮食产能提高100公斤", ["100公斤"]),
    ("支持进口4艘", ["4艘"]),
])
def test_found(text, expected):
    assert surfaces(text) == expected


@pytest.mark.parametrize("text", [
    "2019年上半年", "7月12日", "6月末", "手机银行9.0", "手机银行10.0建设", "中证A500指数", "T+0.5赎回",
    "股票代码601398", "客服热线95588", "京ICP备05070213号", "一是坚持", "第一个人金融银行战略",
    "“六稳”“六保”", "一键转换", "千人千面", "一系列应用", "零距离", "最后一公里", "双轮驱动",
    "第三方存管", "三大主题", "五大方面", "24小时服务", "一家银行", "两个方面", "一成不变",
    "形成合力", "数十个业务场景", "千亿级大模型", "上百家机构", "第3季度", "每户", "2024-11-05",
    "银行之一", "一线城市", "近两年", "较两年前",
    # 多, 分, 成 and / that are no part of a quantity
    "多家分行", "多项指标", "更多客户", "部分客户", "分行网点", "分别增长",
    "上午10点30分", "得分95分", "十分重要", "3分钟", "1/3页", "第1/3", "图（1/3）", "6/30", "12/31",
    "\n1/3\n", "3个多月", "1个半小时", "三成为", "几十亿", "HK$", "金点子",
    "唯一一家", "另一半", "2 9家上市城商行", "做好“增收益”十二个字", "一半年", "过半年", "3成本", "0成", "2023成", "千万户", "1,2345", "百万人",
])
def test_not_a_quantity(text):
    assert surfaces(text) == [], text


_SPACES = st.sampled_from(["", " ", "\u3000", "\u00a0"])


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2),
       st.sampled_from(["", "万", "亿", "万亿", "千万", "億", "萬"]),
       st.sampled_from(["元", "户", "%", "个百分点", "个基点", "个bp", "个BP", "个点子", "港元", "倍"]),
       _SPACES, _SPACES, _SPACES)
def test_spaced_variants_are_the_same_mention(mantissa, scale, unit, s1, s2, s3):
    """Spaces between number, scale word and unit (PDF conversions) change neither the value nor
    the unit, and the surface is the text as written, spaces included."""
    if unit.startswith("个") and s3:
        unit = "个" + s3 + unit[1:]  # 27 个 bp
    elif s3:
        return  # other units are one word
    if not scale:
        s2 = ""
    number = f"{mantissa}"
    plain = f"该行资产达{number}{scale}{unit.replace(s3, '') if s3 else unit}，"
    spaced = f"该行资产达{number}{s1}{scale}{s2}{unit}，"
    want = [(s.number, s.scale, s.unit_class) for s in find_spans(plain)]
    spans = find_spans(spaced)
    assert [(s.number, s.scale, s.unit_class) for s in spans] == want
    assert [spaced[s.start:s.end] for s in spans] == [f"{number}{s1}{scale}{s2}{unit}"]
    values = [(m.value, m.unit, m.qualifier) for m in extract_mentions("t\n" + plain, DocContext())]
    got = extract_mentions("t\n" + spaced, DocContext())
    assert [(m.value, m.unit, m.qualifier) for m in got] == values and len(values) == 1
    assert got[0].surface == f"{number}{s1}{scale}{s2}{unit}"


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2),
       st.sampled_from(["%", "亿元", "億港元", "个百分点", ""]))
def test_small_full_stop_is_a_decimal_point(value, unit):
    """29﹒7% (Hong Kong pages) is 29.7%, never 7%."""
    text = f"上升{value}{unit}。"
    hk = text.replace(".", "﹒")
    assert [(s.start, s.end, s.number) for s in find_spans(hk)] == \
        [(s.start, s.end, s.number) for s in find_spans(text)]
    assert [(m.value, m.unit) for m in extract_mentions("t\n" + hk, DocContext())] == \
        [(m.value, m.unit) for m in extract_mentions("t\n" + text, DocContext())]


def test_offsets_point_into_stored_text_for_traditional_and_full_width():
    text = "標題\n中國銀行個人客戶數達１．２億戶，較年初增加約500萬戶。"
    for s in find_spans(text):
        assert text[s.start:s.end] in ("１．２億戶", "500萬戶")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="工行個人客戶數達億萬元戶０１２３４５６７８９0123456789．.，,％%。；\n較年初增加約超近余多", max_size=80))
def test_matching_copy_keeps_length_and_spans_are_in_range(text):
    m = matching_copy(text)
    assert len(m) == len(text)
    for s in find_spans(text):
        assert 0 <= s.start < s.end <= len(text)


def test_split_sentences_keeps_closing_quotes_and_skips_blank():
    text = "“同比来看，增长较大。”工行负责人说；第二句！\n\n第三句"
    parts = [text[a:b] for a, b in split_sentences(text)]
    assert parts == ["“同比来看，增长较大。”", "工行负责人说；", "第二句！", "第三句"]


def test_split_sentences_on_ascii_marks():
    text = "一句;两句!三句?四句"
    assert [text[a:b] for a, b in split_sentences(text)] == ["一句;", "两句!", "三句?", "四句"]


@pytest.mark.parametrize("text,ends,expected", [
    # offsets from the character-by-character splitter this regex one replaced (same output)
    ("  甲。」 乙\n\n丙！！ ", None, [(2, 5), (6, 7), (9, 11), (11, 12)]),
    ("甲；乙。”\n\u3000丙", None, [(0, 2), (2, 5), (7, 8)]),
    ("甲；乙\n", "。！？!?\n", [(0, 3)]),
    ("\n \n", None, []),
    ("末尾没有句号", "。", [(0, 6)]),
])
def test_split_sentences_offsets(text, ends, expected):
    assert split_sentences(text, *([ends] if ends else [])) == expected


def _reference_split(text: str, ends: str) -> list[tuple[int, int]]:
    """The definition, one character at a time: a sentence runs to its end mark and the closing
    quotes after it (or to a newline or the end), trimmed of whitespace; blank ones dropped."""
    out, start, i = [], 0, 0
    while i <= len(text):
        if i == len(text) or text[i] in ends:
            stop = i
            if i < len(text) and text[i] != "\n":
                stop = i + 1
                while stop < len(text) and text[stop] in CLOSERS:
                    stop += 1
            a, b = start, stop
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if a < b:
                out.append((a, b))
            start = i = stop if stop > i else i + 1
            continue
        i += 1
    return out


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="甲乙 \t\u3000\r\n\x1c\u2028。！？；!?;”’）)\"'，,", max_size=40),
       st.sampled_from([SENTENCE_ENDS, FULL_SENTENCE_ENDS, "。", "\n"]))
def test_split_sentences_matches_the_definition(text, ends):
    assert split_sentences(text, ends) == _reference_split(text, ends)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="甲乙 \t\u3000\r\n\x1c\u2028。！？；!?;”’）)\"'，,", max_size=40))
def test_full_sentences_join_the_sentences_a_semicolon_ends(text):
    assert full_sentences(text, split_sentences(text)) == _reference_split(text, FULL_SENTENCE_ENDS)
