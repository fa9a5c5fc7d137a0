"""Which taxonomy key a mention's subject names: the concept, not a word list.

A subject (already Simplified: it comes from the matching copy) and every synonym of metrics.csv
are brought to one normal form (metric_words.toml: variant characters folded, brackets dropped,
abbreviations spelt out, suffixes that keep the concept and change words taken off the end). The
longest synonym that ends the normal form names the subject, unless the words right before it
make it a segment (境内分行人民币贷款, 定期存款) or, for a bare head (贷款, 资产), anything but a
boundary stands before it (科技贷款). A different head after the name (非利息收入占比,
理财业务手续费收入) leaves the name inside the subject, not at its end: no key.

`match` is the entry point; it is pure and cached per (subject, unit, kind, n-th of a 分别 run).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from flows.lexicon import UNITS, MetricRule, MetricWords, RuleError, alternation, load_lexicon

_RATIOS = frozenset({"percent", "pp", "times"})
_MONEY = UNITS - _RATIOS - {"count"}  # the currencies a money metric (CNY in the taxonomy) is stated in
_BRACKETED = re.compile(r"[（(][^（）()]*[）)]|[（(][^（）()]*$")
_GLOSS = re.compile(r"[（(]([^（）()]{2,12})[）)]")
_GLOSS_END = re.compile(r"[（(][A-Za-z]{2,8}[）)]$")  # an abbreviation glossing the name (EPS)


@dataclass(frozen=True)
class _Matcher:
    words: MetricWords
    variants: dict[int, str]  # str.translate table
    abbreviations: re.Pattern | None
    cut_at: re.Pattern
    tail_by_last: dict[str, tuple[str, ...]]  # tail words by their last character, longest first
    segment_by_last: dict[str, tuple[str, ...]]
    boundary_words: tuple[str, ...]
    by_name: dict[str, MetricRule]  # normal form of a synonym -> its rule
    lengths_by_last: dict[str, tuple[int, ...]]  # lengths of the synonyms ending in a character, longest first
    modifiers: re.Pattern | None


def _by_last(words: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for w in sorted(set(words), key=lambda w: (-len(w), w)):
        out.setdefault(w[-1], []).append(w)
    return {k: tuple(v) for k, v in out.items()}


@cache
def matcher() -> _Matcher:
    """The synonyms in normal form and the word tables, built once per process."""
    lex = load_lexicon()
    w = lex.metric_words
    abbr = re.compile(alternation(w.abbreviations)) if w.abbreviations else None
    mods = re.compile(alternation(lex.metric_modifiers)) if lex.metric_modifiers else None
    cut = f"(?:{alternation(w.cut_at)})" + (f"(?!{alternation(w.cut_not_before)})" if w.cut_not_before else "")
    base = _Matcher(w, str.maketrans(w.variants), abbr, re.compile(cut),
                    _by_last(w.tail), _by_last(w.segments), w.boundary_words, {}, {}, mods)
    by_name: dict[str, MetricRule] = {}
    for rule in lex.metrics:
        name = _fold(base, rule.synonym)
        while (n := _tail_len(base, name)):
            name = name[:-n]  # 贷款余额 -> 贷款: a subject loses its tail words one by one
        if not name:
            raise RuleError(f"metrics.csv:{rule.line}: synonym {rule.synonym!r} is empty once folded")
        other = by_name.setdefault(name, rule)
        if other.key != rule.key:
            raise RuleError(f"metrics.csv:{rule.line}: synonym {rule.synonym!r} reads as {name!r}, "
                            f"like {other.synonym!r} of {other.key}")
    lengths: dict[str, set[int]] = {}
    for name in by_name:
        lengths.setdefault(name[-1], set()).add(len(name))
    return _Matcher(base.words, base.variants, base.abbreviations, base.cut_at, base.tail_by_last,
                    base.segment_by_last, base.boundary_words, by_name,
                    {c: tuple(sorted(n, reverse=True)) for c, n in lengths.items()}, mods)


def _fold(mt: _Matcher, text: str) -> str:
    """Variants folded, spaces and brackets gone, cut before a comparison, abbreviations spelt out."""
    s = text.translate(mt.variants)
    if not s.isalpha():  # spaces (资产 总额), brackets, digits: rarely
        s = "".join(s.split())
    s = s.upper()  # aum -> AUM
    if "(" in s or "（" in s:
        s = _BRACKETED.sub("", s)
    x = mt.cut_at.search(s, 1)
    if x is not None:
        s = s[:x.start()]
    if mt.abbreviations is not None:
        abbr = mt.words.abbreviations
        s = mt.abbreviations.sub(lambda y: abbr[y.group()], s)
    return s


def _tail_len(mt: _Matcher, s: str) -> int:
    """Length of the longest tail word ending `s` (but not all of it), 0 when none does."""
    for t in mt.tail_by_last.get(s[-1], ()) if s else ():
        if len(t) < len(s) and s.endswith(t):
            return len(t)
    return 0


def _ends_with(by_last: dict[str, tuple[str, ...]], s: str) -> bool:
    return bool(s) and any(s.endswith(w) for w in by_last.get(s[-1], ()))


def _named(mt: _Matcher, s: str) -> list[MetricRule | None]:
    """The rules of the metrics `s` (folded) names: the longest synonym ending it, tail words taken
    off the end one by one until one does (资产规模增速 -> 资产规模), if what stands before it
    allows; with the names coordinated before it (存款、贷款规模: deposits, loans), a name the
    words before it make a segment or another concept standing as None among them (资本充足率和
    核心资本充足率: the ratio, then none). Empty: none."""
    whole = s
    while s:
        found, rules = _ending(mt, s)
        if found:
            return rules
        n = _tail_len(mt, s)
        if not n:
            break
        s = s[:-n]
    # 利息净收入以及投资收益: a last item naming no metric still holds its place after the names before
    # it (split at the last coordinator, the longest where two end alike: 以及 before 及)
    cut = max(((whole.rfind(c) + len(c), len(c)) for c in mt.words.coordinators if c in whole), default=(-1, 0))
    end, n = cut
    if end - n >= 2 and len(whole) - end >= 2:
        before = _named(mt, whole[:end - n])
        if any(before):
            return [*before, None]
    return []


def _ending(mt: _Matcher, s: str) -> tuple[bool, list[MetricRule | None]]:
    """(a synonym ends `s`, the rules of the names it ends unless the words before it make it a
    segment)."""
    for n in mt.lengths_by_last.get(s[-1], ()):
        if n > len(s):
            continue
        rule = mt.by_name.get(s[len(s) - n:])
        if rule is None:
            continue
        left = s[:len(s) - n]
        bare = left.rstrip(mt.words.particles)
        # 境内分行人民币|贷款, 代销的|理财: a segment of the metric (优于行业平均的|成本收入比率 compares)
        # 科技|贷款: a bare head needs a boundary before it
        blocked = _ends_with(mt.segment_by_last, bare) and (bare == left or not mt.cut_at.search(bare)) and not (
            rule.key in mt.words.average_keys and bare.endswith(mt.words.average_words)) or (
            left and s[len(s) - n:] in mt.words.bare_heads and not (
                left[-1] in mt.words.boundary_chars or not ("\u4e00" <= left[-1] <= "\u9fff")
                or left.endswith(mt.boundary_words)))
        # 个人消费贷款和|信用卡透支规模, 年化平均资产回报率和|年化|平均股东权益报酬率: the names
        # coordinated before it, a few words of its own (年化, 核心) between
        before: list[MetricRule | None] = []
        for k in range(len(left), max(-1, len(left) - 1 - mt.words.coordinated_reach), -1):
            c = next((c for c in mt.words.coordinators if left.endswith(c, 0, k)), None)
            if c is not None:
                # 净利差和|净利息收益率: an item naming no metric still holds its place (None)
                before = _named(mt, left[:k - len(c)]) or [None]
                break
        if blocked:
            return True, [*before, None] if any(before) else []
        return True, [*before, rule]
    return False, []


def _fits(rule: MetricRule, unit: str, kind: str) -> bool:
    """The mention's unit can state the rule's metric (a change may be a percent of it)."""
    if unit == rule.unit or rule.unit == "CNY" and unit in _MONEY:
        return True
    return kind == "change" and unit in _RATIOS or rule.unit == "percent" and unit == "pp"


@lru_cache(maxsize=8192)
def match(subject_m: str | None, unit: str, kind: str, nth: int = -1) -> MetricRule | None:
    """The metric `subject_m` (matching copy) names, if `unit` fits it; None for none, a segment or a
    different concept.

    Metrics named together (营业收入和净利润分别为…) give the `nth` one to the nth figure of a
    `分别` run (`nth` >= 0), else the first one.

    A subject that names none as written is tried again with a bracketed gloss standing for the
    name before it (平安口袋银行APP（手机银行）注册用户数 -> 手机银行注册用户数) and with the
    words a metric name tolerates taken out (掌银注册客户 -> 掌银客户).
    """
    if not subject_m:
        return None
    mt = matcher()
    rules = _named(mt, _fold(mt, subject_m))
    if not rules:
        variants = [g.group(1) + subject_m[g.end():] for g in _GLOSS.finditer(subject_m)]
        if mt.modifiers is not None:
            variants += [mt.modifiers.sub("", v) for v in (subject_m, *variants)]
        last = subject_m.split()[-1] if subject_m.split() else ""
        if last != subject_m.strip():
            variants.append(last)  # 深耕三农金融 个人存款余额: the last of words set apart by spaces
        for v in variants:
            if v != subject_m:
                rules = _named(mt, _fold(mt, v))
                if rules:
                    break
    if not rules or nth < 0 and rules[-1] is None:
        return None  # (a lone segment, or a list ending in one: the first name is not the figure's)
    # the nth figure of a 分别 run the nth item; else the first item that names a metric
    rule = rules[nth % len(rules)] if nth >= 0 else next(r for r in rules if r is not None)
    return rule if rule is not None and _fits(rule, unit, kind) else None


# ---------------------------------------------------------------- a name read from the sentence


@dataclass(frozen=True)
class _ContextScan:
    names: re.Pattern  # every synonym in normal form, also as abbreviated (赚 for 盈利)
    tails: re.Pattern  # the tail words after a name (同比增幅)
    followers: re.Pattern  # what may follow a name and its tail words
    reach: int
    concept_ends: frozenset[str]
    item_marks: str
    abbreviations: tuple[str, ...]  # concepts named by their abbreviation (EPS)


@cache
def _context_scan() -> _ContextScan:
    lex = load_lexicon()
    mt = matcher()
    w = mt.words
    names = set(mt.by_name)
    for short, full in w.abbreviations.items():  # 掌银客户 as written for 手机银行客户
        names |= {short + n[len(full):] for n in mt.by_name if n.startswith(full)}
    followers = set(w.context_followers) | set(w.tail) | set(w.cut_at) | set(lex.trail_words) \
        | set(lex.positive) | set(lex.negative)
    return _ContextScan(re.compile(alternation(names)), re.compile(f"(?:{alternation(w.tail)})*"),
                        re.compile(alternation(followers)), w.context_reach, frozenset(w.concept_ends),
                        w.item_marks, w.concept_abbreviations)


def _letter(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def names_nothing(subject_m: str | None) -> bool:
    """The subject names no concept: none, no metric name inside and no concept word at its end
    (城商行, 水平, 略微; not 公允价值变动收益). Its figure reads its metric from the sentence."""
    if subject_m and subject_m[-1] in "）)":
        subject_m = _GLOSS_END.sub("", subject_m)  # 每股盈余(EPS): the name before its gloss
    if not subject_m:
        return True
    cs = _context_scan()
    return subject_m[-1] not in cs.concept_ends and cs.names.search(subject_m) is None \
        and not subject_m.endswith(cs.abbreviations)


def _bracketed(m: str, pos: int, hi: int) -> bool:
    """m[pos] stands inside a bracket that closes before `hi`."""
    for k in range(pos, hi):
        ch = m[k]
        if ch in "）)":
            return True
        if ch in "（(":
            return False
    return False


def name_hits(m: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """(start, end) of every metric name in m[lo:hi], in text order (one scan a sentence)."""
    return [x.span() for x in _context_scan().names.finditer(m, lo, hi)]


def context_name(m: str, lo: int, hi: int, hits: list[tuple[int, int]] | None = None,
                 head: str | None = None) -> tuple[int, int, int] | None:
    """The last metric name in m[lo:hi] that ends a name phrase: (phrase start, name end, end of
    the tail words after it); None when there is none or what follows it names another concept
    (净利润占比). `hits`: `name_hits` of a stretch starting at `lo` (those ending after `hi` are
    left out), else found here. With `head` (a growth word: 增速), the last name whose tail words
    hold it (增速最高 -> 资产规模增速)."""
    cs = _context_scan()
    if hits is None:
        hits = name_hits(m, lo, hi)
    k = len(hits)
    while k and hits[k - 1][1] > hi:
        k -= 1
    while k:
        s, e = hits[k - 1]
        k -= 1
        if _bracketed(m, e, hi):
            continue  # 私人银行客户（月日均资产600万元以上）: a name in a gloss names nothing outside it
        t = cs.tails.match(m, e, hi)
        end = t.end() if t is not None else e
        if head is None or head in m[e:end]:
            break
    else:
        return None
    if e < hi and (_letter(m[e]) and cs.followers.match(m, e, hi) is None or m[e] in cs.item_marks):
        return None
    a = s
    while a > lo and s - a < cs.reach and _letter(m[a - 1]):
        a -= 1
    return a, e, end


def name_after(m: str, pos: int, hi: int) -> tuple[int, int, int] | None:
    """The metric name right after a number (以318.43亿元归母净利润排名第一, 以6万亿元的规模),
    a 的 between or not: (start, name end, end of its tail words), as `context_name` gives it."""
    cs = _context_scan()
    k = pos + 1 if m.startswith("的", pos) else pos
    best = None
    for x in cs.names.finditer(m, k, min(hi, k + cs.reach)):
        best = x  # the last name of the phrase (信用卡透支余额: 透支余额 after 信用卡)
        if x.end() < hi and _letter(m[x.end()]) and cs.followers.match(m, x.end(), hi) is not None:
            break
    if best is None:
        return None
    s, e = best.span()
    if e < hi and _letter(m[e]) and cs.followers.match(m, e, hi) is None:
        return None
    t = cs.tails.match(m, e, hi)
    return k, e, t.end() if t is not None else e
