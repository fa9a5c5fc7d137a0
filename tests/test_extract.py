"""find_spans: what is a quantity span and what is not; offsets into the stored text."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.extract import (CLOSERS, FULL_SENTENCE_ENDS, SENTENCE_ENDS, find_spans, full_sentences,
                           matching_copy, split_sentences)


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
])
def test_not_a_quantity(text):
    assert surfaces(text) == [], text


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
