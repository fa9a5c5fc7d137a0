"""What a document says about time as a whole: its reporting period and the year it speaks of.

A results article states its period once ("2025年前三季度实现净利润…", "发布了2023年度报告") and
then gives dozens of figures with no date; a reader dates them all with that period. A page with
no publication date still names its year somewhere (2023年末, 2024年上半年): a year-less phrase
(9月末, 前三季度) takes that year. The per-clause dating is `flows.dates`'; this module
only finds the document-wide facts it falls back on. Rule words live in `rules/periods.toml`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import NamedTuple

from flows.extract import CLAUSE_ENDS, FULL_SENTENCE_ENDS
from flows.lexicon import Lexicon, alternation, first_chars, first_pairs, load_lexicon, required_chars
from flows.models import DocContext
from flows.numerals import parse_number


class PeriodHit(NamedTuple):  # (start, end, ...) like the other scan hits
    start: int
    end: int
    type: str  # point | range | open | reset | unresolved | source
    begin: date | None
    finish: date | None
    resolver: str = ""


def _new_period_hit(cls: type, start: int, end: int, type: str, begin: date | None, finish: date | None,
                    resolver: str = "") -> object:
    """PeriodHit.__new__, compiled: the one NamedTuple generates runs in the interpreter."""
    return tuple.__new__(cls, (start, end, type, begin, finish, resolver))


if PeriodHit._fields == ("start", "end", "type", "begin", "finish", "resolver") and \
        PeriodHit._field_defaults == {"resolver": ""}:  # else (a field added) the generated one stays
    setattr(PeriodHit, "__new__", _new_period_hit)


@dataclass(init=False)
class PeriodState:
    as_of: date | None = None
    range_start: date | None = None
    has_range: bool = False
    has_point: bool = False
    now: bool = False  # the last phrase was 目前/近日: the present, which no reporting period dates

    # written out: mypyc compiles it (the generated __init__ runs in the interpreter)
    def __init__(self, as_of: date | None = None, range_start: date | None = None, has_range: bool = False,
                 has_point: bool = False, now: bool = False) -> None:
        self.as_of = as_of
        self.range_start = range_start
        self.has_range = has_range
        self.has_point = has_point
        self.now = now


# resolvers whose dates can frame a document: a period or a period end, not "since 2016" or "now"
_FRAMING = frozenset({
    "month_end", "quarter_end", "half1_end", "year_end", "first_quarters", "first_months", "half1",
    "half2", "quarter", "months_ending", "year", "rel_year", "day", "month_span",
})  # not a bare month (在7月举行的论坛上披露): an event's time, rarely a reporting period


@dataclass(frozen=True)
class _Words:
    cues: re.Pattern
    month_cues: re.Pattern
    source_after: re.Pattern  # the report word, and what makes it a source: 年度报告中, 年报显示
    source_before: re.Pattern
    comparison_open: re.Pattern
    comparison_close: re.Pattern
    reach: int
    disclosure: re.Pattern
    disclosure_report: re.Pattern


@cache
def _words() -> _Words:
    lex = load_lexicon()
    return _Words(re.compile(alternation(lex.frame_cues)), re.compile(alternation(lex.month_frame_cues) or "(?!)"),
                  re.compile(rf"[ 的]?(?:{alternation(lex.source_after)})(?:{alternation(lex.source_then)})"),
                  re.compile(rf"(?:{alternation(lex.source_before)})$"),
                  re.compile(rf"(?:{alternation(lex.comparison_openers)})$"),
                  re.compile(alternation(lex.comparison_closers)),
                  lex.comparison_reach, re.compile(alternation(lex.disclosure_verbs)),
                  re.compile(alternation(lex.disclosure_reports)))


def mark_sources(m: str, hits: list[PeriodHit]) -> list[PeriodHit]:
    """Phrases naming a report as a source (在2019年年度报告中, 去年年报显示) become type 'source':
    they may frame the document but do not date the clauses after them. A report phrase that
    dates its figures (2011年年报公布的交易量) stays a date. A day on which reports came out
    (截至4月4日，…披露了2018年年报) becomes type 'disclosure': it neither frames nor dates."""
    w = _words()
    out = []
    for h in hits:
        if h.type in ("point", "range") and w.source_after.match(m, h.end) or (
                h.type in ("point", "range") and w.source_before.search(m, max(0, h.start - 2), h.start)
                and re.match(r"[ 的]?(?:年度报告|年报|中报|半年报|季报|报告)", m[h.end:h.end + 6])):
            h = h._replace(type="source")
        elif h.resolver == "day" and _discloses(m, h.end):
            h = h._replace(type="disclosure")
        out.append(h)
    return out


def _discloses(m: str, end: int) -> bool:
    """The sentence after a day says reports came out (…七家农商行披露了2018年年报)."""
    stop = end
    while stop < len(m) and m[stop] not in FULL_SENTENCE_ENDS:
        stop += 1
    return _disclosure_in(m, end, stop)


def _disclosure_in(m: str, at: int, stop: int) -> bool:
    """m[at:stop] says reports came out: a disclosure verb, then a report word within reach, or
    right after one (去年業績披露, 年报出炉)."""
    lex = load_lexicon()
    while (x := _words().disclosure.search(m, at, stop)) is not None:
        if _words().disclosure_report.search(m, x.end(), min(stop, x.end() + lex.disclosure_reach)) \
                or m.endswith(lex.disclosure_reports, at, x.start()):
            return True
        at = x.end()
    return False


def is_comparison_basis(m: str, start: int, end: int) -> bool:
    """与2023年相比, 與2005年度同比增长: the phrase is what a figure is compared with."""
    w = _words()
    if not w.comparison_open.search(m, max(0, start - 1), start):
        return False
    stop = end
    limit = min(len(m), end + w.reach)
    while stop < limit and m[stop] not in "，,。；;！？\n":
        stop += 1
    return w.comparison_close.search(m, end, stop) is not None


def document_year(hits: list[PeriodHit]) -> int | None:
    """The year an undated document speaks of: the latest year its phrases write (an article
    speaks of its present; 成立于1954年 is history)."""
    years = [h.finish.year for h in hits if h.finish is not None and h.type in ("point", "range", "source")]
    return max(years) if years else None


def assumed_publication(m: str, frame: PeriodHit | None, hits: list[PeriodHit]) -> date | None:
    """The day an undated document is taken as written: news of a full year's reports coming out
    (…披露了2018年年报) by periods.toml's annual_report_due of the next year, so its 去年 is the
    report's year; else the last day of its reporting period's year (a filing summary speaks from
    inside it: its 去年底 is the year-end before), or the latest later day it states as of, or the
    last day of the latest year it writes. A relative year glossed with its number (去(98)年)
    names the year of writing outright."""
    written = _publication_from_years(m, frame, hits)
    anchor = _bracketed_year(m, hits)
    if anchor is not None and (written is None or written.year != anchor):
        return date(anchor, 12, 31)  # 去(98)年: written in 99 (2010), whatever else it dates
    return written


def _publication_from_years(m: str, frame: PeriodHit | None, hits: list[PeriodHit]) -> date | None:
    if frame is not None and frame.finish is not None:
        f = frame.finish
        if (f.month, f.day) == (12, 31) and frame.begin == date(f.year, 1, 1) and (
                _disclosure_in(m, 0, len(m)) or _ANNUAL_REPORT.match(m, frame.end - 1) or _titled_last_year(m, hits)):
            # news of a year's reports, or 国开行2011年度报告显示…, or a headline on last year's
            # results (台中银去年获利创高): written once the report is out
            return date(f.year + 1, *load_lexicon().annual_report_due)
        # …到2018年一季度末 on a page framed by 2017: written after the latest day it states
        later = [h.finish for h in hits if h.finish is not None and h.type in ("point", "range")
                 and h.finish.year > f.year and not _future(m, h.start, h.end)]
        return max(later) if later else date(f.year, 12, 31)
    year = document_year([h for h in hits if h.resolver != "since_year" and not _future(m, h.start, h.end)])
    if year is not None and _titled_last_year(m, hits):
        return date(year + 1, *load_lexicon().annual_report_due)  # the latest year it writes is over
    return date(year, 12, 31) if year is not None else None


def _titled_last_year(m: str, hits: list[PeriodHit]) -> bool:
    """The headline speaks of last year as a period of its own (台中银去年获利创高; not a basis, 较上年末,
    上年同期): the year the page frames is over."""
    end = m.find("\n")
    if not 0 < end <= load_lexicon().attribution.title_max_len:
        return False
    return any(h.start < end and h.resolver == "rel_year" and not m.endswith(_BASIS_OPENERS, 0, h.start)
               for h in hits)


_BASIS_OPENERS = ("较", "比", "同比", "与", "相比")


_ANNUAL_REPORT = re.compile("(?:年度|度|年) ?(?:报告|年报)(?!期)")  # 2011年度报告, 2011年年报 (from the frame's last character)


def _bracketed_year(m: str, hits: list[PeriodHit]) -> int | None:
    """The year a Taiwan page is written in when it glosses a relative year with its number
    (去(98)年 = 2009, so the page is of 2010; 今(2025)年): periods.toml [relative_years] counts back."""
    for h in hits:
        if h.finish is not None and h.type == "range" and h.start > 0 and m[h.start] in "(（":
            back = _glossed_relative(m, h.start)
            if back is not None:
                return h.finish.year + back
    return None


def _glossed_relative(m: str, start: int) -> int | None:
    """How many years back the relative word before a bracketed year counts (去(98)年: 1, 今(101)年:
    0; periods.toml [relative_years]), or None when no such word stands right before `start`."""
    if start < 1 or m[start] not in "(（":
        return None
    return load_lexicon().relative_years.get(m[start - 1] + "年")


def _future(m: str, start: int, end: int) -> bool:
    """利息补贴将在2026年7月底届期, 2024-2026年EPS预测: a date the page looks ahead to
    (periods.toml future_words just before it, future_after just after) says nothing of when the
    page was written."""
    lex = load_lexicon()
    before = m[max(0, start - lex.future_reach):start]
    after = m[end:end + lex.future_reach + 2]  # room for a word's length after the reach (2024-2026年EPS预测)
    return any(w in before for w in lex.future_words) or any(w in after for w in lex.future_after)


def results_frame(m: str, hits: list[PeriodHit], full: list[tuple[int, int]], title_end: int,
                  lex: Lexicon) -> PeriodHit | None:
    """The reporting period of a results article, as a range hit, or None for other articles.

    The first datable phrase (a period or a period end; a bare day only after 截至) that shares
    its sentence, or the title line, with a results cue (年报, 业绩, 实现净利润 ...). A period end
    frames the year to date: 截至2023年6月末 -> 2023-01-01..2023-06-30.
    """
    cues = _words().cues
    month_cues = _words().month_cues
    k = 0
    for h in hits:
        if not _may_frame(h, month=True):
            continue
        if h.resolver == "day" and not m.startswith(lex.asof_prefixes, h.start):
            continue  # a dateline or an event date, not a reporting period
        if h.start < title_end:
            s, e = 0, title_end
        else:
            while k + 1 < len(full) and full[k + 1][0] <= h.start:
                k += 1
            s, e = full[k] if full else (0, len(m))
        if h.resolver == "month" and not month_cues.search(m, s, e):
            continue  # 在7月举行的论坛上: an event's month; 2025年12月的统计显示: a release's month
        if cues.search(m, s, e) or h.resolver == "month":
            h = _named_report(m, hits, h, e, cues) if h.resolver != "month" else h
            finish = h.finish
            assert finish is not None  # _named_report returns a dated hit
            return PeriodHit(h.start, h.end, "range", h.begin or date(finish.year, 1, 1), finish, h.resolver)
    return None


def _may_frame(h: PeriodHit, month: bool = False) -> bool:
    """A dated period or period end written as such (not a comparison basis' own date, not a
    disclosure's day) that may be a page's reporting period; a bare month (2025年12月) too when
    `month` (a statistics release's)."""
    return h.finish is not None and h.type not in ("adjacent", "disclosure") and (
        h.resolver in _FRAMING or month and h.resolver == "month")


def _named_report(m: str, hits: list[PeriodHit], first: PeriodHit, e: int, cues: re.Pattern) -> PeriodHit:
    """“2025年,…进入…阶段。”日前在北京银行2024年年报业绩发布会上: of the sentence's framing
    phrases, the one a results cue follows at once (2024年|年报) names the report; else the first."""
    for h in hits:
        if h.start < first.start or not _may_frame(h):
            continue
        if h.start >= e:
            break
        if cues.match(m, h.end) is not None:
            return h
    return first


def later_frames(m: str, hits: list[PeriodHit], full: list[tuple[int, int]], lex: Lexicon,
                 first: PeriodHit | None) -> list[PeriodHit]:
    """The reporting periods of results stories stacked on one page after the first (交通银行
    公布，今年上半年… then, in a later paragraph, 交通银行公布，2024年…): a framing phrase in the
    opening of a paragraph's first sentence, after a disclosure verb (公布) and with a results cue,
    for a period that ends later than the frame before it (a look back at last year frames nothing;
    a line broken inside a sentence opens no paragraph)."""
    if first is None or first.finish is None:
        return []
    w = _words()
    cues = w.cues
    out: list[PeriodHit] = []
    current = first.finish
    k = 0
    for h in hits:
        if h.start <= first.end or not _may_frame(h) or h.finish is None or h.finish <= current:
            continue
        while k + 1 < len(full) and full[k + 1][0] <= h.start:
            k += 1
        s, e = full[k] if full else (0, len(m))
        if s > 0 and (m[s - 1] != "\n" or s > 1 and m[s - 2] not in FULL_SENTENCE_ENDS) \
                or h.start - s > _FRAME_OPENING or not cues.search(m, s, e) or not w.disclosure.search(m, s, h.start):
            continue
        out.append(PeriodHit(h.start, h.end, "range", h.begin or date(h.finish.year, 1, 1), h.finish, h.resolver))
        current = h.finish
    return out


_FRAME_OPENING = 24  # how far into its paragraph's first sentence a later story's period may stand


def frame_state(frame: PeriodHit) -> PeriodState:
    """The period state a figure takes from its document's reporting period."""
    return PeriodState(as_of=frame.finish, range_start=frame.begin, has_range=True, has_point=False)


# ---------------------------------------------------------------- period phrases: scan and resolve


@dataclass(frozen=True)
class _PeriodScans:
    periods: re.Pattern
    period_parts: tuple[tuple[str, frozenset[str]], ...]  # (branch, characters it needs)
    period_needed: frozenset[str]  # every character some rule needs
    part_patterns: tuple[re.Pattern, ...]  # each branch compiled on its own
    starts: re.Pattern | None  # the places a branch can start (None: anywhere)
    by_first: dict[str, tuple[tuple[int, frozenset[str] | None], ...]]  # first character -> (branch, its seconds)
    period_rules: dict[str, tuple[str, str]]  # group name -> (type, resolver)
    period_groups: dict[str, tuple[tuple[str, str], ...]]  # p3 -> (("p3_y", "y"), ...)
    basis_before: re.Pattern
    dated_basis_before: re.Pattern
    basis_joiners: frozenset[str]
    basis_tails: tuple[str, ...]
    cause_openers: tuple[str, ...]
    cause_closers: tuple[str, ...]


# a group a pattern names apart only because a regex cannot name two groups alike: read as the other
# (rocb, the bare ROC year 114年10月底, is a `roc` year)
_GROUP_READ_AS = {"rocb": "roc", "yc": "yy"}  # (yc: ○九年, 09年, a year of the 2000s in two digits)


@cache
def period_scans() -> _PeriodScans:
    """The period rules of periods.toml as one gated alternation, compiled once per process."""
    lex = load_lexicon()
    parts, rules = [], {}
    for i, r in enumerate(lex.period_rules):
        g = f"p{i}"
        # group names must be unique across the alternation: y -> p3_y
        body = re.sub(r"\(\?P<(\w+)>", rf"(?P<{g}_\1>", r.pattern)
        body = re.sub(r"\(\?P=(\w+)\)", rf"(?P={g}_\1)", body)
        # a branch that starts with its group is tried in full at every position; the lookahead
        # of its own first characters rejects it in one step (halves the scan)
        own = first_chars(r.pattern)
        gate = "(?=[" + "".join(re.escape(c) for c in sorted(own)) + "])" if own else ""
        parts.append((f"{gate}(?P<{g}>{body})", required_chars(r.pattern)))
        rules[g] = (r.type, r.resolve)
    pairs = [first_pairs(p) for p, _ in parts]
    merged = _merged_pairs(pairs)
    by_first: dict[str, list[tuple[int, frozenset[str] | None]]] = {}
    for k, each in enumerate(pairs):
        for c, after in (each or {}).items():
            by_first.setdefault(c, []).append((k, after))
    return _PeriodScans(
        periods=gated("|".join(p for p, _ in parts), merged),  # each part gated by its own first characters
        period_parts=tuple(parts),
        period_needed=frozenset().union(*[need for _, need in parts]),
        part_patterns=tuple(re.compile(p) for p, _ in parts),
        starts=re.compile(_pair_branches(merged, lookahead=True)) if merged else None,
        by_first={c: tuple(ks) for c, ks in by_first.items()},
        period_groups={g: tuple([(f"{g}_{n}", _GROUP_READ_AS.get(n, n)) for n in re.compile(r.pattern).groupindex])
                       for g, r in zip(rules, lex.period_rules)},
        period_rules=rules,
        basis_before=re.compile(rf"(?:{alternation(lex.basis_prefixes)}) ?$"),  # 较 2023 年末
        dated_basis_before=re.compile(rf"(?:{alternation(lex.dated_basis_prefixes)}) ?$"),
        basis_joiners=lex.basis_joiners,
        basis_tails=lex.basis_tails,
        cause_openers=lex.cause_openers,
        cause_closers=lex.cause_closers,
    )


def gated(alternation: str, pairs: dict[str, frozenset[str] | None] | None = None) -> re.Pattern:
    """Compile `alternation` behind lookaheads of the characters it can start with.

    A long alternation that cannot start with a digit otherwise tries every branch at every
    position. A one-character set rejects most positions in one test; at those left, a trie of
    the first two characters (上 goes on in 上半年, not in 上升; 2 in 2023年, not in 25%) rejects
    most of the rest before any branch is tried, which halves the period scan.
    `pairs`: the `first_pairs` of `alternation` when the caller has them (see `_merged_pairs`).
    """
    if pairs is None:
        pairs = first_pairs(alternation)
    if not pairs:
        return re.compile(alternation)
    cls = "".join(re.escape(c) for c in sorted(pairs))
    return re.compile(f"(?=[{cls}])(?={_pair_branches(pairs, lookahead=False)})(?:{alternation})")


def _pair_branches(pairs: dict[str, frozenset[str] | None], lookahead: bool) -> str:
    """An alternation of each first character followed by one of its seconds (上[半年], 2[0]), the
    seconds as a class or, with `lookahead`, looked at without being taken (上(?=[半年]))."""
    opening, closing = ("(?=[", "])") if lookahead else ("[", "]")
    return "|".join(re.escape(c) + ("" if after is None else opening + "".join(re.escape(x) for x in sorted(after)) + closing)
                    for c, after in sorted(pairs.items()))


def month_end(y: int, m: int) -> date:
    """The last day of month `m` of year `y` (the day before the next month's first:
    calendar.monthrange runs in the interpreter)."""
    if not 1 <= m <= 12:
        raise ValueError(f"month {m}")
    return date(y, 12, 31) if m == 12 else date(y, m + 1, 1) - timedelta(days=1)


def _small_int(s: str | None) -> int | None:
    if not s:
        return None
    try:
        return int(parse_number(s))
    except ValueError:
        return None


_CN_DIGITS = str.maketrans("○〇零一二三四五六七八九", "000123456789")  # ○九 -> 09


def _written_year(groups: dict) -> int:
    """2024 as written; a year of the Republic of China (今(98)年, 民國98年: `roc` in periods.toml
    {Y}) is 1911 years later on the Western calendar."""
    y = groups.get("y")
    if y:
        return int(y)
    yy = groups.get("yy")
    return 2000 + int(yy.translate(_CN_DIGITS)) if yy else int(groups["roc"]) + 1911


def _year(groups: dict, end_month: int, pub: date | None, precision: str | None) -> int | None:
    """Year of a phrase: written (2024年), relative (今年, 去年) or the latest one not after publication."""
    if groups.get("y") or groups.get("roc") or groups.get("yy"):
        return _written_year(groups)  # 2024年, 民國98年; 1H25, 2Q25, ○九年
    rel = groups.get("rel")
    if rel:
        if pub is None:
            return None
        return pub.year - load_lexicon().relative_years.get(rel, 0)
    if pub is None:
        return None
    if precision == "year":
        return pub.year  # 截至5月末 on a page dated 2016 only: the year the page states (GOLD_FORMAT)
    # compare by month: a sidecar often gives only the month of publication
    return pub.year if end_month <= pub.month else pub.year - 1


def _resolve(resolver: str, g: dict, pub: date | None, prec: str | None) -> tuple[date | None, date | None] | None:
    """(begin, finish) dates of a period phrase, None when it cannot be resolved."""
    try:
        if resolver in ("none", "report_end"):
            return (None, None)  # report_end is filled in from the document's as-of date
        if resolver in ("day", "month_end"):
            mo = _small_int(g.get("m"))
            if mo is None or not 1 <= mo <= 12:
                return None
            y = _year(g, mo, pub, prec)
            if y is None:
                return None
            if resolver == "day":
                return (None, date(y, mo, int(g["d"])))
            return (None, month_end(y, mo))
        if resolver in ("quarter_end", "quarter"):
            q = _small_int(g.get("q"))
            if q is None or not 1 <= q <= 4:
                return None
            y = _year(g, 3 * q, pub, prec)
            if y is None:
                return None
            fin = month_end(y, 3 * q)
            return (None, fin) if resolver == "quarter_end" else (date(y, 3 * q - 2, 1), fin)
        if resolver in ("half1_end", "half1"):
            y = _year(g, 6, pub, prec)
            return None if y is None else ((None if resolver == "half1_end" else date(y, 1, 1)), date(y, 6, 30))
        if resolver == "month":
            mo = _small_int(g.get("m"))
            if mo is None or not 1 <= mo <= 12:
                return None
            y = _year(g, mo, pub, prec)
            return None if y is None else (date(y, mo, 1), month_end(y, mo))
        if resolver == "half_code":
            y = _year(g, 6, pub, prec)
            if y is None:
                return None
            return (date(y, 1, 1), date(y, 6, 30)) if g.get("n") == "1" else (date(y, 7, 1), date(y, 12, 31))
        if resolver == "half2":
            y = _year(g, 12, pub, prec)
            return None if y is None else (date(y, 7, 1), date(y, 12, 31))
        if resolver == "year_end":
            y = _year(g, 12, pub, prec) if (g.get("y") or g.get("roc") or g.get("rel")) else None
            return None if y is None else (None, date(y, 12, 31))
        if resolver == "first_quarters":
            n = _small_int(g.get("n") or "1")  # 首季: the first quarter
            if n is None or not 1 <= n <= 4:
                return None
            y = _year(g, 3 * n, pub, prec)
            return None if y is None else (date(y, 1, 1), month_end(y, 3 * n))
        if resolver == "month_span":  # 2025年7-9月: from the first month's start to the last's end
            first, n = _small_int(g.get("m1")), _small_int(g.get("m"))
            if first is None or n is None or not 1 <= first < n <= 12:
                return None
            y = _year(g, n, pub, prec)
            return None if y is None else (date(y, first, 1), month_end(y, n))
        if resolver == "first_months":
            n = _small_int(g.get("m") or g.get("n"))
            if n is None or not 1 <= n <= 12:
                return None
            y = _year(g, n, pub, prec)
            return None if y is None else (date(y, 1, 1), month_end(y, n))
        if resolver == "months_ending":
            month = _small_int(g["m"])
            if month is None:
                return None
            fin = date(_written_year(g), month, int(g["d"]))
            n = 12 if g.get("year") else _small_int(g.get("n"))
            if not n or not 1 <= n <= 12:
                return None
            first_month = fin.month - n + 1
            y0 = fin.year if first_month >= 1 else fin.year - 1
            return (date(y0, (first_month - 1) % 12 + 1, 1), fin)
        if resolver == "since_year":
            return (date(_written_year(g), 1, 1), None)
        if resolver == "year_to_date":
            return None if pub is None else (date(pub.year, 1, 1), None)
        if resolver == "year":
            y = _written_year(g)
            return (date(y, 1, 1), date(y, 12, 31))
        if resolver == "year_span":  # 2020至2023年
            y1, y2 = int(g["y1"]), _written_year(g)
            return (date(y1, 1, 1), date(y2, 12, 31)) if y1 < y2 else None
        if resolver == "rel_year":
            y = _year(g, 12, pub, prec)
            return None if y is None else (date(y, 1, 1), date(y, 12, 31))
    except (ValueError, KeyError, TypeError):
        return None
    return None


@dataclass(init=False)
class PeriodMatch:
    """A period phrase as scanned, before its dates are resolved (they depend on the context)."""
    start: int
    end: int
    type: str
    resolver: str
    groups: dict[str, str]
    basis: bool  # a dated comparison basis (较2021年末), not an as-of date
    adjacent: bool = False  # a basis written right before a number: it dates that number
    keeps_basis: bool = True  # an adjacent basis is also the start of a change (framed, or 较+point)

    # written out: mypyc compiles it (the generated __init__ runs in the interpreter)
    def __init__(self, start: int, end: int, type: str, resolver: str, groups: dict[str, str], basis: bool,
                 adjacent: bool = False, keeps_basis: bool = True) -> None:
        self.start = start
        self.end = end
        self.type = type
        self.resolver = resolver
        self.groups = groups
        self.basis = basis
        self.adjacent = adjacent
        self.keeps_basis = keeps_basis


def _as_at(m: str, start: int, end: int) -> bool:
    """The phrase at [start, end) follows an as-at word that opens its clause and a clause mark
    follows it (於2018年12月31日，): the date the clause's figures are as at."""
    if end >= len(m) or m[end] not in CLAUSE_ENDS:
        return False
    for w in load_lexicon().asat_prefixes:
        p = start - len(w)
        if p >= 0 and m.startswith(w, p) and (p == 0 or m[p - 1] in CLAUSE_ENDS or m[p - 1] in "(（"):
            return True
    return False


_CAUSE_REACH = 20  # 受2012年两次降息的后续影响: the phrase to the closing word


def _names_cause(m: str, lead: int, end: int, sc: _PeriodScans) -> bool:
    """The phrase at m[lead:end] is inside a cause: an opener right before it, a closing word
    after it before the clause ends."""
    if not any(m.startswith(w, lead - len(w)) for w in sc.cause_openers if lead >= len(w)):
        return False
    stop = end
    limit = min(len(m), end + _CAUSE_REACH)
    while stop < limit and m[stop] not in CLAUSE_ENDS:
        stop += 1
    return any(m.find(w, end, stop) >= 0 for w in sc.cause_closers)


def joined_basis(m: str, end: int, lead: int) -> bool:
    """m[end:lead], between a comparison basis ending at `end` and the next phrase, joins them
    (比二季度、一季度, 相较2024年同期和2025年二季度: periods.toml basis_joiners, basis_tails)."""
    sc = period_scans()
    for t in sc.basis_tails:
        if m.startswith(t, end):
            end += len(t)
            break
    return m[end:lead] in sc.basis_joiners


def scan_periods(m: str) -> list[PeriodMatch]:
    """The period phrases of `m` that date figures or are comparison bases, in text order.
    What they find does not depend on the document's context: `period_hits` resolves them."""
    sc = period_scans()
    out: list[PeriodMatch] = []
    for x in _period_matches(m):
        g = x.lastgroup
        assert g is not None  # every branch is a named group
        typ, resolver = sc.period_rules[g]
        framed = typ != "reset" and is_comparison_basis(m, x.start(), x.end())  # 与2023年相比
        lead = first = x.start()
        if _glossed_relative(m, lead) is not None:
            lead -= 1  # 较去(100)年同期: the relative word before a glossed year is part of the phrase
        elif lead >= 2 and _glossed_relative(m, lead - 1) is not None:
            lead = first = lead - 2  # 由去(2024)年底53%: the phrase read from its year on; its word and bracket too
        is_basis = framed or typ != "reset" and sc.basis_before.search(m[max(0, lead - 3):lead])
        if not is_basis and typ != "reset" and out and out[-1].basis and joined_basis(m, out[-1].end, lead):
            is_basis = True  # 相较2024年同期和2025年二季度均有下滑: the second basis of the comparison
        # 较上年末, 相对于2019年上半年: a comparison basis, not the as-of date; a dated one
        # (较2021年末) is kept as the start of a change
        # 与2014年46.68%的增速相比, 相比上年19%的增速: a basis written right before a number dates
        # that number ("adjacent": it dates nothing after it, flows.normalise)
        e = x.end()
        if is_basis and not framed and _as_at(m, x.start(), e):
            is_basis = False  # 於2018年12月31日，…: an as-at date
        adjacent = is_basis and e < len(m) and (m[e].isdigit() or m[e] in " 的之" and m[e + 1:e + 2].isdigit())
        groups = {}
        for full, short in sc.period_groups[g]:  # only this rule's groups, not all ~100
            v = x.group(full)
            if v:
                groups[short] = v
        if not is_basis and _names_cause(m, lead, e, sc):
            # 受2012年两次降息的后续影响: a cause's date, not the period of the figures after it
            out.append(PeriodMatch(first, x.end(), typ, resolver, groups, True, False, False))
            continue
        if is_basis and not framed and not adjacent and (
                typ != "point" or not sc.dated_basis_before.search(m, max(0, lead - 3), lead)):
            # 比二季度增加: a basis that dates nothing (period_hits keeps no date of it), listed so
            # that a subject opening with it skips it
            out.append(PeriodMatch(first, x.end(), typ, resolver, groups, True, False, False))
            continue
        keeps = not adjacent or framed or typ == "point" and sc.dated_basis_before.search(
            m, max(0, lead - 3), lead) is not None
        out.append(PeriodMatch(first, x.end(), typ, resolver, groups, bool(is_basis), bool(adjacent), keeps))
    return out


def period_hits(m: str, ctx: DocContext, found: list[PeriodMatch] | None = None,
                ) -> tuple[list[PeriodHit], list[PeriodHit]]:
    """(as-of and period phrases, comparison-basis phrases such as 较2021年末); `found`: the
    phrases `scan_periods(m)` returned, when the caller has them already."""
    pub = ctx.published_at
    prec = ctx.published_precision or ("day" if pub else None)
    hits = []
    bases = []
    for p in scan_periods(m) if found is None else found:
        dates = _resolve(p.resolver, p.groups, pub, prec)
        if p.basis:
            if dates is not None and dates[1] is not None:
                if p.adjacent:
                    hits.append(PeriodHit(p.start, p.end, "adjacent", dates[0], dates[1], p.resolver))
                if p.keeps_basis:
                    bases.append(PeriodHit(p.start, p.end, p.type, dates[0], dates[1], p.resolver))
            continue
        if dates is None:
            hits.append(PeriodHit(p.start, p.end, "unresolved", None, None, p.resolver))
        else:
            hits.append(PeriodHit(p.start, p.end, p.type, dates[0], dates[1], p.resolver))
    return hits, bases


def _period_matches(m: str) -> list[re.Match[str]]:
    """`list(period_scans().periods.finditer(m))`, each rule tried only where it can start.

    The alternation's gate (`gated`) is a lookahead, so the regex engine would still enter the
    pattern at every position of the text. A pattern of the first two characters of every rule
    (`starts`) starts with a literal: the engine skips from one place worth a try to the next in
    a tight C loop. There, the rules that can start with those two characters, and that can
    match this text at all (every character a rule needs is in it), are tried in the
    alternation's order, each compiled on its own once per process; the first that matches
    wins, as in the alternation, and the scan goes on after it.

    (A pattern compiled for each document's subset of rules cost 5 to 8 ms a compile: on real
    pages, whose subsets rarely repeat, that was most of a fresh process's extraction time.)
    """
    sc = period_scans()
    if sc.starts is None:
        return list(sc.periods.finditer(m))
    # rules whose needed characters are all in the text (most pages lack 季 or 半 ...)
    present = {c for c in sc.period_needed if c in m}
    out: list[re.Match[str]] = []
    pos = 0
    n = len(m)
    for s in sc.starts.finditer(m):
        i = s.start()
        if i < pos:
            continue
        nxt = m[i + 1] if i + 1 < n else ""
        for k, seconds in sc.by_first[m[i]]:
            if seconds is not None and nxt not in seconds or not sc.period_parts[k][1] <= present:
                continue
            x = sc.part_patterns[k].match(m, i)
            if x is not None:
                if x.end() == i:  # an empty match: finditer's own rules for what may follow it apply
                    return list(sc.periods.finditer(m))
                out.append(x)
                pos = x.end()
                break
    return out


def _merged_pairs(each: list[dict[str, frozenset[str] | None] | None]) -> dict[str, frozenset[str] | None] | None:
    """The first pairs of an alternation from those of its branches (a branch that may start
    with anything makes the whole unknown): the whole alternation is not analysed again."""
    if not each or any(p is None for p in each):
        return None
    out: dict[str, set[str] | None] = {}
    for pairs in each:
        assert pairs is not None
        for c, after in pairs.items():
            if c in out and out[c] is None:
                continue
            if after is None:
                out[c] = None
            else:
                known = out.setdefault(c, set())
                assert known is not None
                known.update(after)
    return {c: None if a is None else frozenset(a) for c, a in out.items()}


def period_state(hits: list[PeriodHit]) -> PeriodState:
    st = PeriodState()
    for h in hits:
        if h.type == "source":
            continue  # 在2019年年度报告中: names a report, does not date what follows
        if h.type == "reset":
            st = PeriodState(now=True)
        elif h.type == "unresolved":
            # a phrase we cannot date makes earlier dates wrong for what follows
            st = PeriodState()
        elif h.type == "point":
            st.as_of, st.has_point, st.now = h.finish, True, False
        elif h.type == "range":
            st.range_start, st.as_of, st.has_range, st.now = h.begin, h.finish, True, False
        elif h.type == "open":
            st.range_start, st.has_range, st.now = h.begin, True, False
    return st
