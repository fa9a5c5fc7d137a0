"""parse_number: Arabic, Chinese, mixed, full-width and Traditional forms parse to exact Decimals."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.numerals import parse_number

DIG = "零一二三四五六七八九"


def _four(n: int, first: bool, two: bool, bare_ten: bool) -> str:
    """Chinese for 0 < n < 10000, with 零 for inner gaps."""
    out, zero = [], False
    for unit, scale in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // unit % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        if d == 1 and scale == "十" and first and not out and bare_ten:
            out.append("十")  # 十二, not 一十二, at the very start
            continue
        digit = "两" if d == 2 and two and scale in ("千", "百") else DIG[d]
        out.append(digit + scale)
    return "".join(out)


def to_chinese(n: int, two: bool = False, bare_ten: bool = True, trad: bool = False) -> str:
    """Render 0 <= n < 10^16 in Chinese numerals (optionally 两, Traditional 萬/億)."""
    wan, yi = ("萬", "億") if trad else ("万", "亿")
    if n == 0:
        return "零"

    def below_yi(k: int, first: bool) -> str:
        hi, lo = divmod(k, 10000)
        s = ""
        if hi:
            s = _four(hi, first, two, bare_ten) + wan
            if lo and lo < 1000:
                s += "零"
        if lo:
            s += _four(lo, first and not hi, two, bare_ten)
        return s

    hi, lo = divmod(n, 10 ** 8)
    s = ""
    if hi:
        s = below_yi(hi, True) + yi
        if lo and lo < 10 ** 7:
            s += "零"
    if lo:
        s += below_yi(lo, not hi)
    return s


@pytest.mark.parametrize("text,value", [
    ("7.55亿", "755000000"), ("1.5万亿", "1500000000000"), ("3000万", "30000000"),
    ("一千四百万", "14000000"), ("两千", "2000"), ("十", "10"), ("十二", "12"), ("百万", "1000000"),
    ("万亿", "1000000000000"), ("三萬", "30000"), ("1.2億", "120000000"), ("一亿五千万", "150000000"),
    ("一百零五", "105"), ("１２", "12"), ("１２．５", "12.5"), ("3,654.8", "3654.8"), ("１，０００", "1000"),
    ("二〇二三", "2023"), ("一万五", "15000"), ("三点五亿", "350000000"), ("0.04", "0.04"),
    ("十五万亿", "15000000000000"), ("22万亿", "22000000000000"), ("壹佰贰拾", "120"), ("兩千", "2000"),
    ("千亿", "100000000000"), ("零", "0"),
    # Hong Kong mixes Arabic digits and scale characters; ﹒ is its decimal point
    ("2億1千7百萬", "217000000"), ("5万3千", "53000"), ("1千7百万", "17000000"), ("3亿5千万", "350000000"),
    ("1.5亿2千万", "170000000"), ("29﹒7", "29.7"), ("38﹒02億", "3802000000"),
])
def test_examples(text, value):
    assert parse_number(text) == Decimal(value)


def test_exact_not_float():
    v = parse_number("7.55亿")
    assert isinstance(v, Decimal) and v == Decimal(755000000) and str(v) == "755000000"


@pytest.mark.parametrize("bad", ["", "  ", "abc", "1.2.3", "一二万", "5万3", "亿元", "7.55亿户", "A500", "百分之",
                                 "2亿1", "1亿二千万", "5万12345千", "1亿2.5千万"])
def test_garbage_raises(bad):
    with pytest.raises(ValueError):
        parse_number(bad)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10 ** 16 - 1), st.booleans(), st.booleans(), st.booleans())
def test_chinese_integers_roundtrip(n, two, bare_ten, trad):
    s = to_chinese(n, two=two, bare_ten=bare_ten, trad=trad)
    assert parse_number(s) == n, s


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10 ** 15))
def test_arabic_integers_roundtrip(n):
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n
    full = str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert parse_number(full) == n


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2),
       st.sampled_from([("万", 10 ** 4), ("亿", 10 ** 8), ("万亿", 10 ** 12), ("千万", 10 ** 7),
                        ("百万", 10 ** 6), ("千亿", 10 ** 11), ("萬", 10 ** 4), ("億", 10 ** 8),
                        ("", 1)]))
def test_mixed_decimals_roundtrip(mantissa, scale):
    word, factor = scale
    assert parse_number(f"{mantissa}{word}") == mantissa * factor


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=9999), st.sampled_from([("万", 10 ** 4), ("亿", 10 ** 8), ("萬", 10 ** 4)]))
def test_chinese_mantissa_with_scale(n, scale):
    word, factor = scale
    assert parse_number(to_chinese(n) + word) == n * factor


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=9999), st.text(alphabet="0123456789", min_size=1, max_size=4),
       st.sampled_from([("", 1), ("万", 10 ** 4), ("亿", 10 ** 8)]))
def test_chinese_decimals_roundtrip(whole, frac, scale):
    word, factor = scale
    written = to_chinese(whole) + "点" + "".join(DIG[int(c)] for c in frac) + word
    assert parse_number(written) == Decimal(f"{whole}.{frac}") * factor, written


def test_parse_scaled_equals_parse_number():
    # the extractor's fast path for Arabic numbers must build the very same Decimal
    from flows.lexicon import load_lexicon
    from flows.numerals import parse_number, parse_scaled

    for num in ("7.55", "3,654.8", "0.50", "1", "40,647.73", "12.340", "1000", "0.87"):
        for scale in (None, *load_lexicon().scale_words):
            want = parse_number(num + (scale or ""))
            got = parse_scaled(num, scale)
            assert (got, str(got)) == (want, str(want)), (num, scale)
    assert str(parse_scaled("１，２００", "万")) == str(parse_number("１，２００万"))  # not ASCII: the slow path


def to_hk_mixed(n: int) -> str:
    """0 < n < 10^12 the way Hong Kong pages mix them: 2億1千7百萬 (Arabic digits before scale
    characters, 億 and 萬 closing their sections)."""
    out = []
    for big, unit in ((10 ** 8, "億"), (10 ** 4, "萬"), (1, "")):
        section, n = divmod(n, big)
        if not section:
            continue
        for small, ch in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d, section = divmod(section, small)
            if d:
                out.append(f"{d}{ch}")
        out.append(unit)
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10 ** 12 - 1))
def test_hong_kong_mixed_numerals_roundtrip(n):
    s = to_hk_mixed(n)
    if n % 10 and n >= 10:
        with pytest.raises(ValueError):  # ends in a bare digit after a scale (5万3): refused
            parse_number(s)
    else:
        assert parse_number(s) == n, s
