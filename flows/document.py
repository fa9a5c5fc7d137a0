"""The per-document index the normaliser reads: the document-wide scans, and lookups into them.

`flows.normalise._index` builds one `Doc` per document (sentences, clause marks, cue words,
period phrases, bank names, spans); the subject (`flows.phrasing`), period (`flows.dates`) and
normalising steps look up what lies in a figure's clause and sentence with the helpers below.
"""
from __future__ import annotations

import flows.lexicon as bisect  # bisect_left/bisect_right: compiled, over lists of ints, called directly
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import NamedTuple

from flows import attribution
from flows.context import PeriodHit, PeriodState
from flows.lexicon import alternation, load_lexicon
from flows.models import DocContext
from flows.values import DocCurrency

_QUOTES = "“”\"'‘’「」『』《》〈〉()（）【】[]"
PUNCT = frozenset(_QUOTES + "、,，;；:：.。!！?？ \t-—•·●○■□◆◇▪▶►*+＋")  # a set: tested once per character trimmed
# cue classes that make a number a change
CHANGE_CUES = frozenset({"basis", "pos", "neg", "better", "worse"})
DIRECTIONS = frozenset({"pos", "neg", "better", "worse"})


# ---------------------------------------------------------------- compiled document-wide scans


@dataclass(frozen=True)
class Scanners:
    cues: re.Pattern
    cue_class: dict[str, frozenset[str]]
    subject_lead: re.Pattern
    subject_stop: re.Pattern
    qualifier_before: re.Pattern
    flow_over_stock: re.Pattern  # any of the words, anywhere: one C scan instead of a loop of `in`
    flow_verbs: re.Pattern
    stock_names: re.Pattern  # taken out of a subject before flow_over_stock is looked for
    change_head: re.Pattern  # a growth-rate subject ends in one (营收增速)
    change_head_any: re.Pattern  # …增幅超过10%的有A、B，分别为12.12%、11.16%: anywhere in the clause
    change_head_after: re.Pattern  # 以14.5%的增速居首: right after the number
    growth_after: re.Pattern  # 15.37%、14.68%和12.59%的快速增长: a list of percents, then its growth noun
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
def scanners() -> Scanners:
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
    return Scanners(
        cues=re.compile(alternation(cue_class)),
        cue_class=cue_class,
        subject_lead=re.compile(rf"(?:{alternation(lex.lead_words)})"),
        subject_stop=re.compile(alternation(lex.stop_after)),
        qualifier_before=re.compile(rf"(?P<q>{alternation(lex.qualifier_prefix)})(?:{alternation(lex.qualifier_particles)})?$"),
        flow_over_stock=re.compile(alternation(lex.flow_over_stock) or "(?!)"),
        flow_verbs=re.compile(alternation(lex.flow_verbs) or "(?!)"),
        stock_names=re.compile(alternation(lex.stock_names) or "(?!)"),
        change_head=re.compile(rf"(?:{alternation(lex.change_heads)})$"),
        change_head_any=re.compile(alternation(lex.change_heads)),
        # 以14.5%的增速居首, 43%的同比增速, 5.1%的净利润增速: a growth word right after the number, or
        # after 的 and a short name
        change_head_after=re.compile(rf" ?(?:的[^\d，,。；;：:%\s]{{0,6}}?)?(?:{alternation(lex.change_heads)})"),
        growth_after=re.compile(rf"(?:[、和及与]\d+(?:\.\d+)?%)* ?的[^\d，,。；;：:%\s]{{0,6}}?"
                                rf"(?:{alternation(lex.growth_nouns) or '(?!)'})(?=[，,。；;！!？?\n]|$)"),
        stock_words=re.compile(alternation(lex.stock_words) or "(?!)"),
        subject_cut=re.compile(alternation(lex.cut_at)),
        enumeration=re.compile(rf"(?:{alternation(lex.enumeration)})*"),
        topic=_topic_pattern(lex.topic_frames),
        topic_attribute=re.compile(alternation(lex.topic_attributes)),
        heading_marker=re.compile(lex.heading_marker),
    )


# ---------------------------------------------------------------- per document index


@dataclass
class Doc:
    text: str
    m: str
    ctx: DocContext
    sentences: list[tuple[int, int]]
    sent_starts: list[int]
    full: list[tuple[int, int]]
    full_starts: list[int]
    cues: list[tuple[int, int, frozenset[str]]]
    cue_starts: list[int]
    periods: list[PeriodHit]
    period_starts: list[int]
    entities: list[tuple[int, int, str | None]]
    entity_starts: list[int]
    institutions: attribution.Institutions  # who each figure can belong to (flows/attribution.py)
    title_end: int
    lead_as_of: date | None
    skip_at: dict[int, int]
    title_repeats: list[tuple[int, int]]
    bases: list[PeriodHit]
    base_starts: list[int]
    span_starts: list[int]
    span_ends: list[int]
    headings: dict[int, tuple[int, tuple[int, int] | None] | None]
    clause_marks: list[int]
    frame: PeriodHit | None = None  # the document's reporting period (flows.context)
    quotes: list[tuple[int, int]] = field(default_factory=list)  # quoted names (flows.subject)
    states: dict[tuple[int, int], PeriodState] = field(default_factory=dict)  # see flows.dates.dates_between
    asides: dict[int, int] = field(default_factory=dict)  # see flows.dates._aside_end
    currency: DocCurrency | None = None  # what a bare 元 is in (flows.values); None: CNY
    continues: dict[int, bool] = field(default_factory=dict)  # paragraph start -> see flows.dates.continues_previous
    name_hits: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # see flows.normalise._sentence_name
    topics: list[tuple[int, int]] = field(default_factory=list)  # topic nouns (flows.subject.with_topic)
    topic_starts: list[int] = field(default_factory=list)
    later_frames: list[PeriodHit] = field(default_factory=list)  # stacked stories' periods after it
    speech: list[tuple[int, int]] | None = None  # speech verbs (表示, 公布), found when first asked (flows.phrasing)
    speech_starts: list[int] = field(default_factory=list)
    items: list[tuple[int, bool]] | None = None  # list items run on in a line (flows.dates), when first asked
    item_starts: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- per figure


class Prev(NamedTuple):
    """The previous mention of a full sentence, as the next figure of the sentence reads it."""
    end: int
    kind: str
    direction: str | None
    basis: str | None
    subj: tuple[int, int] | None
    enum_k: int = 0  # its place in an enumeration (分别为x、y、z: 0, 1, 2)
    unit: str | None = None


def _new_prev(cls: type, end: int, kind: str, direction: str | None, basis: str | None,
              subj: tuple[int, int] | None, enum_k: int = 0, unit: str | None = None) -> object:
    """Prev.__new__, compiled: the one NamedTuple generates runs in the interpreter."""
    return tuple.__new__(cls, (end, kind, direction, basis, subj, enum_k, unit))


if Prev._fields == ("end", "kind", "direction", "basis", "subj", "enum_k", "unit") and \
        Prev._field_defaults == {"enum_k": 0, "unit": None}:  # else (a field added) the generated one stays
    setattr(Prev, "__new__", _new_prev)



@dataclass(init=False)
class Place:
    """Where a figure stands, as each step of normalising it reads it (built once per figure; not
    frozen, like `Mention`: a frozen dataclass takes four times as long to build)."""
    fs: int  # its full sentence [fs, fe)
    fe: int
    line_start: int  # its paragraph (line)
    cstart: int  # its clause [cstart, clause_end)
    clause_end: int
    qstart: int  # where the figure starts with its qualifier word (超过, 近)
    prev_end: int  # its subject and cues start here: after the previous number of its clause
    last_end: int  # the end of the previous span of its sentence, kept or not (-1: none)
    prev: Prev | None  # the previous mention of its sentence
    same_clause: bool  # that mention is in the figure's clause, with no dropped number between
    enum: bool  # 分别增长5%、8%: the figure continues an enumeration (its frame is the previous one's)
    lower: bool  # 1000万至2000万元: the figure is a range's upper bound, the number before its lower

    # written out: mypyc compiles it (the generated __init__ runs in the interpreter)
    def __init__(self, fs: int, fe: int, line_start: int, cstart: int, clause_end: int, qstart: int,
                 prev_end: int, last_end: int, prev: Prev | None, same_clause: bool, enum: bool,
                 lower: bool) -> None:
        self.fs = fs
        self.fe = fe
        self.line_start = line_start
        self.cstart = cstart
        self.clause_end = clause_end
        self.qstart = qstart
        self.prev_end = prev_end
        self.last_end = last_end
        self.prev = prev
        self.same_clause = same_clause
        self.enum = enum
        self.lower = lower


# ---------------------------------------------------------------- lookups


def containing(starts: list[int], spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    i = bisect.bisect_right(starts, pos) - 1
    if i < 0:
        return (0, spans[0][1] if spans else 0)
    return spans[i]


def between(starts: list[int], items: list, a: int, b: int) -> list:
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


def clause_start(d: Doc, pos: int, floor: int) -> int:
    """Just after the last clause mark before `pos`, not before `floor`."""
    k = bisect.bisect_left(d.clause_marks, pos) - 1
    return d.clause_marks[k] + 1 if k >= 0 and d.clause_marks[k] >= floor else floor


def clause_end(d: Doc, pos: int, limit: int) -> int:
    """The first clause mark at or after `pos`, or `limit`."""
    k = bisect.bisect_left(d.clause_marks, pos)
    return d.clause_marks[k] if k < len(d.clause_marks) and d.clause_marks[k] < limit else limit


def previous_sentence_start(d: Doc, fs: int) -> int:
    i = bisect.bisect_left(d.full_starts, fs)
    return d.full_starts[i - 1] if i > 0 else 0
