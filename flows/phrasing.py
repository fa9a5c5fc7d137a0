"""A figure's subject: where it stands in the document, and how the `subject` field phrases it.

`flows.normalise` runs three steps per figure: `locate_subject` (the clause before the number,
trimmed of frames and linking verbs; else what the figure before, the noun phrase after it or a
list's heading gives), `subject_of` (the span as the metric and kind steps read it) and
`phrased_subject` (the text the `subject` field shows). The string-level rules these call are in
`flows.subject`; their words in `rules/subject.toml`.
"""
from __future__ import annotations

import flows.lexicon as bisect  # bisect_left/bisect_right: compiled, over lists of ints, called directly
import re
from dataclasses import dataclass
from functools import cache

from flows import metric_match
from flows.attribution import OTHER
from flows.document import (CHANGE_CUES, DIRECTIONS, PUNCT, Doc, Place, between, clause_end, clause_start,
                            previous_sentence_start, scanners)
from flows.extract import Span
from flows.lexicon import Lexicon, alternation, load_lexicon, one_of_chars
from flows.subject import (ITEM_SEP_WIDE, abbreviation_after, after_headline_gap, after_last_bank,
                           after_place_frame, after_segment_marks, change_suffix, change_tail,
                           comparison_topic, counted_phrase, drop_glosses, drop_measure_verbs, drop_period_lead,
                           drop_possessive, drop_time_words, full_name, group_carried, inherit_sibling, launched_service,
                           measure_after, measure_of, measure_tail, more_than_before, one_in_phrase,
                           only_institution, opens_with_basis, opens_with_share, product_prefix,
                           ranking_measure, resolve_anaphora, respective_parts, share_of_whole,
                           shared_share_item, sentence_topic, signed_change_of, strip_display_lead,
                           with_topic, without_change_tail)


@dataclass(init=False)
class Located:
    """Where a figure's subject is (`locate_subject`), before its unit is known for sure."""
    span: tuple[int, int] | None
    bare: tuple[int, int] | None  # 金额: a subject that names nothing alone, shown with its product
    bank_list: bool  # the figure of one of a list of banks: the subject without the banks
    rate_text: str  # 同比增速分别为…: a bare growth-rate word, shown after the subject it carries
    carried: bool  # the span is an earlier figure's
    following: tuple[int, int] | None  # the noun phrase after the number, when looked for
    heading: tuple[int, tuple[int, int] | None] | None  # (start, subject) of the list's heading

    # written out: mypyc compiles it (the generated __init__ runs in the interpreter)
    def __init__(self, span: tuple[int, int] | None, bare: tuple[int, int] | None, bank_list: bool,
                 rate_text: str, carried: bool, following: tuple[int, int] | None,
                 heading: tuple[int, tuple[int, int] | None] | None) -> None:
        self.span = span
        self.bare = bare
        self.bank_list = bank_list
        self.rate_text = rate_text
        self.carried = carried
        self.following = following
        self.heading = heading


@dataclass(init=False)
class Subject:
    """The subject as the metric, kind and phrasing steps read it (`subject_of`)."""
    span: tuple[int, int] | None
    text: str | None  # the matching copy's text of it, with its product
    product: tuple[int, int] | None  # the quoted product or list item it is about
    list_span: tuple[int, int] | None  # what the next figure of an enumeration carries
    respective: bool  # 国有行、股份行…分别为: the k-th figure is the k-th item's
    enum_k: int  # its place in an enumeration (分别为x、y、z: 0, 1, 2)

    # written out: mypyc compiles it (the generated __init__ runs in the interpreter)
    def __init__(self, span: tuple[int, int] | None, text: str | None, product: tuple[int, int] | None,
                 list_span: tuple[int, int] | None, respective: bool, enum_k: int) -> None:
        self.span = span
        self.text = text
        self.product = product
        self.list_span = list_span
        self.respective = respective
        self.enum_k = enum_k


# ---------------------------------------------------------------- the steps


def locate_subject(sp: Span, d: Doc, lex: Lexicon, at: Place, unit: str | None, measure_word: str | None,
                   last_subject: dict) -> Located:
    """The subject's span: the clause before the number, trimmed of frames and linking verbs; else
    the figure before it, the noun phrase after it, or the heading of its list."""
    m = d.m
    fs, cstart, qstart, prev_end, prev = at.fs, at.cstart, at.qstart, at.prev_end, at.prev
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
    # 同比增速分别为12.49%、20.75%: a bare growth-rate word, shown after the subject it carries
    rate_word = m[a - 2:b] if a >= 2 and m[a - 2:a] in lex.phrasing["change_basis"] else m[a:b]
    rate_word = rate_word if subj and b - a <= 6 and scanners().change_head.search(m, a, b) \
        and (m[a:b] in lex.empty_subjects or _only_cues(d, a, b)) else ""
    if subj and (m[a:b] in lex.empty_subjects or _only_cues(d, a, b)):
        subj = None  # 成長, 收窄: a change verb says nothing about what changed
    own = subj is not None  # a subject taken from an earlier figure (below) may be overtaken
    bank_list = False
    if subj is None and (at.enum or at.lower) and prev is not None:
        subj = prev.subj
    if subj is None and prev_end > fs and _only_banks_between(d, prev_end, qstart):
        # 江苏银行营收808.15亿元，北京银行(699.17亿元)和宁波银行(666.31亿元): each bank's figure
        # measures what the sentence's last subject did
        subj = last_subject.get(fs)
        bank_list = True
    if subj is None and (_clause_has_basis_or_direction(d, cstart, qstart)
                         or m[cstart:qstart].strip(" ") in lex.from_words
                         or _only_period_before(d, cstart, qstart)):
        # 较年初增加超1400万户: the subject of the previous clause, or of the previous line
        # in a bullet summary ("• 较年初增加：超1400万户")
        carried = last_subject.get(fs) or last_subject.get("prev")
        if carried is None or carried[0] < fs:
            # 去年的净利息收益率不降反升，较上年提高5个基点至2.75%: the measure this sentence
            # said moved, not the last sentence's subject
            carried = _moved_measure(d, fs, at.cstart) or carried
        o = _aside_open(m, fs, carried[0]) if carried else -1
        if o >= 0 and _aside_open(m, o, qstart) < 0:
            # 利息净收入986.90亿元(占比72.4%),同比下降3.65%: the bracket closed, its subject with it
            carried = last_subject.get(-1 - fs)
        if carried and carried[0] >= previous_sentence_start(d, fs):
            subj = carried
    if subj is None and m.startswith("的", sp.end):
        # 2875亿元的净利润创出了历史新高: the measure named right after the number
        subj = _measure_named_in(m, sp.end + 1, at.clause_end, first=True)
    if subj is None and at.cstart > fs and _period_clause(d, cstart, qstart, lex):
        # 该行利息净收入便进入下行通道，2025年前三季度为688.81亿元 (从2020年0.86%降至…): the
        # measure the sentence named
        subj = _measure_named_in(m, fs, at.cstart)
    if subj is None and at.cstart > fs and _copula_only(m, at.cstart, qstart, lex) \
            and _names_banks(d, clause_start(d, at.cstart - 1, fs), at.cstart - 1):
        # 其次为无锡农商银行、张家港农商银行，分别为437.87%和417.02%: the measure the paragraph
        # spoke of last
        carried = last_subject.get("prev")
        if carried and carried[0] >= at.line_start:
            subj = carried
    subj_carried = not own and subj is not None
    # 以5.16億的客戶規模及1.74億月活客戶: a clause ending in a joining word (及, 和) leaves the
    # number a new item; what it counts follows it
    dangling = subj is not None and unit in (None, "count") and _dangling(m, subj[0], subj[1], lex)
    # the noun phrase after the number: only a counted or unit-less number looks there
    following = _following_phrase(d, sp.end, at.clause_end, unit is None) \
        if measure_word or unit is None or unit == "count" and (subj is None or dangling) else None
    if dangling and following is not None and following[1] - following[0] >= lex.subject_min_len:
        subj = following
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
    return Located(subj, bare, bank_list, d.text[b - len(rate_word):b] if rate_word else "", subj_carried,
                   following, heading)


@cache
def _joiners() -> tuple[str, ...]:
    """The enumeration words that join two items (及, 和, 以及), not the marks of a range or a space."""
    return tuple(w for w in load_lexicon().enumeration if "\u4e00" <= w[0] <= "\u9fff")


def _dangling(m: str, a: int, b: int, lex: Lexicon) -> bool:
    """m[a:b] is a measure and a joining word (客户规模及): not a verb ending in one (惠及)."""
    for j in _joiners():
        if m.endswith(j, a, b):
            return m.endswith(_measure_tails() + lex.generic_heads, a, b - len(j))
    return False


def _aside_open(m: str, lo: int, pos: int) -> int:
    """Where the bracket still open at `pos` opened (after `lo`), or -1."""
    o = max(m.rfind("(", lo, pos), m.rfind("（", lo, pos))
    return o if o >= 0 and m.find(")", o, pos) < 0 and m.find("）", o, pos) < 0 else -1


def subject_of(d: Doc, lex: Lexicon, at: Place, loc: Located, measure_word: str | None,
               last_subject: dict) -> Subject | None:
    """The located span as the next steps read it (the item of a list, with the quoted product it
    is about); None when it names the page around the article (阅读 1.2万次, 评论 12条)."""
    m = d.m
    subj = loc.span
    if subj is not None:
        if subj[1] - subj[0] > lex.subject_max_len:
            subj = (subj[1] - lex.subject_max_len, subj[1])
        last_subject[at.fs] = subj
        last_subject["prev"] = subj
        if _aside_open(m, at.fs, subj[0]) < 0:
            last_subject[-1 - at.fs] = subj  # the sentence's last subject outside a bracket
    subject_m = m[subj[0]:subj[1]] if subj else None
    if subject_m in lex.chrome_subjects or subject_m is None and measure_word in lex.chrome_measure_words:
        return None
    product = None
    enum_k = at.prev.enum_k + 1 if at.enum and at.prev is not None else 0
    list_subj = subj  # what the next figure of an enumeration carries
    respective = False
    if subj is not None:
        # 国有行、股份行、城商行净息差分别为1.32%、1.54%、1.47%: the k-th figure is the k-th item's
        parts = respective_parts(m, subj[0], subj[1], enum_k) if not _banks_listed_before(d, at.cstart, subj[0]) else None
        respective = parts is not None
        if parts is not None:
            product, subj = parts
            subject_m = (m[product[0]:product[1]] if product else "") + m[subj[0]:subj[1]]
    if subject_m and subj is not None and product is None:
        # “工小智”…已累计服务客户12亿人次: a generic subject is about the quoted product before it
        product = product_prefix(m, d.quotes, subject_m, at.fs, subj[0]) or product_prefix(
            m, d.quotes, subject_m, at.line_start, subj[0])
        if product is not None:
            subject_m = m[product[0]:product[1]] + subject_m
    return Subject(subj, subject_m, product, list_subj, respective, enum_k)


def phrased_subject(sp: Span, d: Doc, lex: Lexicon, at: Place, loc: Located, s: Subject, unit: str,
                    measure_word: str | None, last_phrase: dict[int, tuple[str, int]] | None,
                    named: tuple[int, int, int] | None, entity: str | None = None) -> str | None:
    """The subject as the `subject` field shows it (`entity`: the figure's bank, if any); `last_phrase` keeps it for the sentence's next
    figures (full sentence start -> (subject as phrased, its span's end)); `named` is the metric
    name the figure's sentence gives (flows.normalise._metric_name), if it reads one."""
    text = d.text
    fs = at.fs
    measures: list[str] = []  # the phrase, when it names a measure alone (稅前盈餘), for the paragraph
    phrased, shared = _phrased_span(sp, d, at, loc, s, unit, measure_word, last_phrase, measures)
    phrased = _phrased_around(sp, d, lex, at, loc, s, phrased, unit, measure_word, last_phrase)
    if named is not None:
        phrased = _with_sentence_name(d, lex, at, phrased, unit, named)
    if phrased and entity is None and last_phrase is not None and fs in last_phrase \
            and after_segment_marks(d.m, last_phrase[fs][1], at.qstart) == last_phrase[fs][1]:
        # 城市商业银行不良贷款余额607.2亿元,…,不良贷款率3.7%: the group the sentence opened with (in
        # the same bullet: a footnote mark or a dash opens another)
        carried = group_carried(phrased, last_phrase[fs][0])
        if carried != phrased and not any(code == OTHER and text[a:b] in carried[:len(carried) - len(phrased)]
                                          for a, b, code in between(d.entity_starts, d.entities, fs, sp.start)):
            phrased = carried  # (界首农商行 is a bank outside the registry, named: shown as a registry bank is)
    if phrased and last_phrase is not None:
        last_phrase[fs] = (shared if shared is not None else phrased, sp.end)
        if measures and measures[-1] and measures[-1] in phrased:
            last_phrase[-1] = (measures[-1], at.line_start)  # the paragraph's last measure
    if phrased:
        phrased = after_headline_gap(drop_period_lead(phrased))  # 25Q3营业收入, 深耕三农金融 个人存款余额
    if phrased and d.topics:
        # 电子支付交易笔数 on a page about 信用卡: the topic the paragraph or headline names
        subj = s.span
        phrased = with_topic(text, phrased, d.topics, d.topic_starts, at.line_start,
                             subj[0] if subj is not None and subj[0] < sp.start else sp.start, entity is not None)
    if phrased and " " in phrased:
        phrased = _TYPESET_SPACE.sub("", phrased)  # 總行專營機 構: a space inside a Chinese phrase
    if phrased and measure_word and measure_word in lex.phrasing["measures_shown"] and not phrased.endswith(")"):
        phrased += "(" + text[sp.end - len(measure_word):sp.end] + ")"  # 支持企业收购夏粮(斤): what the count weighs
    return phrased


def _with_sentence_name(d: Doc, lex: Lexicon, at: Place, phrased: str | None, unit: str,
                        named: tuple[int, int, int]) -> str | None:
    """其中农行为2.79% after 四家银行净息差均出现下降, 晋商银行(-12.37%): a figure whose clause names
    nothing, or only a bank, measures the metric its sentence named last (not a count of banks,
    which counts the banks; nor a figure right after another, 营收383.81亿元(5.4%), which says
    nothing of what it is)."""
    if not (phrased is None or unit != "count" and only_institution(phrased)) \
            or at.last_end >= 0 and _HAN_RUN.search(d.m, at.last_end, at.qstart) is None:
        return phrased
    name = _named_measure(d, named)
    if name is None or phrased and name in phrased:
        return phrased
    whose = phrased.rstrip("的") if phrased else ""
    return ("" if whose in lex.phrasing["bare_institutions"] else whose) + name


def _named_measure(d: Doc, named: tuple[int, int, int]) -> str | None:
    """The metric name `named` (flows.metric_match.context_name) as a subject: trimmed like one,
    without the banks and frames before it; None when that leaves no measure."""
    a, b = _subject_in(d, named[0], named[2])
    x = scanners().topic.match(d.m, a)
    if x is not None:  # 从总资产来看，…: the frame's topic, not its 从
        a, b = x.span(next(k for k, v in x.groupdict().items() if v))
    if b - a < 2:
        return None
    name = _clean_subject(measure_of(drop_possessive(strip_display_lead(d.text[a:b]))).rstrip("的"))
    return name if name and not only_institution(name) else None


def _phrased_span(sp: Span, d: Doc, at: Place, loc: Located, s: Subject, unit: str, measure_word: str | None,
                  last_phrase: dict[int, tuple[str, int]] | None,
                  measures: list[str]) -> tuple[str | None, str | None]:
    """(the subject as its span phrases it, the list phrase the next figure reads its item from)."""
    m, text = d.m, d.text
    fs, prev = at.fs, at.prev
    subj, product = s.span, s.product
    phrased = None
    # 同比增速分别为12.49%、20.75%: an enumeration's figures show its first figure's subject as phrased
    reuse = last_phrase[fs][0] if (at.enum or at.lower) and not s.respective and last_phrase is not None \
        and fs in last_phrase and last_phrase[fs][1] == at.last_end and subj is not None and prev is not None \
        and subj == prev.subj else None
    shared: str | None = None
    if subj:
        phrased = _phrase(d, sp, subj, product, at.prev_end, at.qstart, fs, at.fe, unit, measure_word,
                          loc.following is not None and subj == loc.following,
                          s.enum_k if not s.respective else -1,
                          last_phrase[fs][0] if last_phrase is not None and fs in last_phrase else None, reuse,
                          _paragraph_measure(last_phrase, at.line_start), measures)
        if phrased and not s.respective:
            item = shared_share_item(phrased, s.enum_k)  # 公司銀行、個人銀行…分佔稅前溢利
            if item != phrased:
                shared, phrased = phrased, item  # the next figure of the list reads its item from it
    elif loc.bare is not None:
        # 累计发放“零钱包”570余万个、金额超20亿元: a bare measure of the quoted product
        bare = loc.bare
        quoted = product_prefix(m, d.quotes, m[bare[0]:bare[1]], fs, bare[0])
        if quoted is not None:
            phrased = _clean_subject(text[quoted[0]:quoted[1]] + text[bare[0]:bare[1]])
    if phrased and loc.bank_list and len(measure_of(phrased)) >= 3:
        phrased = measure_of(phrased)  # 包括江苏银行(0.91%)、南京银行(0.9%) after 7家上市城商行不良率低于1%
    if phrased and loc.rate_text and subj is not None and subj[1] <= at.prev_end and not change_tail(phrased):
        phrased = phrased + loc.rate_text
    return phrased, shared


def _phrased_around(sp: Span, d: Doc, lex: Lexicon, at: Place, loc: Located, s: Subject, phrased: str | None,
                    unit: str, measure_word: str | None,
                    last_phrase: dict[int, tuple[str, int]] | None) -> str | None:
    """The phrase completed, or found when the span gave none, from what stands around the figure:
    the measure after it, the figure before it in the sentence, the clause before."""
    m, text = d.m, d.text
    fs, cstart, qstart, last_end = at.fs, at.cstart, at.qstart, at.last_end
    mark_at = qstart - 2 if m[qstart - 1:qstart] == " " else qstart - 1  # 以 4.20%
    if (phrased is None or only_institution(phrased) or len(phrased) <= 5 and not measure_tail(phrased)) \
            and m[mark_at:mark_at + 1] in lex.phrasing["instrument_marks"]:
        # 招商银行以9478.43亿元信用卡透支余额领跑: the measure follows the figure (after the bank
        # the clause names: 華南金則以4.20%的現金殖利率領先 -> 華南金現金殖利率)
        after_name = measure_after(m, sp.end, at.clause_end)
        if after_name is not None:
            after = text[after_name[0]:after_name[1]]
            # (净息差, carried from the sentence before, and 以2.57%的净息差高居榜首: said once)
            phrased = _clean_subject(after if phrased and after.startswith(phrased) else (phrased or "") + after)
    if phrased is None and last_phrase is not None and fs in last_phrase and (
            last_phrase[fs][1] == last_end and _says_only_change(d, last_end, qstart)
            or _after_bank_bracket(d, qstart)):
        # 逾放比率由0.29%降至0.27%, 2022年攀升至3,919.4億元, 南京银行(+11.32%): the figure
        # before in the sentence names what this one measures (without the banks it named)
        phrased = last_phrase[fs][0]
        if _after_bank_bracket(d, qstart) and len(measure_of(phrased)) >= 3:
            phrased = measure_of(phrased)
    if phrased is None and loc.bare is not None and last_phrase is not None and fs in last_phrase \
            and last_phrase[fs][1] == last_end and not at.enum and not _RATIO_END.search(last_phrase[fs][0]):
        # 本地私人部门贷款按月上升1.1%，金额为4,410亿澳门元: a bare measure (金额, 余额) names the
        # amount of what the figure before it in the sentence measured
        phrased = without_change_tail(last_phrase[fs][0])
    if phrased is None and last_phrase is not None and fs in last_phrase and last_phrase[fs][1] == last_end \
            and between(d.period_starts, d.periods, last_end, qstart):
        # 2021年稅前盈餘為3,369.8億元，2022年攀升至3,919.4億元: a dated clause naming nothing states
        # the figure before it for another date
        phrased = last_phrase[fs][0]
    if phrased is None and cstart > fs and m[cstart - 1] in "，,":
        # 2025年绿色贷款余额仍呈增长趋势，三季度末为43.51万亿元: a clause that names nothing
        # measures what the clause before it (with no figure of its own) is about
        phrased = _previous_clause_subject(d, fs, cstart)
    joined = phrased is not None and measure_word is not None and loc.following is not None \
        and s.span == loc.following and phrased.startswith(_JOINED) and 2 <= len(phrased) <= 4
    if phrased and measure_word and joined:
        # 境外機構覆蓋30個國家和地區: the measure word is the first of two nouns joined after it;
        # what stands before the figure says whose they are
        wa, wb = _subject_in(d, at.prev_end, qstart)
        phrased = _clean_subject((drop_possessive(strip_display_lead(text[wa:wb])) if wb - wa >= 2 else "")
                                 + text[sp.end - len(measure_word):sp.end].lstrip("个個") + phrased)
    if phrased is None and unit == "percent" and last_phrase is not None and fs in last_phrase \
            and last_phrase[fs][1] == last_end:
        phrased = signed_change_of(m, last_end, qstart, last_phrase[fs][0])  # 营收808.15亿元(+8.78%)
    if phrased is None and sp.kind != "ratio":
        ranked = ranking_measure(m, text, fs, qstart)  # 营收位列前五的…为：江苏银行、…，分别为…
        if ranked is not None:
            # (工商銀行、建設銀行、農業銀行實現歸母淨利潤均超過2000億元: without the banks and the
            # words linking it to the figure; a period opening it stays, 全年营收位列前三)
            ra = after_last_bank(between(d.entity_starts, d.entities, ranked[0], ranked[1]), ranked[0], ranked[1])
            rb = _trim_subject(d, ra, ranked[1])[1]
            phrased = strip_display_lead(text[ra:rb]) if rb - ra >= 2 else None
    if phrased is None and sp.kind == "ratio":
        phrased = one_in_phrase(m, text, sp.start, sp.end)  # 每3笔业务中，就有一笔来自手机银行
    elif phrased and unit == "percent":
        phrased = share_of_whole(m, text, phrased, sp.end)  # 服务客户中近一半来自县域
    elif phrased and unit == "count" and measure_word and not joined:
        phrased = launched_service(m, text, phrased, fs, qstart)  # 推出…，已服务全行3万余名…
    return phrased


# ---------------------------------------------------------------- where the subject is, how it reads


_HAN_RUN = re.compile("[\u4e00-\u9fff]{2,}")
_BRACKET_END = re.compile(r"[（(][^（()）]*[)）]$")  # 国际金融业务分行(OBU): a gloss after the name
_ASCII_DIGIT = re.compile(r"\d")


def _trim_subject(d: Doc, a: int, b: int) -> tuple[int, int]:
    sc = scanners()
    m = d.m
    a = after_segment_marks(m, a, b)  # [5] 资产质量 - 不良贷款率: past footnotes, bullets, headings
    k = bisect.bisect_left(d.entity_starts, a)
    if k < len(d.entity_starts) and d.entity_starts[k] < b:  # a bank named inside: the entity is its own field
        a = after_last_bank(between(d.entity_starts, d.entities, a, b), a, b)
    changed = True
    while changed and a < b:
        changed = False
        e = d.skip_at.get(a)
        if e is not None and e <= b:
            # a bank name, period phrase or comparison basis opening the clause (looked up before
            # punctuation is skipped: the ○ of ○九年 is also a bullet)
            a = e
            changed = True
        while a < b and m[a] in PUNCT:
            a += 1
            changed = True
        x = sc.subject_lead.match(m, a, b)
        if x and x.end() > a:
            a = x.end()
            changed = True
    colon = max(m.rfind("：", a, b - 1), m.rfind(":", a, b - 1))
    if colon >= a:
        a = colon + 1  # 陈昭旭：个人客户数达… / • 个人客户数：7.55亿户 (a trailing colon stays a label)
    said = _speech_end(d, a, b - 2)
    if said >= 0:
        a = said  # 又表示年内非利息收入: what was said, not who said it
    changed = True
    while changed and a < b:
        changed = False
        while b > a and m[b - 1] in PUNCT:
            b -= 1
            changed = True
        n = _trail_len(m, a, b)
        if n:
            b -= n
            changed = True
        scope = _scope_start(m, a, b)
        if scope >= 0:
            b = scope  # 资产规模在众多农商行中: the scope is no part of the measure
            changed = True
        k = bisect.bisect_left(d.period_starts, b) - 1 if b - a > 4 else -1
        if k >= 0 and d.period_starts[k] >= a + 2 and d.periods[k].end == b:
            # 手机银行客户总规模在5月25日|突破800万户: a date closing the subject is the period,
            # a field of its own; a 在 before it goes with it
            b = d.period_starts[k]
            while b > a + 2 and m[b - 1] in _DATE_LEADS:
                b -= 1
            changed = True
    return a, b


_DATE_LEADS = "在于於"


def _speech_end(d: Doc, a: int, b: int) -> int:
    """The end of the last speech verb (表示, 公布: subject.toml speech_verbs) starting in [a, b), or -1;
    the page's verbs are found once, when first asked."""
    if d.speech is None:
        d.speech = [x.span() for x in _speech_pattern().finditer(d.m)]
        d.speech_starts = [s for s, _ in d.speech]
    k = bisect.bisect_left(d.speech_starts, b) - 1
    return d.speech[k][1] if k >= 0 and d.speech[k][0] >= a else -1


@cache
def _speech_pattern() -> re.Pattern:
    return re.compile(alternation(load_lexicon().speech_verbs) or "(?!)")


def _scope_start(m: str, a: int, b: int) -> int:
    """Where a scope closing m[a:b] starts (资产规模|在众多农商行中: subject.toml scope_open,
    scope_close, scope_reach), or -1; a scope is taken only with two characters left."""
    lex = load_lexicon()
    if b - a < 4 or m[b - 1] not in lex.scope_close:
        return -1
    for opener in lex.scope_open:
        k = m.rfind(opener, max(a + 2, b - 2 - lex.scope_reach), b - 2)
        if k >= 0 and not any(ch in _SCOPE_BREAKS for ch in m[k + 1:b - 1]):
            return k
    return -1


_SCOPE_BREAKS = "，,。；;、"  # (the opener found is the last one: no scope nests)
# spaces between two Chinese characters or brackets (機 構, 全部破净 的: PDF copies and some CMSs);
# a space next to a Latin word or a number stays as written (逾期90 日)
_TYPESET_SPACE = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef()（）/])[ \u3000]+(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef()（）/])")
_RATIO_END = re.compile("(?:率|比|比重|份额|份額)$")  # a ratio's subject: no amount is of it


def _trail_len(m: str, a: int, b: int) -> int:
    """Length of the longest trail word (达, 为, 增长 ...) ending `m[a:b]`, 0 when none does."""
    if b <= a:
        return 0
    for w in _trail_by_last().get(m[b - 1], ()):
        if len(w) <= b - a and m.startswith(w, b - len(w)):
            return len(w)
    return 0


def _only_period_before(d: Doc, a: int, b: int) -> bool:
    """m[a:b] is a period phrase and trail words only (去年同期仅为6亿多): the clause restates the
    sentence's measure for another period."""
    hits = between(d.period_starts, d.periods, a, b)
    if len(hits) != 1 or hits[0].start != a or hits[0].end > b:
        return False
    return _only_trail_words(d.m, hits[0].end, b)


def _period_clause(d: Doc, a: int, b: int, lex: Lexicon) -> bool:
    """m[a:b] is a period phrase, maybe after a from-word (从2020年), and trail words only."""
    for w in lex.from_words:
        if d.m.startswith(w, a):
            a += len(w)
            break
    return _only_period_before(d, a, b)


def _only_trail_words(m: str, a: int, b: int) -> bool:
    """m[a:b] is nothing but trail words (均为, 达到): it links a figure, it names nothing."""
    while b > a:
        n = _trail_len(m, a, b)
        if not n:
            return False
        b -= n
    return True


@cache
def _trail_by_last() -> dict[str, tuple[str, ...]]:
    # trail words by their last character: a suffix lookup instead of a regex search over the subject
    out: dict[str, list[str]] = {}
    for w in sorted(set(load_lexicon().trail_words), key=lambda w: (-len(w), w)):
        out.setdefault(w[-1], []).append(w)
    return {k: tuple(v) for k, v in out.items()}


def _following_phrase(d: Doc, pos: int, limit: int, past_of: bool = False) -> tuple[int, int]:
    """The noun phrase right after a number (使7.55亿全量个人客户都能...); `past_of`: a unit-less
    number measures the noun after an of-mark too (5000多亿的储蓄存款)."""
    lex = load_lexicon()
    for w in lex.qualifier_suffix_words:  # 千万户以上: the qualifier is no noun
        if d.m.startswith(w, pos):
            pos += len(w)
            break
    stop = min(limit, pos + lex.subject_max_len)
    x = scanners().subject_stop.search(d.m, pos, stop)
    if past_of and x is not None and x.start() == pos and x.group() in lex.of_marks:
        pos = x.end()  # 5000多亿的储蓄存款: the noun after 的
        x = scanners().subject_stop.search(d.m, pos, stop)
    end = x.start() if x else stop
    digit = _ASCII_DIGIT.search(d.m, pos, end)
    if digit:
        end = digit.start()  # the next number starts the next item
    a, b = pos, end
    while a < b and d.m[a] in PUNCT:
        a += 1
    while b > a and d.m[b - 1] in PUNCT:
        b -= 1
    return a, b


_LIST_FILLER = frozenset("、，,()（）[]【】和及与或 0123456789")


def _measure_named_in(m: str, lo: int, hi: int, first: bool = False) -> tuple[int, int] | None:
    """The last metric name in m[lo:hi] (`first`: the one starting at lo), unless a measure tail
    after it makes it part of another measure (净利润增速, 利息净收入占比)."""
    hits = [h for h in metric_match.name_hits(m, lo, hi) if h[1] <= hi]
    if first:
        hits = hits[:1] if hits and hits[0][0] == lo else []
    if not hits:
        return None
    s, e = hits[-1]
    return None if m.startswith(_measure_tails(), e) else (s, e)


_MOVE_GAP = 2  # characters between a name and the direction word that says it moved (不降反升)


def _moved_measure(d: Doc, lo: int, hi: int) -> tuple[int, int] | None:
    """The last metric name in m[lo:hi] that a direction word follows right after (净利息收益率
    不降反升), not one named as a cause (主要缘于其发放贷款和垫款、金融投资等的增长)."""
    named = _measure_named_in(d.m, lo, hi)
    if named is None:
        return None
    k = bisect.bisect_left(d.cue_starts, named[1])
    if k < len(d.cues) and d.cues[k][0] - named[1] <= _MOVE_GAP and d.cues[k][0] < hi \
            and not d.cues[k][2].isdisjoint(DIRECTIONS):
        return named
    return None


@cache
def _measure_tails() -> tuple[str, ...]:
    return tuple(load_lexicon().phrasing["measure_tails"])


def _copula_only(m: str, a: int, b: int, lex: Lexicon) -> bool:
    """m[a:b] is only 分别 and maybe a copula (分别为): the clause names no measure of its own."""
    rest = m[a:b].strip()
    for w in lex.attribution.respectively:
        if rest.startswith(w):
            rest = rest[len(w):]
            return not rest or rest in lex.phrasing["value_list_copulas"]
    return False


_FILLER_MAX = 3  # 其次为, 依次是: what a clause of bank names may hold besides them


def _names_banks(d: Doc, a: int, b: int) -> bool:
    """m[a:b] names banks and little else: no figure, no measure (其次为无锡农商银行、张家港农商银行;
    not 江苏银行、苏州银行增速最高)."""
    k = bisect.bisect_left(d.span_starts, a)
    if k < len(d.span_starts) and d.span_starts[k] < b:
        return False
    return 0 <= _besides_banks(d, a, b) <= _FILLER_MAX


def _only_banks_between(d: Doc, a: int, b: int) -> bool:
    """m[a:b] holds bank names and list punctuation only (and at least one bank)."""
    return _besides_banks(d, a, b) == 0


def _besides_banks(d: Doc, a: int, b: int) -> int:
    """How many characters of m[a:b] are neither a bank's name nor list punctuation; -1 when it
    names no bank."""
    names = [e for e in between(d.entity_starts, d.entities, a, b) if e[2]]
    if not names:
        return -1
    rest, pos = 0, a
    for s, e, _ in names:
        rest += sum(ch not in _LIST_FILLER for ch in d.m[pos:s])
        pos = e
    return rest + sum(ch not in _LIST_FILLER for ch in d.m[pos:b])


def _phrase(d: Doc, sp: Span, subj: tuple[int, int], product: tuple[int, int] | None, prev_end: int,
            qstart: int, fs: int, fe: int, unit: str, measure_word: str | None, after: bool, enum_k: int,
            sibling: str | None, reuse: str | None = None, para_measure: str | None = None,
            measures: list[str] | None = None) -> str | None:
    """The subject as the `subject` field shows it (flows/subject.py, subject.toml [phrasing])."""
    m, text = d.m, d.text
    a, b = subj
    if after and (measure_word or unit == "count"):
        # 8家城商行实现净利润双位数增长 -> 实现净利润双位数增长的城商行
        counted = counted_phrase(m, a, clause_end(d, sp.end, fe), m[max(prev_end, qstart - 4):qstart])
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
        a2, _ = _trim_subject(d, clause_start(d, sp.start, fs), b)
        a = a2 if a2 < a else a
    if enum_k >= 0 and product is None and not after:
        # 中部和西部上市城商行平均资产总额分别为…: items joined by 和/及 share the tail too
        parts = respective_parts(m, a, b, enum_k, ITEM_SEP_WIDE, _RESPECTIVE_REACH) \
            if not _banks_listed_before(d, fs, a) else None
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
                and measure_of(m[a:b]) != m[a:b] \
                and "中" not in m[a:b] and not _banks_before(d, d.span_starts[k]):
            lead = text[d.span_starts[k]:a]  # 29家上市城商行总资产规模: the group counted before
    if not suffix:
        suffix = abbreviation_after(text, b)
    base = lead + drop_measure_verbs(drop_time_words(strip_display_lead(text[a:b] + suffix)))
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
        # (利息净收入增幅 before 在营收中占比: the share is of the income, not of its growth)
        s = sibling if base.rstrip("的") in sibling else \
            without_change_tail(measure_of(sibling)) + base.rstrip("的")
    elif (of := sibling or para_measure or "") and s == base and product is None \
            and (only_institution(_BRACKET_END.sub("", base.rstrip("的"))) or _only_banks_between(d, a, b) and len(base) <= 9) \
            and not only_institution(_BRACKET_END.sub("", of), short=False) and not of.endswith("的") \
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


def _banks_listed_before(d: Doc, floor: int, pos: int) -> bool:
    """工行、建行(939)、交行(3328)|手续费及佣金净收入分别按年增长…: a list of banks right before the
    subject is what 分别 deals the figures out to; the subject (its 及 included) is each one's."""
    names = [e for e in between(d.entity_starts, d.entities, floor, pos) if e[2] is not None]
    if len(names) < 2 or names[-1][1] > pos:
        return False
    return all(ch in _CODE_GAP for ch in d.m[names[-1][1]:pos])


_CODE_GAP = frozenset("()（）0123456789.HKhk ")  # 建行(939), 交行(3328.HK): a listing code after a name


def _banks_before(d: Doc, pos: int) -> bool:
    """长沙银行和齐鲁银行2家银行: a count right after bank names restates them."""
    names = between(d.entity_starts, d.entities, max(0, pos - 12), pos)
    return bool(names) and names[-1][1] >= pos - 1 and names[-1][2] is not None


def _previous_clause_subject(d: Doc, fs: int, cstart: int) -> str | None:
    """The subject of the clause before `cstart` when that clause holds no figure."""
    ps = clause_start(d, cstart - 1, fs)
    k = bisect.bisect_right(d.span_ends, ps)
    if k < len(d.span_starts) and d.span_starts[k] < cstart:
        return None  # a figure in it, or a clause split inside one (3,369.8)
    a, b = _subject_in(d, ps, cstart - 1)
    if b - a < 3 or b - a > load_lexicon().subject_max_len or not measure_tail(d.m[a:b]):
        return None  # only a measure (…余额, …规模, …率) names what the next clause states
    return _clean_subject(drop_possessive(strip_display_lead(d.text[a:b])))


def _after_inner_period(d: Doc, a: int, b: int) -> int:
    """The subject starts after a dated period phrase inside it (not at its start), when at least
    three characters follow: 还公布了2024年加权净资产收益率 -> 加权净资产收益率 (上半年净利润 stays)."""
    for h in between(d.period_starts, d.periods, a + 1, b - 2):
        if h.end <= b - 3 and any(ch.isdigit() for ch in d.m[h.start:h.end]):
            a = h.end + (1 if d.m.startswith("的", h.end) else 0)
    return a


def _period_lead(d: Doc, a: int) -> str:
    """The period phrase written right before the subject, when short and without digits
    (今年第三季盈利 -> 第三季; 今年累放农地贷款 -> 今年)."""
    hits = between(d.period_starts, d.periods, max(0, a - 8), a)
    if not hits or hits[-1].end != a or hits[-1].type != "range" or hits[-1].resolver == "year":
        return ""  # a date (截至9月底, 目前) or a written year (○九年) is the period field's alone
    w = d.text[hits[-1].start:a]
    if len(w) > 2 and w.startswith(("今年", "去年", "本年")):
        w = w[2:]
    if len(w) > 4 or any(ch.isdigit() for ch in w):
        return ""
    return w


def _says_only_change(d: Doc, a: int, b: int) -> bool:
    """m[a:b] holds only period phrases, direction and comparison words and linking marks."""
    covered = [(s, e) for s, e, _ in between(d.cue_starts, d.cues, a, b)]
    covered += [(h.start, h.end) for h in between(d.period_starts, d.periods, a, b)]
    covered.sort()
    pos = a
    for s, e in covered:
        if any(ch not in _CHANGE_FILLER for ch in d.m[pos:s]):
            return False
        pos = max(pos, e)
    return all(ch not in "\n" and ch in _CHANGE_FILLER for ch in d.m[pos:b])


def _after_bank_bracket(d: Doc, qstart: int) -> bool:
    """南京银行(+11.32%): the number opens a bracket right after a bank's name."""
    m = d.m
    k = qstart - 1
    while k >= 0 and m[k] in "+-−":
        k -= 1
    if k < 1 or m[k] not in "(（":
        return False
    names = between(d.entity_starts, d.entities, max(0, k - 16), k)
    return bool(names) and names[-1][1] == k and names[-1][2] is not None


def _subject_in(d: Doc, a: int, b: int, inside: bool = True) -> tuple[int, int]:
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
                while b > a and m[b - 1] in PUNCT:
                    b -= 1
    return a, b


def _open_bracket_before(m: str, floor: int, pos: int, limit: int) -> int | None:
    """Start of a bracket open at `pos` (opened at or after `floor`) and closed before `limit`,
    when it holds words (a definition: 月日均資產600萬元以上), not just a figure (盛京银行(-15.21%)) or
    a figure and its linking words (宁波银行(均为13.59%))."""
    for o, c in (("（", "）"), ("(", ")")):
        i = m.rfind(o, floor, pos)
        if i >= 0 and m.find(c, i, pos) < 0:
            j = m.find(c, pos, limit)
            if j >= 0 and any(not _only_trail_words(m, x.start(), x.end()) for x in _HAN_RUN.finditer(m, i + 1, j)):
                return i
    return None


def _only_cues(d: Doc, a: int, b: int) -> bool:
    """The text [a, b) is nothing but direction or comparison words (成長, 同比收窄)."""
    pos = a
    for s, e, cls in between(d.cue_starts, d.cues, a, b):
        if s != pos or not cls & CHANGE_CUES or "nodir" in cls:
            return False
        pos = e
    return pos == b and b > a


def _list_heading(d: Doc, pos: int) -> tuple[int, tuple[int, int] | None] | None:
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


def _is_list_line(d: Doc, ls: int) -> bool:
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


def _heading_subject(d: Doc, a: int, b: int) -> tuple[int, int] | None:
    x = scanners().heading_marker.match(d.m, a, b)
    if x:
        a = x.end()
    for h in between(d.period_starts, d.periods, a + 1, b):
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


@cache
def _topic_chars() -> tuple[str, ...] | None:
    chars = one_of_chars(scanners().topic.pattern)
    return None if chars is None else tuple(sorted(chars))


def paragraph_topic(d: Doc, para: int, pos: int) -> tuple[int, int] | None:
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


def _cut_subject(d: Doc, a: int, b: int) -> int:
    """End of the subject: before the first comparison basis or direction word after its start."""
    for s, _, cls in between(d.cue_starts, d.cues, a + 1, b):
        if cls & CHANGE_CUES and "nodir" not in cls:
            b = s
            break
    x = scanners().subject_cut.search(d.m, a + 1, b)
    return x.start() if x else b


def _clause_has_basis_or_direction(d: Doc, a: int, b: int) -> bool:
    return any(cls & CHANGE_CUES for _, _, cls in between(d.cue_starts, d.cues, a, b))
