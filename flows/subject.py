"""Where a subject (what a figure measures) starts: past list, footnote and heading debris, and
past the bank that states it (the entity is a field of its own).

`flows.normalise` cuts the clause before a number; these helpers move the start of that cut so
that "[5] 资产质量 - 北京银行不良贷款率" reads 不良贷款率. Marks and words are rules
(`rules/subject.toml`: segment_marks).
"""
from __future__ import annotations

import re
from functools import cache

from flows.lexicon import load_lexicon, one_of_chars


@cache
def _segment_marks() -> tuple[re.Pattern, re.Pattern | None]:
    """The marks, and a class of the characters every mark holds one of (most subjects hold none)."""
    pattern = load_lexicon().segment_marks
    chars = one_of_chars(pattern)
    gate = None if chars is None else re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")
    return re.compile(pattern), gate


def after_segment_marks(m: str, a: int, b: int) -> int:
    """Start of the last segment of m[a:b]: after its last footnote marker, bullet or dash."""
    marks, gate = _segment_marks()
    if gate is not None and gate.search(m, a, b) is None:
        return a  # no mark can match without one of these characters
    start = a
    for x in marks.finditer(m, a, b):
        start = x.end()
    return start


def after_last_bank(entities: list[tuple[int, int, str | None]], a: int, b: int) -> int:
    """Start after the last bank named inside m[a:b] (另一家…巨头上海农商银行实现营业收入 ->
    实现营业收入), when something of the subject is left after it; `entities` are (start, end,
    code) hits in text order."""
    start = a
    for s, e, code in entities:
        if s >= b:
            break
        if code is not None and s >= a and e < b:
            start = e
    return start


_OPENERS = "“「『"
_QUOTED = re.compile(r"[“「『]([^”」』“「『\n，,。；;]{2,16})[”」』]")  # starts with one of _OPENERS


def quoted_names(m: str) -> list[tuple[int, int]]:
    """(start, end) of every quoted name (“工小智”, 「天天盈」), inside the quote marks.

    The name holds no opening mark, so the matches are those tried at each opening mark: found
    with str.find, which is cheaper than the regex engine's search over every character."""
    opens = sorted(p for q in _OPENERS for p in _positions(m, q))
    out = []
    for p in opens:
        x = _QUOTED.match(m, p)
        if x is not None:
            out.append((x.start(1), x.end(1)))
    return out


def _positions(m: str, ch: str) -> list[int]:
    out = []
    p = m.find(ch)
    while p >= 0:
        out.append(p)
        p = m.find(ch, p + 1)
    return out


@cache
def _generic() -> re.Pattern:
    from flows.lexicon import alternation
    return re.compile(rf"(?:{alternation(load_lexicon().generic_heads)})(?:数|数量|总数|人数)?")


def product_prefix(m: str, quotes: list[tuple[int, int]], subject: str, floor: int,
                   pos: int) -> tuple[int, int] | None:
    """The quoted product a generic subject is about: the last quote in [floor, pos), when the
    subject says only what kind of thing was counted; (start, end) of the name."""
    if not _generic().fullmatch(subject):
        return None
    name = None
    for s, e in quotes:
        if s >= pos:
            break
        if s >= floor:
            name = (s, e)
    if name is None or m[name[0]:name[1]] in subject:
        return None
    return name


_ITEM_SEP = re.compile(r"[、，, ]+")  # not 和/及/与: they stand inside words (参与者)
_RESPECTIVELY = "分别"


def respective_parts(m: str, a: int, b: int, k: int) -> tuple[tuple[int, int] | None, tuple[int, int]] | None:
    """The k-th figure of "A、B、C净息差分别为x、y、z" measures item k with the shared tail:
    (item span, tail span) for A净息差, or (None, item span) when nothing is shared; None when the
    subject is not a list followed by 分别 or has fewer than k + 1 items."""
    if not m.startswith(_RESPECTIVELY, b) and not m.startswith(_RESPECTIVELY, b + 1):
        return None
    parts: list[tuple[int, int]] = []
    pos = a
    for x in _ITEM_SEP.finditer(m, a, b):
        if x.start() > pos:
            parts.append((pos, x.start()))
        pos = x.end()
    if pos < b:
        parts.append((pos, b))
    if len(parts) < 2 or k >= len(parts):
        return None
    width = parts[0][1] - parts[0][0]
    last = parts[-1]
    tail = (last[0] + width, last[1]) if last[1] - last[0] > width + 1 else None
    item = parts[k] if k < len(parts) - 1 or tail is None else (last[0], last[0] + width)
    return (item, tail) if tail is not None else (None, item)
