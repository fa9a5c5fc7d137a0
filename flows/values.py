"""What a quantity span is worth beyond its numeral: the currency of a bare 元, and the direction
words that sit right next to a number rather than before it in the clause.

Called by `flows.normalise` for each span; the document-level part (`document_currency`) runs once
per document. Every word list is a rule table (flows/rules/currency.toml, units.toml, cues.toml).
"""
from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from functools import cache
from urllib.parse import urlsplit

from flows.extract import CLAUSE_ENDS, SENTENCE_ENDS, Span
from flows.lexicon import Lexicon, load_lexicon
from flows.models import DocContext
from flows.script import detect_script, to_simplified


@cache
def _statement() -> re.Pattern:
    return re.compile(load_lexicon().currency_statement)


_SPACE = 32  # ord(" ")


def _stated_code(lex: Lexicon, word: str) -> str | None:
    return lex.currencies.get(word) or lex.currency_prefixes.get(word)


class DocCurrency:
    """The currency a bare 元 takes in one document: the local default (None = CNY) and the
    "(美元；下同)" statements, by position."""

    __slots__ = ("default", "same_from")

    def __init__(self, default: str | None, same_from: list[tuple[int, str]]) -> None:
        self.default = default
        self.same_from = same_from  # (from this offset on, code), in text order

    def at(self, m: str, start: int) -> str:
        stated = None
        for pos, c in self.same_from:
            if pos > start:
                break
            stated = c
        if stated is not None:
            return stated  # a statement in force (…(美元；下同)) wins over the document's default
        if self.default is None:
            return "CNY"
        lex = load_lexicon()
        lo = max(0, start - 30)
        for ch in CLAUSE_ENDS:  # the clause before the amount: 本港人民币存款达4077亿元
            lo = max(lo, m.rfind(ch, lo, start) + 1)
        named = None
        best = -1
        for w, c in lex.clause_currency_words.items():
            p = m.rfind(w, lo, start)
            if p > best:
                named, best = c, p
        return named or self.default


def _host(s: str | None) -> str | None:
    if not s:
        return None
    s = s.strip().lower()
    host = urlsplit(s if "//" in s else "//" + s).hostname if "." in s and " " not in s else None
    return host or None


def _domain_currency(lex: Lexicon, host: str) -> str | None:
    for key, code in lex.currency_domains.items():
        if key.startswith("."):
            if host.endswith(key):
                return code
        elif key.endswith("."):
            if host.startswith(key):
                return code
        elif host == key or host.endswith("." + key):
            return code
    return None


def document_currency(text: str, m: str, ctx: DocContext, main_entity: str | None,
                      same_at: list[int] | None = None, registry_named: bool = False) -> DocCurrency | None:
    """The document's bare-元 currency (see flows/rules/currency.toml); None when it is plain CNY.

    `same_at`: where the document writes the statement marker (下同), found by the caller's cue
    scan; None: look for it here. `registry_named`: the document names banks of the registry (a
    page naming them and no bank of Hong Kong, Macau or Taiwan quotes yuan on any outlet: a Taiwan
    paper's roundup of the mainland's big six).
    """
    lex = load_lexicon()
    if same_at is None:
        same_at = [x.start() for x in re.finditer(re.escape(lex.currency_same_marker), m)]
    same_from: list[tuple[int, str]] = []
    for at in same_at:
        x = _statement().search(m, max(0, at - 12), at + len(lex.currency_same_marker) + 2)
        code = _stated_code(lex, x.group("cur")) if x is not None and x.group("same") else None
        if x is not None and code:
            # from the sentence that states it: 33.09亿元(美元;下同) is in dollars itself
            s = max(m.rfind(ch, 0, x.start()) for ch in SENTENCE_ENDS) + 1
            same_from.append((s, code))
    default = None
    local = {w: n for w in lex.local_banks if (n := m.count(w))} if main_entity not in lex.institutions else {}
    if main_entity not in lex.institutions and (local or not registry_named):
        # (a mainland bank's figures are in yuan wherever printed); a page about 中银香港 or 玉山银行
        # quotes its own currency, in any script and on any outlet
        default = _local_bank_currency(m, lex, local)
        host = _host(ctx.url) or _host(ctx.source)
        if host and default is None:
            default = _domain_currency(lex, host)
        if default is None and ctx.source:
            default = lex.currency_sources.get(ctx.source.strip())
        if default is None and to_simplified(text) != text:  # some Traditional script: look closer
            named: Counter[str] = Counter()
            for w, code in lex.local_currency_words.items():
                n = m.count(w)
                if n:
                    named[code] += n
            if not named:  # no currency word: the place the document names (台灣, 金管會)
                for w, code in lex.local_place_words.items():
                    n = m.count(w) - sum(m.count(c + w) for c in lex.local_place_not_after.get(w, ""))
                    if n:
                        named[code] += n
            if named and detect_script(text) == "traditional":
                default = named.most_common(1)[0][0]
    if default is None and not same_from:
        return None
    return DocCurrency(default, same_from)


def _local_bank_currency(m: str, lex: Lexicon, named: dict[str, int]) -> str | None:
    """The currency of the Hong Kong, Macau or Taiwan banks (currency.toml [local_banks]; `named`:
    how often the page names each) the page is about: named in its title, or
    `local_bank_min_names` times (not one named in passing)."""
    banks: Counter[str] = Counter()
    title_end = m.find("\n")
    title = m[:title_end] if title_end >= 0 else m
    for w, n in named.items():
        if w in title or n >= lex.local_bank_min_names:
            banks[lex.local_banks[w]] += n
    return banks.most_common(1)[0][0] if banks else None


def span_currency(sp: Span, lex: Lexicon, m: str, doc: DocCurrency | None,
                  ) -> tuple[str, Decimal | None]:
    """(ISO code, factor) of a currency or subunit span: the stated currency, else the document's.
    The factor is None for whole units, 0.01 for 分."""
    w = sp.unit_word
    assert w is not None  # a currency span has its word
    factor: Decimal | None = None
    code: str | None
    if w in lex.currency_symbols:
        return lex.currency_symbols[w], factor
    if w in lex.currency_subunits:
        factor, sub = lex.currency_subunits[w]  # 19.7分 = 0.197元
        code = sub or None
    else:
        code = None if w in lex.bare_currency_units else lex.currencies[w]
    if code is not None:
        return code, factor
    at = sp.start - 1 if sp.start > 0 and ord(m[sp.start - 1]) == _SPACE else sp.start
    before = m[max(0, at - 4):at]
    if before.endswith(lex.currency_prefix_words):  # one test: most amounts have no prefix
        for word in lex.currency_prefix_words:
            if before.endswith(word):
                return lex.currency_prefixes[word], factor  # 美元50亿元, 港幣100億元: the prefix names it
    c = ord(m[sp.end]) if sp.end < len(m) else 0
    if c == _SPACE or c == 40 or c == 0xFF08:  # " (（": a bracket may state the currency
        x = _statement().match(m, sp.end)  # 38.02亿元(人民币)
        if x is not None:
            stated = _stated_code(lex, x.group("cur"))
            if stated:
                return stated, factor
    return (doc.at(m, sp.start) if doc is not None else "CNY"), factor


def improvement_direction(lex: Lexicon, m: str, clause_start: int, cue_start: int, worse: bool,
                          subj: tuple[int, int] | None = None) -> str:
    """改善 / 恶化 a ratio: 'neg' when it went down (a lower-is-better ratio improved), else 'pos'.
    The ratio is named in the clause before the cue, or is the figure's subject carried from the
    clause before (成本對收入比率為26.17%，按年改善2.11個百分點)."""
    lower_better = any(m.find(w, clause_start, cue_start) >= 0 for w in lex.lower_is_better) or (
        subj is not None and any(m.find(w, subj[0], subj[1]) >= 0 for w in lex.lower_is_better))
    return "neg" if lower_better != worse else "pos"


_PAIR_FIGURE = "年.,%％ "  # what a joined percent is written with (2015年56.46%)


def adjacent_direction(lex: Lexicon, m: str, qstart: int, end: int) -> str | None:
    """A direction written right next to the number: 低约8个基点 (before it, a qualifier aside),
    录得5%的跌幅 (after it). Runs for most numbers, and most have neither: integer tests first
    (compiled, ord(m[i]) reads the code point without building a string)."""
    at = qstart - 1 if qstart > 0 and ord(m[qstart - 1]) == _SPACE else qstart
    if at > 0:
        c = ord(m[at - 1])
        for o in lex.adjacent_ords:
            if c == o:
                before = m[max(0, at - 4):at]
                if not before.endswith(lex.not_adjacent):
                    if before.endswith(lex.negative_adjacent):
                        return "neg"
                    if before.endswith(lex.positive_adjacent):
                        return "pos"
                break
    after = end + 1 if end < len(m) and ord(m[end]) == _SPACE else end
    if m.startswith(lex.qualifier_suffix_words, after):  # 10个百分点以上的下降
        for w in lex.qualifier_suffix_words:
            if m.startswith(w, after):
                after += len(w)
                break
    if after < len(m):
        c = ord(m[after])
        for o in lex.after_ords:
            if c == o:
                tail = m[after:after + 8]
                if tail.startswith(lex.negative_after):
                    return "neg"
                if tail.startswith(lex.positive_after):
                    return "pos"
                break
        if m[after] in lex.pair_joiners:
            return _pair_direction(lex, m, after + 1)
    return None


def _pair_direction(lex: Lexicon, m: str, k: int) -> str | None:
    """錄得4.0%及2.2%的跌幅, 2014年46.68%和2015年56.46%的增速: the direction or growth word after
    the percent joined to this one (from `k`, after the joiner)."""
    limit = min(len(m), k + 16)
    while k < limit and (m[k].isdigit() or m[k] in _PAIR_FIGURE):
        k += 1
    if k == 0 or m[k - 1] not in "%％":
        return None
    tail = m[k:k + 8]
    if tail.startswith(lex.negative_after):
        return "neg"
    if tail.startswith(lex.positive_after):
        return "pos"
    at = k + 1 if tail.startswith("的") else k
    return "pos" if m.startswith(lex.change_heads, at) else None
