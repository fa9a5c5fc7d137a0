"""Spans to normalised mentions: value, unit, qualifier, kind, period, subject, metric, entity.

`extract_mentions(text, ctx)` is the public entry point. It is pure: everything it reads comes
from its arguments and the rule tables (`flows.lexicon`), which are loaded once per process.
Every document-wide scan (cue words, period phrases, bank names) runs once as a single regex
over the matching copy; each span then looks up what lies in its clause and sentence.
"""
from __future__ import annotations

import flows.lexicon as bisect  # bisect_left/bisect_right: compiled, over lists of ints, called directly
from flows.lexicon import char_positions, one_of_chars
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from flows import attribution, metric_match
from flows.context import PeriodHit as _PeriodHit
from flows.context import PeriodState as _PeriodState
from flows.context import (document_year, frame_state, mark_sources, period_hits, period_state, results_frame,
                           scan_periods)
from flows.extract import (CLAUSE_ENDS, Span, find_spans, full_sentences, matching_copy,
                           split_sentences)
from flows.lexicon import Lexicon, MetricRule, alternation, load_lexicon
from flows.subject import (abbreviation_after, after_headline_gap, shared_share_item, drop_glosses, drop_period_lead, ranking_measure, signed_change_of, launched_service, one_in_phrase, share_of_whole, topic_hits, with_topic, after_last_bank, change_tail, comparison_topic, full_name,
                           measure_after, more_than_before, ITEM_SEP_WIDE, after_segment_marks, change_suffix, counted_phrase,
                           drop_possessive, drop_time_words, inherit_sibling, product_prefix,
                           quoted_names, resolve_anaphora, respective_parts, strip_display_lead,
                           after_place_frame, measure_of, measure_tail, only_institution,
                           opens_with_basis, opens_with_share, sentence_topic)
from flows.models import DocContext, Mention
from flows.numerals import as_plain, parse_number, parse_scaled
from flows.values import (DocCurrency, adjacent_direction, document_currency, improvement_direction,
                          span_currency)

_QUOTES = "“”\"'‘’「」『』《》〈〉()（）【】[]"
_NOT_MONEY = frozenset({"count", "percent", "pp", "times"})
_PUNCT = frozenset(_QUOTES + "、,，;；:：.。!！?？ \t-—•·●○■□◆◇▪▶►*")  # a set: tested once per character trimmed
_HUNDRED = Decimal(100)
_ASCII_DIGIT = re.compile(r"\d")
# a page's address often carries its date (/2022/0831/, /2011/08-17/, /2021-05-06/, /20190312/):
# the publication date of a page whose sidecar states none
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?=[/._-]|\d{0,6}[/._])")


def url_date(url: str | None) -> date | None:
    """The date in a page's address, if it has one that is a real day."""
    if not url:
        return None
    for x in _URL_DATE.finditer(url):
        try:
            return date(int(x.group(1)), int(x.group(2)), int(x.group(3)))
        except ValueError:
            continue
    return None
_HAN2 = re.compile("[\u4e00-\u9fff]{2}")
_CLAUSE_MARK = re.compile("[" + re.escape(CLAUSE_ENDS) + "]")
# cue classes that make a number a change
_CHANGE_CUES = frozenset({"basis", "pos", "neg", "better", "worse"})
_DIRECTIONS = frozenset({"pos", "neg", "better", "worse"})


# ---------------------------------------------------------------- compiled document-wide scans


@dataclass(frozen=True)
class _Scanners:
    cues: re.Pattern
    cue_class: dict[str, frozenset[str]]
    subject_lead: re.Pattern
    subject_stop: re.Pattern
    qualifier_before: re.Pattern
    qualifier_suffixes: tuple[str, ...]
    flow_over_stock: re.Pattern  # any of the words, anywhere: one C scan instead of a loop of `in`
    flow_verbs: re.Pattern
    stock_names: re.Pattern  # taken out of a subject before flow_over_stock is looked for
    change_head: re.Pattern  # a growth-rate subject ends in one (营收增速)
    change_head_any: re.Pattern  # …增幅超过10%的有A、B，分别为12.12%、11.16%: anywhere in the clause
    change_head_after: re.Pattern  # 以14.5%的增速居首: right after the number
    stock_words: re.Pattern
    subject_cut: re.Pattern
    enumeration: re.Pattern
    topic: re.Pattern
    topic_attribute: re.Pattern
    heading_marker: re.Pattern


def _topic_pattern(frames: tuple[str, ...]) -> re.Pattern:
    # one alternation; each frame's `topic` group renamed so the names stay unique
    parts = [p.replace("(?P<topic>", f"(?P<topic{i}>") for i, p in enumerate(frames)]
    return re.compile("|".join(f"(?:{p})" for p in parts))


@cache
def scanners() -> _Scanners:
    """Document-wide regexes built from the lexicon, compiled once per process."""
    lex = load_lexicon()
    classes: dict[str, set[str]] = {}
    for name, words in (("pos", lex.positive), ("neg", lex.negative), ("nodir", lex.not_direction),
                        ("better", lex.better), ("worse", lex.worse),
                        ("same", (lex.currency_same_marker,)),  # 下同: for flows.values
                        ("basis", lex.basis), ("flow", lex.flow_words),
                        ("cum", lex.cumulative_words), ("stock", lex.stock_words)):
        for w in words:
            classes.setdefault(w, set()).add(name)
    cue_class = {w: frozenset(c) for w, c in classes.items()}
    return _Scanners(
        cues=re.compile(alternation(cue_class)),
        cue_class=cue_class,
        subject_lead=re.compile(rf"(?:{alternation(lex.lead_words)})"),
        subject_stop=re.compile(alternation(lex.stop_after)),
        qualifier_before=re.compile(rf"(?P<q>{alternation(lex.qualifier_prefix)})(?:{alternation(lex.qualifier_particles)})?$"),
        qualifier_suffixes=tuple(lex.qualifier_suffix),
        flow_over_stock=re.compile(alternation(lex.flow_over_stock) or "(?!)"),
        flow_verbs=re.compile(alternation(lex.flow_verbs) or "(?!)"),
        stock_names=re.compile(alternation(lex.stock_names) or "(?!)"),
        change_head=re.compile(rf"(?:{alternation(lex.change_heads)})$"),
        change_head_any=re.compile(alternation(lex.change_heads)),
        change_head_after=re.compile(rf" ?的?(?:{alternation(lex.change_heads)})"),
        stock_words=re.compile(alternation(lex.stock_words) or "(?!)"),
        subject_cut=re.compile(alternation(lex.cut_at)),
        enumeration=re.compile(rf"(?:{alternation(lex.enumeration)})*"),
        topic=_topic_pattern(lex.topic_frames),
        topic_attribute=re.compile(alternation(lex.topic_attributes)),
        heading_marker=re.compile(lex.heading_marker),
    )


def _dates_between(d: _Doc, a: int, b: int) -> _PeriodState:
    """`_period_state` of the period phrases within [a, b) (as `_between` selects them).

    The mentions of a paragraph mostly see the same phrases: the state is built once per run of
    phrases and shared (read only).
    """
    lo = bisect.bisect_left(d.period_starts, a)
    hi = bisect.bisect_left(d.period_starts, b)
    if hi > lo and d.periods[hi - 1].end > b:
        hi -= 1
    st = d.states.get((lo, hi))
    if st is None:
        st = d.states[(lo, hi)] = period_state(d.periods[lo:hi])
    return st


# ---------------------------------------------------------------- per document index


@dataclass
class _Doc:
    text: str
    m: str
    ctx: DocContext
    sentences: list[tuple[int, int]]
    sent_starts: list[int]
    full: list[tuple[int, int]]
    full_starts: list[int]
    cues: list[tuple[int, int, frozenset[str]]]
    cue_starts: list[int]
    periods: list[_PeriodHit]
    period_starts: list[int]
    entities: list[tuple[int, int, str | None]]
    entity_starts: list[int]
    institutions: attribution.Institutions  # who each figure can belong to (flows/attribution.py)
    title_end: int
    lead_as_of: date | None
    skip_at: dict[int, int]
    title_repeats: list[tuple[int, int]]
    bases: list[_PeriodHit]
    base_starts: list[int]
    span_starts: list[int]
    span_ends: list[int]
    headings: dict[int, tuple[int, tuple[int, int] | None] | None]
    clause_marks: list[int]
    frame: _PeriodHit | None = None  # the document's reporting period (flows.context)
    quotes: list[tuple[int, int]] = field(default_factory=list)  # quoted names (flows.subject)
    states: dict[tuple[int, int], _PeriodState] = field(default_factory=dict)  # see _dates_between
    currency: DocCurrency | None = None  # what a bare 元 is in (flows.values); None: CNY
    continues: dict[int, bool] = field(default_factory=dict)  # paragraph start -> see _continues
    name_hits: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # see _sentence_name
    topics: list[tuple[int, int]] = field(default_factory=list)  # topic nouns (flows.subject.with_topic)
    topic_starts: list[int] = field(default_factory=list)


def _index(text: str, m: str, ctx: DocContext, spans: list[Span]) -> _Doc:
    lex = load_lexicon()
    sc = scanners()
    sentences = split_sentences(m)
    full = full_sentences(m, sentences)
    cues = [(x.start(), x.end(), sc.cue_class[x.group()]) for x in sc.cues.finditer(m)]
    found = scan_periods(m)
    periods, bases = period_hits(m, ctx, found)
    title_end = m.find("\n")
    title_end = len(m) if title_end < 0 else title_end
    if ctx.published_at is None and (on_url := url_date(ctx.url)) is not None:
        ctx = replace(ctx, published_at=on_url, published_precision="day")
        periods, bases = period_hits(m, ctx, found)  # the same phrases (the scan reads no date), dated anew
    if ctx.published_at is None:
        # no publication date: year-less phrases take the year the document states, that of
        # its reporting period first
        frame = results_frame(m, periods, full, title_end, lex)
        year = frame.finish.year if frame is not None and frame.finish else document_year(
            [h for h in periods if h.resolver != "since_year"])
        if year is not None:
            ctx = replace(ctx, published_at=date(year, 12, 31), published_precision="day")
            periods, bases = period_hits(m, ctx, found)  # the same phrases, dated anew
    periods = mark_sources(m, periods)
    # bank names, totals, the main bank
    institutions = attribution.index(text, m, ctx, title_end, [sp.start for sp in spans])
    ents = institutions.bank_names
    # the headline summarises the lead: its as-of date is the first one the body states
    lead_as_of = None
    lead_end = title_end
    for _ in range(lex.lead_lines):
        nl = m.find("\n", lead_end + 1)
        lead_end = len(m) if nl < 0 else nl
    for h in periods:
        if h.start > lead_end:
            break
        if h.start > title_end and h.type in ("point", "range") and h.finish and (
                h.resolver != "day" or m.startswith(lex.asof_prefixes, h.start)):
            lead_as_of = h.finish
            break
    # 截至报告期末: the period end of the report the article is about, i.e. the lead's as-of date
    periods = [(_PeriodHit(h.start, h.end, "point" if lead_as_of else "unresolved", None, lead_as_of,
                           h.resolver) if h.resolver == "report_end" else h) for h in periods]
    title_line = m[:title_end]
    repeats = []
    pos = title_end
    while title_line and (pos := m.find("\n" + title_line, pos)) >= 0:
        end = pos + 1 + len(title_line)
        if end == len(m) or m[end] == "\n":
            repeats.append((pos + 1, end))  # the page repeats its headline inside the body
        pos = end
    return _Doc(text, m, ctx, sentences, [s for s, _ in sentences], full, [s for s, _ in full],
                cues, [c[0] for c in cues], periods, [p.start for p in periods], ents,
                [e[0] for e in ents], institutions, title_end, lead_as_of,
                {**{s: e for s, e, cls in cues if "basis" in cls},
                 **_dated_basis_starts(m, bases),
                 **{s: e for s, e, _ in ents}, **{h.start: h.end for h in periods}}, repeats,
                bases, [h.start for h in bases], [sp.start for sp in spans], [sp.end for sp in spans], {},
                char_positions(m, CLAUSE_ENDS), results_frame(m, periods, full, title_end, lex),
                quoted_names(m))


def _dated_basis_starts(m: str, bases: list[_PeriodHit]) -> dict[int, int]:
    """较2024年末, 比2023年: where a dated comparison starts (its 较) -> where it ends, so that a
    subject opening with it skips it (较2024年末下降12个基点: the subject is carried)."""
    out = {}
    for h in bases:
        for k in range(1, 3):
            if h.start - k >= 0 and m[h.start - k:h.start] in ("较", "比", "相比", "对比", "与"):
                out[h.start - k] = h.end
    return out


def _containing(starts: list[int], spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    i = bisect.bisect_right(starts, pos) - 1
    if i < 0:
        return (0, spans[0][1] if spans else 0)
    return spans[i]


def _between(starts: list[int], items: list, a: int, b: int) -> list:
    """Items starting in [a, b) whose end is <= b."""
    lo = bisect.bisect_left(starts, a)
    hi = bisect.bisect_left(starts, b)
    out = items[lo:hi]
    # each list comes from one finditer, so its items do not overlap: only the last can reach past b
    if out:
        last = out[-1]
        if last[1] > b:  # every item is (start, end, ...)
            out.pop()
    return out


def _clause_start(d: _Doc, pos: int, floor: int) -> int:
    """Just after the last clause mark before `pos`, not before `floor`."""
    k = bisect.bisect_left(d.clause_marks, pos) - 1
    return d.clause_marks[k] + 1 if k >= 0 and d.clause_marks[k] >= floor else floor


# ---------------------------------------------------------------- value and unit


def _value_unit(sp: Span, lex: Lexicon, m: str, currency: DocCurrency | None = None,
                ) -> tuple[Decimal, str | None, str | None]:
    """(value, unit or None when it must be inferred, measure word)."""
    if sp.kind == "ratio":  # 每3笔…就有一笔, 三分之一, 1/3: part / whole in percent
        assert sp.denominator is not None  # a ratio span always has one
        return parse_number(sp.number) / parse_number(sp.denominator) * _HUNDRED, "percent", None
    value = parse_scaled(sp.number, sp.scale)
    cls = sp.unit_class
    if cls == "currency" or cls == "subunit":
        # stated (港元, HK$, 美元50亿元, 亿元(人民币)) or the document's (flows.values); 19.7分 = 0.197元
        code, factor = span_currency(sp, lex, m, currency)
        return (value if factor is None else value * factor), code, None
    if cls == "percent":
        return value, "percent", None
    if cls == "pp":
        return value, "pp", None
    if cls == "bp":
        return value / _HUNDRED, "pp", None  # 15个基点 = 0.15 percentage points
    if cls == "times":
        return value, "times", None
    if cls == "tenths":  # 两成 = 20%, 三成五 = 35%
        return value * 10 + (lex.digits[sp.tenth] if sp.tenth else 0), "percent", None
    if cls == "count":
        return value, "count", sp.unit_word  # replaced by the written form by the caller
    return value, None, None


def _qualifier(sp: Span, lex: Lexicon, m: str) -> tuple[str, int]:
    """(qualifier, start of the qualifier word or the span) from infix, suffix, then prefix."""
    start = sp.start
    if start > 0 and m[start - 1] == " ":
        start -= 1  # 超 1400 万户
    sc = scanners()
    x = sc.qualifier_before.search(m, max(0, start - 6), start)
    prefix = x.group("q") if x else None  # 突破了24万亿元: the word, without its 了
    if x is not None and prefix:
        start = x.start()
    if sp.infix and sp.kind == "number":
        return lex.qualifier_infix.get(sp.infix[0], "over"), start
    after = m[sp.end:sp.end + 4].lstrip(" ")
    if after.startswith(sc.qualifier_suffixes):  # one C call rejects the common case: no suffix
        for w, q in lex.qualifier_suffix.items():
            if after.startswith(w):
                return q, start
    if prefix:
        return lex.qualifier_prefix[prefix], start
    if sp.prefix_unit and sp.unit_word is not None:
        return lex.share_qualifiers.get(sp.unit_word, "exact"), start  # 过半: over
    return "exact", start


# ---------------------------------------------------------------- subject, metric, entity


def _trim_subject(d: _Doc, a: int, b: int) -> tuple[int, int]:
    sc = scanners()
    m = d.m
    a = after_segment_marks(m, a, b)  # [5] 资产质量 - 不良贷款率: past footnotes, bullets, headings
    k = bisect.bisect_left(d.entity_starts, a)
    if k < len(d.entity_starts) and d.entity_starts[k] < b:  # a bank named inside: the entity is its own field
        a = after_last_bank(_between(d.entity_starts, d.entities, a, b), a, b)
    changed = True
    while changed and a < b:
        changed = False
        while a < b and m[a] in _PUNCT:
            a += 1
            changed = True
        x = sc.subject_lead.match(m, a, b)
        if x and x.end() > a:
            a = x.end()
            changed = True
        e = d.skip_at.get(a)
        if e is not None and e <= b:
            a = e  # a bank name, period phrase or comparison basis opening the clause
            changed = True
    colon = max(m.rfind("：", a, b - 1), m.rfind(":", a, b - 1))
    if colon >= a:
        a = colon + 1  # 陈昭旭：个人客户数达… / • 个人客户数：7.55亿户 (a trailing colon stays a label)
    changed = True
    while changed and a < b:
        changed = False
        while b > a and m[b - 1] in _PUNCT:
            b -= 1
            changed = True
        n = _trail_len(m, a, b)
        if n:
            b -= n
            changed = True
    return a, b


def _trail_len(m: str, a: int, b: int) -> int:
    """Length of the longest trail word (达, 为, 增长 ...) ending `m[a:b]`, 0 when none does."""
    if b <= a:
        return 0
    for w in _trail_by_last().get(m[b - 1], ()):
        if len(w) <= b - a and m.startswith(w, b - len(w)):
            return len(w)
    return 0


@cache
def _trail_by_last() -> dict[str, tuple[str, ...]]:
    # trail words by their last character: a suffix lookup instead of a regex search over the subject
    out: dict[str, list[str]] = {}
    for w in sorted(set(load_lexicon().trail_words), key=lambda w: (-len(w), w)):
        out.setdefault(w[-1], []).append(w)
    return {k: tuple(v) for k, v in out.items()}


def _following_phrase(d: _Doc, pos: int, limit: int) -> tuple[int, int]:
    """The noun phrase right after a number (使7.55亿全量个人客户都能...)."""
    lex = load_lexicon()
    stop = min(limit, pos + lex.subject_max_len)
    x = scanners().subject_stop.search(d.m, pos, stop)
    end = x.start() if x else stop
    digit = _ASCII_DIGIT.search(d.m, pos, end)
    if digit:
        end = digit.start()  # the next number starts the next item
    a, b = pos, end
    while a < b and d.m[a] in _PUNCT:
        a += 1
    while b > a and d.m[b - 1] in _PUNCT:
        b -= 1
    return a, b


def _implied_unit(text: str | None, lex: Lexicon) -> str | None:
    """Unit of a bare number from the rightmost money or count cue in its subject."""
    if not text:
        return None
    best, best_pos = None, -1
    for unit, cues in (("CNY", lex.money_cues), ("count", lex.count_cues)):
        for c in cues:
            p = text.rfind(c)
            if p >= 0 and p + len(c) > best_pos:
                best, best_pos = unit, p + len(c)
    return best


# ---------------------------------------------------------------- the public entry point


def extract_mentions(text: str, ctx: DocContext) -> list[Mention]:
    """All quantities stated in `text` as normalised Mentions, in text order.

    `text` is a clean document (title on the first line, one paragraph per line); `ctx` supplies
    the publication date (to resolve 今年/三季度末 ...) and the sidecar entity. Pure and
    deterministic; safe to call from several threads or processes.
    """
    if not text:
        return []
    lex = load_lexicon()
    m = matching_copy(text)
    spans = find_spans(text, m)
    if not spans:
        return []
    d = _index(text, m, ctx, spans)
    d.currency = document_currency(text, m, ctx, d.institutions.main,
                                   [s for s, _, cls in d.cues if "same" in cls])
    d.topics = topic_hits(m)
    d.topic_starts = [t[0] for t in d.topics]
    out: list[Mention] = []
    last_subject: dict = {}  # full sentence start (or "prev") -> last subject span
    last_phrase: dict[int, tuple[str, int]] = {}  # full sentence start -> (last subject as phrased, its span's end)
    prev_in: dict[int, _Prev] = {}  # full sentence start -> the previous mention in it
    span_end_in: dict[int, int] = {}  # full sentence start -> end of the previous span, kept or not
    marks = lex.range_marks
    for i, sp in enumerate(spans):
        if d.title_repeats and any(a <= sp.start < b for a, b in d.title_repeats):
            continue  # a repeated headline states nothing new
        # 1000万至2000万元: a range, the lower bound borrows the upper bound's unit (增长1.1%至
        # 38亿元 is a change and the new level: two units, no range)
        # (a bare lower bound also before a hyphen: 下降0.04-0.23个百分点, see find_spans)
        upper = spans[i + 1] if i + 1 < len(spans) and sp.kind == spans[i + 1].kind == "number" and (
            m[sp.end:spans[i + 1].start] in marks and sp.unit_class in (None, spans[i + 1].unit_class)
            or sp.unit_class is None and m[sp.end:spans[i + 1].start] in lex.bare_lower_marks) else None
        if upper is not None and sp.unit_class is not None and _direction_before(d, sp.start):
            upper = None  # 减少153.53万户至4539.08万户: a change and the new level, no range
        lower = i > 0 and sp.kind == spans[i - 1].kind == "number" and (
            m[spans[i - 1].end:sp.start] in marks and spans[i - 1].unit_class in (None, sp.unit_class)
            and not (spans[i - 1].unit_class is not None and _direction_before(d, spans[i - 1].start))
            or spans[i - 1].unit_class is None and m[spans[i - 1].end:sp.start] in lex.bare_lower_marks)
        mention = _normalise(sp, d, lex, last_subject, prev_in, span_end_in, upper, lower, last_phrase)
        if mention is not None:
            out.append(mention)
            fs = _containing(d.full_starts, d.full, sp.start)[0]
            for code in attribution.sharing_banks(d.institutions, m, fs, sp.start, mention.entity,
                                                  d.span_starts):
                out.append(replace(mention, entity=code))  # one row for each bank the figure is stated for
    return out


class _Prev(NamedTuple):
    end: int
    kind: str
    direction: str | None
    basis: str | None
    subj: tuple[int, int] | None
    enum_k: int = 0  # its place in an enumeration (分别为x、y、z: 0, 1, 2)
    unit: str | None = None


def _new_prev(cls: type, end: int, kind: str, direction: str | None, basis: str | None,
              subj: tuple[int, int] | None, enum_k: int = 0, unit: str | None = None) -> object:
    """_Prev.__new__, compiled: the one NamedTuple generates runs in the interpreter."""
    return tuple.__new__(cls, (end, kind, direction, basis, subj, enum_k, unit))


if _Prev._fields == ("end", "kind", "direction", "basis", "subj", "enum_k", "unit") and \
        _Prev._field_defaults == {"enum_k": 0, "unit": None}:  # else (a field added) the generated one stays
    setattr(_Prev, "__new__", _new_prev)


_LIST_FILLER = frozenset("、，,()（）[]【】和及与或 0123456789")


def _only_banks_between(d: _Doc, a: int, b: int) -> bool:
    """m[a:b] holds bank names and list punctuation only (and at least one bank)."""
    names = [e for e in _between(d.entity_starts, d.entities, a, b) if e[2]]
    if not names:
        return False
    pos = a
    for s, e, _ in names:
        if any(ch not in _LIST_FILLER for ch in d.m[pos:s]):
            return False
        pos = e
    return all(ch in _LIST_FILLER for ch in d.m[pos:b])


def _from_level(d: _Doc, sp: Span, cstart: int) -> bool:
    """从10.72%降至10.07%: the number between a from-word and a direction word with 至/到."""
    lex = load_lexicon()
    m = d.m
    k = max(m.rfind(w, cstart, sp.start) for w in lex.from_words)
    if k < 0 or sp.start - k > 8 or _between(d.period_starts, d.periods, k, sp.start):
        return False  # no from-word just before, or the number carries its own date (由上年度之…)
    for s, e, cls in _between(d.cue_starts, d.cues, sp.end, min(len(m), sp.end + 8)):
        if ("pos" in cls or "neg" in cls) and m[e:e + 1] in lex.to_level or m[e - 1:e] in lex.to_level:
            return True  # 降至, 提高至, 下降到 (a direction word with its 至/到)
    return False


def _signed_by_minus(m: str, start: int) -> bool:
    """同比-3.28%: a minus written before the number (not a range 5%-8% or a code T-1)."""
    if start > 0 and m[start - 1] in load_lexicon().minus_words:
        return True  # 剪刀差为负156亿元
    if start < 2 or m[start - 1] not in "-−":
        return False
    ch = m[start - 2]
    return "\u4e00" <= ch <= "\u9fff" or ch in "：:（( "


def _normalise(sp: Span, d: _Doc, lex: Lexicon, last_subject: dict, prev_in: dict,
               span_end_in: dict, upper: Span | None = None, lower: bool = False,
               last_phrase: dict[int, tuple[str, int]] | None = None) -> Mention | None:
    m, text = d.m, d.text
    sc = scanners()
    try:
        value, unit, measure_word = _value_unit(sp, lex, m, d.currency)
        if upper is not None and unit is None:
            _, unit, measure_word = _value_unit(upper, lex, m, d.currency)  # 1000万至2000万元
            measure_word = None  # written on the other bound, not on this one
    except (ValueError, ArithmeticError):
        return None
    borrowed = upper is not None and unit is not None and sp.unit_class is None
    fs, fe = _containing(d.full_starts, d.full, sp.start)
    line_start = m.rfind("\n", 0, sp.start) + 1  # the figure's paragraph (line)
    ss, se = _containing(d.sent_starts, d.sentences, sp.start)
    qualifier, qstart = _qualifier(sp, lex, m)
    cstart = _clause_start(d, sp.start, fs)
    prev = prev_in.get(fs)
    same_clause = prev is not None and prev.end > cstart
    last_end = span_end_in.get(fs, -1)
    span_end_in[fs] = sp.end
    # the subject and the cues of this number start after the previous number of its clause
    prev_end = last_end if last_end > cstart else cstart
    if same_clause and prev is not None and prev.end != last_end:
        same_clause = False  # a dropped number sits between: no enumeration
    # 分别增长5%、8% / 分别为1.2%和3.4%: an enumeration repeats the previous number's frame
    enum = same_clause and sc.enumeration.fullmatch(m, prev_end, qstart) is not None
    if sp.kind == "number" and _signed_by_minus(m, sp.start):
        value = -value

    # subject: the clause before the number, trimmed of frames and linking verbs
    a, b = _subject_in(d, prev_end, qstart)
    if prev_end > cstart:
        # 私人銀行客戶（月日均資產600萬元以上）近7.8萬戶: the earlier number sits in a bracketed
        # definition; the subject stands before the bracket
        o = _open_bracket_before(m, cstart, prev_end, qstart)
        if o is not None:
            k = bisect.bisect_right(d.span_ends, o) - 1
            a, b = _subject_in(d, max(cstart, d.span_ends[k] if k >= 0 else 0), o)
    subj = (a, b) if b - a >= lex.subject_min_len else None
    bare = subj if subj and m[a:b] in lex.empty_subjects else None  # 金额: shown with its product
    bank_list = False  # the figure of one of a list of banks: the subject without the banks
    # 同比增速分别为12.49%、20.75%: a bare growth-rate word, shown after the subject it carries
    rate_word = m[a - 2:b] if a >= 2 and m[a - 2:a] in lex.phrasing["change_basis"] else m[a:b]
    rate_word = rate_word if subj and b - a <= 6 and sc.change_head.search(m, a, b) \
        and (m[a:b] in lex.empty_subjects or _only_cues(d, a, b)) else ""
    if subj and (m[a:b] in lex.empty_subjects or _only_cues(d, a, b)):
        subj = None  # 成長, 收窄: a change verb says nothing about what changed
    own = subj is not None  # a subject taken from an earlier figure (below) may be overtaken
    bank_list = False
    if subj is None and (enum or lower) and prev is not None:
        subj = prev.subj
    if subj is None and prev_end > fs and _only_banks_between(d, prev_end, qstart):
        # 江苏银行营收808.15亿元，北京银行(699.17亿元)和宁波银行(666.31亿元): each bank's figure
        # measures what the sentence's last subject did
        subj = last_subject.get(fs)
        bank_list = True
    if subj is None and (_clause_has_basis_or_direction(d, cstart, qstart)
                         or m[cstart:qstart].strip(" ") in lex.from_words):
        # 较年初增加超1400万户: the subject of the previous clause, or of the previous line
        # in a bullet summary ("• 较年初增加：超1400万户")
        carried = last_subject.get(fs) or last_subject.get("prev")
        if carried and carried[0] >= _previous_sentence_start(d, fs):
            subj = carried
    subj_carried = not own and subj is not None
    # the noun phrase after the number: only a counted or unit-less number looks there
    clause_end = _clause_end(d, sp.end, fe)
    following = _following_phrase(d, sp.end, clause_end) \
        if measure_word or unit is None or unit == "count" and subj is None else None
    if measure_word and following is not None and following[1] - following[0] >= lex.subject_min_len and (
            subj is None or metric_match.match(m[subj[0]:subj[1]], unit, "level") is None):
        subj = following  # 布放70余台外币兑换机: the counted noun follows its measure word
    if unit in (None, "count") and subj is None:
        assert following is not None  # looked for above: the unit is None or a count
        fa, fb = following
        if fb - fa >= lex.subject_min_len:
            subj = (fa, fb)
    heading = _list_heading(d, sp.start)
    if subj is None and heading is not None and heading[1] is not None:
        subj = heading[1]  # 工商银行：1.6亿户 under "## 手机银行月活跃用户（MAU，截至2023年6月末）"
    implied = borrowed
    if unit is None:
        assert following is not None
        fa, fb = following
        unit = _implied_unit(m[fa:min(fb, fa + 8)], lex) if fb > fa else None
        if unit is None and subj is not None:
            unit = _implied_unit(m[subj[0]:subj[1]], lex)
        if unit is None:
            return None  # a bare number whose unit nothing tells: not a measurement we can state
        if unit == "CNY" and d.currency is not None:
            unit = d.currency.at(m, sp.start)  # 營收292億 on a Macau page: the document's currency
        implied = True
    if subj is not None:
        if subj[1] - subj[0] > lex.subject_max_len:
            subj = (subj[1] - lex.subject_max_len, subj[1])
        last_subject[fs] = subj
        last_subject["prev"] = subj
    subject_m = m[subj[0]:subj[1]] if subj else None
    if subject_m in lex.chrome_subjects or subject_m is None and measure_word in lex.chrome_measure_words:
        return None  # 阅读 1.2万次, 评论 12条: the page around the article
    product = None
    enum_k = prev.enum_k + 1 if enum and prev is not None else 0
    list_subj = subj  # what the next figure of an enumeration carries
    respective = False
    if subj is not None:
        # 国有行、股份行、城商行净息差分别为1.32%、1.54%、1.47%: the k-th figure is the k-th item's
        parts = respective_parts(m, subj[0], subj[1], enum_k)
        respective = parts is not None
        if parts is not None:
            product, subj = parts
            subject_m = (m[product[0]:product[1]] if product else "") + m[subj[0]:subj[1]]
    if subject_m and subj is not None and product is None:
        # “工小智”…已累计服务客户12亿人次: a generic subject is about the quoted product before it
        product = product_prefix(m, d.quotes, subject_m, fs, subj[0]) or product_prefix(
            m, d.quotes, subject_m, line_start, subj[0])
        if product is not None:
            subject_m = m[product[0]:product[1]] + subject_m

    # a subject that names nothing (苏州银行(483.50%), 水平) or was carried from an earlier figure
    # reads its metric from the last metric name of its sentence (杭州银行拨备覆盖率541.45%…)
    named = None
    if m.endswith(lex.metric_words.name_after, 0, qstart):
        # 招商银行以9478.43亿元信用卡透支余额领跑: the name follows the number
        named = metric_match.name_after(m, sp.end, clause_end)
    nothing = metric_match.names_nothing(subject_m)
    if named is None and (subj_carried or nothing):
        # 其中，齐鲁银行增速最高(19.53%): a growth word alone is the growth of the last name with it
        grows = sc.change_head_any.search(m, cstart, qstart) if nothing else None
        named = _sentence_name(d, fs, qstart, grows.group() if grows else None)
        if named is not None and subj_carried and not nothing and subj is not None and named[0] < subj[1]:
            named = None  # the carried subject is the sentence's last name
    name_m = m[named[0]:named[2]] if named is not None else subject_m

    # kind and sign
    window_cues = _between(d.cue_starts, d.cues, prev_end, qstart)
    direction = None
    for s, e, cls in window_cues:
        if "nodir" in cls:
            continue
        if not cls.isdisjoint(_DIRECTIONS) and m[e:e + 1] in lex.to_level:
            continue  # 提升至98%: the new level, not the change
        if qstart - e > lex.direction_reach:
            continue  # too far: it describes another part of the clause
        if "better" in cls or "worse" in cls:  # 不良贷款率改善0.1个百分点: down
            direction = improvement_direction(lex, m, cstart, s, "worse" in cls)
        elif "neg" in cls:
            direction = "neg"
        elif "pos" in cls:
            direction = "pos"
    if direction is None and sp.kind == "number":
        direction = adjacent_direction(lex, m, qstart, sp.end)  # 低约8个基点, 录得5%的跌幅
    basis = None
    # a basis earlier in the clause belongs to the earlier number (同比增加3.5个百分点至45.6%)
    for s, e, cls in window_cues:
        if "basis" in cls:
            basis = lex.basis[m[s:e]]
    # 净利润增幅由2012年的15.05%降至2013年的6.73%: the figure that carries a growth rate's subject
    # in the same clause is that rate again
    rate_again = subj_carried and prev is not None and same_clause and subj == prev.subj \
        and unit in ("percent", "pp") and prev.unit == unit and prev.basis is None
    if (enum or rate_again or bank_list and prev is not None and prev.unit == unit) and prev is not None \
            and prev.kind == "change" and not direction and not basis:
        # 建设银行营收同比增速2.15% 工商银行1.57%: the next bank's figure is the same change
        direction, basis = prev.direction or "pos", prev.basis
    if sp.kind == "fixed" and not direction:
        direction = "pos"  # 翻了一番
    if direction and not basis and prev is not None and prev.kind == "change" and prev.basis \
            and subj is not None and subj == prev.subj and subj[1] <= cstart:
        basis = prev.basis  # 較年初增加約1,860億元，增幅近9.7%: the same comparison again
    basis_date = None
    if basis is None and direction:
        # 较2021年末翻了一番: a dated comparison basis
        dated = _between(d.base_starts, d.bases, prev_end, qstart)
        if dated:
            basis_date = dated[-1].finish
    # dates carry through the paragraph (截至6月末，…。个人贷款余额…), but only a period phrase of
    # the same sentence makes a count a flow (前三季度…触客1.9亿户)
    para = line_start
    if heading is not None:
        para = heading[0]  # a list's dates are in its heading
    elif para > d.title_end + 1 and (m.startswith(lex.continuation_openers, para)
                                     or _continues(d, lex, para, qstart)):
        para = m.rfind("\n", 0, para - 1) + 1  # 其中，…: still the previous paragraph's dates
    st = _dates_between(d, para, qstart)
    # 截至目前，在全部42家上市银行中: the present of its sentence, which no report's period dates
    st_fs = _dates_between(d, fs, qstart) if st.as_of is None else None
    now = st_fs is not None and st_fs.now
    if st.as_of is None and d.frame is not None and not now:
        # results coverage: the report's period dates the undated figure (今年累放…: to its end)
        st = frame_state(d.frame) if not st.has_range else _PeriodState(
            as_of=d.frame.finish, range_start=st.range_start, has_range=True, has_point=st.has_point)

    k = bisect.bisect_right(d.period_starts, qstart) - 1
    if k >= 0 and d.periods[k].finish is not None and d.periods[k].type in ("adjacent", "point", "range") \
            and (d.periods[k].end == qstart or d.periods[k].end == qstart - 1 and (
                m[qstart - 1] == " " or d.periods[k].type == "adjacent" and m[qstart - 1] in "的之")):
        h = d.periods[k]  # 2014年211%, 相比上年19%的增速: the date written right before the number
        st = _PeriodState(as_of=h.finish, range_start=h.begin, has_range=h.begin is not None,
                          has_point=h.begin is None)
    if sp.prefix_unit and sp.unit_word in lex.table_units:
        column = _column_date(d, sp)  # a table cell: its column's date (2024年度 2023年度 …)
        if column is not None:
            st = _PeriodState(as_of=column[1], range_start=column[0], has_range=column[0] is not None,
                              has_point=column[0] is None)
    elif d.institutions.respectively:
        series = _series_date(d, fs, sp.start)  # 2020年-2024年…分别为a、b、c、d和e
        if series is not None:
            st = _PeriodState(as_of=series[1], range_start=series[0], has_range=series[0] is not None,
                              has_point=series[0] is None)

    if m.endswith(lex.flat_at, 0, qstart):
        direction = basis = None  # 环比持平于1.23%: unchanged, the level is stated
    kind = "change" if direction or basis else None
    if kind is None and unit in ("percent", "pp") and (
            m[sp.start - 1:sp.start] == "+" or value < 0 and sp.kind == "number"
            or subject_m and sc.change_head.search(subject_m)
            or named is not None and sc.change_head_any.search(m, named[1], named[2])
            or sc.change_head_any.search(m, after_segment_marks(m, prev_end, qstart), qstart)
            or sc.change_head_after.match(m, sp.end)):
        kind = "change"  # 营收增速13.68%, (+8.78%): a growth rate, stated with or without its verb
    # 营业收入和净利润分别为…: the n-th figure of a 分别 run, the n-th metric named
    nth = attribution.respective(d.institutions, d.span_starts, subj[1], sp.start) \
        if subj is not None and subj[1] <= sp.start else -1
    rule = metric_match.match(name_m, unit, kind or "level", nth)
    if kind is None:
        # only a period phrase of the same sentence makes a count a flow
        st_sentence = st_fs if st_fs is not None else _dates_between(d, fs, qstart)
        clause_cues = _between(d.cue_starts, d.cues, cstart, qstart)
        kind_m = name_m
        if named is None and unit not in _NOT_MONEY and nothing:
            # 中國信託率先賺破550億元、…國泰世華以459.47億元居次: the sentence's flow or stock word
            kind_m = m[_sentence_floor(d, fs):qstart]
        kind = _kind(lex, unit, measure_word, clause_cues, kind_m, rule, st_sentence)
    if kind == "change" and direction == "neg" and value > 0:
        value = -value
    prev_in[fs] = _Prev(sp.end, kind, direction, basis, list_subj, enum_k, unit)
    if rule is None and kind == "change":
        rule = metric_match.match(name_m, unit, kind, nth)
    if rule is None and subject_m and sc.topic_attribute.search(subject_m):
        topic = _topic(d, para, qstart)
        if topic is not None:
            rule = metric_match.match(m[topic[0]:topic[1]] + subject_m, unit, kind)

    # period
    in_title = sp.start < d.title_end
    as_of = st.as_of
    if as_of is None and not now and (in_title or kind == "change" and basis in ("year_start", "prev_year_end")
                          or st.range_start is not None and d.lead_as_of is not None
                          and st.range_start <= d.lead_as_of):
        as_of = d.lead_as_of  # (今年累放农地贷款…: an open period runs to the lead's as-of date)
    if kind == "level":
        start = st.range_start if unit in ("percent", "pp") and st.has_range else None
        end = as_of
    elif kind == "flow":
        start, end = st.range_start, as_of
    else:
        if basis in ("year_start", "prev_year_end"):
            y = as_of.year if as_of else (d.ctx.published_at.year if d.ctx.published_at else None)
            if y is None:
                start = None
            else:
                start = date(y, 1, 1) if basis == "year_start" else date(y - 1, 12, 31)
        elif basis == "none":
            start = None
        elif basis_date is not None:
            start = basis_date
        else:
            start = st.range_start
        end = as_of

    if kind == "level" and end is not None and _from_level(d, sp, cstart):
        start, end = None, date(end.year - 1, 12, 31)  # 从10.72%降至10.07%: the level a year-end before

    entity = attribution.entity_of(d.institutions, m, fs, fe, para, cstart, qstart, sp.start, sp.end,
                                   clause_end, subj, measure_word, d.span_starts)

    if upper is not None and qualifier == "exact":
        qualifier = "over"  # the lower bound of a range: at least
    elif lower and qualifier == "exact":
        qualifier = "up_to"  # the upper bound: at most
    surface = text[sp.start:sp.end]
    phrased = None
    # 同比增速分别为12.49%、20.75%: an enumeration's figures show its first figure's subject as phrased
    reuse = last_phrase[fs][0] if (enum or lower) and not respective and last_phrase is not None \
        and fs in last_phrase and last_phrase[fs][1] == last_end and subj is not None and prev is not None \
        and subj == prev.subj else None
    measures: list[str] = []  # the phrase, when it names a measure alone (稅前盈餘), for the paragraph
    shared: str | None = None
    if subj:
        phrased = _phrase(d, sp, subj, product, prev_end, qstart, fs, fe, unit, measure_word,
                          following is not None and subj == following, enum_k if not respective else -1,
                          last_phrase[fs][0] if last_phrase is not None and fs in last_phrase else None, reuse,
                          _paragraph_measure(last_phrase, line_start), measures)
        if phrased and not respective:
            item = shared_share_item(phrased, enum_k)  # 公司銀行、個人銀行…分佔稅前溢利
            if item != phrased:
                shared, phrased = phrased, item  # the next figure of the list reads its item from it
    elif bare is not None:
        # 累计发放“零钱包”570余万个、金额超20亿元: a bare measure of the quoted product
        quoted = product_prefix(m, d.quotes, m[bare[0]:bare[1]], fs, bare[0])
        if quoted is not None:
            phrased = _clean_subject(text[quoted[0]:quoted[1]] + text[bare[0]:bare[1]])
    if phrased and bank_list and len(measure_of(phrased)) >= 3:
        phrased = measure_of(phrased)  # 包括江苏银行(0.91%)、南京银行(0.9%) after 7家上市城商行不良率低于1%
    if phrased and rate_word and subj is not None and subj[1] <= prev_end and not change_tail(phrased):
        phrased = phrased + text[b - len(rate_word):b]
    mark_at = qstart - 2 if m[qstart - 1:qstart] == " " else qstart - 1  # 以 4.20%
    if (phrased is None or only_institution(phrased) or len(phrased) <= 5 and not measure_tail(phrased)) \
            and m[mark_at:mark_at + 1] in lex.phrasing["instrument_marks"]:
        # 招商银行以9478.43亿元信用卡透支余额领跑: the measure follows the figure (after the bank
        # the clause names: 華南金則以4.20%的現金殖利率領先 -> 華南金現金殖利率)
        after_name = measure_after(m, sp.end, clause_end)
        if after_name is not None:
            phrased = _clean_subject((phrased or "") + text[after_name[0]:after_name[1]])
    if phrased is None and last_phrase is not None and fs in last_phrase and (
            last_phrase[fs][1] == last_end and _says_only_change(d, last_end, qstart)
            or _after_bank_bracket(d, qstart)):
        # 逾放比率由0.29%降至0.27%, 2022年攀升至3,919.4億元, 南京银行(+11.32%): the figure
        # before in the sentence names what this one measures (without the banks it named)
        phrased = last_phrase[fs][0]
        if _after_bank_bracket(d, qstart) and len(measure_of(phrased)) >= 3:
            phrased = measure_of(phrased)
    if phrased is None and cstart > fs and m[cstart - 1] in "，,":
        # 2025年绿色贷款余额仍呈增长趋势，三季度末为43.51万亿元: a clause that names nothing
        # measures what the clause before it (with no figure of its own) is about
        phrased = _previous_clause_subject(d, fs, cstart)
    joined = phrased is not None and measure_word is not None and following is not None and subj == following \
        and phrased.startswith(_JOINED) and 2 <= len(phrased) <= 4
    if phrased and measure_word and joined:
        # 境外機構覆蓋30個國家和地區: the measure word is the first of two nouns joined after it;
        # what stands before the figure says whose they are
        wa, wb = _subject_in(d, prev_end, qstart)
        phrased = _clean_subject((drop_possessive(strip_display_lead(text[wa:wb])) if wb - wa >= 2 else "")
                                 + text[sp.end - len(measure_word):sp.end].lstrip("个個") + phrased)
    if phrased is None and unit == "percent" and last_phrase is not None and fs in last_phrase \
            and last_phrase[fs][1] == last_end:
        phrased = signed_change_of(m, last_end, qstart, last_phrase[fs][0])  # 营收808.15亿元(+8.78%)
    if phrased is None and sp.kind != "ratio":
        phrased = ranking_measure(m, text, fs, qstart)  # 营收位列前五的…为：江苏银行、…，分别为…
    if phrased is None and sp.kind == "ratio":
        phrased = one_in_phrase(m, text, sp.start, sp.end)  # 每3笔业务中，就有一笔来自手机银行
    elif phrased and unit == "percent":
        phrased = share_of_whole(m, text, phrased, sp.end)  # 服务客户中近一半来自县域
    elif phrased and unit == "count" and measure_word and not joined:
        phrased = launched_service(m, text, phrased, fs, qstart)  # 推出…，已服务全行3万余名…
    if phrased and last_phrase is not None:
        last_phrase[fs] = (shared if shared is not None else phrased, sp.end)
        if measures and measures[-1] and measures[-1] in phrased:
            last_phrase[-1] = (measures[-1], line_start)  # the paragraph's last measure
    if phrased:
        phrased = after_headline_gap(drop_period_lead(phrased))  # 25Q3营业收入, 深耕三农金融 个人存款余额
    if phrased and d.topics:
        # 电子支付交易笔数 on a page about 信用卡: the topic the paragraph or headline names
        phrased = with_topic(text, phrased, d.topics, d.topic_starts, line_start,
                             subj[0] if subj is not None and subj[0] < sp.start else sp.start)
    return Mention(
        char_start=sp.start,
        char_end=sp.end,
        surface=surface,
        sentence=text[ss:se],
        sentence_start=ss,
        value=as_plain(value) if sp.kind != "ratio" else value,
        unit=unit,
        measure_word=text[sp.end - len(measure_word):sp.end] if measure_word else None,
        qualifier=qualifier,
        kind=kind,
        period_start=start,
        period_end=end,
        subject=phrased,
        metric_key=rule.key if rule else None,
        entity=entity,
        scale_word=_written_scale(sp, text, lex),
        is_implied_unit=implied,
    )


def _phrase(d: _Doc, sp: Span, subj: tuple[int, int], product: tuple[int, int] | None, prev_end: int,
            qstart: int, fs: int, fe: int, unit: str, measure_word: str | None, after: bool, enum_k: int,
            sibling: str | None, reuse: str | None = None, para_measure: str | None = None,
            measures: list[str] | None = None) -> str | None:
    """The subject as the `subject` field shows it (flows/subject.py, subject.toml [phrasing])."""
    m, text = d.m, d.text
    a, b = subj
    if after and (measure_word or unit == "count"):
        # 8家城商行实现净利润双位数增长 -> 实现净利润双位数增长的城商行
        counted = counted_phrase(m, a, _clause_end(d, sp.end, fe), m[max(prev_end, qstart - 4):qstart])
        if counted is not None:
            verb, na, nb, ra, rb = counted
            s = verb + text[ra:rb] + "的" + text[na:nb] if rb > ra else text[na:nb]
            return _clean_subject(drop_possessive(s))
    suffix = ""
    if b < qstart and m[b - 1:b + 1] in load_lexicon().phrasing["unsplit"]:
        b += 1  # 资产总额的平|均增速: a trail word (均) taken off a word (平均)
    if unit in ("percent", "pp") and b <= qstart:
        b, suffix = change_suffix(m, b, qstart, sp.end)  # 净利润增速达到12.36%, 以14.5%的增速
    if measure_word and not after and b <= qstart and prev_end < a and m[prev_end:a].strip(" ") == "的":
        # 总资产突破万亿元的城商行有11家: the relative clause holds the previous number
        a2, _ = _trim_subject(d, _clause_start(d, sp.start, fs), b)
        a = a2 if a2 < a else a
    if enum_k >= 0 and product is None and not after:
        # 中部和西部上市城商行平均资产总额分别为…: items joined by 和/及 share the tail too
        parts = respective_parts(m, a, b, enum_k, ITEM_SEP_WIDE, _RESPECTIVE_REACH)
        if parts is not None:
            item, tail = parts
            # 国有行 股份行归母净利润增速季度环比分别提升…: the words up to 分别 stay with the tail
            j = m.find("分别", b, b + _RESPECTIVE_REACH + 2)
            s = (text[item[0]:item[1]] if item else "") + text[tail[0]:tail[1]] + (text[b:j] if j - b >= 2 else "")
            return _clean_subject(drop_possessive(strip_display_lead(s)))
    if reuse is not None:
        return reuse
    a = _after_inner_period(d, a, b)  # 还公布了2024年加权净资产收益率, 等银行8月末涉农贷款余额
    lead = ""
    if not after and product is None:
        lead = _period_lead(d, a)  # 第三季盈利, 前三季度累放贷款: a short period naming the measure
        k = bisect.bisect_right(d.span_ends, a) - 1 if not lead else -1
        if k >= 0 and d.span_ends[k] == a and text[a - 1] in _GROUP_COUNT and measure_tail(m[a:b]) \
                and "中" not in m[a:b] and not _banks_before(d, d.span_starts[k]):
            lead = text[d.span_starts[k]:a]  # 29家上市城商行总资产规模: the group counted before
    if not suffix:
        suffix = abbreviation_after(text, b)
    base = lead + drop_time_words(strip_display_lead(text[a:b] + suffix))
    if measure_word or unit == "count":
        base = after_place_frame(base, b - a >= load_lexicon().subject_max_len)
    quoted = product is not None and product[0] > 0 and m[product[0] - 1] in "“「『\""
    # 交易笔数 after 外卡收单交易规模: before any quoted product, not over a list item (国有行净息差)
    s = inherit_sibling(base, sibling) if product is None or quoted else base
    if sibling and s == base and product is None and more_than_before(base):
        # 累放贷款21408亿元，同比多投放3739亿元: how much more, of the figure before
        k = max(m.rfind(ch, 0, a) for ch in "，,；;、")
        s = measure_of(sibling) + strip_display_lead(text[k + 1:b] if 0 <= k and a - k <= 4 else base)
    elif sibling and s == base and product is None and opens_with_basis(base):
        s = sibling  # 较上一年同期下降0.10个百分点: a comparison only, of the figure before
    elif sibling and s == base and product is None and opens_with_share(base):
        # 非利息收入…，佔總收入19﹒0% (the share named before again: its subject again)
        s = sibling if base.rstrip("的") in sibling else measure_of(sibling) + base.rstrip("的")
    elif (of := sibling or para_measure or "") and s == base and product is None \
            and (only_institution(base.rstrip("的")) or _only_banks_between(d, a, b) and len(base) <= 9) \
            and not only_institution(of, short=False) and not of.endswith("的") \
            and (len(measure_of(of)) >= 3 or measure_tail(of)):
        # 国有行 城商行 农商行分别同比增长1.87% 5.22%, 第一銀行269.57億元, 國泰世華銀行的217億元: the
        # institution's figure of the measure the sentence (else its paragraph) is about
        s = base.rstrip("的") + measure_of(of)
    elif s == base:
        if product is None and not after:
            product = sentence_topic(m, d.quotes, fs, a, base)  # “工小智”依托…，问答识别率…
        s = (text[product[0]:product[1]] if product else "") + base
        para = m.rfind("\n", 0, sp.start) + 1
        s = resolve_anaphora(m, s, d.quotes, para, a)
        if product is None:
            s = full_name(m, s, d.quotes, para, a)  # 社区粉丝数 after “投研系统+财富社区”
            s = comparison_topic(m, s, d.quotes, para, fs, a)  # 该基金…，超越同期上证综指
            if measures is not None and s == base and measure_tail(s) and not only_institution(s, short=False):
                measures.append(_clean_subject(drop_possessive(measure_of(s))) or "")
    return _clean_subject(drop_possessive(s))


_CHANGE_FILLER = frozenset("至到为為达達了是，,、 ")
def _paragraph_measure(last_phrase: dict[int, tuple[str, int]] | None, para: int) -> str | None:
    """The last subject of the paragraph that names a measure (稅前盈餘), for a figure whose
    clause names only a bank."""
    if last_phrase is None or -1 not in last_phrase or last_phrase[-1][1] != para:
        return None
    return last_phrase[-1][0]


_RESPECTIVE_REACH = 6  # 增速|季度环比|分别: words a list's shared tail has before 分别
_JOINED = ("和", "及", "与", "與")  # 國家和地區: a second noun joined to the measure word
_GROUP_COUNT = "家"  # a count of institutions right before a subject is part of it (29家上市城商行…)


def _banks_before(d: _Doc, pos: int) -> bool:
    """长沙银行和齐鲁银行2家银行: a count right after bank names restates them."""
    names = _between(d.entity_starts, d.entities, max(0, pos - 12), pos)
    return bool(names) and names[-1][1] >= pos - 1 and names[-1][2] is not None


def _previous_clause_subject(d: _Doc, fs: int, cstart: int) -> str | None:
    """The subject of the clause before `cstart` when that clause holds no figure."""
    ps = _clause_start(d, cstart - 1, fs)
    k = bisect.bisect_right(d.span_ends, ps)
    if k < len(d.span_starts) and d.span_starts[k] < cstart:
        return None  # a figure in it, or a clause split inside one (3,369.8)
    a, b = _subject_in(d, ps, cstart - 1)
    if b - a < 3 or b - a > load_lexicon().subject_max_len or not measure_tail(d.m[a:b]):
        return None  # only a measure (…余额, …规模, …率) names what the next clause states
    return _clean_subject(drop_possessive(strip_display_lead(d.text[a:b])))


def _after_inner_period(d: _Doc, a: int, b: int) -> int:
    """The subject starts after a dated period phrase inside it (not at its start), when at least
    three characters follow: 还公布了2024年加权净资产收益率 -> 加权净资产收益率 (上半年净利润 stays)."""
    for h in _between(d.period_starts, d.periods, a + 1, b - 2):
        if h.end <= b - 3 and any(ch.isdigit() for ch in d.m[h.start:h.end]):
            a = h.end + (1 if d.m.startswith("的", h.end) else 0)
    return a


def _period_lead(d: _Doc, a: int) -> str:
    """The period phrase written right before the subject, when short and without digits
    (今年第三季盈利 -> 第三季; 今年累放农地贷款 -> 今年)."""
    hits = _between(d.period_starts, d.periods, max(0, a - 8), a)
    if not hits or hits[-1].end != a or hits[-1].type != "range":
        return ""  # a date (截至9月底, 目前) is the period field's alone
    w = d.text[hits[-1].start:a]
    if len(w) > 2 and w.startswith(("今年", "去年", "本年")):
        w = w[2:]
    if len(w) > 4 or any(ch.isdigit() for ch in w):
        return ""
    return w


def _says_only_change(d: _Doc, a: int, b: int) -> bool:
    """m[a:b] holds only period phrases, direction and comparison words and linking marks."""
    covered = [(s, e) for s, e, _ in _between(d.cue_starts, d.cues, a, b)]
    covered += [(h.start, h.end) for h in _between(d.period_starts, d.periods, a, b)]
    covered.sort()
    pos = a
    for s, e in covered:
        if any(ch not in _CHANGE_FILLER for ch in d.m[pos:s]):
            return False
        pos = max(pos, e)
    return all(ch not in "\n" and ch in _CHANGE_FILLER for ch in d.m[pos:b])


def _after_bank_bracket(d: _Doc, qstart: int) -> bool:
    """南京银行(+11.32%): the number opens a bracket right after a bank's name."""
    m = d.m
    k = qstart - 1
    while k >= 0 and m[k] in "+-−":
        k -= 1
    if k < 1 or m[k] not in "(（":
        return False
    names = _between(d.entity_starts, d.entities, max(0, k - 16), k)
    return bool(names) and names[-1][1] == k and names[-1][2] is not None


def _column_date(d: _Doc, sp: Span) -> tuple[date | None, date] | None:
    """The k-th cell of a table row takes the k-th date of the nearest line above the row that
    has as many dates as the header has unit markers (2024年度 2023年度 2022年度 2021年度)."""
    m = d.m
    ls = m.rfind("\n", 0, sp.start) + 1
    k = bisect.bisect_left(d.span_starts, sp.start) - bisect.bisect_left(d.span_starts, ls)
    pos = ls
    for _ in range(load_lexicon().table_max_rows + 3):
        if pos <= 0:
            break
        above = m.rfind("\n", 0, pos - 1) + 1
        hits = [h for h in _between(d.period_starts, d.periods, above, pos - 1) if h.finish is not None]
        if len(hits) >= 2:
            if k < len(hits):
                return hits[k].begin, hits[k].finish  # type: ignore[return-value]
            return None
        pos = above
    return None


def _direction_before(d: _Doc, pos: int) -> bool:
    """A direction word (增加, 减少, 升, 降) ends right before `pos` (a qualifier or a space aside)."""
    k = bisect.bisect_left(d.cue_starts, pos) - 1
    while k >= 0 and d.cues[k][1] > pos:
        k -= 1
    if k < 0 or pos - d.cues[k][1] > 3 or d.cues[k][2].isdisjoint(_DIRECTIONS):
        return False
    gap = d.m[d.cues[k][1]:pos].strip(" ")
    return not gap or scanners().qualifier_before.fullmatch(gap) is not None


def _continues(d: _Doc, lex: Lexicon, para: int, qstart: int) -> bool:
    """平安银行同期信用卡应收账款余额…: a paragraph whose first clause says "the same period"
    (periods.toml `continuation_words`, not 去年同期) and has no date of its own continues the
    previous paragraph's dates."""
    known = d.continues.get(para)
    if known is not None:
        return known
    nl = d.m.find("\n", para)
    end = _clause_end(d, para, len(d.m) if nl < 0 else nl)
    cache = end <= qstart  # the figure in the first clause itself: read up to it, uncached
    end = min(end, qstart)
    found = False
    for w in lex.continuation_words:
        k = d.m.find(w, para, end)
        if k > para and d.m[k - 1] not in lex.continuation_not_after \
                and not _between(d.period_starts, d.periods, para, end):
            found = True
            break
    if cache:
        d.continues[para] = found
    return found


def _series_date(d: _Doc, fs: int, start: int) -> tuple[date | None, date] | None:
    """The date of the k-th figure after 分别 when a series of dates comes before it in the
    sentence (periods.toml [series]): 截至2022年底、2023年3月底…分别为1954万、3324万; 2020年-2024年
    …分别为 five figures, one a year. None when there is no series or the counts differ."""
    resp = d.institutions.respectively
    r = bisect.bisect_right(resp, start) - 1
    if r < 0 or resp[r] <= fs:
        return None
    at = resp[r]  # the end of 分别
    lex = load_lexicon()
    m = d.m
    lo = bisect.bisect_left(d.period_starts, fs)
    hi = bisect.bisect_left(d.period_starts, at)
    run: list[_PeriodHit] = []
    ranged = False
    for i in range(hi - 1, lo - 1, -1):
        h = d.periods[i]
        if h.finish is None or h.type not in ("point", "range") or h.end > at:
            if run:
                break
            continue
        if run:
            gap = m[h.end:run[0].start].rstrip(lex.series_gap_ignore).strip(" ")
            if not gap and m.startswith(lex.series_range_marks, run[0].start):
                gap = m[run[0].start]  # 十二月到今年五月: the 到 was read as the second phrase's 截至
            if gap in lex.series_range_marks and len(run) == 1:
                ranged = True
            elif gap not in lex.series_list_marks or ranged:
                break
        run.insert(0, h)
    if len(run) < 2 or ranged and len(run) != 2:
        return None
    dates: list[tuple[date | None, date]] = []
    if ranged:
        a, b = run
        assert a.finish is not None and b.finish is not None
        if a.resolver == b.resolver == "year" and a.finish < b.finish:
            dates = [(date(y, 1, 1), date(y, 12, 31)) for y in range(a.finish.year, b.finish.year + 1)]
        elif a.resolver in ("month", "month_end") and b.resolver in ("month", "month_end") \
                and a.finish < b.finish:
            y, mo = a.finish.year, a.finish.month
            while (y, mo) <= (b.finish.year, b.finish.month) and len(dates) < 24:
                fin = _month_last(y, mo)
                dates.append((date(y, mo, 1) if a.resolver == "month" else None, fin))
                y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    else:
        dates = [(h.begin, h.finish) for h in run if h.finish is not None]
    if len(dates) < 2:
        return None
    first = bisect.bisect_left(d.span_starts, at)
    k = bisect.bisect_left(d.span_starts, start) - first
    if first >= len(d.span_starts):
        return None
    ends = lex.series_list_ends
    j = first  # the figures of the list: up to the first list end between two of them
    while j + 1 < len(d.span_starts) and j - first < len(dates) and not any(
            c in ends for c in m[d.span_ends[j]:d.span_starts[j + 1]]):
        j += 1
    n = j - first + 1
    if n != len(dates) or not 0 <= k < n:
        return None
    return dates[k]


def _month_last(y: int, mo: int) -> date:
    return date(y + 1, 1, 1) - timedelta(days=1) if mo == 12 else date(y, mo + 1, 1) - timedelta(days=1)


def _subject_in(d: _Doc, a: int, b: int, inside: bool = True) -> tuple[int, int]:
    """The subject inside [a, b): trimmed of frames and linking verbs, cut before a comparison.

    A bracket left open before `b` means the number sits inside it: with `inside` the subject
    is the bracket's text (（指月日均总资产在50万元…: 月日均总资产), else what precedes it.
    """
    a, b = _trim_subject(d, a, b)
    if b > a:
        b = _cut_subject(d, a, b)
        a, b = _trim_subject(d, a, b)
    a2, b2 = _balance_brackets(d.m, a, b, inside)
    if a2 != a:
        a2, b2 = _trim_subject(d, a2, b2)
    return a2, b2


def _balance_brackets(m: str, a: int, b: int, inside: bool) -> tuple[int, int]:
    """管理个人金融资产（AUM）: keep the closing bracket; a bracket left open is not the subject's."""
    for o, c in (("（", "）"), ("(", ")")):
        seg = m[a:b]
        if o in seg and seg.count(o) > seg.count(c):
            if b < len(m) and m[b] == c:
                b += 1
            elif inside:
                a = a + seg.rfind(o) + 1
            else:
                b = a + seg.rfind(o)
                while b > a and m[b - 1] in _PUNCT:
                    b -= 1
    return a, b


def _open_bracket_before(m: str, floor: int, pos: int, limit: int) -> int | None:
    """Start of a bracket open at `pos` (opened at or after `floor`) and closed before `limit`,
    when it holds words (a definition: 月日均資產600萬元以上), not just a figure (盛京银行(-15.21%))."""
    for o, c in (("（", "）"), ("(", ")")):
        i = m.rfind(o, floor, pos)
        if i >= 0 and m.find(c, i, pos) < 0:
            j = m.find(c, pos, limit)
            if j >= 0 and _HAN2.search(m, i + 1, j):
                return i
    return None


def _only_cues(d: _Doc, a: int, b: int) -> bool:
    """The text [a, b) is nothing but direction or comparison words (成長, 同比收窄)."""
    pos = a
    for s, e, cls in _between(d.cue_starts, d.cues, a, b):
        if s != pos or not cls & _CHANGE_CUES or "nodir" in cls:
            return False
        pos = e
    return pos == b and b > a


def _list_heading(d: _Doc, pos: int) -> tuple[int, tuple[int, int] | None] | None:
    """(heading start, heading subject) when `pos` is on a `名称：值` list line under a heading."""
    m = d.m
    ls = m.rfind("\n", 0, pos) + 1
    if ls in d.headings:
        return d.headings[ls]
    out = None
    if _is_list_line(d, ls):
        cur = ls
        while cur > 0:
            hs = m.rfind("\n", 0, cur - 1) + 1
            he = cur - 1
            if _is_list_line(d, hs):
                cur = hs
                continue
            k = bisect.bisect_left(d.span_starts, hs)
            has_number = k < len(d.span_starts) and d.span_starts[k] < he
            if not has_number and 0 < he - hs <= load_lexicon().heading_max_len:
                out = (hs, _heading_subject(d, hs, he))
            break
    d.headings[ls] = out
    return out


def _is_list_line(d: _Doc, ls: int) -> bool:
    """工商银行：1.6亿户（同比+8%）: the line's first number follows a colon after a bare label."""
    m = d.m
    k = bisect.bisect_left(d.span_starts, ls)
    if k >= len(d.span_starts):
        return False
    first = d.span_starts[k]
    nl = m.find("\n", ls)
    if 0 <= nl < first:
        return False
    colon = max(m.rfind("：", ls, first), m.rfind(":", ls, first))
    if colon < 0:
        return False
    between = m[colon + 1:first].strip(" ")
    if between and not scanners().qualifier_before.fullmatch(between):
        return False
    a, b = _trim_subject(d, ls, colon)
    return b - a < load_lexicon().subject_min_len  # the label names only the bank


def _heading_subject(d: _Doc, a: int, b: int) -> tuple[int, int] | None:
    x = scanners().heading_marker.match(d.m, a, b)
    if x:
        a = x.end()
    for h in _between(d.period_starts, d.periods, a + 1, b):
        b = h.start  # 手机银行月活跃用户（MAU，截至2023年6月末）: the dates are not the subject
        break
    a, b = _subject_in(d, a, b, inside=False)
    return (a, b) if b - a >= load_lexicon().subject_min_len else None


_QUOTE_MARKS = str.maketrans("", "", "“”\"「」『』")
_QUOTE_MARK = re.compile("[“”\"「」『』]")  # most subjects hold none: one search, no translate


def _clean_subject(s: str) -> str | None:
    if _QUOTE_MARK.search(s) is not None:
        s = s.translate(_QUOTE_MARKS)
    s = drop_glosses(s)  # 資產(chǎn)
    return s or None


def _written_scale(sp: Span, text: str, lex: Lexicon) -> str | None:
    """The scale word (万, 亿, 万亿 ...) as written in the stored text, if any."""
    if sp.kind != "number" or sp.prefix_unit:
        return None
    if sp.scale:
        assert sp.scale_start is not None  # set with `scale`
        return text[sp.scale_start:sp.scale_start + len(sp.scale)]
    tail = _scale_of(sp.number, lex)
    if not tail:
        return None
    at = sp.start + len(sp.number) - len(tail)
    return text[at:at + len(tail)]


def _scale_of(number: str, lex: Lexicon) -> str | None:
    """Trailing scale of a Chinese numeral: 一千四百万 -> 万, a bare 百万 -> 百万."""
    if number.isascii():
        return None  # an Arabic number: its scale word, if any, is the span's `scale`
    has_digit = any(ch in lex.digits for ch in number)
    tail = ""
    for ch in reversed(number):
        if ch in lex.big_scales or (ch in lex.small_scales and tail and not has_digit):
            tail = ch + tail
        else:
            break
    return tail if tail in lex.scale_words else None


def _clause_end(d: _Doc, pos: int, limit: int) -> int:
    """The first clause mark at or after `pos`, or `limit`."""
    k = bisect.bisect_left(d.clause_marks, pos)
    return d.clause_marks[k] if k < len(d.clause_marks) and d.clause_marks[k] < limit else limit


@cache
def _topic_chars() -> tuple[str, ...] | None:
    chars = one_of_chars(scanners().topic.pattern)
    return None if chars is None else tuple(sorted(chars))


def _topic(d: _Doc, para: int, pos: int) -> tuple[int, int] | None:
    """(start, end) of the last topic frame of the paragraph before `pos`
    (从个人养老金账户看，… -> 个人养老金账户)."""
    chars = _topic_chars()
    if chars is not None and all(d.m.find(c, para, pos) < 0 for c in chars):
        return None  # every frame holds one of these (从…看, …方面): none in the paragraph so far
    topic = None
    for x in scanners().topic.finditer(d.m, para, pos):
        name = next(k for k, v in x.groupdict().items() if v)
        topic = x.span(name)
    return topic


def _cut_subject(d: _Doc, a: int, b: int) -> int:
    """End of the subject: before the first comparison basis or direction word after its start."""
    for s, _, cls in _between(d.cue_starts, d.cues, a + 1, b):
        if cls & _CHANGE_CUES and "nodir" not in cls:
            b = s
            break
    x = scanners().subject_cut.search(d.m, a + 1, b)
    return x.start() if x else b


def _sentence_name(d: _Doc, fs: int, pos: int, head: str | None = None) -> tuple[int, int, int] | None:
    """The last metric name of the full sentence before `pos` (metric_match.context_name), or of
    the sentence before when this one opens with a continuation (其中，…)."""
    named = metric_match.context_name(d.m, fs, pos, _name_hits(d, fs), head)
    if named is None:
        floor = _sentence_floor(d, fs)
        if floor < fs:
            named = metric_match.context_name(d.m, floor, fs, _name_hits(d, floor), head)
    return named


def _name_hits(d: _Doc, fs: int) -> list[tuple[int, int]]:
    """The metric names of the full sentence starting at `fs`, found once for all its figures."""
    hits = d.name_hits.get(fs)
    if hits is None:
        i = bisect.bisect_right(d.full_starts, fs) - 1
        end = d.full[i][1] if i >= 0 and d.full[i][0] == fs else len(d.m)
        hits = d.name_hits[fs] = metric_match.name_hits(d.m, fs, end)
    return hits


def _sentence_floor(d: _Doc, fs: int) -> int:
    """Where the context of the full sentence at `fs` starts: the sentence before it when it opens
    with a continuation (其中，…; 其余银行…), else itself."""
    k = fs
    while k < len(d.m) and d.m[k] in _PUNCT:
        k += 1
    return _previous_sentence_start(d, fs) if d.m.startswith(load_lexicon().continuation_openers, k) else fs


def _previous_sentence_start(d: _Doc, fs: int) -> int:
    i = bisect.bisect_left(d.full_starts, fs)
    return d.full_starts[i - 1] if i > 0 else 0


def _clause_has_basis_or_direction(d: _Doc, a: int, b: int) -> bool:
    return any(cls & _CHANGE_CUES for _, _, cls in _between(d.cue_starts, d.cues, a, b))


def _kind(lex: Lexicon, unit: str, measure_word: str | None, clause_cues: list,
          subject_m: str | None, rule: MetricRule | None, st: _PeriodState) -> str:
    """level or flow (a change was decided before): measure word, metric nature, cue words, period."""
    if measure_word and measure_word in lex.flow_measure_words:
        return "flow"  # 人次, 笔: events, summed over time
    if measure_word and measure_word in lex.stock_measure_words and unit == "count" and not (
            subject_m and scanners().flow_verbs.search(subject_m)):
        return "level"  # 16家上市银行上半年净利润…: things that exist, counted at a date (发放570余万个: events)
    if unit in ("percent", "pp", "times") and not (rule is not None and rule.nature == "flow"):
        classes0 = set()
        for _, _, cls in clause_cues:
            classes0 |= cls
        return "flow" if "cum" in classes0 and st.has_range else "level"  # 新发放贷款平均利率4.30%: a rate
    if subject_m and scanners().flow_over_stock.search(scanners().stock_names.sub("", subject_m)):
        return "flow"  # 留存收益 is a balance: 收益 inside a stock's name is no flow
    if rule is not None:
        return "flow" if rule.nature == "flow" else "level"
    classes = set()
    for _, _, cls in clause_cues:
        classes |= cls
    subj_stock = subject_m is not None and scanners().stock_words.search(subject_m) is not None
    if unit in ("percent", "pp", "times"):
        return "flow" if "cum" in classes and st.has_range else "level"
    if subj_stock:
        return "level"
    if measure_word and measure_word in lex.stock_measure_words:
        return "level"  # 16家银行, 2600余台ATM: things that exist, counted at a date
    if "flow" in classes:
        return "flow"
    if st.has_range and not st.has_point:
        return "flow"
    return "level"
