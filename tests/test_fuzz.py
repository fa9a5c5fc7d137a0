"""Issue 6.4: fuzzing decode -> clean -> extract with hypothesis.

Random bytes, random Unicode, HTML fragments and numeral-like strings: the only exception that
may leave a stage is the typed `Rejected`; every mention's evidence offsets point into the stored
text and every value is finite (and fits the warehouse's DECIMAL(38, 10) once `fit_decimal` has
run, or is dropped).
"""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.batch import fit_decimal
from flows.clean import clean_document, compose_text
from flows.config import Limits
from flows.ingest import FileEntry, Rejected, check_text, decode_bytes, read_document
from flows.models import DocContext, RawDocument, Sidecar
from flows.normalise import extract_mentions

# BANKMETRICS_FUZZ_EXAMPLES=5000 for a long hunt; 300 keeps the suite quick.
FUZZ = settings(max_examples=int(os.environ.get("BANKMETRICS_FUZZ_EXAMPLES", 300)), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ------------------------------------------------------------------------------

NUMERAL_CHARS = (
    "0123456789０１２３４５６７８９零〇一二三四五六七八九十百千万亿兆两壹贰叁肆伍陆柒捌玖拾佰仟萬億"
    ".．,，、%％‰-—~～至余多近超逾约 点个百分点倍元美元港元户人次笔家亿元万户年月日季度末上半年同比增长下降"
)
numeral_like = st.text(alphabet=NUMERAL_CHARS, min_size=1, max_size=60)
cjk_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from("，。；：！？“”（）《》、 \n0123456789.%亿万元"),
    ),
    max_size=80,
)
any_text = st.text(max_size=200)  # every code point hypothesis likes, surrogates excluded
TAGS = ["p", "div", "span", "b", "br", "script", "style", "h1", "title", "li", "table", "td", "a", "nav",
        "noscript", "iframe", "font", "strong", "section", "footer", "head", "body", "html"]


@st.composite
def html_fragments(draw) -> str:
    """Tags opened and closed at random (often unclosed or misnested), comments, entities,
    CDATA, attributes with chrome-like classes, and Chinese text with numbers between them."""
    parts = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.integers(0, 9))
        tag = draw(st.sampled_from(TAGS))
        if kind <= 2:
            cls = draw(st.sampled_from(["", " class='share-bar'", " id='related'", " class='article'", " style='x'"]))
            parts.append(f"<{tag}{cls}>")
        elif kind <= 4:
            parts.append(f"</{tag}>")
        elif kind == 5:
            parts.append(draw(st.sampled_from(["<!-- 12亿 -->", "<!--", "-->", "<![CDATA[3.5%]]>", "&nbsp;",
                                               "&amp;", "&#x37;", "&#99999999;", "&bogus;", "<", ">", "<!DOCTYPE html>"])))
        elif kind == 6:
            parts.append(draw(numeral_like))
        else:
            parts.append(draw(cjk_text))
    return "".join(parts)


def raw_doc(text: str, fmt: str, title: str | None = None) -> RawDocument:
    return RawDocument("f.txt", "0" * 64, len(text), 0, text, "utf-8", fmt, Sidecar(title=title))


# --- invariants ------------------------------------------------------------------------------


def assert_mentions_valid(text: str, ctx: DocContext = DocContext()) -> None:
    for m in extract_mentions(text, ctx):
        assert 0 <= m.char_start < m.char_end <= len(text), m
        assert text[m.char_start : m.char_end] == m.surface, m
        assert 0 <= m.sentence_start <= m.char_start, m
        assert text[m.sentence_start : m.sentence_start + len(m.sentence)] == m.sentence, m
        assert m.sentence_start + len(m.sentence) >= m.char_end, m
        assert isinstance(m.value, Decimal) and m.value.is_finite(), m
        fitted = fit_decimal(m.value)
        assert fitted is None or abs(fitted) < Decimal("1e28")


def clean_then_extract(text: str, fmt: str, title: str | None = None) -> None:
    try:
        doc = clean_document(raw_doc(text, fmt, title), Limits(max_paragraph_chars=5000))
    except Rejected as exc:
        assert exc.reason in {"no_text", "paragraph_too_long"}
        return
    assert doc.text == compose_text(doc.title, doc.paragraphs)
    assert all(p and "\n" not in p and p == p.strip() for p in doc.paragraphs)
    assert "\n" not in doc.title and doc.script in {"simplified", "traditional"}
    assert_mentions_valid(doc.text, DocContext(title=doc.title))


# --- tests -----------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=2048))
def test_decode_random_bytes_returns_text_or_rejects(data: bytes):
    try:
        text, encoding = decode_bytes(data)
        text = check_text(text)
    except Rejected as exc:
        assert exc.reason in {"undecodable", "binary", "empty"}
        return
    assert isinstance(text, str) and encoding and "\x00" not in text
    text.encode("utf-8")  # storable: no lone surrogates


@FUZZ
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_unicode_round_trips_through_its_encoding(text: str, encoding: str):
    """UTF-8 and the BOM'd encodings decode back to exactly the text written."""
    text = text.lstrip("\ufeff")
    if not text:
        return
    decoded, _ = decode_bytes(text.encode(encoding))
    assert decoded == text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4096))
def test_read_document_on_random_file_contents(tmp_path: Path, data: bytes):
    (tmp_path / "f.txt").write_bytes(data)
    entry = FileEntry("f.txt", len(data), 0, None)
    try:
        doc = read_document(tmp_path, entry)
    except Rejected as exc:
        assert exc.reason in {"undecodable", "binary", "empty"}
        return
    clean_then_extract(doc.text, doc.format)


@FUZZ
@given(any_text, st.sampled_from(["text", "html"]), st.one_of(st.none(), any_text))
def test_clean_and_extract_random_unicode(text: str, fmt: str, title: str | None):
    clean_then_extract(text, fmt, title)


@FUZZ
@given(html_fragments())
def test_clean_and_extract_html_fragments(html: str):
    clean_then_extract(html, "html")


@FUZZ
@given(st.lists(numeral_like, min_size=1, max_size=8), st.sampled_from(["，", "。", "\n", "；", ""]))
def test_extract_numeral_like_strings(pieces: list[str], sep: str):
    assert_mentions_valid("标题\n截至2024年末，工商银行" + sep.join(pieces) + "。")


@FUZZ
@given(numeral_like)
def test_extract_numeral_like_alone(s: str):
    assert_mentions_valid(s)
