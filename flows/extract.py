"""Find quantity spans in clean text, with offsets; no values (those are `flows.normalise`'s job).

Matching runs on a *matching copy* of the text: Traditional converted to Simplified and
full-width digits/％/．/， folded to ASCII, one character for one character, so every offset found
in the copy points at the same character of the stored text.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from flows.lexicon import Lexicon, alternation, leading_literals, load_lexicon, matches_from
from flows.script import to_simplified

_ASCII_DIGIT = re.compile(r"\d")
SENTENCE_ENDS = "。！？；!?;\n"
FULL_SENTENCE_ENDS = "。！？!?\n"  # a period phrase in an earlier clause reaches across ；
# a colon is not a clause end: in "个人客户数：7.55亿户" the label before it is the subject
CLAUSE_ENDS = "，,；;" + FULL_SENTENCE_ENDS
CLOSERS = "”’」』）)】》\"'"  # stay with the sentence they close


class Span(NamedTuple):
    """A quantity found in the text: where it is and how it is built, not what it is worth.

    `start`/`end` index the stored text (and the matching copy). `number` is the numeral as
    written in the matching copy (``7.55``, ``一千四百万``, ``万亿``, ``2亿1千7``); `scale` the
    scale word after it; `infix` any 余/多/几 inside; `unit_word` the unit as matched and
    `unit_class` one of currency | subunit | percent | pp | bp | times | tenths | count | None
    (bare). For a ratio in words (每3笔业务中，就有一笔) and a fraction (三分之一, 1/3) `kind` is
    'ratio', `number` the part and `denominator` the whole. `tenth` is the digit after 成
    (三成五 = 35 percent).
    """

    start: int
    end: int
    kind: str  # 'number' | 'ratio' | 'fixed' (a change in words: 翻了一番, `number` its percent)
    number: str
    scale: str | None = None
    infix: str | None = None
    unit_word: str | None = None
    unit_class: str | None = None
    denominator: str | None = None
    prefix_unit: bool = False  # unit written before the number: 百分之三十
    scale_start: int | None = None  # where `scale` sits, to read it back as written
    tenth: str | None = None  # 三成五: the 五


def _new_span(cls: type, start: int, end: int, kind: str, number: str, scale: str | None = None,
              infix: str | None = None, unit_word: str | None = None, unit_class: str | None = None,
              denominator: str | None = None, prefix_unit: bool = False, scale_start: int | None = None,
              tenth: str | None = None) -> object:
    """Span.__new__, compiled: the one NamedTuple generates runs in the interpreter."""
    return tuple.__new__(cls, (start, end, kind, number, scale, infix, unit_word, unit_class, denominator,
                               prefix_unit, scale_start, tenth))


if Span._fields == ("start", "end", "kind", "number", "scale", "infix", "unit_word", "unit_class",
                    "denominator", "prefix_unit", "scale_start", "tenth") and \
        Span._field_defaults == {"scale": None, "infix": None, "unit_word": None, "unit_class": None,
                                 "denominator": None, "prefix_unit": False, "scale_start": None,
                                 "tenth": None}:  # else (a field added) the generated one stays
    setattr(Span, "__new__", _new_span)


def matching_copy(text: str) -> str:
    """Simplified, ASCII-folded copy of `text` with exactly the same length; the character
    variants OpenCC leaves (呆帐, 資産: metric_words.toml [variants]) folded too."""
    out = to_simplified(text)
    pairs = _fold_pairs()
    if pairs is not None:
        for k, v in pairs:  # a few C scans; str.translate looks every character up in a dict
            if k in out:
                out = out.replace(k, v)
    else:
        items = _fold_items()
        if _fullwidth_re(items).search(out):  # most articles have none: skip the slow translate
            out = out.translate(_fullwidth_table(items))
    if len(out) != len(text):  # guaranteed by the fold; keep the invariant loud
        raise AssertionError("matching copy changed length")
    return out


@cache
def _fold_items() -> tuple[tuple[str, str], ...]:
    """numerals.toml [fullwidth] and metric_words.toml [variants]: what the matching copy folds."""
    lex = load_lexicon()
    return (*lex.fullwidth.items(), *lex.metric_words.variants.items())


@cache
def _fold_pairs() -> tuple[tuple[str, str], ...] | None:
    """The fold as (character, replacement) pairs when replacing them one after the other is the
    translate: single characters, no replacement folded again; else None."""
    items = _fold_items()
    if all(len(k) == 1 and len(v) == 1 and v not in dict(items) for k, v in items):
        return items
    return None


@cache
def _fullwidth_re(items: tuple[tuple[str, str], ...]) -> re.Pattern:
    return re.compile("[" + "".join(re.escape(k) for k, _ in items) + "]")


@cache
def _fullwidth_table(items: tuple[tuple[str, str], ...]) -> dict[int, str]:
    return str.maketrans(dict(items))


@dataclass(frozen=True)
class _Patterns:
    main: re.Pattern
    mixed: re.Pattern  # `main` for 2億1千7百萬: tried only where a scale word is followed by a digit
    percent_prefix: re.Pattern
    ratio: re.Pattern
    idioms: re.Pattern
    unit_class: dict[str, str]
    cn_chars: frozenset[str]
    digit_chars: frozenset[str]
    big_chars: frozenset[str]
    qualifier_before: re.Pattern
    qualifier_after: re.Pattern  # 以上, 以下 right after a unit: 千万户以下
    not_after: re.Pattern
    fixed: re.Pattern | None
    fraction: re.Pattern  # 三分之一, 千分之五
    fraction_mark: re.Pattern  # 分之: a plain literal search (finds the rare documents fast)
    fraction_ends: str  # the last characters of the marks (之)
    slash: re.Pattern  # 1/3
    symbol: re.Pattern  # HK$2.5亿
    symbol_marks: str  # the last characters of the symbols ($): one cheap test for most texts
    subunit_cue: re.Pattern  # 每股派 before 19.7分
    clause_mark: re.Pattern
    arabic_end: re.Pattern  # an Arabic number that ends where the search ends
    lower_gate: re.Pattern  # 0.04-0.23: a digit, a bare lower bound mark, a digit
    shared_gate: re.Pattern  # 个和4
    menu: re.Pattern  # a run of short bulleted lines: a menu of other headlines
    menu_gate: re.Pattern  # any bullet: one scan instead of one per bullet character
    table_marker: re.Pattern | None  # (%) in a column header
    table_row: re.Pattern  # 淨利差 1.33 1.50 1.81 1.94
    table_cell: re.Pattern
    share: re.Pattern | None  # 一半, 过半: a share in words
    share_marks: str  # the characters every share word holds (半): one test skips most texts
    list_gate: re.Pattern  # 0.09和1.30: a list mark before a digit (the digit before it is tested apart:
    # a pattern opening with a lookbehind is tried at every position, one opening with a literal is not)


@cache
def patterns() -> _Patterns:
    """All extraction regexes, built from the lexicon's named parts and compiled once."""
    lex: Lexicon = load_lexicon()
    cn_chars = set(lex.digits) | set(lex.small_scales) | set(lex.big_scales)
    cn_class = "[" + "".join(sorted(cn_chars)) + "]"
    cn = cn_class + "+"  # 一千四百万, 两千, 万亿
    cn_frac = (f"(?:(?:{alternation(lex.decimal_points)})[" + "".join(sorted(lex.digits)) + "]+"
               "[" + "".join(sorted(lex.big_scales)) + "]*)?")  # 十二点五, 三点五亿
    arabic = r"\d+(?:[,，﹐]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"  # 3,654.8 | 7.55 | 3000 | 1，000 | 287﹐139
    scale = alternation(lex.scale_words)  # 万亿 | 亿 | 万 ...
    infix = alternation(lex.over_infix)  # 余 | 多
    unit_class: dict[str, str] = {}
    for group, words in (("count", lex.count_words), ("currency", lex.currencies),
                         ("subunit", lex.currency_subunits),
                         ("percent", lex.percent), ("pp", lex.pp), ("bp", lex.bp),
                         ("times", lex.times), ("tenths", lex.tenths)):
        for w in words:
            unit_class.setdefault(w, group)
    for w, group in list(unit_class.items()):
        for pre in lex.unit_space_after:  # 27 个 bp: PDF conversions space the parts of a unit
            if w.startswith(pre) and len(w) > len(pre):
                unit_class.setdefault(pre + " " + w[len(pre):], group)
    unit = alternation(unit_class)  # 个百分点 | 亿元 ... | 户 | %
    # a unit word opening with a scale word (百分点): that scale word is the unit's, not a scale
    # (下降0.34百分点 is 0.34 pp, not 34 of something)
    unit_tails = sorted({u[len(w):] for u in unit_class for w in lex.scale_words if u.startswith(w) and u != w})
    scale_end = f"(?!{alternation(unit_tails)})" if unit_tails else ""
    scale_chars = "".join(sorted(set(lex.small_scales) | set(lex.big_scales)))
    big_class = "[" + "".join(sorted(lex.big_scales)) + "]"
    # 2億1千7百萬 (Hong Kong): Arabic digits between scale characters. Each inner group of digits
    # must be followed by another scale character, so 1.2万亿1季度 stays 1.2万亿. A second pattern:
    # in the main one the test would cost every 7.55亿 a step, for a form few texts have.
    # 37兆2,948億 (Taiwan); 80億7,700餘萬元: an over-word may stand before the last scale character
    mixed = rf"(?:[{scale_chars}]+(?:\d[,，]\d{{3}}|\d{{1,4}})(?=(?:{infix})?[{scale_chars}]))"
    # digit first: the numeral must be there, everything after it is optional. The pattern
    # starts by consuming the numeral's first character, so the regex engine skips to the next
    # candidate in a tight C loop instead of entering the pattern at every position (a quarter
    # faster than a lookahead gate); `ar` and `cn` hold the rest of the numeral (see find_spans).
    # One optional space between the parts: some sites space Arabic numbers (达 7.55 亿户).
    arabic_rest = r"\d*(?:[,，﹐]\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?"  # `arabic` after its first digit
    def number_pattern(ar_more: str) -> re.Pattern:
        return re.compile(
            rf"[\d{''.join(sorted(cn_chars))}]"
            rf"(?:(?<=\d)(?P<ar>(?:{arabic_rest}){ar_more})(?P<inf1>{infix})?(?: ?(?P<scale>{scale}){scale_end})?"  # 570 余 万
            rf"|(?<={cn_class})(?P<cn>{cn_class}*{cn_frac}))"  # 一千四百万
            rf"(?:(?P<inf2>{infix})(?P<scale2>{big_class}+)?)?"  # 3万 余 名, 二十 多 亿, 三千六百 几 亿
            rf"(?: ?(?P<unit>{unit}))?"  # 名
        )

    main = number_pattern("")
    mixed_main = number_pattern(mixed + "+")
    percent_prefix = re.compile(rf"(?:{alternation(lex.percent_prefix)})(?P<num>{arabic}|{cn}{cn_frac})")  # 百分之十二点五
    count = alternation(lex.count_words)
    ratio = re.compile(  # 每3笔业务中，就有一笔
        rf"(?:{alternation(lex.ratio_per)})(?P<den>{arabic}|{cn})(?P<mw>{count})[^。！？；;!?\n]{{0,16}}?"
        rf"(?:{alternation(lex.ratio_then)})(?P<num>{arabic}|{cn})(?P=mw)?"
    )
    idioms = re.compile(alternation(lex.idioms))
    qualifier_before = re.compile(rf"(?:{alternation(lex.qualifier_prefix)})$")
    not_after = re.compile(rf"(?:{alternation(lex.not_after)})$")
    qualifier_after = re.compile(rf" ?(?:{alternation(lex.qualifier_suffix)})")
    fixed = re.compile(alternation(lex.fixed_changes)) if lex.fixed_changes else None  # 翻了一番
    fraction = re.compile(  # 三分之一: the whole first
        rf"(?P<den>{cn}|\d+)(?:{alternation(lex.fraction_marks)})(?P<num>{cn}{cn_frac}|{arabic})")
    slash = re.compile(r"(?<![0-9A-Za-z./\-:])(?P<num>[1-9])/(?P<den>[1-9]\d?)(?![0-9A-Za-z./\-:%])")
    symbol = re.compile(  # HK$2.5亿
        rf"(?P<sym>{alternation(lex.currency_symbols, ascii_guard=True)}) ?(?P<num>{arabic})"
        rf"(?: ?(?P<scale>{scale}))?")
    subunit_cue = re.compile(alternation(lex.subunit_cues))
    clause_mark = re.compile("[" + re.escape(CLAUSE_ENDS) + "]")
    share = re.compile("".join(rf"(?<!{re.escape(w)})" for w in lex.share_not_after)
                       + rf"(?:{alternation(lex.share_words)})(?!{alternation(lex.share_not_before)})") \
        if lex.share_words else None
    share_marks = "".join(sorted(set.intersection(*[set(w) for w in lex.share_words]))) if lex.share_words else ""
    return _Patterns(main, mixed_main, percent_prefix, ratio, idioms, unit_class, frozenset(cn_chars),
                     frozenset(lex.digits), frozenset(lex.big_scales), qualifier_before, qualifier_after, not_after,
                     fixed, fraction, re.compile(alternation(lex.fraction_marks)),
                     "".join(sorted({w[-1] for w in lex.fraction_marks})), slash, symbol,
                     "".join(sorted({w[-1] for w in lex.currency_symbols})), subunit_cue, clause_mark,
                     re.compile(rf"(?<![\d.,])(?:{arabic})$"),
                     re.compile(rf"(?:{alternation(lex.bare_lower_marks)}) ?(?=\d)"),
                     re.compile(rf"(?:{alternation(lex.shared_unit_heads)})(?:{alternation(lex.list_marks)}) ?\d"),
                     _menu_pattern(lex), re.compile("[" + "".join(re.escape(c) for c in lex.menu_bullets) + "]"),
                     re.compile(alternation(lex.table_units)) if lex.table_units else None,
                     re.compile(r"[^\d\n][^\n]*?(?P<cells>(?: +[-−]?\d[\d,]*(?:\.\d+)?)+) *"),
                     re.compile(r"\d[\d,]*(?:\.\d+)?"), share, share_marks,
                     re.compile(rf"(?:{alternation(lex.list_marks)}) ?(?=\d)"))


def _menu_pattern(lex: Lexicon) -> re.Pattern:
    b = "[" + "".join(re.escape(c) for c in lex.menu_bullets) + "]"
    line = rf" *{b}[^\n{re.escape(CLAUSE_ENDS)}：:]{{0,{lex.menu_max_len}}}"
    return re.compile(rf"(?:^|(?<=\n)){line}(?:\n{line}){{{lex.menu_min_lines - 1},}}(?=\n|$)")


def _keep(p: _Patterns, lex: Lexicon, m: str, start: int, num: str, is_cn: bool, scale: str | None,
          unit_cls: str | None, end: int, unit_word: str | None = None) -> bool:
    """Form-based filters that tell a quantity from a date, code, ordinal or rhetoric."""
    spaced = start > 0 and m[start - 1] == " "
    if spaced:
        if start > 1 and m[start - 2].isdigit():
            return False  # 2 9家: a number a PDF conversion broke, or a cell of a row of bare numbers
        start -= 1  # 超 1400 万户
    before = m[max(0, start - 4):start]
    if before and (before[-1].isascii() and before[-1].isalpha() or before[-1] in "/._#") \
            and not (before[-1] == "/" and _slash_list_item(lex, m, start, unit_cls)) \
            and not (spaced and unit_cls is not None and before[-2:].isascii() and before[-2:].isalpha()):
        return False  # A500, 9.0.1, 1/2: codes, versions and fractions of codes (not EPS 0.99元, ROE 18.78%)
    if len(before) >= 2 and before[-1] in "+-" and before[-2].isascii() and before[-2].isalpha() \
            and not (len(before) >= 3 and before[-3].isascii() and before[-3].isalpha()):
        return False  # T+0.5, T-1: codes (同比-3.28%, YoY+0.7%, 5%-8% and 0.04-0.23个百分点 stay)
    if len(before) >= 2 and before[-1] == "-" and before[-2].isdigit():
        j = start - 1
        while j > 0 and start - j < 24 and (m[j - 1].isdigit() or m[j - 1] == "."):
            j -= 1
        if p.not_after.search(m, max(0, j - 4), j):
            return False  # 第1-3名: a rank range
    if p.not_after.search(before):
        return False  # 第一, 每户
    if unit_cls is None and scale is None and not (is_cn and any(c in p.big_chars for c in num)):
        return False  # a bare number (2019, 9.0, 95588) is never a measurement by itself
    if is_cn:
        has_digit = any(c in p.digit_chars for c in num)
        if has_digit and num[0] in p.big_chars:
            return False  # 万一, 亿万: words, not numerals
        if len(num) > 1 and all(c in p.digit_chars for c in num):
            return False  # 唯一一家, 三五家, 七八个: digits in a row are a word or a vague range, not a count
        if not has_digit and lex.small_scales.get(num[0]) != 10:  # 十余家 counts, 百万 needs 超
            # a bare scale (万亿, 百万) is a quantity only with a qualifier: 近万亿, 超百万, 千万户以下
            return bool(p.qualifier_before.search(m[max(0, start - 4):start])) or (
                unit_cls is not None and p.qualifier_after.match(m, end) is not None)
        if unit_cls == "count" and len(num) == 1 and lex.digits.get(num, 10) < lex.min_bare_chinese and not (
                unit_word in lex.small_count_words and lex.digits.get(num, 0) >= 2):
            return False  # 一家, 两个: rhetoric, not a measurement (四家银行 is a count)
        if unit_cls == "tenths":
            return len(num) == 1
    elif unit_cls == "tenths":
        # 6成以上 = 60 percent: one Arabic digit (成交, 成本 after a digit were dropped above as
        # words; 2023成, 0.5成 are not tenths)
        return len(num) == 1 and num != "0" and not (start > 0 and m[start - 1] == ".")
    return True


def _subunit_context(p: _Patterns, lex: Lexicon, m: str, start: int) -> bool:
    """分 / 角 / 仙 are money only after a dividend cue earlier in the clause (每股派19.7分)."""
    lo = max(0, start - lex.subunit_reach)
    for c in p.clause_mark.finditer(m, lo, start):
        lo = c.end()
    return p.subunit_cue.search(m, lo, start) is not None


def find_spans(text: str, copy: str | None = None) -> list[Span]:
    """All quantity spans in `text`, in order, non-overlapping.

    `copy` is `matching_copy(text)` when the caller already has it.
    """
    lex = load_lexicon()
    p = patterns()
    m = copy if copy is not None else matching_copy(text)
    mask = bytearray(len(m))  # 1 where an idiom or an earlier span already sits
    spans: list[Span] = []

    def free(a: int, b: int) -> bool:
        return mask.find(1, a, b) < 0

    def take(a: int, b: int) -> None:
        mask[a:b] = b"\x01" * (b - a)

    if _matches(p.menu_gate, m):
        for u in p.menu.finditer(m):  # a menu of other headlines: its numbers are not the article's
            lines = u.group().split("\n")
            if 2 * sum(1 for ln in lines if _ASCII_DIGIT.search(ln)) < len(lines):
                take(u.start(), u.end())
    if any(w in m for w in lex.ratio_per):  # rare: skip the scan when the word is absent
        for r in p.ratio.finditer(m):
            spans.append(Span(r.start(), r.end(), "ratio", r.group("num"),
                              unit_word=r.group("mw"), unit_class="percent",
                              denominator=r.group("den")))
            take(r.start(), r.end())
    if p.fixed is not None:
        for f in _matches(p.fixed, m):  # 翻了一番: +100 percent, before 一 is read as a numeral
            if not free(f.start(), f.end()):
                continue
            spans.append(Span(f.start(), f.end(), "fixed", lex.fixed_changes[f.group()],
                              unit_word=f.group(), unit_class="percent"))
            take(f.start(), f.end())
    if p.share is not None and (not p.share_marks or p.share_marks[0] in m):
        for sh in p.share.finditer(m):  # 近一半用户, 贡献了过半的业绩: 50 percent
            if free(sh.start(), sh.end()):
                spans.append(Span(sh.start(), sh.end(), "number", lex.share_words[sh.group()],
                                  unit_word=sh.group(), unit_class="percent", prefix_unit=True))
                take(sh.start(), sh.end())
    for pp in _matches(p.percent_prefix, m):
        if free(pp.start(), pp.end()):
            spans.append(Span(pp.start(), pp.end(), "number", pp.group("num"), unit_word="%",
                              unit_class="percent", prefix_unit=True))
            take(pp.start(), pp.end())
    if any(c in m for c in p.fraction_ends):  # rare: one character test skips most texts
        for k in p.fraction_mark.finditer(m):  # 三分之一 (百分之 was taken above)
            j = k.start()
            while j > 0 and (m[j - 1] in p.cn_chars or m[j - 1].isdigit()):
                j -= 1  # the whole (三, 千, 12) is written before the mark
            fm = p.fraction.match(m, j)
            if fm is not None and free(fm.start(), fm.end()):
                spans.append(Span(fm.start(), fm.end(), "ratio", fm.group("num"), unit_word=None,
                                  unit_class="percent", denominator=fm.group("den")))
                take(fm.start(), fm.end())
    if "/" in m:
        for f in p.slash.finditer(m):  # 约1/3: a small proper fraction, not a date or a page
            a, b = f.span()
            if not free(a, b) or not int(f.group("num")) < int(f.group("den")) <= lex.slash_max_denominator:
                continue
            before, after = m[a - 1:a] if a else "\n", m[b:b + 1] or "\n"
            if m.startswith(lex.slash_not_before, b + (after == " ")) \
                    or p.not_after.search(m, max(0, a - 4), a) \
                    or before == "\n" and after == "\n" or before in "(（[【" and after in ")）]】":
                continue  # 1/3页, 第1/3, a counter alone on its line or in brackets: (1/3)
            spans.append(Span(a, b, "ratio", f.group("num"), unit_class="percent",
                              denominator=f.group("den")))
            take(a, b)
    if any(c in m for c in p.symbol_marks):
        for y in p.symbol.finditer(m):  # HK$2.5亿: the currency written before the number
            if free(y.start(), y.end()):
                sc = y.group("scale")
                spans.append(Span(y.start(), y.end(), "number", y.group("num"), scale=sc,
                                  unit_word=y.group("sym"), unit_class="currency",
                                  scale_start=y.start("scale") if sc else None))
                take(y.start(), y.end())
    # idioms are masked after the unambiguous forms: 百分之一点五 contains the idiom 之一
    for i in p.idioms.finditer(m):
        mask[i.start():i.end()] = b"\x01" * (i.end() - i.start())
    big_chars = p.big_chars
    for x in p.main.finditer(m):
        # A bare number (2019, 9.0) has no scale and no unit and `_keep` would say no: more than
        # half of all candidates. The last group to match tells most of them apart cheaply.
        last = x.lastgroup
        if last == "ar" or last == "inf1" or last == "cn" and big_chars.isdisjoint(x.group()):
            continue
        inf1, scale, inf2, scale2, unit_word = x.group("inf1", "scale", "inf2", "scale2", "unit")
        if scale and unit_word is None and x.end() < len(m) and m[x.end()].isdigit():
            whole = p.mixed.match(m, x.start())  # 2億 then 1千7百萬港元: one numeral
            if whole is not None:
                x = whole
                inf1, scale, inf2, scale2, unit_word = x.group("inf1", "scale", "inf2", "scale2", "unit")
        a, b = x.span()
        is_cn = x.start("ar") < 0
        num = m[a:x.end("cn" if is_cn else "ar")]  # the groups hold the numeral after its first character
        if scale2:  # 二十多亿, 三千六百几亿: the scale after the infix
            if scale:
                num = m[a:x.end("scale")]  # 2亿1千多万: the first scale belongs to the numeral
            scale = scale2
        if unit_word is None and scale is None and (not is_cn or big_chars.isdisjoint(num)):
            continue  # the rest of the bare numbers (十余)
        if mask.find(1, a, b) >= 0:
            continue
        unit_cls = p.unit_class.get(unit_word) if unit_word else None
        if unit_word and (b < len(m) and (
                m[b] in lex.unit_not_before.get(unit_word, ())
                or unit_cls == "tenths" and m[b] in lex.tenths_not_before)
                or unit_cls == "subunit" and not _subunit_context(p, lex, m, a)):
            unit_word = unit_cls = None  # 个人, 家庭, 成为: the unit starts a word; 3分 is no money
            b = x.start("unit")
            while b > a and m[b - 1] == " ":
                b -= 1
        if not _keep(p, lex, m, a, num, is_cn, scale, unit_cls, b, unit_word):
            continue
        if unit_word is None and inf2 and not scale2 and (
                scale is None and big_chars.isdisjoint(num)
                or b < len(m) and m[b] in lex.over_infix_not_before):
            b = x.start("inf2")  # a bare number ends at its numeral or scale, not at 余/多 ...
            inf2 = None  # ... unless they follow its scale word: 客户6亿多 (over 600 million)
        tenth = None
        if unit_cls == "tenths" and b < len(m) and (m[b] in p.digit_chars or m[b] in lex.tenths_half) and (
                b + 1 == len(m) or m[b + 1] not in p.cn_chars
                and m[b + 1] not in lex.tenths_digit_not_before):
            tenth = m[b]  # 三成五 = 35 percent, 一成半 = 15
            b += 1
        infix = (inf1 or "") + (inf2 or "") or None
        span = Span(a, b, "number", num, scale=scale, infix=infix, unit_word=unit_word,
                    unit_class=unit_cls,
                    scale_start=x.start("scale2" if scale2 else "scale") if scale else None)
        # (a keyword argument costs every span: the rare 三成五 pays for its own)
        spans.append(span if tenth is None else span._replace(tenth=tenth))
        mask[a:b] = b"\x01" * (b - a)
    if p.table_marker is not None and _matches(p.table_marker, m):
        spans.extend(_table_cells(p, lex, m, mask))
    spans.sort(key=lambda s: s.start)
    return _scaled_list_units(lex, m, _bare_list_items(p, lex, m, mask, _shared_units(p, lex, m, _bare_lower_bounds(p, lex, m, mask, spans))))


def _table_cells(p: _Patterns, lex: Lexicon, m: str, mask: bytearray) -> list[Span]:
    """The cells of a table whose unit is written in its column headers (units.toml [tables])."""
    assert p.table_marker is not None
    out: list[Span] = []
    done = -1
    for x in p.table_marker.finditer(m):
        ls = m.rfind("\n", 0, x.start()) + 1
        le = m.find("\n", x.end())
        le = len(m) if le < 0 else le
        if ls <= done:
            continue  # the rest of a header line already read
        done = le
        marks = [y.group() for y in p.table_marker.finditer(m, ls, le)]
        if len(marks) < 2:
            continue
        word = lex.table_units[marks[0]]
        cls = p.unit_class.get(word)
        pos, rows = le + 1, 0
        while pos < len(m) and rows < lex.table_max_rows:
            end = m.find("\n", pos)
            end = len(m) if end < 0 else end
            line = m[pos:end]
            if line.strip(" -—=_") == "":
                if line.strip() == "":
                    break  # a blank line ends the table; a line of dashes does not
                pos = end + 1
                continue
            r = p.table_row.fullmatch(m, pos, end)
            if r is None:
                break
            cells = list(p.table_cell.finditer(m, r.start("cells"), r.end("cells")))
            if len(cells) > len(marks):
                break
            for c in cells:
                if mask.find(1, c.start(), c.end()) < 0:
                    out.append(Span(c.start(), c.end(), "number", c.group(), unit_word=marks[0],
                                    unit_class=cls, prefix_unit=True))
            rows += 1
            pos = end + 1
    return out


def _span_start(sp: Span) -> int:
    return sp.start


@cache
def _first_chars(pattern: str) -> str | None:
    return leading_literals(pattern)


def _matches(p: re.Pattern, m: str) -> list[re.Match[str]]:
    """`list(p.finditer(m))`, from the places of its first characters when the pattern says
    which (a few str.find runs instead of the engine testing every character of the text)."""
    firsts = _first_chars(p.pattern)
    return list(p.finditer(m)) if firsts is None else matches_from(p, firsts, m)


def _bare_lower_bounds(p: _Patterns, lex: Lexicon, m: str, mask: bytearray, spans: list[Span]) -> list[Span]:
    """下降0.04-0.23个百分点: the bare number before a range mark and a number with a unit is a
    quantity too (the range's lower bound; it takes the unit in flows.normalise)."""
    out: list[Span] | None = None
    firsts = _first_chars(p.lower_gate.pattern)
    for y in p.lower_gate.finditer(m) if firsts is None else matches_from(p.lower_gate, firsts, m):
        # a digit, a range mark, a digit: rare, found from the marks' places
        a = y.end()
        if not mask[a] or y.start() == 0 or not m[y.start() - 1].isdigit():
            continue  # no span starts there (2024-11-05, 1-9月)
        k = bisect.bisect_left(spans, a, key=_span_start)
        if k == len(spans) or spans[k].start != a or spans[k].unit_class is None:
            continue
        sp = spans[k]
        for mark in lex.bare_lower_marks:
            if m.startswith(mark, a - len(mark)):
                x = _bare_number_before(p, m, mask, a - len(mark))
                if x is not None:
                    if out is None:
                        out = list(spans)
                    lo = Span(x.start(), x.end(), "number", x.group())
                    if sp.scale is not None:  # 20-30亿元: 20亿
                        lo = lo._replace(scale=sp.scale, scale_start=sp.scale_start)
                    out.append(lo)
                break
    if out is None:
        return spans
    out.sort(key=lambda s: s.start)
    return out


def _slash_list_item(lex: Lexicon, m: str, start: int, unit_cls: str | None) -> bool:
    """9.5%/11.61%, 分别提升7/4/9bp: a figure after a slash that continues a list of figures (a
    figure with its unit before the slash, or a unit of its own in a clause that says 分别), not
    the denominator of a fraction or a code."""
    if start >= 2 and m[start - 2] in "%％":
        return True
    for w in lex.times:  # 0.47X/0.41X/0.36X: a multiple with its unit before the slash
        k = start - 1 - len(w)
        if k >= 1 and m.startswith(w, k) and m[k - 1].isdigit():
            return True
    if unit_cls is None or start < 2 or not m[start - 2].isdigit():
        return False
    return _list_opened(lex, m, start, 24)


def _list_opened(lex: Lexicon, m: str, pos: int, reach: int) -> bool:
    """A word that deals figures out in order (units.toml shared_list_openers: 分别, 依次) stands
    in the clause before `pos`, within `reach` characters."""
    clause = m[max(0, pos - reach):pos]
    cut = max(clause.rfind(c) for c in CLAUSE_ENDS)
    return any(w in clause[cut + 1:] for w in lex.shared_list_openers)


def _bare_number_before(p: _Patterns, m: str, mask: bytearray, end: int) -> re.Match[str] | None:
    """The Arabic number ending at `end` that no span holds and no Latin letter runs into (the
    bare 0.04 of 0.04-0.23个百分点, the 0.09 of 0.09和1.30个百分点), or None."""
    x = p.arabic_end.search(m, max(0, end - 24), end)
    if x is None or mask.find(1, x.start(), x.end()) >= 0 or (
            x.start() > 0 and m[x.start() - 1].isascii() and m[x.start() - 1].isalpha()):
        return None
    return x


def _bare_list_items(p: _Patterns, lex: Lexicon, m: str, mask: bytearray, spans: list[Span]) -> list[Span]:
    """分别提高0.09和1.30个百分点: after 分别 in its clause, the bare number before a list mark and a
    number with a unit (units.toml shared_list_classes) is a quantity too, in that unit and scale;
    taken from the right, so 分别为1、2和3亿元 gives each its 亿元."""
    if not any(w in m for w in lex.shared_list_openers):
        return spans
    out: list[Span] | None = None
    for y in reversed(list(p.list_gate.finditer(m))):
        if y.start() == 0 or not m[y.start() - 1].isdigit():
            continue
        a = y.end()
        cur = spans if out is None else out
        k = bisect.bisect_left(cur, a, key=_span_start)
        if k == len(cur) or cur[k].start != a or cur[k].unit_class not in lex.shared_list_classes:
            continue
        sp = cur[k]
        x = _bare_number_before(p, m, mask, y.start())
        if x is None:
            continue
        if not _list_opened(lex, m, x.start(), 16):
            continue
        if out is None:
            out = list(spans)
        out.insert(k, Span(x.start(), x.end(), "number", x.group(), sp.scale, None, sp.unit_word, sp.unit_class,
                           scale_start=sp.scale_start))
        mask[x.start():x.end()] = b"\x01" * (x.end() - x.start())
    return spans if out is None else out


def _scaled_list_units(lex: Lexicon, m: str, spans: list[Span]) -> list[Span]:
    """金额为1,317亿、2,852亿、6亿及210亿澳门元: scaled figures listed right before one that writes
    its currency are in that currency (taken from the right, through the whole list)."""
    for k in range(len(spans) - 2, -1, -1):
        sp, nx = spans[k], spans[k + 1]
        if sp.unit_class is None and sp.scale is not None and sp.kind == "number" \
                and nx.unit_class == "currency" and nx.scale is not None and not nx.prefix_unit \
                and m[sp.end:nx.start].strip() in lex.list_marks:
            spans[k] = sp._replace(unit_word=nx.unit_word, unit_class=nx.unit_class)
    return spans


def _shared_units(p: _Patterns, lex: Lexicon, m: str, spans: list[Span]) -> list[Span]:
    """下降3.01个和4.3个百分点: a number ending in a unit head (个) before a list mark and a number
    whose unit goes on from that head shares the longer unit."""
    heads = lex.shared_unit_heads
    if p.shared_gate.search(m) is None:  # 个和4: one scan rejects most texts
        return spans
    for k in range(len(spans) - 1):
        w = spans[k].unit_word
        if w is None or w not in heads:
            continue
        sp, nx = spans[k], spans[k + 1]
        nw = nx.unit_word
        if nw is not None and len(nw) > len(w) \
                and nw.startswith(w) and m[sp.end:nx.start] in lex.list_marks:
            spans[k] = sp._replace(unit_word=nw, unit_class=nx.unit_class)
    return spans


def split_sentences(text: str, ends: str = SENTENCE_ENDS) -> list[tuple[int, int]]:
    """(start, end) of each sentence; the end mark and any closing quotes stay with it.

    Leading and trailing whitespace is left out, empty sentences dropped.
    """
    return [x.span() for x in _sentence_re(ends).finditer(text)]


_CLAUSE_ONLY_ENDS = "".join(c for c in SENTENCE_ENDS if c not in FULL_SENTENCE_ENDS)  # ；;


def full_sentences(text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`split_sentences(text, FULL_SENTENCE_ENDS)`, from `sentences` = `split_sentences(text)`.

    A sentence that ends with ； (closing quotes aside) runs on into the next one unless a line
    feed lies between them: one pass over the spans instead of a second scan of the text.
    """
    out: list[tuple[int, int]] = []
    runs_on = False
    for s, e in sentences:
        if runs_on and text.find("\n", out[-1][1], s) < 0:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
        body = text[s:e].rstrip(CLOSERS)
        runs_on = body != "" and body[-1] in _CLAUSE_ONLY_ENDS
    return out


@cache
def _sentence_re(ends: str) -> re.Pattern:
    # A sentence starts at its first non-space character and ends with its end mark and closing
    # quotes, or at its last non-space character before a newline or the end of the text; an
    # end mark after only whitespace is a sentence of its own. Matching the trimmed span directly
    # spares a Python step per sentence.
    marks = ends.replace("\n", "")
    e, c = re.escape(ends), re.escape(CLOSERS)
    mark = f"[{re.escape(marks)}][{c}]*" if marks else "(?!)"
    return re.compile(rf"[^{e}\s](?:[^{e}]*(?:{mark}|[^{e}\s]))?|{mark}")
