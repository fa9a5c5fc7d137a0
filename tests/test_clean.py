from __future__ import annotations

from pathlib import Path

import pytest

from flows.clean import clean_document, clean_text, compose_text, normalise_space
from flows.config import Limits
from flows.ingest import Rejected
from flows.models import RawDocument, Sidecar


def raw(text: str, fmt: str = "html", title: str | None = None) -> RawDocument:
    return RawDocument("a.txt", "h" * 64, len(text), 0, text, "utf-8", fmt, Sidecar(title=title))


def test_inline_markup_never_splits_a_sentence():
    title, paras = clean_text("<p>个人客户数达<strong>7.55亿户</strong>，<a href='#'>较年初</a>增加。</p>", "html", "T")
    assert paras == ["个人客户数达7.55亿户，较年初增加。"]


def test_blocks_and_br_end_paragraphs_in_order():
    html = "<div>第一段<br>第二段</div><p>第三段</p><ul><li>第四段</li><li>第五段</li></ul>"
    assert clean_text(html, "html", "T")[1] == ["第一段", "第二段", "第三段", "第四段", "第五段"]


def test_scripts_styles_comments_and_entities():
    html = (
        "<html><head><style>p{color:red}</style><script>var x='7.55亿';</script></head>"
        "<body><!-- 注释 100亿 --><p>A&amp;B&nbsp;达到&#x37;%</p><noscript>开启JS</noscript></body></html>"
    )
    title, paras = clean_text(html, "html", "T")
    assert paras == ["A&B 达到7%"]


def test_page_chrome_is_kept_out_of_the_body():
    article = "工商银行个人客户数达7.55亿户，较年初增加超1400万户。" * 3
    html = (
        "<html><body><nav>首页 > 财经</nav><div class='share-bar'>分享到微博 3次</div>"
        f"<div class='article-content'><h1>工行客户数</h1><p>{article}</p></div>"
        "<div id='related-news'><a>建行净利润增长5%</a></div>"
        "<footer>版权所有 2024</footer><p>责任编辑：张三</p></body></html>"
    )
    title, paras = clean_text(html, "html", None)
    assert title == "工行客户数"
    assert paras == [article]


def test_title_precedence_sidecar_then_h1_then_title_then_first_line():
    html = "<html><head><title>标题页 - 经济日报</title></head><body><p>正文</p></body></html>"
    assert clean_text(html, "html", None)[0] == "标题页"
    assert clean_text(html, "html", "边车标题")[0] == "边车标题"
    assert clean_text("第一行\n\n正文一\n正文二", "text", None) == ("第一行", ["正文一", "正文二"])
    # a page that repeats its title at the top of the body keeps it once
    assert clean_text("<h1>标题</h1><p>正文</p>", "html", None) == ("标题", ["正文"])


def test_whitespace_is_normalised():
    assert normalise_space("\u3000\u3000记者\u00a0今日\t获悉\u200b ") == "记者 今日 获悉"
    assert clean_text("标题\r\n\r\n\u3000\u3000正文\r\n", "text", None) == ("标题", ["正文"])


def test_clean_document_composes_the_offset_text():
    doc = clean_document(raw("标题\n段一\n\n段二", fmt="text"))
    assert doc.text == compose_text("标题", ["段一", "段二"]) == "标题\n段一\n段二"
    assert doc.script == "simplified"


def test_traditional_script_is_detected():
    doc = clean_document(raw("工商銀行個人客戶數達7.55億戶，較年初增加逾1400萬戶。", fmt="text", title="標題"))
    assert doc.script == "traditional"


def test_all_script_page_has_no_text():
    with pytest.raises(Rejected) as exc:
        clean_document(raw("<html><head><script>x()</script></head><body><style>a{}</style></body></html>"))
    assert exc.value.reason == "no_text"


def test_paragraph_limit_quarantines():
    with pytest.raises(Rejected) as exc:
        clean_document(raw("标题\n" + "很长" * 100, fmt="text"), Limits(max_paragraph_chars=50))
    assert exc.value.reason == "paragraph_too_long"


def test_seed_html_in_a_txt_file_cleans_to_title_and_paragraphs(raw_copy):
    from flows.ingest import read_document, scan

    entries, _ = scan(raw_copy)
    doc = clean_document(read_document(raw_copy, entries[0]))
    assert doc.title == "工行个人客户金融资产较年初增长近万亿"
    assert "截至今年6月末，工行服务个人客户已超6.6亿" in doc.paragraphs[0]
    assert "<" not in doc.text and "&nbsp;" not in doc.text and "\u3000" not in doc.text


def test_a_title_or_paragraph_never_spans_lines():
    """Found by tests/test_fuzz.py: a sidecar title "a\\nb" or an <h1> with a line break inside
    made the stored text's first line not the whole title."""
    doc = clean_document(raw("正文\u2028第二句\x85第三句", fmt="html", title="标题\n第二行"))
    assert doc.title == "标题 第二行"
    assert doc.text.split("\n") == [doc.title, *doc.paragraphs]
    title, paras = clean_text("<h1>工行\n快讯</h1><p>截至6月末\u2029客户达6.6亿。</p>", "html", None)
    assert (title, paras) == ("工行快讯", ["截至6月末 客户达6.6亿。"])


def test_line_breaks_of_the_html_source_do_not_end_paragraphs():
    html = "<p>截至6月末，工行个人\n    客户达6.6亿户，\r\n  total\n6.6 billion</p><pre>甲 1\n乙 2</pre>"
    assert clean_text(html, "html", "T")[1] == ["截至6月末，工行个人客户达6.6亿户，total 6.6 billion", "甲 1", "乙 2"]
    # multi-line comments, scripts and styles are still dropped whole
    page = "<body><!-- 注释\n 100亿 --><p>正文</p><script>var a='1\n2';</script><style>p{\n}</style></body>"
    assert clean_text(page, "html", "T")[1] == ["正文"]


def test_a_page_with_a_title_but_no_body_is_rejected():
    with pytest.raises(Rejected) as exc:
        clean_document(raw("<html><head><title>只有标题</title><script>x()</script></head><body></body></html>"))
    assert exc.value.reason == "no_text"
    # a one-line plain-text file is a title and still loads
    assert clean_document(raw("截至6月末，工行客户达6.6亿。", fmt="text")).title == "截至6月末，工行客户达6.6亿。"


def test_paragraph_limit_covers_the_title_line():
    with pytest.raises(Rejected) as exc:
        clean_document(raw("很长" * 100 + "\n短段落", fmt="text"), Limits(max_paragraph_chars=50))
    assert exc.value.reason == "paragraph_too_long"


def _html_fixtures() -> list[tuple[str, str]]:
    """(name, decoded text) of every HTML article among the fixtures."""
    from flows.ingest import Rejected, decode_bytes, sniff_format

    root = Path(__file__).resolve().parent.parent
    out = []
    for folder in (root / "raw", root / "tests/fixtures/holdout", root / "tests/fixtures/holdout2",
                   root / "tests/fixtures/bad_inputs/raw"):
        for p in sorted(folder.glob("*")):
            if not p.is_file() or p.is_symlink() or p.name.endswith(".json"):
                continue
            try:
                text, _ = decode_bytes(p.read_bytes())
            except (Rejected, OSError):
                continue
            if sniff_format(text) == "html":
                out.append((p.name, text))
    return out


HTML_FIXTURES = _html_fixtures()


def test_there_are_html_fixtures_to_compare():
    assert len(HTML_FIXTURES) >= 6


@pytest.mark.parametrize("name, text", HTML_FIXTURES, ids=[n for n, _ in HTML_FIXTURES])
def test_the_fast_lxml_path_and_the_bs4_fallback_agree(name, text):
    from flows.clean import _bs4_page, _lxml_body, load_rules

    rules = load_rules()
    title, body = _lxml_body(text, rules, True)
    fast, slow = (title, body.split("\n")), _bs4_page(text, rules, True)
    assert fast[0] == slow[0]
    assert [x for x in map(normalise_space, fast[1]) if x] == [x for x in map(normalise_space, slow[1]) if x]


@pytest.mark.parametrize("fmt,page", [
    ("html", "<p>正文：个人客户数达7.55亿户。</p><p>▶ 往期推荐：平安银行前三季度实现净利润396.35亿元</p>"
             "<p>• 编辑：张三</p><p>【相关阅读】一图读懂</p><p>▶ 个人存款余额1.2万亿元</p>"),
    ("text", "正文：个人客户数达7.55亿户。\n▶ 往期推荐：平安银行前三季度实现净利润396.35亿元\n"
             "• 编辑：张三\n【相关阅读】一图读懂\n▶ 个人存款余额1.2万亿元\n"),
])
def test_boilerplate_lines_behind_decoration_are_dropped_and_content_is_not(fmt, page):
    _, paras = clean_text(page, fmt, "T")
    assert paras == ["正文：个人客户数达7.55亿户。", "▶ 个人存款余额1.2万亿元"]


def test_pinyin_glosses_are_dropped_from_a_glossed_page():
    # a mirror site's glosses (資產(chǎn)) go when the page glosses throughout; one "(a)" stays
    glossed = "集團(tuán)資產(chǎn)負(fù)債穩(wěn)健增長\n資產(chǎn)總額20.29萬億元，條件(a)成立"
    title, paragraphs = clean_text(glossed, "text")
    assert (title, paragraphs) == ("集團資產負債穩健增長", ["資產總額20.29萬億元，條件成立"])
    plain = "條件(a)成立\n銀行(bank)與MAU(月活)"
    assert clean_text(plain, "text") == ("條件(a)成立", ["銀行(bank)與MAU(月活)"])


# A page typed at a fixed width: each line full to 24 characters, sentences running on.
_WRAPPED = (
    "恒远银行中期业绩\n"
    "期內恒远银行淨利息收入增長2%至154億元,淨利息收益率擴\n"
    "闊20個基點至2.29%。非利息收入增加4%,主要因為來自交\n"
    "易活動的收入增加。淨服務費收入下跌4%至25.64億元。成本\n"
    "效益比率為36.8%,按年升0.9個百分點。\n"
    "*平均股東權益回報率回落至12.4%*\n"
)


def test_a_page_typed_at_a_fixed_width_joins_its_broken_sentences():
    title, paragraphs = clean_text(_WRAPPED, "text")
    assert title == "恒远银行中期业绩"
    assert paragraphs == [
        "期內恒远银行淨利息收入增長2%至154億元,淨利息收益率擴闊20個基點至2.29%。非利息收入增加4%,"
        "主要因為來自交易活動的收入增加。淨服務費收入下跌4%至25.64億元。成本效益比率為36.8%,按年升0.9個百分點。",
        "*平均股東權益回報率回落至12.4%*",
    ]


def test_lines_of_uneven_length_are_never_joined():
    lines = ["截至6月末,个人客户数达7.55亿户,较年初增加超1400万户", "手机银行月活客户1.2亿户,同比增长12%",
             "对公客户数突破1000万户,较上年末增长5%左右的水平", "信用卡发卡量8000万张,同比增长3%",
             "个人客户金融资产规模突破15.5万亿元人民币"]
    assert len({len(x) for x in lines}) == len(lines)  # no common width
    _, paragraphs = clean_text("标题\n" + "\n".join(lines), "text")
    assert paragraphs == lines


def test_kangxi_radical_look_alikes_read_as_the_han_characters():
    """A PDF's text writes 首次 as ⾸次 (U+2F78): the clean text reads it as the character."""
    title, paragraphs = clean_text("滙豐季績\n⾸次季度股息每股0.1美元，營業⽀出76億美元。", "text")
    assert paragraphs == ["首次季度股息每股0.1美元，營業支出76億美元。"]
    assert clean_text("⼀季度", "text")[0] == "一季度"


def test_a_copy_that_lost_its_decimal_points_gets_them_back():
    """总资产1 51万亿元, 同比增长5 13%: on a page with no decimal point anywhere and five such
    figures, the space is the point; a page writing 5684.77 keeps 2 9家 as it is."""
    _, lost = clean_text("重庆农商行\n总资产1 51万亿元,增长5 13%,营收282 61亿元,增长1 09%,净息差1 61%。", "text")
    assert lost == ["总资产1.51万亿元,增长5.13%,营收282.61亿元,增长1.09%,净息差1.61%。"]
    _, kept = clean_text("城商行\n2 9家银行总资产5684.77亿元,1 09%,1 61%,2 33%,4 44%,5 55%。", "text")
    assert kept == ["2 9家银行总资产5684.77亿元,1 09%,1 61%,2 33%,4 44%,5 55%。"]
