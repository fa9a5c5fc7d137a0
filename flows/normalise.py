"""Spans to normalised mentions: value, unit, qualifier, kind, period, subject, metric, entity.

`extract_mentions(text, ctx)` is the public entry point. It is pure: everything it reads comes
from its arguments and the rule tables (`flows.lexicon`), which are loaded once per process.
Every document-wide scan (cue words, period phrases, bank names) runs once as a single regex
over the matching copy (the index, `flows.document`); each span then looks up what lies in its
clause and sentence. `_normalise` reads as its steps: where the figure stands, its subject
(`flows.phrasing`), change, period state (`flows.dates`), kind and metric, dates, entity
(`flows.attribution`), and the subject as phrased.
"""
from __future__ import annotations

import flows.lexicon as bisect  # bisect_left/bisect_right: compiled, over lists of ints, called directly
import re
from functools import cache
from dataclasses import replace
from datetime import date
from decimal import Decimal

from flows import attribution, metric_match
from flows.context import PeriodHit as _PeriodHit
from flows.context import PeriodState as _PeriodState
from flows.context import (PeriodMatch, assumed_publication, joined_basis, later_frames, mark_sources, period_hits,
                           results_frame, scan_periods)
from flows.dates import dates_between, figure_dates, period_of
from flows.document import DIRECTIONS as _DIRECTIONS
from flows.document import Doc as _Doc
from flows.document import Place
from flows.document import Prev as _Prev
from flows.document import between as _between
from flows.document import clause_end as _clause_end
from flows.document import clause_start as _clause_start
from flows.document import containing as _containing
from flows.document import previous_sentence_start as _previous_sentence_start
from flows.document import PUNCT as _PUNCT
from flows.document import scanners
from flows.extract import CLAUSE_ENDS, SENTENCE_ENDS, Span, find_spans, full_sentences, matching_copy, split_sentences
from flows.lexicon import Lexicon, MetricRule, char_positions, load_lexicon
from flows.tables import has_table, header_frame, table_mentions, table_rows
from flows.models import DocContext, Mention
from flows.script import phrase_to_simplified
from flows.numerals import as_plain, parse_number, parse_scaled
from flows.phrasing import Located, Subject, locate_subject, paragraph_topic, phrased_subject, subject_of
from flows.subject import after_segment_marks, measure_of, only_institution, quoted_names, topic_hits
from flows.values import (DocCurrency, adjacent_direction, document_currency, improvement_direction,
                          span_currency)

_NOT_MONEY = frozenset({"count", "percent", "pp", "times"})
_HUNDRED = Decimal(100)


@cache
def _url_date() -> re.Pattern:
    """periods.toml [url_date]: a page's address often carries its date (/2022/0831/)."""
    return re.compile(load_lexicon().url_date)


def url_date(url: str | None) -> date | None:
    """The date in a page's address, if it has one that is a real day."""
    if not url:
        return None
    for x in _url_date().finditer(url):
        try:
            return date(int(x.group("y")), int(x.group("m")), int(x.group("d")))
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------- per document index (flows.document.Doc)


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
        written = assumed_publication(m, results_frame(m, periods, full, title_end, lex), periods)
        if written is not None:
            ctx = replace(ctx, published_at=written, published_precision="day")
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
    # 截至报告期末: the period end of the report the article is about: its results frame's end,
    # else the lead's as-of date
    if any(h.resolver == "report_end" for h in periods):
        frame = results_frame(m, periods, full, title_end, lex)
        report_end = frame.finish if frame is not None else lead_as_of
        periods = [(_PeriodHit(h.start, h.end, "point" if report_end else "unresolved", None, report_end,
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
                 **_dated_basis_starts(m, _basis_spans(m, bases, found, cues)),
                 **{s: e for s, e, _ in ents}, **{h.start: h.end for h in periods},
                 # 从2020年0.86%降至2024年0.68%: a from-word and its period open no subject
                 **{h.start - len(w): h.end for h in periods for w in lex.from_words if m.startswith(w, h.start - len(w))}},
                repeats,
                bases, [h.start for h in bases], [sp.start for sp in spans], [sp.end for sp in spans], {},
                char_positions(m, CLAUSE_ENDS), results_frame(m, periods, full, title_end, lex),
                quoted_names(m))


def _basis_spans(m: str, bases: list[_PeriodHit], found: list[PeriodMatch],
                 cues: list[tuple[int, int, frozenset[str]]]) -> list[tuple[int, int]]:
    """The dated comparison bases (较2024年末), and any other a direction word follows (比二季度
    增加, 比上半年末下降 on a page whose year is unknown): a subject opening with one skips it."""
    moves = {s for s, _, cls in cues if not cls.isdisjoint(_DIRECTIONS)}
    out = [(h.start, h.end) for h in bases]
    last = -1  # the end of the last basis taken: 比二季度、一季度分别提高 takes 一季度 too
    for p in found:
        if p.basis and (p.end in moves or m.startswith(_BASIS_RUN, p.end)
                        or last >= 0 and joined_basis(m, last, p.start)):
            out.append((p.start, p.end))
            last = p.end
    return out


_BASIS_RUN = ("、", "(", "（")  # 比二季度、一季度分别提高; 比4月末(调控前)下降


def _dated_basis_starts(m: str, bases: list[tuple[int, int]]) -> dict[int, int]:
    """较2024年末, 比2023年, 比二季度: where a dated comparison starts (its 较) -> where it ends, so
    that a subject opening with it skips it (较2024年末下降12个基点: the subject is carried), whether
    or not the page's date resolves it."""
    out = {}
    prev_end = -1  # the end of the last basis a comparison word opened (or joined), else -1
    for start, end in sorted(bases):
        opened = False
        for k in range(1, 3):
            if start - k >= 0 and m[start - k:start] in ("较", "比", "相比", "对比", "与"):
                out[start - k] = end
                opened = True
        if not opened and prev_end >= 0 and joined_basis(m, prev_end, start):
            out[prev_end] = out[start] = end  # 比二季度、一季度分别提高: the second basis of the comparison too
            opened = True
        prev_end = end if opened else -1
    return out


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
        half = sp.tenth is not None and sp.tenth in lex.tenths_half  # 一成半 = 15%
        return value * 10 + (5 if half else lex.digits[sp.tenth] if sp.tenth else 0), "percent", None
    if cls == "count":
        return value, "count", sp.unit_word  # replaced by the written form by the caller
    return value, None, None


def _qualifier(sp: Span, lex: Lexicon, m: str) -> tuple[str, int]:
    """(qualifier, start of the qualifier word or the span) from infix, suffix, then prefix."""
    start = sp.start
    if start > 0 and m[start - 1] == " ":
        start -= 1  # 超 1400 万户
    if m.endswith(lex.currency_prefix_words, 0, start):  # 超过人民币40亿元: the currency is no subject
        for w in lex.currency_prefix_words:
            if m.endswith(w, 0, start):
                start -= len(w)
                break
    sc = scanners()
    x = sc.qualifier_before.search(m, max(0, start - 6), start)
    prefix = x.group("q") if x else None  # 突破了24万亿元: the word, without its 了
    if x is not None and prefix:
        start = x.start()
    if sp.infix and sp.kind == "number":
        return lex.qualifier_infix.get(sp.infix[0], "over"), start
    after = m[sp.end:sp.end + 4].lstrip(" ")
    if after.startswith(lex.qualifier_suffix_words):  # one C call rejects the common case: no suffix
        for w, q in lex.qualifier_suffix.items():
            if after.startswith(w):
                return q, start
    if prefix:
        return lex.qualifier_prefix[prefix], start
    if sp.prefix_unit and sp.unit_word is not None:
        return lex.share_qualifiers.get(sp.unit_word, "exact"), start  # 过半: over
    return "exact", start


# ---------------------------------------------------------------- subject, metric, entity


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
    tabled = has_table(text)
    if not spans and not tabled:
        return []
    d = _index(text, m, ctx, spans)
    table_lines = table_rows(text) if tabled else []
    if table_lines and d.frame is None:
        d.frame = header_frame(table_lines, m, ctx)  # 指标 | 2024年 | 同比变化: the table dates the page's prose
    d.later_frames = later_frames(m, d.periods, d.full, lex, d.frame)
    d.currency = document_currency(text, m, ctx, d.institutions.main, [s for s, _, cls in d.cues if "same" in cls],
                                   any(code != attribution.OTHER for _, _, code in d.institutions.hits))
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
            fs, fe = _containing(d.full_starts, d.full, sp.start)
            members = attribution.group_members(m, _clause_start(d, sp.start, fs), sp.start) \
                if mention.entity is None else ()
            if members:
                out.extend(_member_row(mention, code) for code in members)  # 四大行均超6000亿元
                continue
            listed = attribution.sharing_banks(d.institutions, m, fs, sp.start, mention.entity, d.span_starts)
            if not listed and mention.qualifier != "exact":
                # 归母净利润破百亿元的有6家,分别为江苏银行、北京银行…: the threshold, for each bank listed
                listed = attribution.banks_past(d.institutions, m, sp.end, fe)
            if listed:
                out.extend(_member_row(mention, code) for code in listed)  # a row for each bank listed
            elif mention.entity is not None and attribution.list_total(d.institutions, m, fs, sp.start,
                                                                       d.span_starts):
                out.append(_member_row(mention, None))  # 工行、建行…合计…: the list's total, nobody's
            else:
                out.append(mention)
    if out:
        _respective_changes(out, m, lex)
    if tabled:
        # a text table's figures are read by their row and column, not as prose (flows/tables.py)
        banks = {c for _, _, c in d.entities if c is not None and c != attribution.OTHER}
        cells = table_mentions(text, m, d.ctx, d.frame,  # the page's bank: its main one, else the one it names
                               d.institutions.main or (next(iter(banks)) if len(banks) == 1 else None),
                               table_lines, d.periods)
        if cells:
            # the rows read as a table (a line, or a run of a flattened line): their prose reading goes
            rows = sorted({(c.sentence_start, c.sentence_start + len(c.sentence)) for c in cells})
            out = sorted([x for x in out if not any(a <= x.char_start < b for a, b in rows)] + cells,
                         key=lambda x: x.char_start)
    return out


def _respective_changes(out: list[Mention], m: str, lex: Lexicon) -> None:
    """营业收入3657.58亿元、净利润1338.31亿元,同比分别增长0.8%、3.9%: n changes after 分别 that
    carry one subject, right after n figures of n measures in their sentence, are those measures'
    changes, the k-th of the k-th (subject and metric; in place)."""
    words = tuple(lex.phrasing["respectively"])
    i = 0
    while i < len(out):
        c = out[i]
        j = i
        while c.kind == "change" and j + 1 < len(out) and out[j + 1].kind == "change" \
                and out[j + 1].subject == c.subject and out[j + 1].sentence_start == c.sentence_start:
            j += 1
        n = j - i + 1
        if n < 2 or i < n:
            i = j + 1
            continue
        before = out[i - n:i]
        lead = m[before[-1].char_end:c.char_start]
        if before[0].sentence_start == c.sentence_start and any(w in lead for w in words) \
                and all(b.kind != "change" and b.subject for b in before) \
                and len({b.subject for b in before}) == n:
            for k in range(n):
                out[i + k] = replace(out[i + k], subject=before[k].subject,
                                     metric_key=before[k].metric_key or out[i + k].metric_key)
        i = j + 1


def _member_row(mention: Mention, code: str | None) -> Mention:
    """One bank's row of a figure stated for a group or list of banks: its subject without the
    group (四大行营业总收入 -> 营业总收入: the bank is the row's entity)."""
    shown = mention.subject
    if shown:
        own = measure_of(shown)
        lead = phrase_to_simplified(shown[:len(shown) - len(own)])
        r = load_lexicon().attribution
        if own != shown and own[0] not in _PUNCT and any(w in lead for w in (*r.aggregates, *r.group_members)):
            shown = own  # not 手机银行 of 手机银行交易量: a product, no group of banks
    return replace(mention, entity=code, subject=shown)


# ---------------------------------------------------------------- one span: _normalise and its steps


def _signed_by_minus(m: str, start: int) -> bool:
    """同比-3.28%, 7.58%、-3.43%: a minus written before the number (not a range 5%-8% or a
    code T-1)."""
    if start > 0 and m[start - 1] in load_lexicon().minus_words:
        return True  # 剪刀差为负156亿元
    if start < 2 or m[start - 1] not in "-−":
        return False
    ch = m[start - 2]
    return "\u4e00" <= ch <= "\u9fff" or ch in "：:（( 、，,；;"


def _normalise(sp: Span, d: _Doc, lex: Lexicon, last_subject: dict, prev_in: dict,
               span_end_in: dict, upper: Span | None = None, lower: bool = False,
               last_phrase: dict[int, tuple[str, int]] | None = None) -> Mention | None:
    """One span as a Mention, or None when it states no measurement: value and unit, where it stands,
    its subject, change (direction and basis), period state, kind and metric, dates, entity, and
    the subject as phrased. `last_subject`, `prev_in`, `span_end_in` and `last_phrase` carry what
    the sentence's earlier figures said to the next ones."""
    m, text = d.m, d.text
    try:
        value, unit, measure_word = _value_unit(sp, lex, m, d.currency)
        if upper is not None and unit is None:
            _, unit, measure_word = _value_unit(upper, lex, m, d.currency)  # 1000万至2000万元
            measure_word = None  # written on the other bound, not on this one
    except (ValueError, ArithmeticError):
        return None
    borrowed = upper is not None and unit is not None and sp.unit_class is None
    qualifier, qstart = _qualifier(sp, lex, m)
    at = _place(sp, d, qstart, lower, prev_in, span_end_in)
    if sp.kind == "number" and _signed_by_minus(m, sp.start):
        value = -value

    loc = locate_subject(sp, d, lex, at, unit, measure_word, last_subject)
    implied = borrowed
    if unit is None:
        unit = _inferred_unit(sp, d, lex, loc)
        if unit is None:
            return None  # a bare number whose unit nothing tells: not a measurement we can state
        implied = True
    s = subject_of(d, lex, at, loc, measure_word, last_subject)
    if s is None:
        return None  # 阅读 1.2万次, 评论 12条: the page around the article
    named, nothing = _metric_name(sp, d, lex, at, s, loc.carried)
    name_m = m[named[0]:named[2]] if named is not None else s.text

    direction, basis, basis_date = _change(sp, d, lex, at, s, loc, unit)
    st, st_fs, now, para = period_of(sp, d, lex, at, loc.heading)
    kind, rule = _kind_and_metric(sp, d, lex, at, s, value, unit, measure_word, direction or basis,
                                  named, nothing, name_m, st_fs, para)
    if kind == "change" and direction == "neg" and value > 0:
        value = -value
    prev_in[at.fs] = _Prev(sp.end, kind, direction, basis, s.list_span, s.enum_k, unit)
    start, end = figure_dates(sp, d, at, kind, basis, basis_date, st, now, unit,
                              rule is not None and rule.key in lex.period_ratio_metrics)
    entity = attribution.entity_of(d.institutions, m, at.fs, at.fe, para, at.cstart, qstart, sp.start, sp.end,
                                   at.clause_end, s.span, measure_word, d.span_starts)

    if upper is not None and qualifier == "exact":
        qualifier = "over"  # the lower bound of a range: at least
    elif lower and qualifier == "exact":
        qualifier = "up_to"  # the upper bound: at most
    phrased = phrased_subject(sp, d, lex, at, loc, s, unit, measure_word, last_phrase, named, entity)
    if rule is None and phrased and (nothing or loc.carried or _widened(phrase_to_simplified(phrased), s.text or "")
                                     or only_institution(s.text or "")):  # 臺新金129.1億元 after 稅後淨利
        # 华夏银行(4.59万亿元) after 平安银行以5.77万亿元总资产居首: where the figure's own words name
        # nothing, the subject it is shown with (borrowed from the figure before) names its metric
        rule = metric_match.match(phrase_to_simplified(phrased), unit, kind)
    elif rule is not None and phrased and s.text and _list_item(lex, phrase_to_simplified(phrased), s.text):
        # 平均资产回报率及加权平均权益回报率分别达到1.32%和22.79%: the item shown names the metric
        # of its own figure, not the list's last one
        own = metric_match.match(phrase_to_simplified(phrased), unit, kind)
        if own is not None:
            rule = own
    ss, se = _containing(d.sent_starts, d.sentences, sp.start)
    return Mention(
        char_start=sp.start,
        char_end=sp.end,
        surface=text[sp.start:sp.end],
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


def _list_item(lex: Lexicon, phrased: str, own: str) -> bool:
    """The subject shown is an item of the list the figure's own words are (平均资产回报率 of
    平均资产回报率及加权平均权益回报率): a list mark (subject.toml value_list_marks) follows it there."""
    k = own.find(phrased) if len(phrased) >= 2 else -1
    return k >= 0 and own.startswith(lex.phrasing["value_list_marks"], k + len(phrased))


def _widened(phrased: str, own: str) -> bool:
    """The subject shown says more in front of the figure's own words (客戶數 shown as
    手機銀行客戶數, from the sibling before it): what it names is the reader's answer."""
    own = own.rstrip("的")
    return len(own) >= 2 and len(phrased) > len(own) and phrased.endswith(own)


def _place(sp: Span, d: _Doc, qstart: int, lower: bool, prev_in: dict, span_end_in: dict) -> Place:
    """Where the figure stands: its sentence, clause and paragraph, and the figure before it."""
    m = d.m
    fs, fe = _containing(d.full_starts, d.full, sp.start)
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
    enum = same_clause and scanners().enumeration.fullmatch(m, prev_end, qstart) is not None
    return Place(fs, fe, m.rfind("\n", 0, sp.start) + 1, cstart, _clause_end(d, sp.end, fe), qstart, prev_end,
                 last_end, prev, same_clause, enum, lower)


def _after_colon_line(m: str, ls: int) -> bool:
    """The line starting at `ls` follows one ending in a colon (…的排名依次是：|重庆农商行(12658亿)、…)."""
    return ls >= 2 and m[ls - 1] == "\n" and m[ls - 2] in "：:"


def _inferred_unit(sp: Span, d: _Doc, lex: Lexicon, loc: Located) -> str | None:
    """The unit of a bare number: a money or count cue right after it, else in its subject."""
    m = d.m
    assert loc.following is not None  # looked for when the unit is None
    fa, fb = loc.following
    unit = _implied_unit(m[fa:min(fb, fa + 8)], lex) if fb > fa else None
    if unit is None and loc.span is not None:
        unit = _implied_unit(m[loc.span[0]:loc.span[1]], lex)
    if unit is None and sp.scale:
        ls = m.rfind("\n", 0, sp.start) + 1
        # 金額為741億與1,365億: a cue in the clause before the number (its subject said none)
        unit = _implied_unit(m[_clause_start(d, sp.start, ls):sp.start], lex)
        # 重庆农商行(12658亿)、成都银行(7683亿) under 从总资产来看，这9家银行的排名依次是：
        # a list of banks' scaled figures measures what its line, or the line it follows after a
        # colon, names
        if unit is None and not any(ch in SENTENCE_ENDS for ch in m[ls:sp.start]):  # the line's words are the list's
            unit = _implied_unit(m[ls:sp.start], lex)
            if unit is None and _after_colon_line(m, ls):
                unit = _implied_unit(m[m.rfind("\n", 0, ls - 1) + 1:ls - 1], lex)
    if unit == "CNY" and d.currency is not None:
        unit = d.currency.at(m, sp.start)  # 營收292億 on a Macau page: the document's currency
    return unit


def _metric_name(sp: Span, d: _Doc, lex: Lexicon, at: Place, s: Subject,
                 carried: bool) -> tuple[tuple[int, int, int] | None, bool]:
    """(the metric name the figure reads instead of its subject, or None; whether the subject
    names nothing). A subject that names nothing (苏州银行(483.50%), 水平) or was carried from an
    earlier figure reads its metric from the last metric name of its sentence (杭州银行拨备覆盖率541.45%…)."""
    m = d.m
    named = None
    q = at.qstart
    while q > 0 and m[q - 1] == " ":
        q -= 1  # 以 12500.81 亿元的总资产 (a spaced page)
    if m.endswith(lex.metric_words.name_after, 0, q):
        # 招商银行以9478.43亿元信用卡透支余额领跑: the name follows the number
        named = metric_match.name_after(m, sp.end, at.clause_end)
    nothing = metric_match.names_nothing(s.text)
    if named is None and (carried or nothing):
        # 其中，齐鲁银行增速最高(19.53%): a growth word alone is the growth of the last name with it
        grows = scanners().change_head_any.search(m, at.cstart, at.qstart) if nothing else None
        named = _sentence_name(d, at.fs, at.qstart, grows.group() if grows else None)
        if named is not None and carried and not nothing and s.span is not None and named[0] < s.span[1]:
            named = None  # the carried subject is the sentence's last name
    return named, nothing


def _change(sp: Span, d: _Doc, lex: Lexicon, at: Place, s: Subject, loc: Located,
            unit: str) -> tuple[str | None, str | None, date | None]:
    """(direction, comparison basis, the basis' date): what makes the figure a change."""
    m = d.m
    cstart, qstart, prev_end, prev, subj = at.cstart, at.qstart, at.prev_end, at.prev, s.span
    # (收入和利润(同比环比) - 营业收入332.65亿元: a heading's words before a bullet mark are no cue)
    window_cues = _between(d.cue_starts, d.cues, after_segment_marks(m, prev_end, qstart), qstart)
    direction = None
    dir_end = -1
    for s_, e, cls in window_cues:
        if "nodir" in cls:
            continue
        if not cls.isdisjoint(_DIRECTIONS) and m[e:e + 1] in lex.to_level:
            continue  # 提升至98%: the new level, not the change
        if qstart - e > lex.direction_reach:
            continue  # too far: it describes another part of the clause
        if _inside_share_name(lex, m, e, qstart):
            continue  # 对外贸易贷款新增额占…比重为94.44%: part of what the share is of
        if "better" in cls or "worse" in cls:  # 不良贷款率改善0.1个百分点: down
            direction = improvement_direction(lex, m, cstart, s_, "worse" in cls, subj)
        elif "neg" in cls:
            direction = "neg"
        elif "pos" in cls:
            direction = "pos"
        else:
            continue
        dir_end = e
    if sp.kind == "number":
        # 低约8个基点, 录得5%的跌幅: written next to the number, it wins over the clause's words
        # (利润增速出现了8个百分点以上的下降)
        direction = adjacent_direction(lex, m, qstart, sp.end) or direction
    basis = None
    # a basis earlier in the clause belongs to the earlier number (同比增加3.5个百分点至45.6%)
    for s_, e, cls in window_cues:
        if "basis" in cls:
            basis = lex.basis[m[s_:e]]
    # 净利润增幅由2012年的15.05%降至2013年的6.73%: the figure that carries a growth rate's subject
    # in the same clause is that rate again
    rate_again = loc.carried and prev is not None and at.same_clause and subj == prev.subj \
        and unit in ("percent", "pp") and prev.unit == unit and prev.basis is None
    if (at.enum or rate_again or loc.bank_list) and prev is not None \
            and (prev.unit == unit or at.enum and not (prev.unit in ("percent", "pp") and unit not in ("percent", "pp"))) \
            and prev.kind == "change" and not direction and not basis:
        # 建设银行营收同比增速2.15% 工商银行1.57%: the next bank's figure is the same change (an
        # amount right after a rate, 下跌1.9%2,838億 in a copy that lost its 至, is none)
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
    if m.endswith(lex.flat_at, 0, qstart) or _stated_level(lex, m, qstart, sp.end, unit):
        direction = basis = None  # 环比持平于1.23%, 低于首半年2.32厘水平: the level is stated
    elif direction and 0 <= dir_end <= _adjacent_basis_start(d, qstart):
        direction = basis = None  # 低于2006年末的7.98%: the compared level, dated by its basis
    elif direction and prev is not None and at.same_clause and prev.kind == "change" and unit not in ("percent", "pp") \
            and prev.unit != unit and m[prev.end:sp.start].strip() in lex.level_after_change:
        direction = basis = None  # 增长了22.30%达到6.25万亿元: the change, then the new level
    return direction, basis, basis_date


def _adjacent_basis_start(d: _Doc, qstart: int) -> int:
    """Start of the dated basis written right before the number (2006年末的7.98%), or -1."""
    k = bisect.bisect_right(d.period_starts, qstart) - 1
    if k < 0:
        return -1
    h = d.periods[k]
    return h.start if h.type == "adjacent" and qstart - 1 <= h.end <= qstart else -1


def _inside_share_name(lex: Lexicon, m: str, cue_end: int, qstart: int) -> bool:
    """A share word (占, 比重) stands between a direction word and the number: the word belongs to
    the name of what the share is of (新增贷款中个人贷款占比达60%), the figure is the share."""
    for w in lex.share_after:
        if m.find(w, cue_end, qstart) >= 0:
            return True
    return False


def _stated_level(lex: Lexicon, m: str, qstart: int, end: int, unit: str) -> bool:
    """The number is a level whatever direction its clause gives: a count of the things that did
    so (放缓的有7家), a figure held up as a level (低于首半年2.32厘水平)."""
    if unit == "count" and m.endswith(lex.count_of_those, 0, qstart):
        return True
    return m.startswith(lex.level_after, end)


def _kind_and_metric(sp: Span, d: _Doc, lex: Lexicon, at: Place, s: Subject, value: Decimal, unit: str,
                     measure_word: str | None, changed: str | None, named: tuple[int, int, int] | None,
                     nothing: bool, name_m: str | None, st_fs: _PeriodState | None,
                     para: int) -> tuple[str, MetricRule | None]:
    """(kind, metric rule): a change when `changed` (a direction or basis) or the figure is a
    growth rate; else level or flow (`_kind`)."""
    m, sc = d.m, scanners()
    fs, cstart, qstart, subj, subject_m = at.fs, at.cstart, at.qstart, s.span, s.text
    kind = "change" if changed else None
    if kind is None and unit in ("percent", "pp") and (
            unit == "pp" or m[sp.start - 1:sp.start] == "+" or value < 0 and sp.kind == "number"
            or subject_m and sc.change_head.search(subject_m)
            or named is not None and sc.change_head_any.search(m, named[1], named[2])
            or sc.change_head_any.search(m, after_segment_marks(m, at.prev_end, qstart), qstart)
            or sc.change_head_after.match(m, sp.end) or _rate_restated(d, lex, at, sp.start)
            or unit == "percent" and sc.growth_after.match(m, sp.end)
            or unit == "percent" and _context_says_growth(d, fs)):
        kind = "change"  # 营收增速13.68%, (+8.78%): a growth rate, stated with or without its verb
    # 营业收入和净利润分别为…: the n-th figure of a 分别 run, the n-th metric named
    nth = attribution.respective(d.institutions, d.span_starts, subj[1], sp.start) \
        if subj is not None and subj[1] <= sp.start else -1
    rule = metric_match.match(name_m, unit, kind or "level", nth)
    if kind is None:
        # only a period phrase of the same sentence makes a count a flow
        st_sentence = st_fs if st_fs is not None else dates_between(d, fs, qstart)
        clause_cues = _between(d.cue_starts, d.cues, cstart, qstart)
        kind_m = name_m
        if named is None and unit not in _NOT_MONEY and nothing:
            # 中國信託率先賺破550億元、…國泰世華以459.47億元居次: the sentence's flow or stock word
            kind_m = m[_sentence_floor(d, fs):qstart]
        kind = _kind(lex, unit, measure_word, clause_cues, kind_m, rule, st_sentence)
    if rule is None and kind == "change":
        rule = metric_match.match(name_m, unit, kind, nth)
    if rule is None and subject_m and sc.topic_attribute.search(subject_m):
        topic = paragraph_topic(d, para, qstart)
        if topic is not None:
            rule = metric_match.match(m[topic[0]:topic[1]] + subject_m, unit, kind)
    return kind, rule


def _context_says_growth(d: _Doc, fs: int) -> bool:
    """但增速排名又不一样：|成都银行(22.54%)、…: the sentence a list line continues (after a colon)
    names a growth rate, so its percents are growth rates."""
    floor = _sentence_floor(d, fs)
    return floor < fs and _after_colon_line(d.m, fs) and scanners().change_head_any.search(d.m, floor, fs) is not None


def _rate_restated(d: _Doc, lex: Lexicon, at: Place, start: int) -> bool:
    """利润增速最高，为16.66%; 平均增速较2023年下降1.14个百分点，为9.63%: a percent in a clause of only a
    copula (cues.toml copulas) after a clause whose subject (before its first figure) names a
    growth rate restates that rate."""
    m = d.m
    c = _clause_start(d, at.qstart, at.fs)
    if c <= at.fs or m[c:start].strip(" ") not in lex.copulas:
        return False
    a = _clause_start(d, c - 1, at.fs)
    k = bisect.bisect_left(d.span_starts, a)
    end = min(c - 1, d.span_starts[k]) if k < len(d.span_starts) else c - 1
    return scanners().change_head_any.search(m, a, end) is not None


# ---------------------------------------------------------------- lookups the steps share


def _direction_before(d: _Doc, pos: int) -> bool:
    """A direction word (增加, 减少, 升, 降) ends right before `pos` (a qualifier or a space aside)."""
    k = bisect.bisect_left(d.cue_starts, pos) - 1
    while k >= 0 and d.cues[k][1] > pos:
        k -= 1
    if k < 0 or pos - d.cues[k][1] > 3 or d.cues[k][2].isdisjoint(_DIRECTIONS):
        return False
    gap = d.m[d.cues[k][1]:pos].strip(" ")
    return not gap or scanners().qualifier_before.fullmatch(gap) is not None


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
    with a continuation (其中，…; 其余银行…) or a line follows one ending in a colon, else itself."""
    k = fs
    while k < len(d.m) and d.m[k] in _PUNCT:
        k += 1
    if d.m.startswith(load_lexicon().continuation_openers, k) or _after_colon_line(d.m, fs):
        return _previous_sentence_start(d, fs)  # …的排名依次是：|重庆农商行(12658亿)、…: the line after a colon
    return fs


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
