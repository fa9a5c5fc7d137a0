"""The period a figure is dated to: the period phrases of its paragraph or sentence, the date
written right before it, a table column's or a series' date, and the report it is about.

`flows.normalise` calls `period_of` (what the figure's context dates) then `figure_dates` (its
period_start and period_end for its kind and comparison basis). The phrases themselves are found
and resolved in `flows.context`; the words are rules in `rules/periods.toml`.
"""
from __future__ import annotations

import flows.lexicon as bisect  # bisect_left/bisect_right: compiled, over lists of ints, called directly
import re
from datetime import date, timedelta
from functools import cache

from flows.context import PeriodHit, PeriodState, frame_state, month_end, period_state
from flows.document import Doc, Place, between, clause_end
from flows.extract import Span
from flows.lexicon import Lexicon, load_lexicon


# ---------------------------------------------------------------- the steps


def period_of(sp: Span, d: Doc, lex: Lexicon, at: Place,
              heading: tuple[int, tuple[int, int] | None] | None) -> tuple[PeriodState, PeriodState | None, bool, int]:
    """(the figure's period state, that of its sentence when the paragraph's dates none, whether
    its sentence speaks of the present, where the paragraph whose dates it takes starts)."""
    m = d.m
    fs, qstart = at.fs, at.qstart
    # dates carry through the paragraph (截至6月末，…。个人贷款余额…), but only a period phrase of
    # the same sentence makes a count a flow (前三季度…触客1.9亿户)
    para = at.line_start
    if heading is not None:
        para = heading[0]  # a list's dates are in its heading
    elif para > d.title_end + 1 and (m.startswith(lex.continuation_openers, para)
                                     or continues_previous(d, lex, para, qstart)):
        para = m.rfind("\n", 0, para - 1) + 1  # 其中，…: still the previous paragraph's dates
    st = dates_between(d, para, qstart)
    if heading is None:
        item = _item_of(d, lex, para, qstart)
        if item is not None:
            # (二)…去年佔22.5%; (三)經營支出上升12.9%: the item's own dates, else those before its list
            st = dates_between(d, item[1], qstart)
            if st.as_of is None and not st.has_range:
                st = dates_between(d, para, item[0])
    # 截至目前，在全部42家上市银行中: the present of its sentence, which no report's period dates
    st_fs = dates_between(d, fs, qstart) if st.as_of is None else None
    now = st_fs is not None and st_fs.now
    frame = d.frame
    for later in d.later_frames:  # a later story stacked on the page: its period from its opening on
        if later.start < qstart:
            frame = later
    if st.as_of is None and frame is not None and not now:
        # results coverage: the report's period dates the undated figure (今年累放…: to its end)
        st = frame_state(frame) if not st.has_range else PeriodState(
            as_of=frame.finish, range_start=st.range_start, has_range=True, has_point=st.has_point)

    k = bisect.bisect_right(d.period_starts, qstart) - 1
    if k >= 0 and d.periods[k].finish is not None and d.periods[k].type in ("adjacent", "point", "range") \
            and (d.periods[k].end == qstart or d.periods[k].end == qstart - 1 and (
                m[qstart - 1] == " " or d.periods[k].type == "adjacent" and m[qstart - 1] in "的之")):
        h = d.periods[k]  # 2014年211%, 相比上年19%的增速: the date written right before the number
        st = PeriodState(as_of=h.finish, range_start=h.begin, has_range=h.begin is not None,
                         has_point=h.begin is None)
    if sp.prefix_unit and sp.unit_word in lex.table_units:
        column = column_date(d, sp)  # a table cell: its column's date (2024年度 2023年度 …)
        if column is not None:
            st = PeriodState(as_of=column[1], range_start=column[0], has_range=column[0] is not None,
                             has_point=column[0] is None)
    else:
        # 2020年-2024年…分别为a、b、c、d和e; 2024 - 2026年净利润增速预测为10.7%、12.0%、12.2%
        series = series_date(d, fs, sp.start) if d.institutions.respectively else None
        if series is None:
            series = span_series(d, fs, sp.start)
        if series is None:
            series = paired_series(d, para, sp.start)
        if series is not None:
            st = PeriodState(as_of=series[1], range_start=series[0], has_range=series[0] is not None,
                             has_point=series[0] is None)
    return st, st_fs, now, para


def span_series(d: Doc, fs: int, start: int) -> tuple[date, date] | None:
    """The year of the k-th figure of a list right after a span of years in its sentence, when the
    list holds one figure a year (调整2024 - 2026年净利润增速预测为10.7%、12.0%、12.2%: 2026 for the
    third); None otherwise."""
    lo = bisect.bisect_left(d.period_starts, fs)
    i = bisect.bisect_left(d.period_starts, start) - 1
    if i < lo:
        return None
    h = d.periods[i]
    if h.resolver != "year_span" or h.begin is None or h.finish is None:
        return None
    years = h.finish.year - h.begin.year + 1
    first = bisect.bisect_left(d.span_starts, h.end)
    k = bisect.bisect_left(d.span_starts, start) - first
    if not 0 <= k < years:
        return None
    if _list_length(d, first, years) != years:
        return None
    y = h.begin.year + k
    return date(y, 1, 1), date(y, 12, 31)


_PERIOD_JOINERS = frozenset(["和", "、", "及", "与", "以及"])


def paired_series(d: Doc, para: int, start: int) -> tuple[date | None, date] | None:
    """The period of the k-th figure of a list when the last period phrases before it in its
    paragraph (from `para`) are as many periods joined as a list (2023年和2024Q1，营业收入同比增长
    7.22%和6.27%，归母净利润…16.22%和12.84%: 2023 for the first of each list, 2024Q1 for the
    second); None otherwise."""
    lo = bisect.bisect_left(d.period_starts, para)
    i = bisect.bisect_left(d.period_starts, start) - 1
    if i - 1 < lo:
        return None
    m = d.m
    first = i
    while first - 1 >= lo and m[d.periods[first - 1].end:d.periods[first].start].strip() in _PERIOD_JOINERS:
        first -= 1
    group = d.periods[first:i + 1]
    n = len(group)
    if n < 2 or any(h.finish is None or h.type not in ("point", "range") for h in group):
        return None
    j = bisect.bisect_left(d.span_starts, start)
    if j >= len(d.span_starts) or d.span_starts[j] != start:
        return None
    ends = load_lexicon().series_list_ends
    r = j  # the first figure of the figure's list
    while r > 0 and d.span_starts[r - 1] > group[-1].end and not any(
            c in ends for c in m[d.span_ends[r - 1]:d.span_starts[r]]):
        r -= 1
    k = j - r
    finish = group[k].finish if k < n else None
    if finish is None or _list_length(d, r, n) != n:
        return None
    return group[k].begin, finish


def _item_of(d: Doc, lex: Lexicon, a: int, b: int) -> tuple[int, int] | None:
    """(where its list's first item starts, where the last item starts) for the last item of
    m[a:b] (periods.toml item_marks: numbered (一), （二）, or bullets " - "), a list being the items
    of one kind: a bullet may hold a numbered list of its own. The page's marks are found once,
    when first asked."""
    if d.items is None:
        m = d.m
        found = [] if all(ch not in m for ch in _ITEM_CHARS) else _item_pattern(lex.item_marks).finditer(m)
        after = lex.item_mark_after
        d.items = [(x.start(), m[x.start()] in "(（") for x in found  # (start, numbered)
                   if x.start() == 0 or m[x.start() - 1] == "\n" or m[x.start() - 1] in after]
        d.item_starts = [s for s, _ in d.items]
    hi = bisect.bisect_left(d.item_starts, b)
    if hi == 0 or d.item_starts[hi - 1] < a:
        return None
    last, numbered = d.items[hi - 1]
    first = last
    k = hi - 1
    while k >= 0 and d.items[k][0] >= a and d.items[k][1] == numbered:
        first = d.items[k][0]  # (a bullet before it holds this numbered list)
        k -= 1
    return first, last


_ITEM_CHARS = (")", "）", "-", "•", "●")


@cache
def _item_pattern(pattern: str) -> re.Pattern:
    return re.compile(pattern)  # literal-first: the engine skips to the next bracket or bullet


def figure_dates(sp: Span, d: Doc, at: Place, kind: str, basis: str | None, basis_date: date | None,
                 st: PeriodState, now: bool, unit: str, period_ratio: bool = False) -> tuple[date | None, date | None]:
    """(period_start, period_end) of a figure of `kind` compared on `basis` (flows.normalise);
    `period_ratio`: the figure is a ratio of a period's flows (net interest margin, ROE)."""
    in_title = sp.start < d.title_end
    as_of = st.as_of
    if as_of is None and not now and (in_title or kind == "change" and basis in ("year_start", "prev_year_end")
                          or st.range_start is not None and d.lead_as_of is not None
                          and st.range_start <= d.lead_as_of):
        as_of = d.lead_as_of  # (今年累放农地贷款…: an open period runs to the lead's as-of date)
    pub = d.ctx.published_at
    if as_of is None and not now and st.range_start is not None and pub is not None \
            and (d.ctx.published_precision or "day") == "day" and st.range_start <= pub and not in_title:
        as_of = pub  # 2022年以来，累计投放贷款27.72亿元 and nothing else dates it: since then, to the day of writing
    start: date | None
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

    if end is not None and _prior_same_period(d, at.cstart, at.qstart):
        # 去年同期为8亿元: the same period a year before
        return (year_before(start) if start is not None else None), year_before(end)
    if kind == "level" and end is not None and from_level(d, sp, at.cstart):
        earlier = _dated_from(d, at.fs, sp.start)
        if earlier is not None:
            start, end = None, earlier  # 由11月底的71.9%上升至72.9%，…由47.5%下跌至46.4%: the same from-date
        elif period_ratio and start is not None:
            # 淨息差由1.7%擴闊至1.9% for an interim: the same period a year before
            start, end = year_before(start), year_before(end)
        elif st.range_start is not None and st.range_start.year == end.year:
            # 第三季逾放比自0.26%降至0.24%, 上半年不良率从1.5%降至1.4%: the level on the eve of the period
            start, end = None, st.range_start - timedelta(days=1)
        else:
            start, end = None, date(end.year - 1, 12, 31)  # 从10.72%降至10.07%: the level a year-end before
    if start is not None and end is not None and start > end:
        start = None  # 前三季度…。2015年底累计放贷128.17亿元: a point before the period dates it alone
    return start, end


# ---------------------------------------------------------------- what the context dates


def dates_between(d: Doc, a: int, b: int) -> PeriodState:
    """`period_state` of the period phrases within [a, b) (as `between` selects them).

    The mentions of a paragraph mostly see the same phrases: the state is built once per run of
    phrases and shared (read only).
    """
    lo = bisect.bisect_left(d.period_starts, a)
    hi = bisect.bisect_left(d.period_starts, b)
    if hi > lo and d.periods[hi - 1].end > b:
        hi -= 1
    if any(0 <= _aside_end(d, i) <= b for i in range(lo, hi)):
        # …降至11.98%(2023年为12.07%)，…: a bracket's date dates the bracket's own figure only
        return period_state([d.periods[i] for i in range(lo, hi) if not 0 <= _aside_end(d, i) <= b])
    st = d.states.get((lo, hi))
    if st is None:
        st = d.states[(lo, hi)] = period_state(d.periods[lo:hi])
    return st


_ASIDE_REACH = 16
_OPEN_BRACKETS = "(（"
_CLOSE_BRACKETS = ")）"


def _aside_end(d: Doc, i: int) -> int:
    """Where the bracket closes that period phrase `i` stands in with a figure of its own after it
    ((2023年为12.07%), not 业绩摘要(截至2007年12月31日止年度)), or -1."""
    got = d.asides.get(i)
    if got is not None:
        return got
    m = d.m
    h = d.periods[i]
    got = -1
    k = h.start - 1
    floor = max(0, h.start - _ASIDE_REACH)
    while k >= floor and m[k] not in _OPEN_BRACKETS and m[k] not in _CLOSE_BRACKETS and m[k] != "\n":
        k -= 1
    if k >= floor and m[k] in _OPEN_BRACKETS:
        j = h.end
        ceil = min(len(m), h.end + _ASIDE_REACH)
        digit = False
        while j < ceil and m[j] not in _CLOSE_BRACKETS and m[j] not in _OPEN_BRACKETS and m[j] != "\n":
            digit = digit or m[j].isdigit()
            j += 1
        if j < ceil and m[j] in _CLOSE_BRACKETS and digit:
            got = j
    d.asides[i] = got
    return got


def _prior_same_period(d: Doc, cstart: int, qstart: int) -> bool:
    """The clause opens with 去年同期 (periods.toml prior_same_period) and states no other date or
    number before the figure."""
    m = d.m
    a = cstart
    while a < qstart and m[a] == " ":
        a += 1
    for w in load_lexicon().prior_same_period:
        if m.startswith(w, a):
            b = a + len(w)
            return not any(ch.isdigit() for ch in m[b:qstart]) and not between(d.period_starts, d.periods, b, qstart)
    return False


def year_before(day: date) -> date:
    """The same day a year earlier (29 February -> 28 February)."""
    return day.replace(year=day.year - 1, day=min(day.day, 28 if day.month == 2 else day.day))


def _dated_from(d: Doc, fs: int, pos: int) -> date | None:
    """The date an earlier from-word of the sentence wrote (由11月底的71.9%上升至72.9%,
    由2004年的30家增加到…): the parallel from-levels after it take it; None when there is none."""
    m = d.m
    from_words = load_lexicon().from_words
    found = None
    for h in (*between(d.period_starts, d.periods, fs, pos), *between(d.base_starts, d.bases, fs, pos)):
        if h.finish is not None and h.end < pos and m.endswith(from_words, 0, h.start) \
                and (found is None or h.start > found[0]):
            found = (h.start, h.finish)
    return found[1] if found is not None else None


def from_level(d: Doc, sp: Span, cstart: int) -> bool:
    """从10.72%降至10.07%: the number between a from-word and a direction word with 至/到."""
    lex = load_lexicon()
    m = d.m
    k = max(m.rfind(w, cstart, sp.start) for w in lex.from_words)
    if k < 0 or sp.start - k > 8 or between(d.period_starts, d.periods, k, sp.start):
        return False  # no from-word just before, or the number carries its own date (由上年度之…)
    for s, e, cls in between(d.cue_starts, d.cues, sp.end, min(len(m), sp.end + 8)):
        if ("pos" in cls or "neg" in cls) and m[e:e + 1] in lex.to_level or m[e - 1:e] in lex.to_level:
            return True  # 降至, 提高至, 下降到 (a direction word with its 至/到)
    return False


def continues_previous(d: Doc, lex: Lexicon, para: int, qstart: int) -> bool:
    """平安银行同期信用卡应收账款余额…: a paragraph whose first clause says "the same period"
    (periods.toml `continuation_words`, not 去年同期) and has no date of its own continues the
    previous paragraph's dates."""
    known = d.continues.get(para)
    if known is not None:
        return known
    nl = d.m.find("\n", para)
    end = clause_end(d, para, len(d.m) if nl < 0 else nl)
    cache = end <= qstart  # the figure in the first clause itself: read up to it, uncached
    end = min(end, qstart)
    found = False
    for w in lex.continuation_words:
        k = d.m.find(w, para, end)
        if k > para and d.m[k - 1] not in lex.continuation_not_after \
                and not between(d.period_starts, d.periods, para, end):
            found = True
            break
    if cache:
        d.continues[para] = found
    return found


def column_date(d: Doc, sp: Span) -> tuple[date | None, date] | None:
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
        hits = [h for h in between(d.period_starts, d.periods, above, pos - 1) if h.finish is not None]
        if len(hits) >= 2:
            if k < len(hits):
                return hits[k].begin, hits[k].finish  # type: ignore[return-value]
            return None
        pos = above
    return None


def series_date(d: Doc, fs: int, start: int) -> tuple[date | None, date] | None:
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
    run: list[PeriodHit] = []
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
    dates: list[tuple[date | None, date]] = []
    if len(run) == 1 and run[0].resolver == "year_span" and run[0].begin is not None and run[0].finish is not None:
        # 2020至2023年…分别为210.28亿元、238.79亿元…: one figure a year
        dates = [(date(y, 1, 1), date(y, 12, 31)) for y in range(run[0].begin.year, run[0].finish.year + 1)]
    elif len(run) < 2 or ranged and len(run) != 2:
        return None
    elif ranged:
        a, b = run
        assert a.finish is not None and b.finish is not None
        if a.resolver == b.resolver == "year" and a.finish < b.finish:
            dates = [(date(y, 1, 1), date(y, 12, 31)) for y in range(a.finish.year, b.finish.year + 1)]
        elif a.resolver in ("month", "month_end") and b.resolver in ("month", "month_end") \
                and a.finish < b.finish:
            y, mo = a.finish.year, a.finish.month
            while (y, mo) <= (b.finish.year, b.finish.month) and len(dates) < 24:
                fin = month_end(y, mo)
                dates.append((date(y, mo, 1) if a.resolver == "month" else None, fin))
                y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
        elif a.resolver in _QUARTERS and b.resolver in _QUARTERS and a.finish < b.finish:
            # 2020年一季度至四季度当季…依次为14.02亿元、17.29亿元…: one figure a quarter
            y, mo = a.finish.year, a.finish.month
            while (y, mo) <= (b.finish.year, b.finish.month) and len(dates) < 16:
                dates.append((date(y, mo - 2, 1) if a.resolver == "quarter" else None, month_end(y, mo)))
                y, mo = (y + 1, 3) if mo == 12 else (y, mo + 3)
    else:
        dates = [(h.begin, h.finish) for h in run if h.finish is not None]
    if len(dates) < 2:
        return None
    first = bisect.bisect_left(d.span_starts, at)
    k = bisect.bisect_left(d.span_starts, start) - first
    if first >= len(d.span_starts):
        return None
    n = _list_length(d, first, len(dates))
    if n != len(dates) or not 0 <= k < n:
        return None
    return dates[k]


_QUARTERS = ("quarter", "quarter_end")


def _list_length(d: Doc, first: int, most: int) -> int:
    """How many figures, from span `first` on, make one list (no periods.toml series_list_ends
    between two of them); counting stops past `most`."""
    ends = load_lexicon().series_list_ends
    m = d.m
    j = first
    while j + 1 < len(d.span_starts) and j - first < most and not any(
            c in ends for c in m[d.span_ends[j]:d.span_starts[j + 1]]):
        j += 1
    return j - first + 1

