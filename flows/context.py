"""What a document says about time as a whole: its reporting period and the year it speaks of.

A results article states its period once ("2025年前三季度实现净利润…", "发布了2023年度报告") and
then gives dozens of figures with no date; a reader dates them all with that period. A page with
no publication date still names its year somewhere (2023年末, 2024年上半年): a year-less phrase
(9月末, 前三季度) takes that year. The per-clause dating stays in `flows.normalise`; this module
only finds the document-wide facts it falls back on. Rule words live in `rules/periods.toml`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import NamedTuple

from flows.lexicon import Lexicon, alternation, load_lexicon


class PeriodHit(NamedTuple):  # (start, end, ...) like the other scan hits
    start: int
    end: int
    type: str  # point | range | open | reset | unresolved | source
    begin: date | None
    finish: date | None
    resolver: str = ""


@dataclass
class PeriodState:
    as_of: date | None = None
    range_start: date | None = None
    has_range: bool = False
    has_point: bool = False


# resolvers whose dates can frame a document: a period or a period end, not "since 2016" or "now"
_FRAMING = frozenset({
    "month_end", "quarter_end", "half1_end", "year_end", "first_quarters", "first_months", "half1",
    "half2", "quarter", "months_ending", "year", "rel_year", "day",
})  # not a bare month (在7月举行的论坛上披露): an event's time, rarely a reporting period


@dataclass(frozen=True)
class _Words:
    cues: re.Pattern
    source_after: re.Pattern  # the report word, and what makes it a source: 年度报告中, 年报显示
    source_before: re.Pattern
    comparison_open: re.Pattern
    comparison_close: re.Pattern
    reach: int


@cache
def _words() -> _Words:
    lex = load_lexicon()
    return _Words(re.compile(alternation(lex.frame_cues)),
                  re.compile(rf"[ 的]?(?:{alternation(lex.source_after)})(?:{alternation(lex.source_then)})"),
                  re.compile(rf"(?:{alternation(lex.source_before)})$"),
                  re.compile(rf"(?:{alternation(lex.comparison_openers)})$"),
                  re.compile(alternation(lex.comparison_closers)),
                  lex.comparison_reach)


def mark_sources(m: str, hits: list[PeriodHit]) -> list[PeriodHit]:
    """Phrases naming a report as a source (在2019年年度报告中, 去年年报显示) become type 'source':
    they may frame the document but do not date the clauses after them. A report phrase that
    dates its figures (2011年年报公布的交易量) stays a date."""
    w = _words()
    out = []
    for h in hits:
        if h.type in ("point", "range") and w.source_after.match(m, h.end) or (
                h.type in ("point", "range") and w.source_before.search(m, max(0, h.start - 2), h.start)
                and re.match(r"[ 的]?(?:年度报告|年报|中报|半年报|季报|报告)", m[h.end:h.end + 6])):
            h = h._replace(type="source")
        out.append(h)
    return out


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


def results_frame(m: str, hits: list[PeriodHit], full: list[tuple[int, int]], title_end: int,
                  lex: Lexicon) -> PeriodHit | None:
    """The reporting period of a results article, as a range hit, or None for other articles.

    The first datable phrase (a period or a period end; a bare day only after 截至) that shares
    its sentence, or the title line, with a results cue (年报, 业绩, 实现净利润 ...). A period end
    frames the year to date: 截至2023年6月末 -> 2023-01-01..2023-06-30.
    """
    cues = _words().cues
    k = 0
    for h in hits:
        if h.finish is None or h.resolver not in _FRAMING:
            continue
        if h.resolver == "day" and not m.startswith(lex.asof_prefixes, h.start):
            continue  # a dateline or an event date, not a reporting period
        if h.start < title_end:
            s, e = 0, title_end
        else:
            while k + 1 < len(full) and full[k + 1][0] <= h.start:
                k += 1
            s, e = full[k] if full else (0, len(m))
        if cues.search(m, s, e):
            begin = h.begin or date(h.finish.year, 1, 1)
            return PeriodHit(h.start, h.end, "range", begin, h.finish, h.resolver)
    return None


def frame_state(frame: PeriodHit) -> PeriodState:
    """The period state a figure takes from its document's reporting period."""
    return PeriodState(as_of=frame.finish, range_start=frame.begin, has_range=True, has_point=False)
