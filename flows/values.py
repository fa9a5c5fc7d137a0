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

from flows.extract import CLAUSE_ENDS, Span
from flows.lexicon import Lexicon, load_lexicon
from flows.models import DocContext
from flows.script import detect_script, to_simplified


@cache
def _statement() -> re.Pattern:
    return re.compile(load_lexicon().currency_statement)


@cache
def _same_marker() -> re.Pattern:
    # a literal regex search is three times faster than `in` for a two-character word
    return re.compile(re.escape(load_lexicon().currency_same_marker))


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


def document_currency(text: str, m: str, ctx: DocContext, main_entity: str | None) -> DocCurrency | None:
    """The document's bare-元 currency (see flows/rules/currency.toml); None when it is plain CNY."""
    lex = load_lexicon()
    same_from: list[tuple[int, str]] = []
    if _same_marker().search(m):
        for x in _statement().finditer(m):
            code = _stated_code(lex, x.group("cur"))
            if code and x.group("same"):
                # from the sentence that states it: 33.09亿元(美元;下同) is in dollars itself
                s = max(m.rfind(ch, 0, x.start()) for ch in "。！？；!?;\n") + 1
                same_from.append((s, code))
    default = None
    if main_entity not in lex.institutions:  # a mainland bank's figures are in yuan wherever printed
        host = _host(ctx.url) or _host(ctx.source)
        if host:
            default = _domain_currency(lex, host)
        if default is None and ctx.source:
            default = lex.currency_sources.get(ctx.source.strip())
        if default is None and to_simplified(text) != text:  # some Traditional script: look closer
            named: Counter[str] = Counter()
            for w, code in lex.local_currency_words.items():
                n = m.count(w)
                if n:
                    named[code] += n
            if named and detect_script(text) == "traditional":
                default = named.most_common(1)[0][0]
    if default is None and not same_from:
        return None
    return DocCurrency(default, same_from)


def span_currency(sp: Span, lex: Lexicon, m: str, doc: DocCurrency | None) -> tuple[str, Decimal]:
    """(ISO code, factor) of a currency or subunit span: the stated currency, else the document's."""
    w = sp.unit_word
    assert w is not None  # a currency span has its word
    factor = Decimal(1)
    code: str | None
    if w in lex.currency_symbols:
        return lex.currency_symbols[w], factor
    if w in lex.currency_subunits:
        factor, sub = lex.currency_subunits[w]
        code = sub or None
    else:
        code = None if w in lex.bare_currency_units else lex.currencies[w]
    if code is not None:
        return code, factor
    before = m[max(0, sp.start - 4):sp.start].rstrip(" ")
    for word, pre in lex.currency_prefixes.items():
        if before.endswith(word):
            return pre, factor  # 美元50亿元, 港幣100億元: the prefix names the currency
    if sp.end < len(m) and m[sp.end] in " (（":
        x = _statement().match(m, sp.end)  # 38.02亿元(人民币)
        if x is not None:
            stated = _stated_code(lex, x.group("cur"))
            if stated:
                return stated, factor
    return (doc.at(m, sp.start) if doc is not None else "CNY"), factor


def improvement_direction(lex: Lexicon, m: str, clause_start: int, cue_start: int, worse: bool) -> str:
    """改善 / 恶化 a ratio: 'neg' when it went down (a lower-is-better ratio improved), else 'pos'."""
    lower_better = any(m.find(w, clause_start, cue_start) >= 0 for w in lex.lower_is_better)
    return "neg" if lower_better != worse else "pos"


@cache
def _adjacent_chars() -> tuple[frozenset[str], frozenset[str]]:
    """Last characters of the words before a number, first characters of those after it: most
    numbers have neither next to them, and one set test tells."""
    lex = load_lexicon()
    return (frozenset(w[-1] for w in (*lex.negative_adjacent, *lex.positive_adjacent)),
            frozenset(w[0] for w in (*lex.negative_after, *lex.positive_after)))


def adjacent_direction(lex: Lexicon, m: str, qstart: int, end: int) -> str | None:
    """A direction written right next to the number: 低约8个基点 (before it, a qualifier aside),
    录得5%的跌幅 (after it)."""
    last, first = _adjacent_chars()
    at = qstart - 1 if qstart > 0 and m[qstart - 1] == " " else qstart
    if at > 0 and m[at - 1] in last and not m.endswith(lex.not_adjacent, 0, at):
        if m.endswith(lex.negative_adjacent, 0, at):
            return "neg"
        if m.endswith(lex.positive_adjacent, 0, at):
            return "pos"
    after = end + 1 if m[end:end + 1] == " " else end
    if after < len(m) and m[after] in first:
        if m.startswith(lex.negative_after, after):
            return "neg"
        if m.startswith(lex.positive_after, after):
            return "pos"
    return None
