"""Figures laid out in text tables: filing summaries and stock-data pages.

A page converted from a filing (主要会计数据, 单位:人民币千元) or a stock-data site puts its
figures in lines of cells split by a separator (a tab, a |): a header line of periods, then rows
of a label and numbers. Prose states each figure with its words; a table states it with its place,
so the reading is positional (tables.toml holds the words):

- the row's label is what is measured (其中:利息收入(元) -> 利息收入), and its metric;
- the column's header is when: a period written out (2024年第三季度), or the report's own
  (本报告期末, 上年度期末, 报告期, 上年同期: from the document's reporting period), or a change
  between the first two columns (本报告期末比上年度期末增减(%));
- the unit and scale come from the label's bracket ((元), (%)) or the 单位 line above the table;
  a figure per share stays in yuan;
- a level sits at a column's period end, a flow spans its period; the bank is the document's.

A label broken over two lines (归属于母公司股东的 / 股东权益) is joined. A table whose unit or
periods cannot be told is left to the prose reading.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from flows import metric_match
from flows.attribution import OTHER, index_names
from flows.context import PeriodHit, month_end, period_hits, scan_periods
from flows.dates import year_before
from flows.lexicon import TableWords, load_lexicon
from flows.models import DocContext, Mention
from flows.subject import phrasing

_LIST_MARK = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、])\s*")
_HAN = re.compile("[\u4e00-\u9fff]")


@dataclass(frozen=True)
class _Column:
    kind: str  # change | point | range
    begin: date | None
    finish: date | None
    pp: bool = False  # a change column in percentage points (变化百分点)


@dataclass(frozen=True)
class _Unit:
    unit: str  # a currency code or percent
    scale: int


def has_table(text: str) -> bool:
    """The cheap gate: separators enough for two rows, a 单位 line and a report's own column
    header (本报告期末, 上年同期: a table flattened to one line of words), or two column heads side
    by side, spaces apart (2022年 2021年: a table whose cells are spaces apart); most documents
    have none (the prose words 上年末, 同期 are common, 单位 is not: it is looked for first)."""
    words = load_lexicon().tables
    return any(text.count(sep) >= 2 * words.min_rows for sep in words.separators) or _may_be_flat(text, words) \
        or _spaced(text) or any(u in text for u in words.unit_markers) and (
            _bare_under_unit(text, words) or _AT_AMOUNT.search(text) is not None)


def _bare_under_unit(text: str, words: TableWords) -> bool:
    """A 单位 line and three bare cells after it (`_bare_rows` reads them)."""
    lines, _ = _lines(text)
    return any(_unit_line(line, words) and len(lines) > u + 3 and all(
        _bare_cell(x, words) for x in lines[u + 1:u + 4]) for u, line in enumerate(lines))


def _lines(text: str) -> tuple[list[str], list[int]]:
    """The lines of `text` and where each starts."""
    lines = text.split("\n")
    starts = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    return lines, starts


def _unit_line(line: str, words: TableWords) -> bool:
    return line.lstrip().startswith(words.unit_markers)


def _bare_cell(line: str, words: TableWords) -> bool:
    """A line that is one short cell: no clause mark or separator, not a 单位 line (the next table's)."""
    cell = line.strip()
    return 0 < len(cell) <= _BARE_LINE_MAX and _BARE_STOPS.isdisjoint(cell) and not _unit_line(cell, words)


def _may_be_flat(text: str, words: TableWords) -> bool:
    return any(w in text for w in words.unit_markers) and (
        _flat_gate().search(text) is not None or _dated_gate().search(text) is not None) \
        or _RULE in text and _spaced_gate().search(text) is not None  # 2024年度  2023年度 ----------


_RULE = "-----"  # a typed table's rule under its header (2025年上半年度 2024年度 2023年度 --------)
_RULE_TOKEN = re.compile(r"-{5,}")


@cache
def _dated_gate() -> re.Pattern:
    """Two years, then a change column's word, close together on one line: the header of a table
    flattened with its periods written out (2024 年 1-6 月 2023 年 1-6 月 增减变动幅度)."""
    change = "|".join(map(re.escape, dict(load_lexicon().tables.columns).get("change", ())))
    return re.compile(rf"(?:19|20)\d{{2}} ?年[^\n]{{0,16}}?(?:19|20)\d{{2}} ?年[^\n]{{0,16}}?(?:{change})")


@cache
def _number() -> re.Pattern:
    """A cell's figure: a number, signed or in brackets (an accountant's negative: (8,434)), and
    its percent sign, basis-point word (-7BP) or scale and currency word (1,362.90亿元, 0.64元), if
    the cell writes one."""
    words = load_lexicon().tables
    scales = "|".join(map(re.escape, words.scales))  # longest first
    bps = "|".join(map(re.escape, sorted(words.bp_words, key=len, reverse=True)))
    return re.compile(rf"\s*(?P<open>[(（])?(?P<num>[-−+]?\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|[-−+]?\d+(?:\.\d+)?)"
                      rf"(?(open)[)）])\s*(?:(?P<pct>%)|(?P<bp>{bps})|(?P<scale>{scales}))?\s*")  # (8,434): negative


@cache
def _flat_gate() -> re.Pattern:
    words = load_lexicon().tables
    heads = [h for kind, hs in words.columns if kind != "change" for h in hs]
    return re.compile("|".join(map(re.escape, sorted(heads, key=len, reverse=True))))


@cache
def _spaced_gate() -> re.Pattern:
    """Two column heads side by side, spaces apart, on one line (2022年 2021年, 本期 上年同期)."""
    words = load_lexicon().tables
    heads = [re.escape(h) for kind, hs in words.columns if kind != "change" for h in hs]
    head = "(?:" + "|".join([*words.spaced_heads, *heads]) + ")"
    return re.compile(rf"{head}[ \t\u3000]+{head}(?!\S)")  # literal-first: a fast scan


@cache
def _bank_header_gate() -> re.Pattern:
    """A line opening a bank table's header, spaces apart: 银行名称 资产总额(亿元) 增长率(%."""
    cells = "|".join(map(re.escape, load_lexicon().tables.bank_header_cells))
    return re.compile(rf"(?:{cells})[ \t\u3000]+[^\n]*?[(（]")  # literal-first: a fast scan


def _spaced(text: str) -> bool:
    """The text holds a table whose cells are spaces apart: two column heads side by side, or a
    line opening a bank table's header."""
    if _spaced_gate().search(text) is not None:
        return True
    return any(x.start() == 0 or text[x.start() - 1] == "\n" for x in _bank_header_gate().finditer(text))


def _rows(text: str, words: TableWords) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """(line start, line end, cell spans) of the lines split into at least min_cells cells: by a
    separator, or (in a text with a spaced header) by runs of spaces."""
    out = []
    pos = 0
    spaced = _spaced(text)
    stacked, taken = _stacked_rows(text, words)
    if any(u in text for u in words.unit_markers):
        bare, bare_taken = _bare_rows(text, words)
        stacked, taken = stacked + bare, taken | bare_taken
    for line in text.split("\n"):
        end = pos + len(line)
        if pos in taken:
            pos = end + 1
            continue
        flat = _flat_markdown(line)
        for a, b in flat if flat else ((0, len(line)),):
            row = _split_row(text, pos + a, line[a:b], words, spaced)
            if row is not None:
                out.append(row)
        pos = end + 1
    if stacked:
        out = sorted(out + stacked)
    return out


def _split_row(text: str, ls: int, line: str, words: TableWords, spaced: bool
               ) -> tuple[int, int, list[tuple[int, int]]] | None:
    """(line start, line end, cell spans) of `line` (starting at `ls` in `text`) when a separator
    (else, in a text with a spaced header, runs of spaces) splits it into enough cells."""
    end = ls + len(line)
    for sep in words.separators:
        if line.count(sep) >= words.min_cells - 1:
            cells = []
            a = ls
            for part in line.split(sep):
                cells.append((a, a + len(part)))
                a += len(part) + len(sep)
            if line.lstrip().startswith(sep):
                cells = cells[1:]  # | 淨資產收益率 (%) | 4.892 |: a markdown row opens with its separator
            while cells and not text[cells[-1][0]:cells[-1][1]].strip():
                cells.pop()  # and closes with it
            return (ls, end, cells) if len(cells) >= words.min_cells - 1 else None
    if spaced:
        cells = [(ls + x.start(), ls + x.end()) for x in _TOKEN.finditer(line)]
        if len(cells) >= words.min_cells:
            return ls, end, cells
    return None


_FLAT_DELIMITER = re.compile(r"\|\s*:?-{3,}:?\s*\|")  # | ---- |: a markdown table's delimiter row
_ROW_BREAK = re.compile(r"(?<=\|) +(?=\|)")  # …|94,200| |(+/-)%|…: one row ends, the next opens


def _flat_markdown(line: str) -> list[tuple[int, int]] | None:
    """A markdown table run into one line of prose (…财务摘要 |项目|2022A|…| | ---- | …| |营业收入
    (百万元)|70,570|…| [7] 投资建议 …): (start, end) of each of its rows within the line, from a
    row's first separator to its last; None when the line holds no such table."""
    if "-" not in line or _FLAT_DELIMITER.search(line) is None:
        return None
    rows = []
    a = 0
    for x in _ROW_BREAK.finditer(line):
        rows.append((a, x.start()))
        a = x.end()
    rows.append((a, len(line)))
    if len(rows) < 3:
        return None  # a header, the delimiter and a row at least
    first_a, first_b = rows[0]
    rows[0] = (line.find("|", first_a, first_b), first_b)  # the prose before the table is no cell
    last_a, last_b = rows[-1]
    rows[-1] = (last_a, line.rfind("|", last_a, last_b) + 1)  # nor the prose after it
    return rows


_STACK_MIN = 6  # lines of one cell each that make a stacked table (a header and a row of two)


def _stacked_rows(text: str, words: TableWords) -> tuple[list[tuple[int, int, list[tuple[int, int]]]], set[int]]:
    """A table whose cells stand one to a line, each closed by a separator (a converter's pipe
    table: 招商银行 |, 3,374.88 |, -0.48% |): its rows regrouped as (first line start, last line
    end, cells), and the starts of the lines they take. A row is a label and as many figures as the
    first row holds; the lines before the first row are the header (with the labels' column or
    without it)."""
    lines: list[tuple[int, int]] = []  # (start, end) of a lone cell, or (-1, line start) for a break
    pos = 0
    for line in text.split("\n"):
        cell = _lone_cell(line, words)
        lines.append((pos + cell[0], pos + cell[1]) if cell is not None else (-1, pos))
        pos += len(line) + 1
    rows: list[tuple[int, int, list[tuple[int, int]]]] = []
    taken: set[int] = set()
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j][0] >= 0:
            j += 1
        if j - i >= _STACK_MIN:
            found = _regroup(text, lines[i:j])
            for cells in found:
                end = text.find("\n", cells[-1][1])
                rows.append((text.rfind("\n", 0, cells[0][0]) + 1, len(text) if end < 0 else end, cells))
            if found:
                for a, _ in lines[i:j]:
                    taken.add(text.rfind("\n", 0, a) + 1)
        i = j + 1
    return rows, taken


def _lone_cell(line: str, words: TableWords) -> tuple[int, int] | None:
    """(start, end) in `line` of its one cell when the line is a cell closed by a separator
    (招商银行 |, 2020年 | |), else None."""
    for sep in words.separators:
        k = line.find(sep)
        if k < 0 or line[k:].strip().strip(sep).strip():
            continue
        a = len(line) - len(line.lstrip())
        b = len(line[:k].rstrip())
        return (a, b) if b >= a else None  # a line of separators alone: an empty cell
    return None


def _regroup(text: str, cells: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The rows (header first) of a run of lone cells: a word then k figures is a row; a word then
    k empty cells (每股计 | | |) heads a section of rows and is passed over."""
    figure = [_number().fullmatch(text, a, b) is not None for a, b in cells]
    if True not in figure:
        return []
    first = figure.index(True) - 1  # the first row's label
    k = 0
    while first + 1 + k < len(cells) and figure[first + 1 + k]:
        k += 1
    if first < 1 or k < 1:
        return []
    header = [c for c in cells[:first] if c[1] > c[0]]
    if len(header) not in (k, k + 1):
        return []
    out = [header]
    i = first
    while i + 1 + k <= len(cells) and cells[i][1] > cells[i][0] and not figure[i]:
        row = cells[i + 1:i + 1 + k]
        if all(figure[i + 1:i + 1 + k]):
            out.append(cells[i:i + 1 + k])
        elif any(b > a for a, b in row):
            break
        i += 1 + k
    return out if len(out) > 2 else []


_BARE_LINE_MAX = 24  # a longer line is prose, not a cell
_BARE_STOPS = frozenset("。，,；;！？!?|\t")


def _bare_rows(text: str, words: TableWords) -> tuple[list[tuple[int, int, list[tuple[int, int]]]], set[int]]:
    """A table under its 单位 line whose cells stand one to a line with no separator (an HTML table
    a converter wrote out cell by cell: 时间 / 2010年 / … / 不良贷款余额 / 4336 / 4333 / …): its rows
    as `_stacked_rows` gives them (the header first; a heading between rows, (一)信用风险指标, as a
    row of its own). A row is a label and as many figures as the first row holds, and the line
    after them is not a figure (else the rows are wider than the first: the table is left unread
    from there)."""
    lines, starts = _lines(text)
    rows: list[tuple[int, int, list[tuple[int, int]]]] = []
    taken: set[int] = set()
    for u, line in enumerate(lines):
        if not _unit_line(line, words):
            continue
        cells: list[tuple[int, int]] = []
        figure: list[bool] = []
        for k in range(u + 1, len(lines)):
            if not _bare_cell(lines[k], words):
                break
            cell = lines[k].strip()
            a = starts[k] + len(lines[k]) - len(lines[k].lstrip())
            cells.append((a, a + len(cell)))
            figure.append(_number().fullmatch(text, a, a + len(cell)) is not None)
        found = _bare_regroup(cells, figure)
        for row in found:
            end = text.find("\n", row[-1][1])
            rows.append((text.rfind("\n", 0, row[0][0]) + 1, len(text) if end < 0 else end, row))
            taken.update(text.rfind("\n", 0, a) + 1 for a, _ in row)
    return rows, taken


def _bare_regroup(cells: list[tuple[int, int]], figure: list[bool]) -> list[list[tuple[int, int]]]:
    """The header, then the rows, of a run of bare cells (`_bare_rows`); [] when it holds no table."""
    first = next((i for i in range(len(cells) - 1) if not figure[i] and figure[i + 1]), -1)
    if first < 1:
        return []
    k = 0
    while first + 1 + k < len(cells) and figure[first + 1 + k]:
        k += 1
    if k < 2:
        return []
    out = [cells[:first]]
    i = first
    while i < len(cells) and not figure[i]:
        if i + 1 < len(cells) and figure[i + 1]:
            j = i + 1 + k
            if j > len(cells) or not all(figure[i + 1:j]) or j < len(cells) and figure[j]:
                break
            out.append(cells[i:j])
            i = j
        else:
            out.append([cells[i]])  # (一)信用风险指标: a heading between rows
            i += 1
    return out if sum(len(r) > 1 for r in out) >= 2 else []


def table_rows(text: str) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """(line start, line end, cell spans) of the lines of `text` that hold table cells: found once a
    page, for `header_frame` and `table_mentions`."""
    return _rows(text, load_lexicon().tables)


def header_frame(rows: list[tuple[int, int, list[tuple[int, int]]]], m: str, ctx: DocContext) -> PeriodHit | None:
    """The period of the first figure column of the page's first table whose header writes its
    periods out (指标 | 2024年 | 同比变化): a results summary's reporting period, for a page
    whose prose states none. `rows`: `table_rows` of the page."""
    words = load_lexicon().tables
    for ls, _, cells in rows:
        cols = _header(m, cells, ctx, None, words)
        first = next((c for c in cols or () if c is not None and c.kind != "change"), None)
        if first is not None and first.finish is not None:
            return PeriodHit(ls, ls, first.kind, first.begin, first.finish, "table")
    return None


def table_mentions(text: str, m: str, ctx: DocContext, frame: PeriodHit | None, entity: str | None,
                   rows: list[tuple[int, int, list[tuple[int, int]]]], periods: list[PeriodHit]) -> list[Mention]:
    """The figures of every table in `text` (m: its matching copy), in text order. `frame`: the
    document's reporting period (for 本报告期末 and the like); `entity`: the document's bank;
    `rows`: `table_rows` of the page; `periods`: its period phrases (flows.context.period_hits)."""
    lex = load_lexicon()
    words = lex.tables
    if len(rows) < words.min_rows + 1:
        rows = []
    out: list[Mention] = []
    header: list[_Column | None] | None = None  # columns of periods
    measures: list[_Measure | None] | None = None  # or columns of measures, a bank to a row
    header_end = -1
    table_unit = None
    above: tuple[str, str, str | None] | None = None  # the last row's measure (subject, its matching copy, bank)
    group = ""  # the group of banks the table's title names (商业银行主要监管指标情况表)
    for k, (ls, le, cells) in enumerate(rows):
        columns = _header(m, cells, ctx, frame, words)
        named = _measure_header(text, m, cells, words) if columns is None else None
        if columns is not None or named is not None:
            header, measures, header_end = columns, named, le
            table_unit = _unit_above(m, ls, words)
            group = _titled_group(text, m, ls) if entity is None else ""
            above = None
            continue
        if header is None and measures is None:
            continue
        if m.count("\n", header_end, ls) > _gap_allowed(m, header_end, ls):
            header = measures = None  # prose between: the table ended
            continue
        header_end = le  # the table goes on (a row of figures or of words: 公司类型 | 银行 | …)
        if measures is not None:
            out.extend(_bank_row(text, m, cells, measures, frame, table_unit, ls, le))
            continue
        assert header is not None
        label = _label(text, m, cells, ls, rows[k - 1][1] if k else -1)
        growth = label is None and above is not None and m[cells[0][0]:cells[0][1]].strip() in words.growth_rows
        if growth:
            # 营业收入(百万元) | 70,570 | … then (+/-)% | 9.1% | …: the growth of the row above
            assert above is not None
            for col, x in _figures(m, cells, header):
                if col.kind != "change":
                    change = _Column("change", None, col.finish)
                    mention = _cell(text, x, change, [change], _Unit("percent", 1), above[0] + words.growth_suffix,
                                    above[1], ls, le, above[2])
                    if mention is not None:
                        out.append(mention)
            continue
        if label is None:
            heading = m[cells[0][0]:cells[0][1]].strip()
            if heading and not any(_number().fullmatch(m, ca, cb) for ca, cb in cells[1:]):
                # 全年经营成果(人民币百万元) | (经重述) | …: a section row stating the unit of the rows below
                table_unit = _section_unit(heading, words) or table_unit
            continue
        subject, label_m, (lab_a, lab_b) = label
        unit = _row_unit(m[lab_a:lab_b].strip(), table_unit, words)
        row_entity = entity
        bank = _bank_at(label_m)
        if bank is not None and bank[0] < len(label_m):  # 中信银行营业收入(亿元): the bank's row
            row_entity, subject, label_m = bank[1], subject[bank[0]:], label_m[bank[0]:]
        above = (subject, label_m, row_entity)
        # 0.76% | 0.77% | (0.01): a change cell without its % in a row of percents is in points
        rates = any("%" in m[ca:cb] for ca, cb in cells[1:len(header) + 1])
        for col, x in _figures(m, cells, header):
            shown = group + subject if row_entity is None and not subject.startswith(group) else subject
            mention = _cell(text, x, col, header, unit, shown,
                            label_m, ls, le, row_entity,
                            pp=rates and col.kind == "change" and not x.group("pct"))
            if mention is not None:
                out.append(mention)
    if any(u in m for u in words.unit_markers):
        out.extend(_labelled_lines(text, m, ctx, frame, entity, words))
    if _may_be_flat(m, words):
        read = [(x.sentence_start, x.sentence_start + len(x.sentence)) for x in out]
        out.extend(x for x in _flat_mentions(text, m, ctx, frame, entity, words, periods)
                   if not any(a <= x.char_start < b for a, b in read))  # a tab row is read once
        out.sort(key=lambda x: x.char_start)
    return out


def _titled_group(text: str, m: str, ls: int) -> str:
    """The group of banks the title line above a table (and its 单位 line) opens with, as written
    (商业银行 of 商业银行主要监管指标情况表: the figures are the group's), else ""."""
    words = load_lexicon().tables
    k = ls
    for _ in range(2):
        a = m.rfind("\n", 0, max(k - 1, 0)) + 1 if k > 0 else 0
        line = m[a:k].strip()
        if line and not line.startswith(words.unit_markers):
            lead = phrasing().group_lead
            for n in range(min(len(line), 16), 1, -1):
                if lead.fullmatch(line, 0, n):  # the longest
                    s = a + len(m[a:k]) - len(m[a:k].lstrip())
                    return text[s:s + n]
            return ""
        k = a
        if k == 0:
            break
    return ""


_LABELLED = re.compile(r"[ \t]*(?P<label>[^\n:：。；;，,]{2,40})[:：](?P<rest>[^\n]+)")
_AT_AMOUNT = re.compile(r"为 ?(?P<num>[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?)(?!\d|[.,]\d|%)")
_LABELLED_REACH = 40  # lines under a 单位 line read as its figures, at most


def _labelled_lines(text: str, m: str, ctx: DocContext, frame: PeriodHit | None, entity: str | None,
                    words: TableWords) -> list[Mention]:
    """A filing's table rewritten as a line a row under its 单位 line (a securities site's notice:
    单位:人民币千元 / 营业收入:2025年7-9月为6,387,313,本报告期比上年同期增减变动幅度-2.73%;2025年1-9月为
    19,831,464,…): each bare amount after 为 is the label's figure for the period written right
    before it, in the 单位 line's unit (the rates beside it are read as prose)."""
    out: list[Mention] = []
    lines, starts = _lines(m)
    for u, line in enumerate(lines):
        unit = _unit_in(line, words) if _unit_line(line, words) else None
        if unit is None or unit.unit == "percent":
            continue
        for k in range(u + 1, min(len(lines), u + 1 + _LABELLED_REACH)):
            if _unit_line(lines[k], words):
                break  # the next table's
            pos = starts[k]
            le = pos + len(lines[k])
            y = _LABELLED.match(m, pos, le)
            if y is not None:
                raw, raw_m = _clean_label(text[y.start("label"):y.end("label")].strip(),
                                          m[y.start("label"):y.end("label")].strip(), words)
                rest = y.start("rest")
                for z in _AT_AMOUNT.finditer(m, rest, le):
                    seg = max(rest, *(m.rfind(c, rest, z.start()) + 1 for c in "，,；;。"))
                    col = _column(m[seg:z.start()].strip(), ctx, frame, words)
                    x = _number().fullmatch(m, z.start("num"), z.end("num"))
                    if col is None or x is None or not raw:
                        continue
                    mention = _cell(text, x, col, [col], unit, raw, raw_m, seg, z.end(), entity)
                    if mention is not None:
                        out.append(mention)
    return out


def _figures(m: str, cells: list[tuple[int, int]], header: list[_Column | None]
             ) -> list[tuple[_Column, re.Match[str]]]:
    """(column, number) of each cell of a row of figures under a dated column."""
    out = []
    for j, (ca, cb) in enumerate(cells[1:len(header) + 1]):
        col = header[j]
        x = _number().fullmatch(m, ca, cb) if col is not None else None
        if x is not None and col is not None:
            out.append((col, x))
    return out


@dataclass(frozen=True)
class _Measure:
    subject: str  # as written, without its unit bracket
    subject_m: str
    unit: _Unit | None  # from its bracket: 营业收入(亿元)
    change: bool  # 营业收入增速: a growth rate


def _measure_header(text: str, m: str, cells: list[tuple[int, int]], words: TableWords
                    ) -> list[_Measure | None] | None:
    """The measures a header names when its rows are banks (银行名称 | 营业收入(亿元) | 营业收入增速):
    its first cell names the banks' column (tables.toml bank_columns), the others what is
    measured; None for any other line."""
    first = m[cells[0][0]:cells[0][1]].strip()
    if not any(w in first for w in words.bank_columns) or len(cells) < 2:
        return None
    out: list[_Measure | None] = []
    for a, b in cells[1:]:
        cell, cell_m = text[a:b].strip(), m[a:b].strip()
        if not cell_m:
            out.append(None)
            continue
        if not _HAN.search(cell_m) or _number().fullmatch(cell_m):
            return None
        unit = _label_unit(cell_m, words)
        bracket = _BRACKET_END.search(cell_m) if unit is not None else None
        if bracket is not None:
            cell, cell_m = cell[:bracket.start()].strip(), cell_m[:bracket.start()].strip()
        change = any(w in cell_m for w in words.growth_words)
        before = out[-1] if out else None
        if change and before is not None and not before.change and _only_growth(cell_m, words):
            # 资产总额(亿元) 增长率(%): a growth column naming no measure is the growth of the one before
            cell, cell_m = before.subject, before.subject_m
        out.append(_Measure(cell, cell_m, _row_unit(f"({unit})", None, words) if unit else None, change))
    return out if any(x is not None for x in out) else None


_UNIT_BRACKET = re.compile(r"[(（][^()（）]*[)）]?$")  # (%) closing a header cell, or (% cut off


def _only_growth(cell_m: str, words: TableWords) -> bool:
    """The header cell holds a growth word and nothing else but a unit bracket (增长率(%, 同比增速)."""
    rest = _UNIT_BRACKET.sub("", cell_m)
    for w in sorted(words.growth_words, key=len, reverse=True):
        rest = rest.replace(w, "")
    return not _HAN.search(rest)


def _bank_at(label_m: str) -> tuple[int, str | None] | None:
    """(end, code) of the bank naming the start of a row label (招商银行; a bank outside the
    registry: code None), or None."""
    hits = index_names(label_m)
    if hits and hits[0][0] == 0:
        return hits[0][1], None if hits[0][2] == OTHER else hits[0][2]
    if len(label_m) <= _BANK_NAME_MAX and label_m.endswith(load_lexicon().attribution.other_bank_suffixes):
        return len(label_m), None  # 示例银行: a bank outside the registry
    return None


_BANK_NAME_MAX = 12  # a longer label ending in 银行 is a phrase, not a bank's name
_SHARE_CLASS = re.compile(r"[(（][AH+]{1,3}[)）]$")


def _bank_row(text: str, m: str, cells: list[tuple[int, int]], measures: list[_Measure | None],
              frame: PeriodHit | None, table_unit: _Unit | None, ls: int, le: int) -> list[Mention]:
    """The figures of a row of a bank table (招商银行 | 3,374.88 | -0.48%): each cell is its
    column's measure for the row's bank, over the document's reporting period."""
    a, b = cells[0]
    label_m = _SHARE_CLASS.sub("", m[a:b].strip())  # 北京银行(A), 重庆银行(A+H): where it is listed
    bank = _bank_at(label_m)
    if bank is None or bank[0] < len(label_m):
        return []  # a row that is no bank (合计, 行业平均)
    out: list[Mention] = []
    for j, (ca, cb) in enumerate(cells[1:len(measures) + 1]):
        measure = measures[j]
        x = _number().fullmatch(m, ca, cb) if measure is not None else None
        if x is None or measure is None:
            continue
        num = _signed(x)
        unit = measure.unit or table_unit
        if x.group("pct") or measure.change or unit is not None and unit.unit == "percent":
            value, unit_code = num, "percent"
        elif unit is None:
            continue
        else:
            value, unit_code = num * unit.scale, unit.unit
        rule = metric_match.match(measure.subject_m, unit_code, "change" if measure.change else "level")
        kind = "change" if measure.change else "flow" if rule is not None and rule.nature == "flow" else "level"
        start = frame.begin if frame is not None and kind == "flow" else None
        end = frame.finish if frame is not None else None
        s, e = _surface(x)
        out.append(Mention(s, e, text[s:e], text[ls:le], ls, value, unit_code, None, "exact", kind, start, end,
                           measure.subject, rule.key if rule is not None else None, bank[1]))
    return out


_TOKEN = re.compile(r"\S+")


def _flat_mentions(text: str, m: str, ctx: DocContext, frame: PeriodHit | None, entity: str | None,
                   words: TableWords, periods: list[PeriodHit]) -> list[Mention]:
    """A table flattened to words separated by spaces (a PDF's 主要财务数据 copied as one line):
    a header run of column names (项目 本报告期 上年同期 本报告期比上年同期增减(%)), then rows of
    a label and one cell per column, until the run breaks. Only the report's own column names
    open such a header (a run of bare years is too common in prose)."""
    out: list[Mention] = []
    table_unit = None
    pos = 0
    cols: list[_Column | None] | None = None  # a table goes on over a line break (a PDF's page end)
    misses = 0
    # a period phrase written over several words (2024 年 1-6 月) is one header cell
    dates = {p.start: p.end for p in periods} if _dated_gate().search(m) else {}
    for line in m.split("\n"):
        toks = _merged([(x.start() + pos, x.end() + pos) for x in _TOKEN.finditer(line)], dates)
        base = pos
        pos += len(line) + 1
        i = 0
        while i < len(toks):
            run = _flat_header(m, toks, i, ctx, frame, words)
            if run is not None:
                cols, i = run
                unit = _unit_in(m[max(base, toks[max(0, i - 12)][0]):toks[i - 1][1]], words)
                table_unit = unit or _unit_above(m, toks[i - 1][0], words) or table_unit
                continue
            if cols is None:
                i += 1
                continue
            row = _flat_row(m, toks, i, len(cols), words)
            if row is None:
                misses += 1
                if misses > words.flat_skip:
                    cols = None  # the run broke: the table ended
                i += 1
                continue
            misses = 0
            (la, lb), cells, i = row
            subject, label_m = _clean_label(text[la:lb], m[la:lb], words)
            if not subject:
                continue
            unit = _row_unit(m[la:lb], table_unit, words)
            row_end = cells[-1][3]
            for j, (ca, cb, sign, cell_end) in enumerate(cells):
                col = cols[j]
                if col is None:
                    continue
                x = _number().fullmatch(m, ca, cb)
                if x is None:
                    continue
                mention = _cell(text, x, col, cols, unit, subject, label_m, la, row_end, entity,
                                pp=sign != 0, negative=sign < 0, surface_end=cell_end)
                if mention is not None:
                    out.append(mention)
    return out


def _merged(toks: list[tuple[int, int]], dates: dict[int, int]) -> list[tuple[int, int]]:
    """The tokens with the words of each period phrase that starts at a token joined into one."""
    if not dates:
        return toks
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        a, b = toks[i]
        end = dates.get(a, b)
        while i + 1 < len(toks) and toks[i + 1][1] <= end:
            i += 1
        out.append((a, max(b, toks[i][1])))
        i += 1
    return out


def _flat_header(m: str, toks: list[tuple[int, int]], i: int, ctx: DocContext, frame: PeriodHit | None,
                 words: TableWords) -> tuple[list[_Column | None], int] | None:
    """(columns, the token after them) when a run of at least two report column names starts at
    token i (after an optional 项目-like first word that names no column)."""
    cols: list[_Column | None] = []
    k = i
    first = m[toks[k][0]:toks[k][1]]
    if k + 1 < len(toks) and _column(first, ctx, frame, words, explicit=" " in first.strip()) is None:
        k += 1  # 项目: the labels' column (not a period written over several words)
    dated = 0
    while k < len(toks):
        cell = m[toks[k][0]:toks[k][1]]
        if _number().fullmatch(cell):
            break
        col = _column(cell, ctx, frame, words, explicit=False)
        if col is None and " " in cell.strip():  # a period written over several words: 2024 年 1-6 月
            col = _column(cell, ctx, frame, words)
            dated += col is not None
        if col is None:
            break
        cols.append(col)
        k += 1
    if not cols and k < len(toks):
        # 2025年上半年度 2024年度 2023年度 -----------: periods written out side by side head a
        # typed table when a rule runs under them
        j = k
        ruled: list[_Column | None] = []
        while j < len(toks) and (col := _column(m[toks[j][0]:toks[j][1]], ctx, frame, words)) is not None:
            ruled.append(col)
            j += 1
        if len(ruled) >= 2 and j < len(toks) and _RULE_TOKEN.fullmatch(m, *toks[j]):
            return _compared(ruled), j + 1
    if len(cols) < 2 or not any(c.kind != "change" for c in cols if c is not None):
        return None
    if dated and not any(c.kind == "change" for c in cols if c is not None):
        return None  # written-out periods side by side head a table only with a change column
    return _compared(cols), k


def _flat_row(m: str, toks: list[tuple[int, int]], i: int, n: int, words: TableWords
              ) -> tuple[tuple[int, int], list[tuple[int, int, int, int]], int] | None:
    """(label span, n cells as (start, end, pp sign: 0, or -1/+1 for 下降/上升 x 个百分点, the end
    of the cell's words), the token after the row) for a row starting at token i: its label is
    the last word before the figures (a page number or a broken header word before it is not)."""
    k = i
    while k < len(toks) and not _number().fullmatch(m, *toks[k]) and not _direction(m, toks, k, words):
        if _flat_gate().search(m, *toks[k]):
            return None  # a column name: a header comes, no row
        k += 1
    if k == i or k >= len(toks):
        return None
    label = toks[k - 1]
    if not _HAN.search(m, *label):
        return None
    cells: list[tuple[int, int, int, int]] = []
    while len(cells) < n and k < len(toks):
        a, b = toks[k]
        sign = _direction(m, toks, k, words)
        if sign:
            cells.append((toks[k + 1][0], toks[k + 1][1], sign, toks[k + 2][1]))
            k += 3
        elif _number().fullmatch(m, a, b):
            cells.append((a, b, 0, b))
            k += 1
        else:
            return None
    if len(cells) < n:
        return None
    return label, cells, k


def _direction(m: str, toks: list[tuple[int, int]], k: int, words: TableWords) -> int:
    """-1 or +1 when tokens k..k+2 read 下降 1.53 个百分点 (a change cell written out), else 0."""
    if k + 2 >= len(toks) or not _number().fullmatch(m, *toks[k + 1]) \
            or m[toks[k + 2][0]:toks[k + 2][1]] not in words.pp_words:
        return 0
    w = m[toks[k][0]:toks[k][1]]
    return -1 if w in words.down_words else 1 if w in words.up_words else 0


def _gap_allowed(m: str, a: int, b: int) -> int:
    """Newlines allowed between rows: one, plus one per label line carried over (归属于母公司股东的)."""
    n = 1
    for line in m[a:b].split("\n")[1:-1]:
        if line.strip() and not any(ch.isdigit() for ch in line) and len(line.strip()) <= 20:
            n += 1
    return n


def _header(m: str, cells: list[tuple[int, int]], ctx: DocContext, frame: PeriodHit | None,
            words: TableWords) -> list[_Column | None] | None:
    """The columns a header line names (a first cell naming none, 项目, is the labels' column),
    or None when the line is no header (fewer than two columns named, or figures in it)."""
    years = _year_heads(m, cells)
    if years is not None:
        return years  # 2007 | 2006 | 2005: a summary table's bare years
    quarters = _quarter_heads(m, cells)
    if quarters is not None:
        return quarters  # 2010年 | 2011年 over 四季度 | 一季度 | 二季度 | 三季度
    if any(_number().fullmatch(m, a, b) for a, b in cells):
        return None  # a row of figures (its label is not period-scanned for nothing)
    cols: list[_Column | None] = []
    named = 0
    for a, b in cells:
        cell = m[a:b].strip()
        if not cell:
            continue
        col = _column(cell, ctx, frame, words)
        if col is None and not cols:
            continue  # 项目: the labels' column
        cols.append(col)
        named += col is not None
    if named < 2:
        return None
    return _compared(cols)


_BARE_YEAR = re.compile(r"\s*((?:19|20)\d\d)[AE]?\s*")  # 2024E, 2022A: a broker's forecast, actual


def _year_heads(m: str, cells: list[tuple[int, int]]) -> list[_Column | None] | None:
    """Year columns when every cell that is not empty, after the labels' heading (项目), is a bare
    year and they run one year apart (2007 | 2006 | 2005, 项目 | 2022A | 2023A | 2024E): the
    financial years of a report's summary table or a broker's forecast; else None."""
    years: list[int] = []
    for a, b in cells:
        if m[a:b].strip():
            x = _BARE_YEAR.fullmatch(m, a, b)
            if x is None:
                if years or _number().fullmatch(m, a, b) is not None:
                    return None
                continue  # 项目: the labels' column
            years.append(int(x.group(1)))
    if len(years) < 2 or {y - z for y, z in zip(years, years[1:])} not in ({1}, {-1}):
        return None
    return [_Column("range", date(y, 1, 1), date(y, 12, 31)) for y in years]


_YEAR_CELL = re.compile(r"\s*((?:19|20)\d\d)年\s*")
_QUARTER_CELL = re.compile(r"\s*第?([一二三四1-4])季度?\s*|\s*Q([1-4])\s*")
_QUARTER_NO = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _quarter_heads(m: str, cells: list[tuple[int, int]]) -> list[_Column | None] | None:
    """Quarter columns under year heads (2010年 | 2011年 then 四季度 | 一季度 | 二季度 | 三季度): the
    years in turn, the next one where the quarters start again; each column runs from its year's
    start to its quarter's end (a flow is the year to date). None unless the years are all used."""
    years: list[int] = []
    quarters: list[int] = []
    for a, b in cells:
        year_cell = _YEAR_CELL.fullmatch(m, a, b)
        quarter_cell = _QUARTER_CELL.fullmatch(m, a, b) if year_cell is None else None
        if year_cell is not None:
            if quarters:
                return None  # a year after the quarters: not a header of this shape
            years.append(int(year_cell.group(1)))
        elif quarter_cell is not None:
            quarters.append(_QUARTER_NO[quarter_cell.group(1) or quarter_cell.group(2)])
        elif _number().fullmatch(m, a, b) is not None:
            return None
    if not years or len(quarters) < 2:
        return None
    out: list[_Column | None] = []
    n = 0
    for j, q in enumerate(quarters):
        if j and q <= quarters[j - 1]:
            n += 1
        if n >= len(years):
            return None
        y = years[n]
        out.append(_Column("range", date(y, 1, 1), month_end(y, 3 * q)))
    return out if n == len(years) - 1 else None


def _compared(cols: list[_Column | None]) -> list[_Column | None]:
    """The columns with each change column dated: it compares the first two columns that hold
    figures (from the second's end to the first's), or ends with the only one."""
    figures = [c for c in cols if c is not None and c.kind != "change"]
    if not figures:
        return cols
    # one column of figures (指标 | 2024年 | 同比变化): the change is over the year to its end
    before = figures[1].finish if len(figures) > 1 else None
    return [_Column("change", before, figures[0].finish, c.pp) if c is not None and c.kind == "change"
            else c for c in cols]


def _column(cell: str, ctx: DocContext, frame: PeriodHit | None, words: TableWords,
            explicit: bool = True) -> _Column | None:
    for kind, heads in words.columns:
        if not any(h in cell for h in heads):
            continue
        if kind == "change":
            return _Column("change", None, None, any(w in cell for w in words.pp_words))
        if frame is None or frame.finish is None:
            return None
        f, b = frame.finish, frame.begin
        if kind == "report_end":
            return _Column("point", None, f)
        if kind == "prev_year_end":
            return _Column("point", None, date(f.year - 1, 12, 31))
        if kind == "report_period":
            return _Column("range", b, f)
        return _Column("range", year_before(b) if b else None, year_before(f))  # prev_same_period
    if not explicit:
        return None
    hits, _ = period_hits(cell, ctx, scan_periods(cell))
    hits = [h for h in hits if h.finish is not None and h.type in ("point", "range")]
    if not hits or any(h.finish != hits[0].finish for h in hits):
        return None  # no period, or two (2023年 2024年 in one cell); 2025/06 - 中期 is one
    h = hits[0]
    return _Column("point" if h.type == "point" else "range", h.begin, h.finish)


def _label(text: str, m: str, cells: list[tuple[int, int]], ls: int, prev_row_end: int
           ) -> tuple[str, str, tuple[int, int]] | None:
    """(subject as written, its matching copy, the label cell's span) of a row of figures; a line
    of label words alone right above it (a label broken in two) opens the label."""
    a, b = cells[0]
    if not _HAN.search(m, a, b) or not any(_number().fullmatch(m, ca, cb) for ca, cb in cells[1:]):
        return None
    words = load_lexicon().tables
    lead = ""
    lead_m = ""
    above = m.rfind("\n", 0, ls - 1) + 1 if ls > 0 else 0
    if ls > 0 and above > prev_row_end:
        line = m[above:ls - 1]
        if line.strip() and not any(ch.isdigit() for ch in line) and not any(s in line for s in words.separators):
            lead, lead_m = text[above:ls - 1].strip(), line.strip()
    raw, raw_m = _clean_label(lead + text[a:b].strip(), lead_m + m[a:b].strip(), words)
    return (raw, raw_m, (a, b)) if raw else None


def _clean_label(raw: str, raw_m: str, words: TableWords) -> tuple[str, str]:
    """The label as a subject: no list mark or lead (一、, 其中:), no footnote number ((1)), no unit
    in its closing bracket ((元) goes, (%,加权平均) -> (加权平均))."""
    mark = _LIST_MARK.match(raw_m)
    if mark:
        raw, raw_m = raw[mark.end():], raw_m[mark.end():]
    for w in words.label_leads:
        if raw_m.startswith(w):
            raw, raw_m = raw[len(w):], raw_m[len(w):]
            break
    note = _NOTE_END.search(raw_m)
    if note is not None:  # 平均总资产回报率(1): a footnote's number
        raw, raw_m = raw[:note.start()], raw_m[:note.start()]
    x = _BRACKET_END.search(raw_m)
    unit = _label_unit(raw_m, words)
    if x is not None and unit is not None:
        items = _ITEM_SEP.split(raw_m[x.start(1):x.end(1)])
        if len(items) > 1:  # (%,加权平均), (归母,百万元): the unit and its comma go
            k = items.index(unit)
            a = x.start(1) + sum(len(w) + 1 for w in items[:k])
            b = a + len(unit) + 1 if k < len(items) - 1 else a + len(unit)
            if k == len(items) - 1:
                a -= 1  # the comma before a closing unit
            raw, raw_m = raw[:a] + raw[b:], raw_m[:a] + raw_m[b:]
        else:  # (元): the bracket goes
            raw, raw_m = raw[:x.start()], raw_m[:x.start()]
    return raw.strip(), raw_m.strip()


_BRACKET_END = re.compile(r"[(（]([^()（）]{1,24})[)）]$")
_NOTE_END = re.compile(r"\s*[(（]\d{1,2}[)）]$")
_ITEM_SEP = re.compile("[,，、]")


def _label_unit(label_m: str, words: TableWords) -> str | None:
    """The unit a label's closing bracket states first ((元), (千元), (%), (%,加权平均)), or None."""
    x = _BRACKET_END.search(label_m)
    if x is None:
        return None
    for item in _ITEM_SEP.split(x.group(1)):  # (%,加权平均), (归母,百万元)
        if item == "%" or item in words.scales or item.endswith(tuple(words.scales)):
            return item
    return None


def _unit_above(m: str, pos: int, words: TableWords) -> _Unit | None:
    """The unit a 单位 line in the few lines above the table states (单位:人民币千元)."""
    floor = pos
    for _ in range(6):
        floor = m.rfind("\n", 0, max(0, floor - 1)) + 1
        if floor <= 0:
            break
    return _unit_in(m[floor:pos], words)


@cache
def _unit_pattern() -> re.Pattern:
    words = load_lexicon().tables
    marks = "|".join(map(re.escape, words.unit_markers))
    cur = "|".join(map(re.escape, sorted(words.currencies, key=len, reverse=True)))
    scale = "|".join(map(re.escape, words.scales))
    return re.compile(rf"(?:{marks})\s*[:：]?\s*(?P<cur>{cur})?\s*(?P<scale>{scale})")


def _unit_in(s: str, words: TableWords) -> _Unit | None:
    x = _unit_pattern().search(s)
    if x is None:
        return None
    return _Unit(words.currencies.get(x.group("cur") or "", "CNY"), words.scales[x.group("scale")])


def _bracket_unit(inner: str, words: TableWords) -> tuple[str | None, int | None]:
    """(currency code, scale) a unit bracket's words state (人民币百万元: CNY, 10^6), each None
    when it states none."""
    cur = next((v for k, v in words.currencies.items() if k in inner), None)
    scale = next((v for k, v in words.scales.items() if inner.endswith(k)), None)
    return cur, scale


def _section_unit(label_m: str, words: TableWords) -> _Unit | None:
    """The unit a section row's closing bracket states with a currency and a scale (人民币百万元);
    None for a bare scale or a percent, which a label of its own would say."""
    cur, scale = _bracket_unit(_label_unit(label_m, words) or "", words)
    return _Unit(cur, scale) if cur is not None and scale is not None else None


def _row_unit(label_m: str, table_unit: _Unit | None, words: TableWords) -> _Unit | None:
    inner = _label_unit(label_m, words) or ""
    if inner == "%":
        return _Unit("percent", 1)
    per_share = any(w in label_m for w in words.per_share)
    if inner:
        cur, scale = _bracket_unit(inner, words)
        if cur is None:
            cur = table_unit.unit if table_unit else "CNY"
        return _Unit(cur, 1 if per_share or scale is None else scale)
    bare = _BRACKET_END.sub("", label_m).strip()
    if bare in words.multiples:
        return _Unit("times", 1)  # 市净率 | 0.87 | 0.69: a valuation multiple
    if bare.endswith(words.ratio_endings):
        return _Unit("percent", 1)  # 普通股權一級資本比率 14.3 14.2: a ratio, in percent, whatever the table's unit
    if table_unit is None:
        return None
    return _Unit(table_unit.unit, 1) if per_share else table_unit


def _signed(x: re.Match) -> Decimal:
    """A cell's number, negative when written in brackets ((8,434))."""
    num = Decimal(x.group("num").replace(",", "").replace("−", "-"))
    return -num if x.group("open") else num


def _surface(x: re.Match) -> tuple[int, int]:
    """Where a cell's figure is written: its brackets, % sign, basis-point or scale word included."""
    s, e = x.span("num")
    if x.group("open"):
        s, e = x.start("open"), e + 1  # (8,434)
    return s, max(e, x.end("pct"), x.end("bp"), x.end("scale"))  # 3.5%, -7BP, 1,362.90亿元


def _cell(text: str, x: re.Match, col: _Column, cols: list[_Column | None], unit: _Unit | None, subject: str,
          label_m: str, ls: int, le: int, entity: str | None, pp: bool = False,
          negative: bool = False, surface_end: int = -1) -> Mention | None:
    grouped = "," in x.group("num")
    num = _signed(x)
    pct = bool(x.group("pct"))
    scale = x.group("scale")
    if x.group("bp"):  # -7BP
        value, unit_code = num / 100, "pp"
    elif pp or col.pp:  # 下降 1.53 个百分点, a 变化百分点 column
        value, unit_code = num * (-1 if negative else 1), "pp"
    elif scale:  # 1,362.90亿元 (a table's currency, else the yuan)
        value, unit_code = num * load_lexicon().tables.scales[scale], unit.unit if unit is not None \
            and unit.unit != "percent" else "CNY"
    elif col.kind == "change" or pct:
        if grouped:
            return None  # 604,815,988 under a change column: the header was misread, no rate
        value, unit_code = num, "percent"
    elif unit is None:
        return None
    else:
        value, unit_code = num * unit.scale, unit.unit
    if col.kind == "change":
        kind = "change"
    elif unit_code in ("percent", "pp"):
        kind = "level"
    elif col.kind == "point" or unit_code == "times" \
            or _BRACKET_END.sub("", label_m).endswith(load_lexicon().tables.stock_endings):
        kind = "level"  # 每股净资产 | 9.19, 市净率 | 0.87: a balance or a multiple, at its year's end
    else:
        kind = "flow"
    rule = metric_match.match(label_m, unit_code, kind)
    if col.kind == "change":
        current = next((c for c in cols if c is not None and c.kind != "change"), None)
        start = col.begin if current is not None and current.kind == "point" else None
        end = col.finish
    elif kind == "level":
        start, end = (col.begin if unit_code in ("percent", "pp") and col.kind == "range" else None), col.finish
    else:
        start, end = col.begin, col.finish
    s, e = _surface(x)
    if surface_end > e:
        e = surface_end  # 1.53 个百分点
    return Mention(s, e, text[s:e], text[ls:le], ls, value, unit_code, None, "exact", kind, start, end, subject,
                   rule.key if rule is not None else None, entity)
