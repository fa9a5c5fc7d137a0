"""Numeral strings to exact decimals: Arabic, Chinese, mixed (1.5万亿), full-width, Traditional.

Values are `decimal.Decimal` end to end so 7.55亿 is exactly 755000000 (floats would give
754999999.9999999 and tempt a `round()` patch).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from flows.lexicon import load_lexicon

_ARABIC = re.compile(r"\d+(?:[,，﹐]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")  # 3,654.8 | 7.55 | 1，000 | 287﹐139


@cache
def _tables() -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[int, str]]:
    lex = load_lexicon()
    fw = str.maketrans(lex.fullwidth)
    return lex.digits, lex.small_scales, lex.big_scales, fw


def _tokens(s: str) -> list[tuple[str, Decimal]]:
    """('num', v) for Arabic numbers and Chinese digits, ('small'|'big', scale) for scale chars."""
    digits, small, big, _ = _tables()
    out: list[tuple[str, Decimal]] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch.isascii() and ch.isdigit():
            m = _ARABIC.match(s, i)
            assert m is not None  # an ASCII digit always starts a match
            out.append(("arabic", Decimal(m.group().replace(",", "").replace("，", "").replace("﹐", ""))))
            i = m.end()
            continue
        if ch in digits:
            out.append(("cdigit", Decimal(digits[ch])))
        elif ch in small:
            out.append(("small", Decimal(small[ch])))
        elif ch in big:
            out.append(("big", Decimal(big[ch])))
        else:
            raise ValueError(f"not a numeral: {s!r} (at {ch!r})")
        i += 1
    return out


def _combine(tokens: list[tuple[str, Decimal]], s: str) -> Decimal:
    """Section algorithm: small scales build a section below 10^4, big scales close it."""
    if not any(t in ("small", "big") for t, _ in tokens):
        # 二〇二三 is read digit by digit; a lone Arabic number is itself
        if len(tokens) == 1:
            return tokens[0][1]
        if all(t == "cdigit" for t, _ in tokens):
            return Decimal("".join(str(int(v)) for _, v in tokens))
        raise ValueError(f"not a numeral: {s!r}")
    total = Decimal(0)
    section = Decimal(0)
    number: Decimal | None = None
    last_big: Decimal | None = None
    last_scale: tuple[str, Decimal] | None = None
    prev: str | None = None
    for kind, v in tokens:
        if kind in ("arabic", "cdigit"):
            if number is not None and not (prev == "cdigit" and number == 0):
                raise ValueError(f"two numbers in a row: {s!r}")
            number = v
        elif kind == "small":
            if number is None and prev in ("small",):
                raise ValueError(f"scale after scale: {s!r}")
            section += (number if number is not None else Decimal(1)) * v
            number = None
        else:  # big scale closes the section
            if number is None and section == 0 and total == 0:
                cur = Decimal(1)  # 万亿, 百万 written without a digit mean one of them
            else:
                cur = section + (number or 0)
            if last_big is None or v > last_big:
                total = (total + cur) * v
            else:
                total += cur * v
            last_big = v
            section = Decimal(0)
            number = None
        if kind in ("small", "big"):
            last_scale = (kind, v)
        prev = kind
    if number is not None and prev == "cdigit" and last_scale is not None and len(tokens) >= 2 \
            and tokens[-2][0] in ("small", "big") and number != 0:
        # 一万五 = 15000, 三千五 = 3500: a trailing digit counts in units of the scale below
        number *= last_scale[1] / 10
    return total + section + (number or 0)


def parse_scaled(number: str, scale: str | None) -> Decimal:
    """`parse_number(number + scale)` for an extractor span, without re-tokenising plain Arabic.

    An ASCII number (``7.55``, ``3,654.8``) times its scale word's value (万亿 = 10^12, read once
    through `parse_number` itself) is the same Decimal `parse_number` builds token by token.
    """
    if number.isascii():
        mult = _scale_values().get(scale or "")
        if mult is not None:
            try:
                return as_plain(Decimal(number.replace(",", "")) * mult)  # (﹐ and ， are not ASCII)
            except InvalidOperation:
                pass
    return parse_number(number + (scale or ""))


@cache
def _scale_values() -> dict[str, Decimal]:
    out = {"": Decimal(1)}
    for w in load_lexicon().scale_words:
        out[w] = parse_number("1" + w)
    return out


def parse_number(s: str) -> Decimal:
    """Parse a numeral string to an exact Decimal.

    Accepts Arabic (``3,654.8``, full-width ``１２``), Chinese (``一千四百万``, ``两千``, ``十二``,
    ``一百零五``, Traditional ``三萬``), mixed (``1.5万亿``, ``7.55亿``) and bare scales (``万亿``).
    Raises ValueError on anything else, including an empty string.
    """
    if not isinstance(s, str):
        raise ValueError(f"not a string: {s!r}")
    return _parse(s)


@lru_cache(maxsize=8192)
def _parse(s: str) -> Decimal:
    _, _, _, fw = _tables()
    t = (s if s.isascii() else s.translate(fw)).strip()
    if not t:
        raise ValueError("empty numeral")
    point = next((p for p in load_lexicon().decimal_points if p in t), None)
    if point:
        # 三点五亿 -> 3.5 then the scale
        head, _, rest = t.partition(point)
        digits = load_lexicon().digits
        frac = ""
        j = 0
        while j < len(rest) and rest[j] in digits:
            frac += str(digits[rest[j]])
            j += 1
        if not head or not frac:
            raise ValueError(f"not a numeral: {s!r}")
        whole = _combine(_tokens(head), s)
        if whole != whole.to_integral_value():
            raise ValueError(f"not a numeral: {s!r}")
        base = Decimal(f"{int(whole)}.{frac}")
        tail = _tokens(rest[j:])
        if any(k != "big" and k != "small" for k, _ in tail):
            raise ValueError(f"not a numeral: {s!r}")
        return as_plain(_combine([("arabic", base), *tail], s) if tail else base)
    tokens = _tokens(t)
    if tokens[0][0] == "arabic" and len(tokens) > 1 and not _mixed_ok(tokens):
        raise ValueError(f"not a numeral: {s!r}")
    try:
        value = _combine(tokens, s)
    except InvalidOperation as exc:
        raise ValueError(f"not a numeral: {s!r}") from exc
    return as_plain(value)


def _mixed_ok(tokens: list[tuple[str, Decimal]]) -> bool:
    """An Arabic number followed by more numbers: only Hong Kong's 2億1千7百萬, where every later
    number is a whole Arabic number below 10^4 written before a scale character (5万3 and 1亿二千
    stay ambiguous or mixed-script, and are refused)."""
    for i, (kind, v) in enumerate(tokens[1:], 1):
        if kind == "cdigit":
            return False
        if kind == "arabic" and (v != v.to_integral_value() or v >= 10000 or i + 1 == len(tokens)
                                 or tokens[i + 1][0] == "arabic"):
            return False
    return True


def as_plain(value: Decimal) -> Decimal:
    """`value` without exponent notation (Decimal('7.55E+8') -> Decimal('755000000'))."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
