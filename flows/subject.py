"""Where a subject (what a figure measures) starts: past list, footnote and heading debris, and
past the bank that states it (the entity is a field of its own).

`flows.phrasing` cuts the clause before a number; these helpers move the start of that cut so
that "[5] 资产质量 - 北京银行不良贷款率" reads 不良贷款率. Marks and words are rules
(`rules/subject.toml`: segment_marks).
"""
from __future__ import annotations

import bisect
import re
from functools import cache, lru_cache

from flows import metric_match
from flows.lexicon import load_lexicon, matches_from, one_of_chars

# The phrase rewrites below are pure functions of short strings, and a page names the same few
# measures figure after figure (净利润, 营业收入): each is computed once per distinct phrase. The
# bound keeps a long run's memory flat.
_phrase_cache = lru_cache(maxsize=4096)


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
    return [(x.start(1), x.end(1)) for x in matches_from(_QUOTED, _OPENERS, m)]


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


_ITEM_SEP = re.compile(r"[、，, /]+")  # not 和/及/与: they stand inside words (参与者)
_RESPECTIVELY = "分别"
_JOINERS = "和及"  # join the last item of a list to the one before (not 与: 参与者)
# for the subject field only: 和/及/与 join two items too (淨利息收益率和淨利差分別收窄19點子及17點子)
ITEM_SEP_WIDE = re.compile(r"[、，, /]+|(?:以及|[和及])(?=[^、，, /]{2})")


def respective_parts(m: str, a: int, b: int, k: int, sep: re.Pattern = _ITEM_SEP,
                     reach: int = 1) -> tuple[tuple[int, int] | None, tuple[int, int]] | None:
    """The k-th figure of "A、B、C净息差分别为x、y、z" measures item k with the shared tail:
    (item span, tail span) for A净息差, or (None, item span) when nothing is shared; None when the
    subject is not a list followed by 分别 or has fewer than k + 1 items."""
    if not m.startswith(_RESPECTIVELY, b) and not m.startswith(_RESPECTIVELY, b + 1):
        j = m.find(_RESPECTIVELY, b, b + reach + len(_RESPECTIVELY))
        if phrasing().value_list.match(m, b):
            sep = ITEM_SEP_WIDE  # 资本充足率和核心资本充足率为10.39%、9.22%: a list of values says 分别
        elif j < 0 or reach <= 1 or any(not "\u4e00" <= ch <= "\u9fff" for ch in m[b:j]):
            return None
    parts: list[tuple[int, int]] = []
    pos = a
    for x in sep.finditer(m, a, b):
        if x.start() > pos:
            parts.append((pos, x.start()))
        pos = x.end()
    if pos < b:
        parts.append((pos, b))
    if len(parts) < 2:
        return None
    width = parts[0][1] - parts[0][0]
    last = parts[-1]
    items = parts[:-1]
    elided = _elided_names(m, items, last)
    if elided is not None:
        # 核心一级、一级和资本充足率, 核心一级/一级/资本充足率: each item is the last name's
        # modifier (核心一级资本充足率), the last name is a measure of its own
        items, last = elided
        return (items[k], last) if k < len(items) else ((None, last) if k == len(items) else None)
    if measure_tail(m[parts[0][0]:parts[0][1]]):
        # 總資本比率、一級資本比率及普通股權一級資本比率: each item names its own measure, no tail
        # is shared; the last part may hold two, joined by 及
        j = next((i for i in range(last[0] + 2, last[1] - 2) if m[i] in _JOINERS
                  and measure_tail(m[last[0]:i]) and measure_tail(m[i + 1:last[1]])), -1)
        before = j - 1 if j > last[0] + 2 and m.startswith("以及", j - 1) else j  # 利息净收入以及投资收益
        items = items + ([(last[0], before), (j + 1, last[1])] if j >= 0 else [last])
        return (None, items[k]) if k < len(items) else None
    narrowest = min(e - s for s, e in items)
    widest = max(e - s for s, e in items)
    j = next((i for i in range(last[0] + 1, min(last[1], last[0] + widest + 1)) if m[i] in _JOINERS), -1)
    if j >= 0 and last[1] - (j + 1) > narrowest + 1:
        # 澳門元、港元、人民幣及美元在M2的比重: the last part holds two items joined by 及, the
        # second as wide as the narrowest item before it
        items = items + [(last[0], j), (j + 1, j + 1 + narrowest)]
        tail: tuple[int, int] | None = (j + 1 + narrowest, last[1])
    else:
        tail = (last[0] + width, last[1]) if last[1] - last[0] > width + 1 else None
        items = parts if tail is None else items + [(last[0], last[0] + width)]
    if k >= len(items):
        return None
    return (items[k], tail) if tail is not None else (None, items[k])


def _elided_names(m: str, items: list[tuple[int, int]],
                  last: tuple[int, int]) -> tuple[list[tuple[int, int]], tuple[int, int]] | None:
    """(items, last name) when a list elides the name its items share: every item with the last
    name after it is a metric name (核心一级 + 资本充足率) and none is one alone; the last part may
    hold the last item and the name joined by 和/及 (一级和资本充足率)."""
    names = metric_match.matcher().by_name
    text = m[last[0]:last[1]]
    if text not in names:
        j = next((i for i in range(last[0] + 1, last[1] - 1) if m[i] in _JOINERS and m[i + 1:last[1]] in names), -1)
        if j < 0:
            return None
        items = items + [(last[0], j)]
        last = (j + 1, last[1])
        text = m[last[0]:last[1]]
    for s, e in items:
        item = m[s:e]
        if item in names or item + text not in names:
            return None
    return items, last


# ---------------------------------------------------------------- phrasing for the reader
# The span found above decides metric, kind and entity; these helpers only rephrase what the
# `subject` field shows (rules: subject.toml [phrasing]).


class _Phrasing:
    """The [phrasing] word lists compiled once per process."""

    def __init__(self, change_heads: tuple[str, ...]) -> None:
        from flows.lexicon import alternation
        ph = load_lexicon().phrasing
        self.counted_heads = re.compile(alternation(ph["counted_heads"]))
        self.verbs_before_count = tuple(ph["verbs_before_count"])
        self.relative_verb = re.compile(alternation(ph["relative_verbs"]))
        self.threshold_verbs = tuple(ph["threshold_verbs"])
        self.noun_reach = 4  # a predicate opens with its verb or a short noun (资产|破万亿)
        self.predicate_max = 16
        self.possessive_keep = tuple(ph["possessive_keep"])
        self.display_lead = re.compile(rf"(?:{alternation(ph['display_lead'])})+")
        self.footnote = re.compile(r"\[\d+\]")
        self.basis_open = tuple(ph["basis_open"])
        self.more_less = tuple(ph["more_less"])
        self.comparison_open = tuple(ph["comparison_open"])
        self.rank_verb = re.compile(alternation(ph["rank_verbs"]))
        self.list_marker = re.compile(r"[（(]?[一二三四五六七八九十\d]{1,2}[、.．)）]\s*")
        self.share_open = tuple(ph["share_open"])
        self.share_within = tuple(ph["share_within"])
        self.verb_periods = tuple(sorted(ph["verb_periods"], key=len, reverse=True))
        self.verb_holders = frozenset(ph["verb_holders"])
        # a copula, a figure, a list mark, a figure: the figures a list of measures is given in order
        marks = re.escape("".join(ph["value_list_marks"]))
        self.value_list = re.compile(rf"(?:{alternation(ph['value_list_copulas'])})\s?[-+]?\d[\d.,]*\s?"
                                     rf"[^\d{marks}，,。；;]{{0,6}}[{marks}]\s?[-+]?\d")
        inst = alternation(ph["institution_words"])
        self.institution_end = re.compile(rf"(?:{inst})$")
        # not 银行业 (the sector); a gloss after the name goes with it (国际金融业务分行(OBU))
        self.institution_lead = re.compile(rf"[^，,。；;]{{0,6}}?(?:{inst})(?![业業])(?:[（(][^（()）]*[)）])?")
        self.institution_max = 9
        self.business_lines = tuple(ph["business_lines"])
        self.own_institution = re.compile(alternation(ph["own_institution_words"]))
        self.group_lead = re.compile(rf"(?:[\d一二三四五六七八九十两兩]+家?|{alternation(ph['group_modifiers'])})+(?:{inst})$")
        self.object_verbs = re.compile(alternation(ph["object_verbs"]))
        self.possessive_after = tuple(ph["possessive_after"])
        self.measure_verb = re.compile(alternation(ph["measure_verbs"]))
        self.measure_tail = re.compile(rf"(?:{alternation(ph['measure_tails'])})$")
        self.change_head = re.compile(rf"的?(?:{alternation(ph['change_basis'])})?(?:{alternation(change_heads)})")
        self.change_tail = re.compile(rf"(?:{alternation(change_heads)})$")
        # a match of change_tail ends at the end or before a final newline: it lies in this reach
        self.change_tail_reach = max(map(len, change_heads), default=0) + 1
        self.change_after = re.compile(rf" ?的(?P<head>{alternation(change_heads)})")
        self.time_words = re.compile(rf"(?<![较較比于於])(?:{alternation(ph['time_words'] + ph['inner_adverbs'])})")
        self.anaphora = tuple(ph["anaphora"])
        self.sibling_skip = tuple(ph["sibling_skip"])
        self.sibling_verbs = tuple(ph["sibling_verbs"])
        self.relative_stop = re.compile(r"[、，,；;：:（(]")
        self.topic = re.compile(alternation(ph["topic_nouns"]))
        self.ranking_frame = re.compile(
            rf"(?P<measure>[^，,；;：:。、\\d%]{{2,14}}?)(?:{alternation(ph['ranking_frames'])})")
        self.respectively = tuple(ph["respectively"])
        self.signed_change = re.compile(r"\s*[(（,，]\s*[+\-＋－]")
        self.signed_change_word = ph["signed_change_word"][0]
        self.frame_reach = 80  # the frame stands at most this far before 分别
        self.pinyin_gloss = re.compile("|".join(ph["pinyin_gloss"] + ph["ticker"]))
        self.period_lead = re.compile("(?:" + "|".join(ph["period_lead"]) + ")")
        self.topic_in = re.compile(rf"(?:{alternation(ph['topic_nouns'])}|{inst})")
        self.group_topics = frozenset(ph["group_topics"])
        self.institution_in = re.compile(rf"{inst}|{alternation(load_lexicon().attribution.branch_words)}")
        self.topic_subject_max = 8  # a longer subject says enough of its own
        lex = load_lexicon()
        self.one_in = re.compile(  # 每3笔业务中，就有一笔: the whole (业务) between the count and the part
            rf"(?:{alternation(lex.ratio_per)})[^，,、；;]{{1,6}}?(?:{alternation(lex.count_words)})"
            rf"(?P<whole>[^，,、；;\d]{{1,8}}?)[中里裏内內]?[，, ]?(?:{alternation(lex.ratio_then)})")
        self.one_in_part = re.compile(r"[^，,、；;。！？!?\n]{2,12}")
        self.launched = re.compile(rf"(?:{alternation(ph['launch_verbs'])})(?P<obj>[^，,、；;。“”「」0-9]{{2,10}})[，,；;]")
        self.service_before = re.compile(rf"(?:{alternation(ph['service_verbs'])})(?:了|全行|全国)?$")


@cache
def phrasing() -> _Phrasing:
    return _Phrasing(load_lexicon().change_heads)


def counted_phrase(m: str, a: int, end: int, before: str) -> tuple[str, int, int, int, int] | None:
    """A count's noun with what its items did: 8家城商行实现净利润双位数增长 ->
    实现净利润双位数增长的城商行; 1800余家老年客户较为集中的网点 -> 老年客户较为集中的网点;
    29家上市城商行总资产规模达… -> 上市城商行 (a figure follows: the noun alone). `m[a:end]` is
    the clause after the count, `before` the text just before the number (完成2600余台ATM…).

    (verb before the count, noun start, noun end, predicate start, predicate end): the subject
    reads verb + predicate + 的 + noun (an empty predicate: the noun alone); None when the phrase
    has no counted head."""
    ph = phrasing()
    x = ph.relative_stop.search(m, a, end)
    if x:
        end = x.start()
    head = None
    for h in ph.counted_heads.finditer(m, a, end):
        if h.start() > a and m[h.start() - 1] == "的":
            return "", a, h.end(), h.end(), h.end()  # a relative clause written out, ending in its head
        if head is None:
            head = h
    if head is None:
        return None
    rs = head.end() + (1 if m.startswith("的", head.end()) else 0)
    if rs >= end:
        return None
    verb = next((v for v in ph.verbs_before_count if before.endswith(v)), "")
    y = ph.relative_verb.search(m, rs, min(end, rs + ph.noun_reach + 3))
    if end - rs > ph.predicate_max or not verb and (y is None or y.start() - rs > ph.noun_reach):
        return "", a, head.end(), head.end(), head.end()
    digit = next((i for i in range(rs, end) if m[i].isdigit()), -1)
    if digit >= 0 and (y is None or not m.startswith(ph.threshold_verbs, y.start())):
        return "", a, head.end(), head.end(), head.end()  # 29家上市城商行总资产规模达33.18万亿元
    return verb, a, head.end(), rs, end


def change_suffix(m: str, b: int, limit: int, after: int) -> tuple[int, str]:
    """净利润|增速达到12.36%: the growth-rate word the subject was cut before (new end), or the
    one written after the number (以14.5%的增速: the word to add)."""
    ph = phrasing()
    if ph.change_tail.search(m, max(0, b - ph.change_tail_reach), b):
        return b, ""
    x = ph.change_head.match(m, b, limit)
    if x:
        return x.end(), ""
    y = ph.change_after.match(m, after)
    return b, y.group("head") if y else ""


@_phrase_cache
def drop_possessive(s: str) -> str:
    """城商行的总资产规模 -> 城商行总资产规模: a 的 before a measure goes (not one closing a
    relative clause before a noun: 老年客户较为集中的网点)."""
    ph = phrasing()
    i = s.find("的")
    if i <= 0 or any(w in s for w in ph.possessive_keep):
        return s
    if s.endswith(ph.possessive_after, 0, i) and "的" not in s[i + 1:] and ph.measure_tail.search(s):
        return s[:i] + s[i + 1:]
    return s


@_phrase_cache
def drop_measure_verbs(s: str) -> str:
    """国有六大行实现营业总收入 -> 国有六大行营业总收入: a reporting verb between an institution and
    a measure goes (not one before what is not a measure: 实现增长的银行)."""
    ph = phrasing()
    x = ph.measure_verb.search(s)
    if x is None or x.start() == 0 or ph.measure_tail.search(s, x.end()) is None or "的" in s[x.end():]:
        return s
    before = s[:x.start()]
    for w in ph.verb_periods:
        if before.endswith(w):
            before = before[:-len(w)]  # 上半年共实现营业收入: a period, then the verb
            if not before:
                return s[:x.start()] + s[x.end():]
            break
    if before not in ph.verb_holders and not only_institution(before, short=False):
        return s  # 為客戶實現投資收益: a verb after what is no institution says what was done
    return s[:x.start()] + s[x.end():]


@_phrase_cache
def drop_time_words(s: str) -> str:
    """该基金今年以来累计收益 -> 该基金累计收益: the period is a field of its own (and 仅 says
    nothing of what is measured: 大陸分行僅獲利 -> 大陸分行獲利)."""
    out = phrasing().time_words.sub("", s)
    return out if len(out) >= 2 else s


def resolve_anaphora(m: str, s: str, quotes: list[tuple[int, int]], floor: int, pos: int) -> str:
    """该基金 -> AI投基金: a demonstrative names the last quoted product of the paragraph."""
    ph = phrasing()
    mark = next((w for w in ph.anaphora if s.startswith(w)), None)
    if mark is None:
        return s
    name = None
    for qs, qe in quotes:
        if qs >= pos:
            break
        if qs >= floor:
            name = m[qs:qe]
    return name + s[len(mark):] if name else s


@_phrase_cache
def inherit_sibling(s: str, prev: str | None) -> str:
    """交易笔数 after 外卡收单交易规模 -> 外卡收单交易笔数: a subject that opens with a word the
    previous subject of the sentence has after its modifier takes that modifier (当年累计收单交易规模
    after 外卡收单商户 -> 外卡收单交易规模: a skipped adverb goes with it)."""
    if not prev or len(s) < 3:
        return s
    body = s
    for w in phrasing().sibling_skip:
        if body.startswith(w) and len(body) - len(w) >= 3:
            body = body[len(w):]
            break
    j = prev.find(body[:2])
    if j <= 0 or j > 4 or body.startswith(prev[:j]) or prev[:j] in body:
        return s
    if not all("\u4e00" <= ch <= "\u9fff" for ch in prev[:j]) or prev.endswith(phrasing().sibling_verbs, 0, j):
        return s
    return prev[:j] + body


_GLOSS = re.compile(r"[（(][^（()）]*[)）]")


def group_carried(s: str, prev: str | None) -> str:
    """不良贷款率 after 城市商业银行不良贷款余额 in one sentence -> 城市商业银行不良贷款率: a figure
    that no bank of the registry owns measures the group of banks its sentence opened with (a bank's
    own figures show no name, so the caller asks only for figures without an entity)."""
    ph = phrasing()
    if not prev or len(s) < 2 or measure_of(s) != s or only_institution(s, False) or ph.own_institution.search(s):
        return s
    rest = measure_of(prev)
    if rest == prev:
        return s
    lead = _GLOSS.sub("", prev[:len(prev) - len(rest)])  # 主要商业银行(国有商业银行和股份制商业银行)
    group = ph.group_lead.search(lead)
    if group is None or lead.endswith(ph.business_lines) or (
            group.start() > 0 and "\u4e00" <= lead[group.start() - 1] <= "\u9fff" and lead[group.start() - 1] not in "的之"):
        return s  # (上海商业银行: a name ending in a group's words)
    return group.group() + s  # 改革后的4家大型商业银行 -> 4家大型商业银行


@_phrase_cache
def strip_display_lead(s: str) -> str:
    """虽然电子支付交易规模 -> 电子支付交易规模: a conjunction opens no subject; a footnote
    mark inside is debris (低于160%[11]的银行)."""
    ph = phrasing()
    if "[" in s:
        s = ph.footnote.sub("", s)
    x = ph.list_marker.match(s)
    if x and len(s) - x.end() >= 2:
        s = s[x.end():]  # 1、上市银行零售客户数
    y = ph.display_lead.match(s)
    if y and len(s) - y.end() >= 2:
        s = s[y.end():]
    return s


@_phrase_cache
def after_place_frame(s: str, long: bool) -> str:
    """…哈尔滨中央大街等景点商圈建设境外来宾支付服务中心或示范区27家 -> 建设境外来宾支付服务中心或
    示范区: in a long subject (or one opening with 在) what was built, set up or placed follows
    its verb; the places before it are not what is counted."""
    if not (long or s.startswith("在")):
        return s
    last = None
    for x in phrasing().object_verbs.finditer(s, 1):
        last = x
    return s[last.start():] if last is not None and len(s) - last.start() >= 4 else s


def sentence_topic(m: str, quotes: list[tuple[int, int]], fs: int, a: int, subject: str) -> tuple[int, int] | None:
    """“工小智”依托大数据等技术，…，问答识别率平稳保持在98%: a sentence that opens with a quoted
    name is about it; a subject in a later clause measures it. (start, end) of the name."""
    k = fs
    while k < a and m[k] in " \t":
        k += 1
    if k >= a or m[k] not in "“「『":
        return None
    for qs, qe in quotes:
        if qs == k + 1:
            if qe + 1 < a and phrasing().relative_stop.search(m, qe + 1, a) and m[qs:qe] not in subject:
                return qs, qe
            return None
        if qs > k + 1:
            break
    return None


@_phrase_cache
def measure_tail(s: str) -> bool:
    """The phrase ends in a measure (规模, 净利润, 增速 …: subject.toml measure_tails)."""
    return phrasing().measure_tail.search(s) is not None


@_phrase_cache
def only_institution(s: str, short: bool = True) -> bool:
    """The phrase names only a bank or a group of banks (第一銀行, 国有行, 中國信託); with
    `short` false, any phrase ending in one (其餘銀行依序包括永豐銀行)."""
    ph = phrasing()
    return (not short or len(s) <= ph.institution_max) and ph.institution_end.search(s) is not None


@_phrase_cache
def measure_of(s: str) -> str:
    """上市银行营业收入 -> 营业收入: a subject without the institution it opens with."""
    x = phrasing().institution_lead.match(s)
    return s[x.end():] if x and x.end() < len(s) else s


def opens_with_basis(s: str) -> bool:
    """较上一年同期: the phrase is a comparison basis, not what is compared."""
    return s.startswith(phrasing().basis_open)


@_phrase_cache
def opens_with_share(s: str) -> bool:
    """占发放贷款及垫款总额的, 在营收中占比: a share of something, of the figure named before."""
    ph = phrasing()
    return s.startswith(ph.share_open) and len(s) >= 4 and "占比" not in s and "佔比" not in s \
        or s.startswith("在") and s.endswith(ph.share_within) and len(s) >= 5


_ABBREVIATION = re.compile(r"([（(])([A-Za-z]{2,8})[，,、；;]")


def abbreviation_after(text: str, b: int) -> str:
    """手机银行月活跃用户（MAU，截至2023年6月末）: the subject was cut inside a bracket that
    opens with its abbreviation; the abbreviation stays, its bracket closed (（MAU）)."""
    x = _ABBREVIATION.match(text, b)
    if x is None:
        return ""
    return x.group(1) + x.group(2) + ("）" if x.group(1) == "（" else ")")


def full_name(m: str, s: str, quotes: list[tuple[int, int]], floor: int, pos: int) -> str:
    """社区粉丝数 after “投研系统+财富社区” -> 财富社区粉丝数: a subject opening with the last word
    of a name quoted earlier in the paragraph takes the name's whole last word."""
    if len(s) < 4:
        return s
    head = s[:2]
    for qs, qe in reversed(quotes):
        if qs >= pos or qe <= floor:
            continue
        name = m[qs:qe]
        k = name.rfind(head)
        if k >= 2 and k + 2 == len(name) and all("\u4e00" <= ch <= "\u9fff" for ch in name[k - 2:k]):
            return name[k - 2:k] + s
    return s


def comparison_topic(m: str, s: str, quotes: list[tuple[int, int]], floor: int, fs: int, a: int) -> str:
    """该基金今年以来累计收益达到37%，超越同期上证综指近24个百分点 -> AI投基金超越上证综指: a
    comparison with no subject of its own is about what the sentence's demonstrative names."""
    ph = phrasing()
    if not s.startswith(ph.comparison_open):
        return s
    for mark in ph.anaphora:
        k = m.rfind(mark, fs, a)
        if k >= 0:
            noun = m[k + len(mark):k + len(mark) + 2]
            named = resolve_anaphora(m, mark + noun, quotes, floor, k)
            if named != mark + noun and all("\u4e00" <= ch <= "\u9fff" for ch in noun):
                return named + s
    return s


def measure_after(m: str, pos: int, end: int) -> tuple[int, int] | None:
    """以9478.43亿元信用卡透支余额领跑: the measure between the figure and the ranking verb."""
    x = phrasing().rank_verb.search(m, pos, end)
    if x is None:
        return None
    a = pos + 1 if m.startswith(" ", pos) else pos
    a = a + 1 if m.startswith("的", a) else a
    b = x.start()
    if b - a < 2 or b - a > 12 or any(ch in "，,、；;（(" or ch.isdigit() for ch in m[a:b]):
        return None
    return a, b


@_phrase_cache
def change_tail(s: str) -> bool:
    """The phrase ends in a growth-rate word (净利润增速)."""
    return phrasing().change_tail.search(s) is not None


def without_change_tail(s: str) -> str:
    """利息净收入增幅 -> 利息净收入: a measure without the growth word closing it (when two characters
    or more are left)."""
    x = phrasing().change_tail.search(s)
    return s[:x.start()] if x is not None and x.start() >= 2 else s


def more_than_before(s: str) -> bool:
    """多投放, 少增: the subject says only how much more or less than a year before."""
    return len(s) <= 4 and s.startswith(phrasing().more_less)


def topic_hits(m: str) -> list[tuple[int, int]]:
    """(start, end) of every topic noun of the document (subject.toml [phrasing] topic_nouns),
    found once per document."""
    return [(x.start(), x.end()) for x in phrasing().topic.finditer(m)]


def with_topic(m: str, s: str, topics: list[tuple[int, int]], starts: list[int], para: int,
               pos: int, one_bank: bool = False) -> str:
    """电子支付交易笔数 in a paragraph about 信用卡 -> 信用卡电子支付交易笔数: a short subject naming
    only a measure takes the last topic named before it in its paragraph (not a verb phrase, 建成
    5G智能网点, nor the bare thing a count counts, 网点; nor, for `one_bank`'s figure, a group of
    banks, 上市銀行)."""
    ph = phrasing()
    if len(s) > ph.topic_subject_max or len(s) < 2 or ph.topic_in.search(s) is not None \
            or ph.counted_heads.fullmatch(s) is not None or ph.object_verbs.match(s) is not None \
            or s.startswith(ph.verbs_before_count):
        return s
    k = bisect.bisect_left(starts, pos) - 1
    if k >= 0 and topics[k][0] >= para and topics[k][1] <= pos:
        if 3 <= len(s) <= 4 and m.startswith(s[-2:], topics[k][1]):
            return s  # a sibling category, not a topic: 私行客户…6.6万户，贵宾客户…130万户
        if any(ch in "（(" for ch in m[topics[k][1]:pos]):
            return s  # a bracket defining the noun after the topic: 私行客户（月日均金融资产达600万元以上）
        topic = m[topics[k][0]:topics[k][1]]
        if one_bank and topic in ph.group_topics:
            return s  # 建行去年凈利潤 under a headline about 上市銀行
        return topic + s
    return s


def one_in_phrase(m: str, text: str, start: int, end: int) -> str | None:
    """全行每3笔业务中，就有一笔来自手机银行 -> 来自手机银行的业务占比: a ratio in words measures
    the share of the whole (业务) that the words after it describe."""
    ph = phrasing()
    x = ph.one_in.match(m, start, end)
    y = ph.one_in_part.match(m, end)
    if x is None or y is None:
        return None
    return text[y.start():y.end()] + "的" + text[x.start("whole"):x.end("whole")] + "占比"


def share_of_whole(m: str, text: str, s: str, end: int) -> str:
    """网商银行服务客户中近一半来自县域及农村地区 -> 来自县域及农村地区的服务客户占比: a share
    whose subject is a whole (…中) measures the part the words after it describe."""
    ph = phrasing()
    if len(s) < 3 or not s.endswith("中"):
        return s
    y = ph.one_in_part.match(m, end)
    if y is None:
        return s
    return text[y.start():y.end()] + "的" + s[:-1] + "占比"


def launched_service(m: str, text: str, s: str, fs: int, qstart: int) -> str:
    """推出营销陪伴助手，…，已服务全行3万余名一线营销人员 -> 营销陪伴助手服务的一线营销人员: a count
    right after a service verb counts those served by what the sentence launched (its last launch
    before the count); the count's own noun otherwise."""
    ph = phrasing()
    lo = max(fs, qstart - 8)
    x = ph.service_before.search(m, lo, qstart)
    if x is None:
        return s
    obj = None
    for y in ph.launched.finditer(m, fs, x.start()):
        obj = y
    if obj is None or obj.group("obj") in s:
        return s
    verb = m[x.start():x.start() + 2]
    return text[obj.start("obj"):obj.end("obj")] + verb + "的" + s


_HEADLINE_GAP = re.compile(r"^.*[\u4e00-\u9fff] (?=[\u4e00-\u9fff]{4,}$)")


@_phrase_cache
def after_headline_gap(s: str) -> str:
    """深耕三农金融 个人存款余额 -> 个人存款余额: a space between two Chinese phrases ends a
    headline or slogan; a measure of four characters or more after it is the subject."""
    if " " not in s:
        return s
    x = _HEADLINE_GAP.match(s)
    return s[x.end():] if x is not None else s


@_phrase_cache
def drop_period_lead(s: str) -> str:
    """25Q3营业收入 -> 营业收入: a period code or dated period opening the subject (the period is a
    field of its own); kept when nothing would be left."""
    x = phrasing().period_lead.match(s)
    return s[x.end():] if x is not None and len(s) - x.end() >= 2 else s


def ranking_measure(m: str, text: str, fs: int, qstart: int) -> tuple[int, int] | None:
    """上半年营收位列前五的上市城商行为：江苏银行、…，分别为388.43亿元 -> 上半年营收: a figure listed
    after 分别 for banks a ranking or threshold frame introduced measures what precedes the frame
    ((start, end) of it, which the caller trims as any subject)."""
    ph = phrasing()
    k = max(m.rfind(w, fs, qstart) for w in ph.respectively)
    if k < 0 or any(ch in "，,；;。" for ch in m[k:qstart]):
        return None  # 分别 opens the figure's own list
    last = None
    for x in ph.ranking_frame.finditer(m, max(fs, k - ph.frame_reach), k):
        last = x
    if last is None:
        return None
    s = strip_display_lead(text[last.start("measure"):last.end("measure")])
    if any(w in s for w in ph.respectively) or only_institution(s, short=False):
        return None
    return last.span("measure")


def signed_change_of(m: str, last_end: int, qstart: int, previous: str | None) -> str | None:
    """营收808.15亿元(+8.78%) -> 营收增速: a signed percentage in the bracket of the figure before
    it is that figure's growth."""
    ph = phrasing()
    if not previous or ph.signed_change.fullmatch(m, last_end, qstart) is None or change_tail(previous):
        return None
    return previous + ph.signed_change_word


@_phrase_cache
def drop_glosses(s: str) -> str:
    """資產(chǎn) -> 資產: a page's pinyin glosses are no part of the subject."""
    if "(" not in s and ")" not in s and "（" not in s and "）" not in s:
        return s
    out = phrasing().pinyin_gloss.sub("", s)
    return out if len(out) >= 2 else s


_SHARED_SHARE = re.compile(r"分(?=[占佔])")


@_phrase_cache
def shared_share_item(s: str, k: int) -> str:
    """公司銀行、個人銀行及資金業務分佔稅前溢利26﹒1%、44﹒8%及26﹒3% -> 個人銀行佔稅前溢利 for
    the second figure: items before 分佔 share what follows it."""
    x = _SHARED_SHARE.search(s)
    if x is None or k < 0:
        return s
    items = [p for p in ITEM_SEP_WIDE.split(s[:x.start()]) if p]
    if len(items) < 2 or k >= len(items):
        return s
    return items[k] + s[x.end():]
