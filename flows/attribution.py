"""Which bank a figure belongs to: the registry bank of its clause or list item, the document's
main bank, or nobody (a total across banks, an industry figure, an institution outside the
registry).

`index(text, m, ctx, title_end, span_starts)` scans a document once (its matching copy `m`);
`entity_of(...)` decides one figure from positions; `respective(...)` tells the n-th figure of a
分别 run. Rules: entities.csv (bank names), entity_exclusions.csv, non_bank.csv,
self_reference.csv and attribution.toml (bare brands, other institutions and banks, totals across
banks, comparison targets, lists and `分别`, the main bank).
"""
from __future__ import annotations

import flows.lexicon as bisect  # bisect_left/bisect_right: compiled, over lists of ints, called directly
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from flows.extract import FULL_SENTENCE_ENDS, matching_copy
from flows.lexicon import AttributionRules, alternation, canonical_entity, load_lexicon
from flows.models import DocContext
from flows.script import to_simplified

OTHER = "~"  # an institution outside the registry: it takes its figures, and they get no code
_BRAND = "?"  # a bare brand word (平安): a bank only in a list of banks
_GROUP = "+"  # a financial group's brand (中银, 平安): another institution before a subsidiary word
_HAN = "\u4e00-\u9fff"
_ITEM_OPENERS = "、，,；;：:（(-•·*#>"  # a bare brand after one of these opens an item of a list
_SENTENCE_MARKS = "。！？!?\n"
_SENTENCE_MARK_RE = re.compile("[" + re.escape(_SENTENCE_MARKS) + "]")
_CLAUSE_MARKS = frozenset("，,；;：:" + _SENTENCE_MARKS)
_OPENING = frozenset(_ITEM_OPENERS + " \t\u3000") | _CLAUSE_MARKS  # what may stand before a clause's first name
_CODES = re.compile(r"[（(][^（）()" + _HAN + r"]*[）)]")  # (601288.SH): no part of a list's glue
_DIGIT = re.compile(r"\d")
_CLAUSE = re.compile("[，,；;。！？!?\n]")


# classes of what the document-wide scan finds besides names
_AGGREGATE = "agg"  # a total across banks (上市城商行)
_NON_BANK = "non"  # a national, industry or official figure (全国, 银行业, 人民银行)
_SELF = "self"  # the bank speaking of itself or referred back to (该行)
_SUFFIX = "sfx"  # 银行 after two characters that may name a bank outside the registry (泸州银行)
_RESPECTIVELY = "resp"  # 分别: the figures that follow go to the names before in order


@dataclass(frozen=True)
class _Name:
    """What a name in the text stands for: a registry code, OTHER, _BRAND or None (not a bank)."""

    code: str | None
    fallback: str | None = None  # a bare brand's bank
    non_bank: bool = False  # an exclusion that is an industry or official body (中国银行业协会)


@dataclass(frozen=True)
class _Scanners:
    scan: re.Pattern  # names, totals, non-bank and self-reference words, bank suffixes: one pass
    name_of: dict[str, _Name]
    word_class: dict[str, str]  # the other words found by `scan` -> their class
    names: re.Pattern  # names only (a title outside the text)
    initials: dict[str, str]
    subsidiary_words: tuple[str, ...]
    bank_subsidiary_words: tuple[str, ...]
    branch_words: tuple[str, ...]
    other_after: tuple[str, ...]
    other_not_before: tuple[str, ...]
    other_generic: frozenset[str]
    aggregate_not_before: tuple[str, ...]
    apposition: frozenset[str]
    restating_words: tuple[str, ...]
    numerals: frozenset[str]
    reach_before: re.Pattern
    comparison_before: re.Pattern
    comparison_after: tuple[str, ...]
    comparison_not_between: tuple[str, ...]
    comparison_reach: int
    comparison_apposition: re.Pattern
    possessive: tuple[str, ...]
    list_marks: frozenset[str]
    count_measure_words: frozenset[str]
    bank_nouns: tuple[str, ...]
    each_member: re.Pattern  # 四大行均: a group, then a word saying each
    place_list: re.Pattern  # 广州、上海、重庆分别: bare places listed before 分别
    place_item: re.Pattern  # one place of such a list



@cache
def scanners() -> _Scanners:
    lex = load_lexicon()
    r = lex.attribution
    name_of: dict[str, _Name] = {}
    for brand in r.group_brands:
        name_of[brand] = _Name(_GROUP)  # with a subsidiary word after it (平安证券, 中银香港)
    for other in r.other_names:
        name_of[other] = _Name(OTHER)  # 中国平安: an institution outside the registry
    for w, code in r.brands.items():
        name_of[w] = _Name(_BRAND, code)  # else a bank in context (招行和兴业)
    for phrase in lex.entity_exclusions:
        # 中国银行业协会 is no bank, but 银行业 in it says the figure is the industry's
        name_of[phrase] = _Name(None, None, any(w in phrase for w in lex.non_bank))
    for alias, code in lex.entity_aliases.items():
        name_of[alias] = _Name(code)
    # the text is matched in Simplified script: a Traditional form (中國銀行) cannot occur there
    name_of = {w: n for w, n in name_of.items() if to_simplified(w) == w}
    word_class: dict[str, str] = {}
    for cls, listed in ((_SUFFIX, r.other_bank_suffixes), (_RESPECTIVELY, r.respectively),
                        (_SELF, lex.self_reference), (_AGGREGATE, r.aggregates), (_NON_BANK, lex.non_bank)):
        for w in listed:
            word_class[w] = cls  # a later class wins a word listed twice
    words = {w: c for w, c in word_class.items() if w not in name_of}
    places = alternation({p for _, kind_places in r.place_lists.values() for p in kind_places}) or "(?!)"
    return _Scanners(
        scan=re.compile(alternation([*name_of, *words], ascii_guard=True)),
        name_of=name_of,
        word_class=words,
        names=re.compile(alternation(name_of, ascii_guard=True)),
        initials=dict(r.initials),
        subsidiary_words=r.subsidiary_words,
        bank_subsidiary_words=r.bank_subsidiary_words,
        branch_words=r.branch_words,
        other_after=r.other_bank_after,
        other_not_before=r.other_bank_not_before,
        other_generic=r.other_bank_generic,
        aggregate_not_before=r.aggregate_not_before,
        apposition=frozenset([*"0123456789", *lex.digits, *lex.small_scales]),
        restating_words=r.restating_words,
        numerals=frozenset([*lex.digits, *lex.small_scales, *lex.big_scales, *r.other_bank_counting]),
        reach_before=re.compile(rf"(?:{alternation(lex.reach_verbs)})$"),
        comparison_before=re.compile(alternation(r.comparison_before)),
        comparison_after=r.comparison_after,
        comparison_not_between=r.comparison_not_between,
        comparison_reach=r.comparison_reach,
        comparison_apposition=re.compile(r.comparison_apposition),
        possessive=r.comparison_possessive,
        list_marks=frozenset(r.list_marks),
        count_measure_words=r.count_measure_words,
        bank_nouns=r.bank_nouns,
        place_list=re.compile(rf"(?:{places})(?:(?:{alternation(r.list_marks)})(?:{places}))+"
                              rf"(?=(?:{alternation(r.respectively)}))"),
        place_item=re.compile(places),
        each_member=re.compile(rf"(?P<group>{alternation(r.group_members)})[^，,。；;：:0-9]{{0,12}}?"
                               rf"(?:{_each_words(r.group_each_words, r.group_each_not_after)})"),
    )


def _each_words(words: tuple[str, ...], not_after: dict[str, str]) -> str:
    """The "each" words (均, 都) as a pattern, not after a character that makes them the end of
    another word (attribution.toml each_not_after: 平均每天淨賺 says nothing of each bank)."""
    guard = {w: f"(?<![{re.escape(cs)}])" if cs else "" for w, cs in not_after.items()}
    return "|".join(guard.get(w, "") + re.escape(w) for w in words) or "(?!)"


@dataclass(frozen=True)
class Institutions:
    """The institutions named in one document and what each can take."""

    hits: list[tuple[int, int, str]]  # (start, end, registry code or OTHER), in text order
    starts: list[int]
    first: list[int]  # index of the first hit of the hit's list (itself when alone)
    last: list[int]  # index of the last hit of the hit's list
    aggregates: list[int]  # starts of totals-across-banks words (ends in aggregate_ends)
    aggregate_ends: list[int]
    non_bank: list[int]  # starts of non-bank cues that are not the bank's reach (覆盖全国)
    non_bank_ends: list[int]
    self_refs: list[int]
    respectively: list[int]  # ends of 分别 and the like
    main: str | None
    bank_names: list[tuple[int, int, str | None]]  # registry names and exclusions (for the subject's trim)
    targets: dict[int, bool]  # hit -> named as a comparison target (高于工行), filled as asked

    def is_target(self, m: str, i: int) -> bool:
        """Hit `i` is what a figure is compared with (高于工行和建行: the whole list is)."""
        t = self.targets.get(i)
        if t is None:
            f = self.first[i]
            s, e, _ = self.hits[i]
            t = _is_target(m, s, e) or f != i and self.is_target(m, f)
            self.targets[i] = t
        return t


_GLUE_MAX = 24  # a longer gap between two names is never a list's glue


def _glue(m: str, a: int, b: int) -> str:
    """What stands between two names, stock codes and spaces aside (、 in 工商银行(601398)、建设银行)."""
    gap = m[a:b]
    if b - a <= 1 or b - a > _GLUE_MAX:
        return gap
    if "(" in gap or "（" in gap:
        gap = _CODES.sub("", gap)
    return gap.strip()


def index(text: str, m: str, ctx: DocContext, title_end: int, span_starts: list[int]) -> Institutions:
    """Scan the matching copy `m` once: names, totals, cues, comparison targets, lists, main bank.

    span_starts: where the document's figures start (a name counts for the main bank only in the
    title or in a sentence stating one)."""
    sc = scanners()
    lex = load_lexicon()
    raw: list[tuple[int, int, str]] = []
    bank_names: list[tuple[int, int, str | None]] = []
    aggregates: list[int] = []
    aggregate_ends: list[int] = []
    non_bank: list[int] = []
    non_bank_ends: list[int] = []
    self_refs: list[int] = []
    respectively: list[int] = []
    name_of = sc.name_of
    for x in sc.scan.finditer(m):
        w = x.group()
        s, e = x.span()
        name = name_of.get(w)
        if name is None:
            cls = sc.word_class[w]
            if cls == _SUFFIX:
                if _other_bank(m, sc, s, e):
                    raw.append((s - 2, e, OTHER))
            elif cls == _AGGREGATE:
                if not m.startswith(sc.aggregate_not_before, e) and not (  # 五大行业: not banks
                        raw and raw[-1][2] != OTHER and _apposition(m, sc, raw[-1][1], s)):
                    aggregates.append(s)
                    aggregate_ends.append(e)
            elif cls == _RESPECTIVELY:
                respectively.append(e)
            elif cls == _NON_BANK:
                if not sc.reach_before.search(m, max(0, s - 4), s):  # 网点覆盖全国: the bank's reach
                    non_bank.append(s)
                    non_bank_ends.append(e)
            else:
                self_refs.append(s)
            continue
        code = name.code
        if code is None:
            bank_names.append((s, e, None))
            if name.non_bank:
                non_bank.append(s)
                non_bank_ends.append(e)
            continue
        if code == _GROUP or code == _BRAND:
            if m.startswith(sc.subsidiary_words, e):
                # 平安证券, 中银香港: another institution of the group
                sub = next(w for w in sc.subsidiary_words if m.startswith(w, e))
                raw.append((s, e + len(sub), OTHER))
            elif code == _BRAND:
                raw.append((s, e, _BRAND + (name.fallback or "")))
            continue
        if code != OTHER:
            bank_names.append((s, e, code))
            if s >= 2 and m[s - 1] == "、" and m[s - 2] in sc.initials:
                raw.extend(_initials(m, sc.initials, s))
            if m.startswith(sc.bank_subsidiary_words, e):
                # 中国银行(香港): the bank's subsidiary, unless a branch follows (…(香港)分行)
                sub = next(w for w in sc.bank_subsidiary_words if m.startswith(w, e))
                if not m.startswith(sc.branch_words, e + len(sub)):
                    code, e = OTHER, e + len(sub)
        raw.append((s, e, code))
    if lex.attribution.place_lists and any(w in m for w in lex.attribution.respectively):
        places = _place_list_banks(m, sc, lex.attribution)
        if places:
            raw.extend(places)
            bank_names = sorted([*bank_names, *places])  # each place names its bank
    raw.sort()  # in text order already but for the initials and outside banks put before a name
    hits = _resolve_brands(m, raw) if any(c[0] == _BRAND for _, _, c in raw) else raw
    starts = [h[0] for h in hits]
    first = list(range(len(hits)))
    last = list(range(len(hits)))
    for i in range(1, len(hits)):
        if (hits[i - 1][2] != OTHER or hits[i][2] != OTHER) and \
                _glue(m, hits[i - 1][1], hits[i][0]) in sc.list_marks:
            first[i] = first[i - 1]
    for i in range(len(hits) - 2, -1, -1):
        if first[i + 1] == first[i]:
            last[i] = last[i + 1]
    main = canonical_entity(ctx.entity)
    if main is None:
        main = _main(text, m, ctx, hits, first, title_end, span_starts, lex.attribution)
    if main is None:
        main = _site_bank(ctx.url, hits, lex.bank_sites)
    named = {h[2] for h in hits}
    if main is None and (named <= {OTHER} or len(named) == 1):
        # a page naming its bank only by the stock code it writes, or naming no institution but the
        # bank the code is (紫金银行(601860)经营总结: a quote site's page on one bank; not 中銀香港
        # beside its parent's 03988); the page is scanned for codes only then
        coded = _coded_bank(m, lex.stock_codes)
        if coded is not None and (named <= {OTHER} or named == {coded}):
            main = coded
    return Institutions(hits, starts, first, last, aggregates, aggregate_ends, non_bank, non_bank_ends,
                        self_refs, respectively, main, bank_names, {})


def _place_list_banks(m: str, sc: _Scanners, r: AttributionRules) -> list[tuple[int, int, str]]:
    """广州、上海、重庆分别实现了… after 在几大农商行利润增速上: each place of a list before 分别 as
    the bank of the kind the sentence is about (attribution.toml [place_lists])."""
    out: list[tuple[int, int, str]] = []
    for x in sc.place_list.finditer(m):
        s = x.start()
        floor = max(max(m.rfind(ch, 0, s) for ch in FULL_SENTENCE_ENDS) + 1, s - r.place_list_reach)
        if s > floor and "\u4e00" <= m[s - 1] <= "\u9fff":
            continue  # a place inside a word (在广州、上海等地)
        # the kind whose word comes last before the list, in its sentence
        kind, at = "", -1
        for k, (words, _) in r.place_lists.items():
            for w in words:
                j = m.rfind(w, floor, s)
                if j > at:
                    kind, at = k, j
        if at < 0:
            continue
        places = r.place_lists[kind][1]
        items = [(y.start(), y.end(), places.get(y.group())) for y in sc.place_item.finditer(m, s, x.end())]
        if all(code is not None for _, _, code in items):
            out.extend((a, b, code) for a, b, code in items if code is not None)
    return out


def _joined_to_total(ix: Institutions, m: str, sc: _Scanners, pos: int, floor: int) -> bool:
    """5家国有大行和|招行: a total across banks joined to the bank (or list) at `pos` by a list
    mark, in its clause."""
    k = bisect.bisect_right(ix.aggregate_ends, pos) - 1  # the last total ending at or before `pos`
    return k >= 0 and ix.aggregates[k] >= floor and m[ix.aggregate_ends[k]:pos] in sc.list_marks


def _total_carried(ix: Institutions, m: str, span_starts: list[int], a: int, cstart: int) -> bool:
    """A total across banks (银行业, 六大行) in [a, cstart) whose own figure follows it before
    `cstart`: the clause goes on about that total (not 按中国银行业监管口径计算, which states none)."""
    k = bisect.bisect_left(ix.aggregates, cstart) - 1
    last = ix.aggregates[k] if k >= 0 else -1
    words = load_lexicon().attribution.carry_words
    j = bisect.bisect_left(ix.non_bank, cstart) - 1
    while j >= 0 and ix.non_bank[j] >= a:
        if m[ix.non_bank[j]:ix.non_bank_ends[j]] in words:
            last = max(last, ix.non_bank[j])
            break
        j -= 1
    return last >= a and _any_in(span_starts, last, cstart)


def _restating_total_end(ix: Institutions, m: str, list_end: int) -> int:
    """The end of a total right after a list of banks and 等 (…厦门银行等4家银行; within
    attribution.toml list_count_reach), or -1: with 分别 after it, the total restates the banks and
    their figures are dealt out to them."""
    if not m.startswith("等", list_end):
        return -1
    k = bisect.bisect_left(ix.aggregates, list_end + 1)
    if k < len(ix.aggregates) and ix.aggregates[k] - list_end <= load_lexicon().attribution.list_count_reach:
        return ix.aggregate_ends[k]
    return -1


def _apposition(m: str, sc: _Scanners, a: int, b: int) -> bool:
    """北京银行、江苏银行、上海银行|3|家银行的总资产, …交通银行|五大|国有商业银行: a total right after
    names, only a number (and a restating word) between, restates them (工行、建行等4家国有大行 is a
    group)."""
    between = m[a:b]
    word = next((w for w in sc.restating_words if between.endswith(w) and len(between) > len(w)), "")
    return all(c in sc.apposition for c in between[:len(between) - len(word)])


def _initials(m: str, initials: dict[str, str], s: int) -> list[tuple[int, int, str]]:
    """工、农、中、建、|交行: the banks whose initials run before a bank's name (none if the run
    starts inside a word: 其中、交行)."""
    out: list[tuple[int, int, str]] = []
    p = s
    while p >= 2 and m[p - 1] == "、" and m[p - 2] in initials:
        p -= 2
        out.append((p, p + 1, initials[m[p]]))
    if p > 0 and "\u4e00" <= m[p - 1] <= "\u9fff":
        return []
    out.reverse()
    return out


def _other_bank(m: str, sc: _Scanners, s: int, e: int) -> bool:
    """泸州|银行: two characters before the suffix name a bank outside the registry."""
    a = s - 2
    if a < 0:
        return False
    head = m[a:s]
    if not ("\u4e00" <= head[0] <= "\u9fff" and "\u4e00" <= head[1] <= "\u9fff") or head in sc.other_generic \
            or head[0] in sc.numerals or head[1] in sc.numerals or m.startswith(sc.other_not_before, e):
        return False
    # where a name can start: not inside a longer word (政策性银行, 平安口袋银行)
    return a == 0 or not ("\u4e00" <= m[a - 1] <= "\u9fff") or m.endswith(sc.other_after, 0, a)


def _resolve_brands(m: str, raw: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A bare brand is its bank in a list with a bank (招行和兴业) or opening an item of a sentence
    that names another bank (…、兴业372万户、中信53万户), and then wherever it opens an item of the
    article; else it is no name at all."""
    sc = scanners()
    codes = [c for _, _, c in raw]
    changed = True
    while changed:
        changed = False
        for i, (s, e, c) in enumerate(raw):
            if not codes[i].startswith(_BRAND):
                continue
            left = i > 0 and _is_bank(codes[i - 1]) and _glue(m, raw[i - 1][1], s) in sc.list_marks
            right = i + 1 < len(raw) and _is_bank(codes[i + 1]) and _glue(m, e, raw[i + 1][0]) in sc.list_marks
            if left or right or _opens_item(m, s) and _bank_in_sentence(m, raw, codes, i):
                codes[i] = c[1:]
                changed = True
    # the article that took 兴业 for the bank once means the bank by it throughout (…，兴业23%的…)
    banks = {m[s:e] for (s, e, c), code in zip(raw, codes) if c.startswith(_BRAND) and code == c[1:]}
    for i, (s, e, c) in enumerate(raw):
        if codes[i].startswith(_BRAND) and m[s:e] in banks and _opens_item(m, s):
            codes[i] = c[1:]
    return [(s, e, c) for (s, e, _), c in zip(raw, codes) if not c.startswith(_BRAND)]


def _is_bank(code: str) -> bool:
    return code != OTHER and not code.startswith(_BRAND)


def _opens_item(m: str, s: int) -> bool:
    return s == 0 or m[s - 1] in _ITEM_OPENERS or m[s - 1] == "\n"


def _bank_in_sentence(m: str, raw: list[tuple[int, int, str]], codes: list[str], i: int) -> bool:
    s = raw[i][0]
    for j in (i - 1, i + 1):
        if 0 <= j < len(raw) and _is_bank(codes[j]):
            a, b = (raw[j][1], s) if j < i else (raw[i][1], raw[j][0])
            if not any(ch in _SENTENCE_MARKS for ch in m[a:b]):
                return True
    return False


def _is_target(m: str, s: int, e: int) -> bool:
    """高于工行, 较第二名的招商银行, 与招行相比: the name at [s, e) is what a figure is compared
    with."""
    sc = scanners()
    if m.startswith(sc.comparison_after, e):
        return True
    best = _comparison_end(sc, m, s)
    if best < 0:
        # 低于作为城市商业银行的北京银行: past what the target is said to be
        y = sc.comparison_apposition.search(m, max(0, s - 16), s)
        if y is None or y.end() != s:
            return False
        s = y.start()
        best = _comparison_end(sc, m, s)
        if best < 0:
            return False
    gap = m[best:s]
    return not _DIGIT.search(gap) and not _CLAUSE.search(gap) and not any(w in gap for w in sc.comparison_not_between)


def _comparison_end(sc: _Scanners, m: str, s: int) -> int:
    """The end of the last comparison word (高于, 较) within reach before `s`, or -1."""
    best = -1
    for x in sc.comparison_before.finditer(m, max(0, s - sc.comparison_reach - 3), s):
        best = x.end()
    return best if best >= 0 and s - best <= sc.comparison_reach else -1


def _main(text: str, m: str, ctx: DocContext, hits: list[tuple[int, int, str]], first_of: list[int],
          title_end: int, span_starts: list[int], r: AttributionRules) -> str | None:
    """The bank named most (in the title, opening a clause, or in a sentence that states a
    figure), if at least `dominance` times as often as any other institution, with `share` percent
    of the names (and named in the lead when the title names no institution and other banks are)."""
    title_weight = r.title_weight
    if title_end > r.title_max_len:
        title_end = 0  # a first line this long is the article itself, not its headline
    title = ctx.title or ""
    outside_title = bool(title) and title not in text
    if hits and not outside_title and hits[0][2] != OTHER and all(h[2] == hits[0][2] for h in hits):
        # one bank named, alone: the document's if it counts once (what the counting below decides)
        for i, (s, e, _) in enumerate(hits):
            if s < title_end or _counts_for_main(m, span_starts, hits[first_of[i]][0], e):
                return hits[0][2]
        return None
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    in_title = False
    for i, (s, e, code) in enumerate(hits):
        if s >= title_end and not _counts_for_main(m, span_starts, hits[first_of[i]][0], e):
            continue  # 亦與母公司中國銀行合作。: a name in passing (a list counts from its first name)
        key = code if code != OTHER else OTHER + m[s:e]
        counts[key] = counts.get(key, 0) + (title_weight if s < title_end else 1)
        first.setdefault(key, s)
        in_title = in_title or s < title_end
    if outside_title:
        title_m = matching_copy(title)
        for s, e, code in index_names(title_m):
            key = code if code != OTHER else OTHER + title_m[s:e]
            counts[key] = counts.get(key, 0) + title_weight
            in_title = True
    if not counts:
        return None
    # the most named; of equals, the first named
    top = min(counts, key=lambda k: (-counts[k], first.get(k, len(m))))
    if top.startswith(OTHER):
        return None
    runner_up = max([n for k, n in counts.items() if k != top], default=0)
    if counts[top] < r.dominance * runner_up or 100 * counts[top] < r.share * sum(counts.values()):
        return None  # a roundup: no bank is the document's
    if runner_up and not in_title and first.get(top, len(m)) >= title_end + r.lead_chars:
        return None  # a feature that names banks on the way: none is the document's
    return top


def _site_bank(url: str | None, hits: list[tuple[int, int, str]], sites: dict[str, str]) -> str | None:
    """The bank whose own site the page is on (www.icbc-ltd.com: ICBC, bank_sites.csv), unless
    the page names another bank of the registry."""
    if not url:
        return None
    host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    code = None
    while host:
        code = sites.get(host)
        if code is not None:
            break
        _, _, host = host.partition(".")
    if code is None or any(h[2] != code and h[2] != OTHER for h in hits):
        return None
    return code


# a listed bank's stock code as pages write it: 编号为601288, 股票代码：600036, (01288), 1288.HK, 601398.SH
_STOCK_CODE = re.compile(r"(?:编号|代码|代號|編號)(?:为|為|是)?[:：]? ?(?P<a>\d{4,6})(?![\d.])"
                         r"|[(（](?P<c>\d{5,6})(?:\.(?:HK|SH|SZ))?[)）]"
                         r"|(?<![\d.])(?P<b>\d{4,6})\.(?:HK|SH|SZ)(?![A-Za-z])")


def _code_key(code: str) -> str:
    """A written code as stock_codes.csv keys it: 6 digits as written, Hong Kong's zero-padded to 5."""
    return code if len(code) == 6 else code.rjust(5, "0")


def _coded_bank(m: str, codes: dict[str, str]) -> str | None:
    """The bank a page names only by the stock code it writes (集团股份亦在上海证券交易所上市，编号为
    601288): stock_codes.csv, when every code the page writes is that bank's. (A code only in the
    page's address, a quote page's ?code=601166, names no bank the reader sees.)"""
    found: set[str] = set()
    for x in _STOCK_CODE.finditer(m):
        code = codes.get(_code_key(x.group("a") or x.group("b") or x.group("c")))
        if code is not None:
            found.add(code)
    return found.pop() if len(found) == 1 else None


def _counts_for_main(m: str, span_starts: list[int], s: int, e: int) -> bool:
    """The name at [s, e) opens its clause (此外，招行…), or its sentence states a figure.
    Read around the name: back to its clause mark, and to the nearest figure on each side."""
    i = s - 1
    while i >= 0 and m[i] in _OPENING:
        if m[i] in _CLAUSE_MARKS:
            return True
        i -= 1
    if i < 0:
        return True
    # the nearest figures before and after it, unless a sentence ends between
    k = bisect.bisect_left(span_starts, s)
    if k > 0 and _SENTENCE_MARK_RE.search(m, span_starts[k - 1], s) is None:
        return True
    return k < len(span_starts) and _SENTENCE_MARK_RE.search(m, e, span_starts[k]) is None


def index_names(m: str) -> list[tuple[int, int, str]]:
    """The registry banks and other institutions named in `m` (a title outside the text)."""
    sc = scanners()
    out = []
    for x in sc.names.finditer(m):
        code = sc.name_of[x.group()].code
        if code == _GROUP or code == _BRAND:
            code = OTHER if m.startswith(sc.subsidiary_words, x.end()) else None
        if code is not None:
            out.append((x.start(), x.end(), code))
    return out


def entity_of(ix: Institutions, m: str, fs: int, fe: int, para: int, cstart: int, qstart: int, start: int,
              end: int, clause_end: int, subj: tuple[int, int] | None, measure_word: str | None,
              span_starts: list[int]) -> str | None:
    """The registry code the figure at [start, end) belongs to, or None.

    fs, fe: its full sentence; para: where its paragraph (or list, or 其中 continuation)
    starts; cstart: its clause's start; qstart: where the figure starts with its qualifier word;
    clause_end: the end of its clause; subj: its subject span (maybe carried from an earlier clause).
    """
    sc = scanners()
    hits = ix.hits
    lo = bisect.bisect_left(ix.starts, fs)
    i = bisect.bisect_left(ix.starts, start) - 1
    while i >= lo and (hits[i][1] > start or ix.is_target(m, i) and m[hits[i][1]:qstart] not in sc.possessive):
        # the last institution named before the figure in its sentence, not a comparison target
        # (unless the figure is the target's own: 较上海农商银行的1.56万亿元)
        i -= 1
    entity: str | None
    in_clause = False
    dealt_after = -1  # where a 分别 list's restating total ends (渝农商行、南京银行…等4家银行…分别为)
    if i >= lo:
        in_clause = hits[i][0] >= cstart
        f, z = ix.first[i], ix.last[i]
        if z > f and hits[z][0] < start and not _any_in(span_starts, hits[f][1], hits[z][0]):
            i = f  # 北京银行、江苏银行、上海银行资产总额超3万亿元: the list's first bank
            n = respective(ix, span_starts, hits[z][1], start)
            if n > z - f and _past_total(m, ix, start):
                return None  # …分别为1679.31亿元…和373.81亿元,合计6377.44亿元: the list's total
            if n >= 0:
                # 农业银行、建设银行、中国银行分别为25.6万户、23.15万户: n-th figure, n-th bank
                i = f + n % (z - f + 1)
                dealt_after = _restating_total_end(ix, m, hits[z][1])
        # (a list with figures between its banks, 成都银行(18.92%)、青岛银行(14.8%), gives each its item's)
        entity = hits[i][2]
        if not in_clause and _group_took_over(ix, m, hits[ix.last[i]][1], cstart):
            return None  # …邮储银行六大国有银行披露半年报，六大行上半年净赚…，平均每天净赚37.71亿元: the group's
    elif ix.self_refs and _any_in(ix.self_refs, fs, start):
        # 该行…: the bank named last in the paragraph (or, in prose naming none, the paragraph before)
        entity = _last_bank(ix, m, para, fs) or ix.main or _paragraph_before(ix, m, sc, para, start, measure_word)
    elif ix.main is not None:
        if _total_carried(ix, m, span_starts, max(fs, cstart - load_lexicon().attribution.carry_reach), cstart):
            return None  # 9月末银行业不良贷款余额3.6万亿元,不良贷款率1.9%: the sentence speaks of a total
        entity = ix.main
    else:
        entity = _last_bank(ix, m, para, fs)  # a roundup: the paragraph's bank
        if entity is None:
            entity = _paragraph_before(ix, m, sc, para, start, measure_word)
    if entity is None or entity == OTHER:
        return None
    if not in_clause and _cue(ix.non_bank, ix.non_bank_ends, cstart, qstart, subj) \
            and not (ix.self_refs and _any_in(ix.self_refs, fs, fe)):
        return None  # 全国个人养老金账户开户数, 银行业理财规模: not the bank's own figure
    after = max(cstart, hits[i][1], dealt_after) if in_clause else cstart
    carried = None
    if subj is not None and not in_clause:
        # a subject carried from before the clause, from its last name on (…上市农商行巨头上海农商银行
        # 实现营业收入…，同比下降3.18%: the bank's, not a total)
        k = bisect.bisect_left(ix.starts, subj[1]) - 1
        carried = (max(subj[0], hits[k][1]) if k >= 0 and hits[k][0] >= subj[0] else subj[0], subj[1])
    if _cue(ix.aggregates, ix.aggregate_ends, after, qstart, carried):
        return None  # 29家上市城商行总资产, 六大行营收合计: a total across banks
    if in_clause and _joined_to_total(ix, m, sc, hits[ix.first[i]][0], cstart):
        return None  # 5家国有大行和招行的发卡量增幅: the group and the bank together
    if measure_word is not None and measure_word in sc.count_measure_words \
            and (_counts_banks(ix, m, subj, end, clause_end) or _counts_listed(ix, i, lo, start, span_starts)):
        return None  # 已发布快报的银行有16家, 42家A股上市银行: a count of banks
    return entity


def group_members(m: str, lo: int, qstart: int) -> tuple[str, ...]:
    """The members of a group of banks a figure is stated for, each (四大行均超6000亿元,
    四大行营业收入均超…: the four codes); () when m[lo:qstart] (the figure's clause) names no such
    group with an "each" word right before the figure."""
    sc = scanners()
    r = load_lexicon().attribution
    x = None
    for x in sc.each_member.finditer(m, lo, qstart):
        pass
    if x is None or qstart - x.end() > r.group_reach:
        return ()
    return r.group_members[x.group("group")]


def sharing_banks(ix: Institutions, m: str, fs: int, start: int, entity: str | None,
                  span_starts: list[int]) -> list[str | None]:
    """The banks of a list the figure at `start` is stated for as a whole (北京银行、江苏银行、
    上海银行资产总额超3万亿元: each of the three is over 3万亿), `entity` among them, in list order;
    a bank outside the registry (中原银行) stands as None; [] for a figure of one bank or one item
    of a 分别 list."""
    hits = ix.hits
    run = _list_before(ix, m, fs, start, span_starts)
    if run is None or _totalled(m, hits[run[1]][1], start):
        return []
    f, z = run
    out: list[str | None] = []
    for k in range(f, z + 1):
        code = hits[k][2]
        if code == OTHER:
            out.append(None)  # 中原银行、成都银行…均在1万亿元以上: a row of its own, no registry code
        elif code is not None and code not in out:
            out.append(code)
    return out if entity in out and len(out) > 1 else []


def banks_past(ix: Institutions, m: str, end: int, fe: int) -> list[str | None]:
    """The banks a threshold figure ending at `end` is stated for by the list after it, in its
    sentence (归母净利润破百亿元的有6家,分别为江苏银行、北京银行…: each is over 百亿元), in list
    order (one outside the registry as None); [] when no such list follows."""
    x = _threshold_list().match(m, end)
    if x is None:
        return []
    k = bisect.bisect_left(ix.starts, x.end())
    hits = ix.hits
    if k >= len(hits) or hits[k][0] != x.end() or ix.first[k] != k:
        return []
    z = ix.last[k]
    if hits[z][1] > fe or z == k:
        return []
    out: list[str | None] = []
    for j in range(k, z + 1):
        code = hits[j][2]
        if code == OTHER:
            out.append(None)
        elif code is not None and code not in out:
            out.append(code)
    return out


@cache
def _threshold_list() -> re.Pattern:
    return re.compile(load_lexicon().attribution.threshold_list)


def _list_before(ix: Institutions, m: str, fs: int, start: int, span_starts: list[int]) -> tuple[int, int] | None:
    """(first, last) hit of the list of banks (two or more) the figure at `start` follows in its
    sentence with no figure between, not as a 分别 list; None when there is none."""
    hits = ix.hits
    lo = bisect.bisect_left(ix.starts, fs)
    i = bisect.bisect_left(ix.starts, start) - 1
    while i >= lo and (hits[i][1] > start or ix.is_target(m, i)):
        i -= 1
    if i < lo:
        return None
    f, z = ix.first[i], ix.last[i]
    if z <= f or hits[z][0] >= start or _any_in(span_starts, hits[f][1], hits[z][0]) \
            or respective(ix, span_starts, hits[z][1], start) >= 0:
        return None
    return f, z


def _totalled(m: str, a: int, b: int) -> bool:
    return any(0 <= m.find(w, a, b) for w in load_lexicon().attribution.list_totals)


def list_total(ix: Institutions, m: str, fs: int, start: int, span_starts: list[int]) -> bool:
    """The figure at `start` is the total of the list of banks before it (工行、建行、农行、中行、
    邮储合计客户数达20.14亿户): nobody's."""
    run = _list_before(ix, m, fs, start, span_starts)
    return run is not None and _totalled(m, ix.hits[run[1]][1], start)


def respective(ix: Institutions, span_starts: list[int], a: int, start: int) -> int:
    """How many figures stand between the last `分别` (or 依次) ending in (a, start] and the figure
    at `start` (0 for the first one after it); -1 when there is none."""
    k = bisect.bisect_right(ix.respectively, start) - 1
    if k < 0 or ix.respectively[k] <= a:
        return -1
    return bisect.bisect_left(span_starts, start) - bisect.bisect_left(span_starts, ix.respectively[k])


def _past_total(m: str, ix: Institutions, start: int) -> bool:
    """A total word (合计) stands between the last 分别 before `start` and `start`."""
    k = bisect.bisect_right(ix.respectively, start) - 1
    return _totalled(m, ix.respectively[k], start)


_PROSE_ENDS = FULL_SENTENCE_ENDS.replace("\n", "")  # a paragraph of prose ends in one of these


def _paragraph_before(ix: Institutions, m: str, sc: _Scanners, para: int, start: int,
                      measure_word: str | None) -> str | None:
    """工商銀行（1398）發佈第三季業績…。\n前三季，淨利潤2,718.82億元: a paragraph naming no
    institution goes on about the one bank the paragraph before it named, when both are prose (a
    headline, 南京银行14.31%增速领跑, introduces what follows) and the figure does not count banks."""
    if para < 2 or m[para - 2] not in _PROSE_ENDS or not _prose_line(m, start) or _any_in(ix.starts, para, start) \
            or measure_word is not None and measure_word in sc.count_measure_words:
        return None
    return _only_bank(ix, m.rfind("\n", 0, para - 1) + 1, para)


def _prose_line(m: str, pos: int) -> bool:
    """The line holding `pos` is prose (ends in 。, or where the page stops), not a headline."""
    e = m.find("\n", pos)
    return e < 0 or e > 0 and m[e - 1] in _PROSE_ENDS


def _only_bank(ix: Institutions, a: int, b: int) -> str | None:
    """The registry bank m[a:b] names, when it names institutions and all of them are that bank."""
    lo = bisect.bisect_left(ix.starts, a)
    hi = bisect.bisect_left(ix.starts, b)
    codes = {ix.hits[i][2] for i in range(lo, hi)}
    return next(iter(codes)) if len(codes) == 1 else None


def _any_in(starts: list[int], a: int, b: int) -> bool:
    k = bisect.bisect_left(starts, a)
    return k < len(starts) and starts[k] < b


_CLAUSE_OPENERS = "，,；;。：:\n"


def _group_took_over(ix: Institutions, m: str, names_end: int, cstart: int) -> bool:
    """A clause after the banks named (ending at `names_end`) and before the figure's clause (from
    `cstart`) opens with a total across banks, a count at most before it: the sentence goes on
    about the group (工商银行、…邮储银行大陆六大国有银行 restates the banks inside their clause: not
    such an opening)."""
    k = bisect.bisect_left(ix.aggregates, names_end)
    while k < len(ix.aggregates) and ix.aggregates[k] < cstart:
        j = ix.aggregates[k]
        while j > names_end and m[j - 1] in _GROUP_COUNTS:
            j -= 1  # 六大行: a count before the group's word (not 这四家银行, the banks named; not 在大型银行中)
        if j > names_end and m[j - 1] in _CLAUSE_OPENERS:
            return True
        k += 1
    return False


_GROUP_COUNTS = frozenset("0123456789一二两三四五六七八九十几")


def _last_bank(ix: Institutions, m: str, a: int, b: int) -> str | None:
    lo = bisect.bisect_left(ix.starts, a)
    hi = bisect.bisect_left(ix.starts, b)
    for i in range(hi - 1, lo - 1, -1):
        if ix.hits[i][1] <= b and not ix.is_target(m, i):
            f = ix.first[i]
            return ix.hits[f if f >= lo else i][2]
    return None


def _cue(starts: list[int], ends: list[int], a: int, b: int, subj: tuple[int, int] | None) -> bool:
    """A cue within [a, b), or within a subject carried from before `a`."""
    if not starts:
        return False
    k = bisect.bisect_left(starts, a)
    if k < len(starts) and starts[k] < b and ends[k] <= b:
        return True
    if subj is not None and subj[0] < a:
        k = bisect.bisect_left(starts, subj[0])
        return k < len(starts) and starts[k] < subj[1] and ends[k] <= subj[1]
    return False


def _counts_listed(ix: Institutions, i: int, lo: int, start: int, span_starts: list[int]) -> bool:
    """The count right after a list of banks counts them (…建设银行、交通银行，共计8家)."""
    if i < lo or ix.first[i] == ix.last[i]:
        return False
    z = ix.hits[ix.last[i]][1]
    return z <= start and start - z <= load_lexicon().attribution.list_count_reach and not _any_in(span_starts, z, start)


def _counts_banks(ix: Institutions, m: str, subj: tuple[int, int] | None, end: int, clause_end: int) -> bool:
    sc = scanners()
    if subj is not None and m[subj[0]:subj[1]].endswith(sc.bank_nouns):
        return True
    after = m[end:clause_end]
    return any(noun in after for noun in sc.bank_nouns) and not _any_in(ix.starts, end, clause_end)
