"""Clean: an HTML page or a plain-text file -> title + body paragraphs.

The stored text (`CleanDocument.text`) is the title on line one and one paragraph per line:
every evidence offset of the extraction stage points into it. Block elements end paragraphs,
inline markup never does (`达<strong>7.55亿户</strong>` stays one sentence). Scripts, styles,
comments and page chrome (navigation, share bars, related links, footers, as listed in
`rules/clean.toml`) are kept out of the body.
"""
from __future__ import annotations

import re
import unicodedata
import tomllib
from dataclasses import dataclass
from functools import cache

import lxml.etree
from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, ProcessingInstruction, Tag

from flows.config import RULES_DIR, Limits
from flows.ingest import Rejected
from flows.models import CleanDocument, RawDocument
from flows.script import detect_script

# Elements that end a paragraph; everything else (span, strong, a, font ...) is inline.
BLOCK_TAGS = frozenset(
    "address article aside blockquote body br center dd details dialog dir div dl dt fieldset "
    "figcaption figure h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu ol p pre section "
    "summary table tbody td tfoot th thead tr ul caption".split()
)

# A table's cells: a tab before each, so that a row is one line of cells (flows/tables.py reads it;
# _paragraphs folds a row of fewer than tables.toml's min_cells cells into one line as before).
CELL_TAGS = frozenset({"td", "th"})

# Characters that are whitespace in a page but not in `str.split()`'s eyes, or that a
# reader does not see: ideographic space, nbsp, zero-width space/joiners, BOM. Line and
# paragraph separators fold too: a paragraph (and the title) never spans lines of the stored text.
_SPACE_CHARS_BUT_LF = r" \t\r\f\v\x1c-\x1e\x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACES = re.compile(rf"[\n{_SPACE_CHARS_BUT_LF}]+")
# The same within lines, to fold a whole text of lines at once (see `_paragraphs`).
_LINE_SPACES = re.compile(rf"[{_SPACE_CHARS_BUT_LF}]+")
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")


@dataclass(frozen=True)
class CleanRules:
    drop_tags: frozenset[str]
    chrome_class: re.Pattern[str]
    boilerplate_line: re.Pattern[str]
    boilerplate_lead: re.Pattern[str]
    title_separators: tuple[str, ...]
    pinyin_gloss: re.Pattern[str]
    pinyin_gloss_min: int
    compatibility: re.Pattern[str]
    compatibility_table: dict[int, str]
    lost_decimal: re.Pattern[str]
    lost_decimal_min: int
    wrap_min_width: int
    wrap_band: int
    wrap_share: float
    wrap_ends: str


def _compatibility_table(ranges: str) -> dict[int, str]:
    """Each character of the class `ranges` with a one-character NFKC form, mapped to it."""
    pattern = re.compile(ranges)
    table = {}
    for cp in range(0x2E80, 0x3000):  # the class may name any part of these blocks
        ch = chr(cp)
        folded = unicodedata.normalize("NFKC", ch)
        if pattern.fullmatch(ch) and folded != ch and len(folded) == 1:
            table[cp] = folded
    return table


_DECIMAL = re.compile(r"\d\.\d")


def _decimals_restored(body: str, rules: CleanRules) -> str:
    """The body with each figure's lost decimal point put back (1 51万亿元 -> 1.51万亿元), when
    enough figures show the loss; else the body as it is."""
    if len(rules.lost_decimal.findall(body)) < rules.lost_decimal_min:
        return body
    return rules.lost_decimal.sub(r"\1.\2", body)


@cache
def load_rules() -> CleanRules:
    """Load `rules/clean.toml` once per process; a bad pattern fails here, naming the file."""
    path = RULES_DIR / "clean.toml"
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    try:
        return CleanRules(
            drop_tags=frozenset(data["drop_tags"]),
            chrome_class=re.compile("|".join(f"(?:{p})" for p in data["chrome_class_patterns"]), re.I),
            boilerplate_line=re.compile(
                "|".join(f"(?:{p})" for p in data["boilerplate_line_patterns"]), re.I
            ),
            boilerplate_lead=re.compile(data.get("boilerplate_line_lead", "(?!)")),
            title_separators=tuple(data["title_site_separators"]),
            pinyin_gloss=re.compile(data["pinyin_gloss"]),
            pinyin_gloss_min=int(data["pinyin_gloss_min"]),
            compatibility=re.compile(data["compatibility_ranges"]),
            compatibility_table=_compatibility_table(data["compatibility_ranges"]),
            lost_decimal=re.compile(data["lost_decimal"]),
            lost_decimal_min=int(data["lost_decimal_min"]),
            wrap_min_width=int(data["hard_wrap"]["min_width"]),
            wrap_band=int(data["hard_wrap"]["band"]),
            wrap_share=float(data["hard_wrap"]["share"]),
            wrap_ends=str(data["hard_wrap"]["ends"]),
        )
    except (KeyError, re.error) as exc:
        raise ValueError(f"{path}: bad rule: {exc}") from exc


def _is_boilerplate(line: str, rules: CleanRules) -> bool:
    """A line of the page around the article (编辑：…, 往期推荐…), decoration before it aside."""
    lead = rules.boilerplate_lead.match(line)
    return rules.boilerplate_line.search(line[lead.end():] if lead else line) is not None


def normalise_space(line: str) -> str:
    """Fold page whitespace to single spaces and trim; invisible characters go."""
    line = _INVISIBLE.sub("", line)
    return _SPACES.sub(" ", line).strip()


def _paragraphs(body: str) -> list[str]:
    """`normalise_space` of each line of `body` (lines end at "\n"), the empty ones left out.

    Regular expressions with large character classes are slow on CJK text, and a page has some
    50 lines: this scans for the rare characters first. `str.split()` splits at exactly the
    characters `_SPACES` folds, and at "\x1f", which `_SPACES` keeps: without a "\x1f",
    `" ".join(line.split())` is `_SPACES.sub(" ", line).strip()`. Otherwise both patterns run
    over the whole text at once, which they can as neither matches a line feed.
    """
    if any(c in body for c in _INVISIBLE_CHARS):
        body = _INVISIBLE.sub("", body)
    if "\t" in body:
        return [p for p in map(_table_row_or_line, body.split("\n")) if p]
    if "\x1f" in body:
        body = _LINE_SPACES.sub(" ", body)
        return [p for p in map(str.strip, body.split("\n")) if p]
    return [p for p in (" ".join(line.split()) for line in body.split("\n") if line) if p]


def _unwrapped(lines: list[str], rules: CleanRules) -> list[str]:
    """A page typed at a fixed width (Hong Kong wire pages: 淨利息收益率擴|闊20個基點) breaks its
    sentences at that width: where most of its longer lines are within `band` characters of the
    widest, a line that long ending mid-sentence is joined to the next (clean.toml [hard_wrap])."""
    long = [len(x) for x in lines if len(x) >= rules.wrap_min_width // 2]
    if len(long) < 4:
        return lines
    width = max(long)
    if width < rules.wrap_min_width or width > 4 * rules.wrap_min_width:
        return lines
    band = width - rules.wrap_band
    wrapped = [n >= band for n in long]
    if sum(wrapped) < rules.wrap_share * len(long) or sum(wrapped) < 3:
        return lines
    out: list[str] = []
    joining = False
    for x in lines:
        if joining:
            prev = out[-1]
            glue = " " if prev[-1].isascii() and prev[-1].isalnum() and x[0].isascii() and x[0].isalnum() else ""
            out[-1] = prev + glue + x
        else:
            out.append(x)
        joining = len(x) >= band and x[-1] not in rules.wrap_ends and "|" not in x
    return out


def _table_row_or_line(line: str) -> str:
    """A line of cells split by tabs (a filing's 总资产\t646,112,864\t533,469,318\t21.12%, with
    at least tables.toml's min_cells cells) keeps one tab between its cells, each cell folded as
    a line is: flows/tables.py reads the table. Any other line is folded whole."""
    cells = line.split("\t")
    if len(cells) >= _min_cells():
        folded = [_LINE_SPACES.sub(" ", c).strip() for c in cells]
        while folded and not folded[0]:
            folded.pop(0)
        while folded and not folded[-1]:
            folded.pop()
        if sum(1 for c in folded if c) >= _min_cells():
            return "\t".join(folded)
    return _LINE_SPACES.sub(" ", line).strip()


@cache
def _min_cells() -> int:
    from flows.lexicon import load_lexicon  # the extraction rules, loaded once (clean needs one number)
    return load_lexicon().tables.min_cells


def _is_chrome(tag: Tag, rules: CleanRules) -> bool:
    attrs = tag.attrs or {}
    names = " ".join(attrs.get("class") or []) + " " + str(attrs.get("id") or "")
    return bool(names.strip()) and bool(rules.chrome_class.search(names))


def _strip_page(soup: BeautifulSoup, rules: CleanRules) -> None:
    for node in soup.find_all(string=lambda s: isinstance(s, (Comment, Doctype, ProcessingInstruction))):
        node.extract()
    for tag in soup.find_all(list(rules.drop_tags)):
        tag.decompose()
    total = len(soup.get_text())
    for tag in soup.find_all(True):
        if tag.decomposed or not _is_chrome(tag, rules):
            continue
        # A page whose article sits inside a wrongly-classed element must not lose its body:
        # chrome is small next to the article.
        if total and len(tag.get_text()) > 0.4 * total:
            continue
        tag.decompose()


# A line break in an HTML source is whitespace, not a paragraph end. Next to a CJK character
# it goes entirely ("工行个人\n客户" is one word wrapped by an editor); elsewhere it is a space.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_SOURCE_BREAK_CJK = re.compile(rf"(?:(?<=[{_CJK}])[ \t]*[\r\n][\s]*|[\s]*[\r\n][ \t]*(?=[{_CJK}]))")
_SOURCE_BREAK = re.compile(r"\s*[\r\n]\s*")
_PREFORMATTED = frozenset(("pre", "textarea", "listing", "plaintext", "xmp"))
# lxml.etree's parser rather than lxml.html's: the same tree, without the Python callback by
# which lxml.html picks a class for every element it hands out (measured: 14% of a page's time).
# `_drop_tree` and `_TEXT_CONTENT` stand in for the two lxml.html methods used here.
_LXML_PARSER = lxml.etree.HTMLParser(encoding="utf-8", remove_comments=False)
_TEXT_CONTENT = lxml.etree.XPath("string()", smart_strings=False)  # lxml.html's text_content()


def _drop_tree(el: lxml.etree._Element) -> None:
    """lxml.html's `drop_tree()`: remove `el` and what it holds, keeping the text after it."""
    parent = el.getparent()
    if el.tail:
        previous = el.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    parent.remove(el)


def _parse_html(raw_text: str) -> lxml.etree._Element:
    """lxml.html's `document_fromstring()` with `_LXML_PARSER`."""
    root = lxml.etree.fromstring(raw_text.encode("utf-8"), _LXML_PARSER)
    if root is None:
        raise lxml.etree.ParserError("Document is empty")
    return root


def _unwrap_source_lines(soup: BeautifulSoup) -> None:
    for node in soup.find_all(string=lambda s: "\n" in s or "\r" in s):
        # Plain text only: comments, doctypes, CDATA, script and style text keep their type, so
        # that they are still recognised and dropped afterwards.
        if type(node) is not NavigableString or any(p.name in _PREFORMATTED for p in node.parents):
            continue
        text = _SOURCE_BREAK.sub(" ", _SOURCE_BREAK_CJK.sub("", str(node)))
        node.replace_with(NavigableString(text))


def _html_lines(soup: BeautifulSoup) -> list[str]:
    """Text of the page split at block boundaries only (call `_unwrap_source_lines` first)."""
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(BLOCK_TAGS):
        if tag.name in CELL_TAGS:
            tag.insert_before("\t")
            continue
        tag.insert_before("\n")
        tag.append("\n")
    return soup.get_text().split("\n")


def _title_from_html(soup: BeautifulSoup, rules: CleanRules) -> str | None:
    h1 = soup.find("h1")
    if h1 is not None:
        text = normalise_space(h1.get_text(" "))
        if text:
            return text
    if soup.title is not None:
        text = normalise_space(soup.title.get_text(" "))
        for sep in rules.title_separators:
            if sep in text:
                # "标题 - 经济日报", "标题_财经_新浪网": the title comes first, site names after.
                text = text.split(sep)[0].strip() or text
        if text:
            return text
    return None


def _unwrap(text: str) -> str:
    return _SOURCE_BREAK.sub(" ", _SOURCE_BREAK_CJK.sub("", text)) if "\n" in text or "\r" in text else text


def _lxml_body(raw_text: str, rules: CleanRules, want_title: bool) -> tuple[str | None, str]:
    """(title, text with one line per block) of a page through lxml's HTML parser: the fast path,
    ~10x bs4's speed.

    Same rules as the BeautifulSoup path below (which stays the fallback for what lxml refuses):
    head, comments, dropped tags and chrome go; block elements end lines; source line breaks
    inside text are whitespace except in preformatted elements.
    """
    root = _parse_html(raw_text)
    title = None
    if want_title:
        h1 = next(root.iter("h1"), None)
        if h1 is not None:
            title = normalise_space(_unwrap(" ".join(h1.itertext()))) or None
        if title is None:
            tt = next(root.iter("title"), None)
            if tt is not None:
                text = normalise_space(_unwrap(" ".join(tt.itertext())))
                for sep in rules.title_separators:
                    if sep in text:
                        text = text.split(sep)[0].strip() or text
                title = text or None
    for el in list(root.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction, "head", *rules.drop_tags)):
        if el.getparent() is not None:
            _drop_tree(el)  # keeps the text that follows the element
    total = len(_TEXT_CONTENT(root))
    for el in list(root.iter()):
        # Most elements have neither class nor id: that is the cheapest test, so it goes first.
        cls, el_id = el.get("class"), el.get("id")
        if not (cls or el_id) or not isinstance(el.tag, str) or el.getparent() is None:
            continue
        names = (cls or "") + " " + (el_id or "")
        if names.strip() and rules.chrome_class.search(names):
            # A page whose article sits inside a wrongly-classed element must not lose its body.
            if total and len(_TEXT_CONTENT(el)) > 0.4 * total:
                continue
            _drop_tree(el)
    return title, _block_text(root)


def _block_text(root: lxml.etree._Element) -> str:
    """The text under `root` with a line feed before and after each block element.

    Source line breaks are unwrapped except inside preformatted elements. One pass of
    `iterwalk` events (cheaper than a recursive walk). It skips comments and processing
    instructions, tails included: the caller has dropped them all, keeping their tails.
    """
    out: list[str] = []
    append = out.append
    pre_depth = 0  # how many preformatted elements enclose the current point
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""  # an entity has no text of its own
        if event == "start":
            if tag in _PREFORMATTED:
                pre_depth += 1
            if tag in CELL_TAGS:
                append("\t")
            elif tag in BLOCK_TAGS:
                append("\n")
            text = el.text if tag else None
            if text:
                append(text if pre_depth else _unwrap(text))
        else:
            if tag in BLOCK_TAGS and tag not in CELL_TAGS:
                append("\n")
            if tag in _PREFORMATTED:
                pre_depth -= 1
            tail = el.tail if el is not root else None
            if tail:
                append(tail if pre_depth else _unwrap(tail))
    return "".join(out)


def _bs4_page(raw_text: str, rules: CleanRules, want_title: bool) -> tuple[str | None, list[str]]:
    """(title, lines) through BeautifulSoup: the tolerant fallback."""
    soup = BeautifulSoup(raw_text, "lxml")
    _unwrap_source_lines(soup)
    title = _title_from_html(soup, rules) if want_title else None
    if soup.head is not None:
        soup.head.decompose()  # <title> and <meta> are not body text
    _strip_page(soup, rules)
    return title, _html_lines(soup)


def _clean(raw_text: str, fmt: str, sidecar_title: str | None) -> tuple[str, list[str], int]:
    """(title, paragraphs, number of visible body lines before the title was taken from them)."""
    rules = load_rules()
    title: str | None = sidecar_title
    if fmt == "html":
        try:
            found, body = _lxml_body(raw_text, rules, title is None)
        except (lxml.etree.ParserError, ValueError):  # e.g. a page of nothing but comments
            found, lines = _bs4_page(raw_text, rules, title is None)
            body = "\n".join(lines)
        title = title if title is not None else found
    else:
        body = "\n".join(raw_text.splitlines())
    if rules.compatibility.search(body) is not None:  # ⾸次: a PDF's radical look-alikes, read as 首次
        body = body.translate(rules.compatibility_table)
    if title is not None and rules.compatibility.search(title) is not None:
        title = title.translate(rules.compatibility_table)
    if " " in body and _DECIMAL.search(body) is None:
        body = _decimals_restored(body, rules)  # 总资产1 51万亿元: a copy that lost its decimal points
    unglossed, glosses = rules.pinyin_gloss.subn("", body)
    if glosses >= rules.pinyin_gloss_min:  # 資產(chǎn)負(fù)債: a glossed page reads without its glosses
        body = unglossed
        title = rules.pinyin_gloss.sub("", title) if title is not None else None
    paragraphs = _unwrapped(_paragraphs(body), rules)
    paragraphs = [p for p in paragraphs if not _is_boilerplate(p, rules)]
    n_body = len(paragraphs)
    if title is None:
        title = paragraphs.pop(0) if paragraphs else ""
    elif paragraphs and _SPACES.sub("", paragraphs[0]) == _SPACES.sub("", normalise_space(title)):
        paragraphs.pop(0)  # the page repeats its title as the first line of the body
    return normalise_space(title), paragraphs, n_body


def clean_text(raw_text: str, fmt: str, sidecar_title: str | None = None) -> tuple[str, list[str]]:
    """Return (title, paragraphs) for a decoded article of format 'html' or 'text'."""
    title, paragraphs, _ = _clean(raw_text, fmt, sidecar_title)
    return title, paragraphs


def compose_text(title: str, paragraphs: list[str] | tuple[str, ...]) -> str:
    """The stored text: title on line one, then one paragraph per line."""
    return "\n".join([title, *paragraphs])


def clean_document(raw: RawDocument, limits: Limits = Limits()) -> CleanDocument:
    """Clean one decoded document. Raises `Rejected` when nothing of an article remains.

    A page whose body is all scripts, styles and chrome is rejected even when its <title> or
    sidecar gives a title: a title alone is not an article. The paragraph limit applies to the
    title too (a plain-text file's first line is its title).
    """
    title, paragraphs, n_body = _clean(raw.text, raw.format, raw.sidecar.title)
    if n_body == 0:
        raise Rejected("no_text", "no visible text after removing markup, scripts and styles")
    longest = max([len(title), *(len(p) for p in paragraphs)])
    if longest > limits.max_paragraph_chars:
        raise Rejected(
            "paragraph_too_long",
            f"a paragraph of {longest} characters is over the limit of {limits.max_paragraph_chars}",
        )
    text = compose_text(title, paragraphs)
    return CleanDocument(
        doc_id=raw.content_hash,
        title=title,
        paragraphs=tuple(paragraphs),
        text=text,
        script=detect_script(text),
    )
