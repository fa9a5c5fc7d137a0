"""Report: a static folder of HTML pages and PNG charts from the `rpt_` views, in Chinese first.

`render_report(con, out_dir, run_id)` writes into `out_dir`:

  index.html            the overview matrix (banks x main metrics, latest value and as-of date),
                        the review queue of disagreements (newest first), data quality
  disagreements.html    the whole queue (up to MAX_DISAGREEMENTS series): every stated value with
                        its sources, sentences and files
  metric-<key>.html     one page per metric: every bank's latest value (as-of date, qualifier,
                        conflict mark, evidence on click, move since the previous date) and a chart
                        of every bank's series
  bank-<entity>.html    one page per bank: its series charted, latest values, growth
  chart-*.png           the charts (matplotlib)

- Names come from the warehouse: bank short names (dim_institutions.short_name_zh), metric names
  (dim_metrics.name_zh, English beside or on hover). Figures read as articles write them (7.55亿,
  超15.5万亿元), dates as 2025年6月末 with 2025-06-30 beside (flows/display.py).
- Charts are drawn with a CJK font found through fontconfig (Debian: fonts-noto-cjk, Simplified
  Chinese faces first). Without one the charts fall back to English names and bank codes and every
  page says which package to install: never tofu boxes.
- Every piece of text from the warehouse (titles, sentences, paths, codes) is HTML-escaped; links
  are kept only for http(s) URLs. The pages have no script: evidence opens with <details>.
- Size stays bounded on any warehouse: MAX_* caps below, one query per view (the big ones into
  temporary tables first), charts capped at MAX_CHART_BANKS lines.
"""
from __future__ import annotations

import hashlib
import html
import re
import shutil
import subprocess
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import duckdb

from flows.display import (STOCK_UNITS, amount, column_label, exact, iso_date, labels, pct, signed,
                           zh_date, zh_period)

MAX_MATRIX_METRICS = 10     # columns of the overview matrix: the metrics most banks report
MAX_CHART_BANKS = 12        # lines in a metric's chart: the banks with the largest latest value
MAX_BANK_CHARTS = 6         # small multiples on a bank's page
MAX_DISAGREEMENTS = 200     # series on disagreements.html (the rest: rpt_disagreements)
MAX_DISAGREEMENTS_INDEX = 15
MAX_VALUES = 8              # distinct stated values shown per disagreement
MAX_EXAMPLES = 3            # sentences shown per stated value
MAX_ROWS = 200
FONT_PACKAGE = "fonts-noto-cjk"

_MARKERS = {"exact": "o", "approx": "s", "over": "^", "under": "v", "up_to": "v"}


def esc(value) -> str:
    """HTML-escape anything for text or attribute context; None is empty."""
    return "" if value is None else html.escape(str(value), quote=True)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


# --- fonts and charts ---------------------------------------------------------------------


def _font_rank(family: str) -> tuple:
    f = family.lower()
    simplified = any(t in f for t in (" sc", "sc ", "cn", "hans", "gb", "micro hei", "zen hei"))
    return (not simplified, "mono" in f, "serif" in f and "sans" not in f, family)


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, str] | None:
    """(family, file) of an installed font covering Simplified Chinese, or None.

    Asks fontconfig (`fc-list :lang=zh-cn`); Simplified Chinese sans faces first, so 户 and 银
    take their mainland shapes rather than the Japanese or Traditional ones of the same file.
    """
    if not shutil.which("fc-list"):
        return None
    try:
        out = subprocess.run(["fc-list", ":lang=zh-cn", "family", "style", "file"], capture_output=True,
                             text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    faces = []
    for line in out.splitlines():
        path, _, rest = line.partition(": ")
        families, _, style = rest.partition(":style=")
        if "bold" in style.lower() or not path.strip():
            continue
        for family in families.split(","):
            if family.strip():
                faces.append((family.strip(), path.strip()))
    if not faces:
        return None
    return min(faces, key=lambda fp: _font_rank(fp[0]))


def chart_font_rc() -> dict:
    """matplotlib rc settings that draw Chinese with the CJK font (registered from its file)."""
    font = cjk_font()
    if not font:
        return {}
    from matplotlib import font_manager

    family, path = font
    if family not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(path)
    return {"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}


def chart_label(text: str) -> str:
    """A label safe to draw: as is with a CJK font, else ASCII only (no tofu boxes)."""
    text = str(text)
    return text if cjk_font() else text.encode("ascii", "replace").decode("ascii")


def _safe_name(prefix: str, key: str, ext: str) -> str:
    """`prefix-key.ext` for plain keys; anything else slugged plus a hash (no two keys share a file)."""
    if re.fullmatch(r"[A-Za-z0-9_]{1,60}", key):
        return f"{prefix}-{key}.{ext}"
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", key)[:40] or "_"
    return f"{prefix}-{slug}-{hashlib.sha256(key.encode()).hexdigest()[:8]}.{ext}"


def chart_file_name(entity: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", entity)[:40] or "_"
    return f"chart-{slug}-{hashlib.sha256(entity.encode()).hexdigest()[:8]}.png"


def _axis(values: list[Decimal], unit: str, zh: bool) -> tuple[Decimal, str]:
    """The scale the axis counts in and its label: 亿元, 万亿元, 万, %, 倍."""
    top = max((abs(v) for v in values), default=Decimal(0))
    words = labels()["units"]
    if unit in STOCK_UNITS:
        for scale, word, en in ((Decimal(10) ** 12, "万亿", "trillion"), (Decimal(10) ** 8, "亿", "100 million"),
                                (Decimal(10) ** 4, "万", "10 thousand")):
            if top >= scale:
                return scale, (word + words.get(unit, "")) if zh else f"{unit}, {en}"
        return Decimal(1), (words.get(unit, "") or "") if zh else unit
    return Decimal(1), (words.get(unit, unit) if zh else unit)


def _figure(ncols: int, nrows: int, w: float, h: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(w * ncols, h * nrows), dpi=100, layout="constrained")


def draw_lines(path: Path, title: str, lines: list[tuple[str, list[dict]]], unit: str, zh: bool) -> None:
    """One chart: a line per bank over as-of dates. Markers follow the qualifier (o exact, s approx,
    ^ over, v under); a point whose sources disagree has a red edge."""
    import matplotlib

    with matplotlib.rc_context(chart_font_rc() if zh else {}):
        fig = _figure(1, 1, 9.0, 4.6)
        ax = fig.subplots()
        scale, unit_label = _axis([Decimal(p["value"]) for _, pts in lines for p in pts], unit, zh)
        cmap = matplotlib.colormaps["tab10"]
        for i, (label, pts) in enumerate(lines):
            xs = [p["period_end"] for p in pts]
            ys = [float(Decimal(p["value"]) / scale) for p in pts]
            color = cmap(i % 10)  # ten colours, then the same colours dashed
            ax.plot(xs, ys, color=color, linewidth=1.6, linestyle="-" if i < 10 else "--",
                    label=chart_label(label), zorder=1)
            for x, y, p in zip(xs, ys, pts):
                ax.scatter([x], [y], marker=_MARKERS.get(p["qualifier"], "x"), color=color, zorder=2, s=28,
                           edgecolors="#d62728" if p["has_conflict"] else color, linewidths=1.5)
        unit_note = (f"（单位：{unit_label}）" if zh else f" ({unit_label})") if unit_label else ""
        ax.set_title(chart_label(title + unit_note), fontsize=12)
        ax.set_xlabel(chart_label("截至日期" if zh else "as-of date"), fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.tick_params(axis="x", rotation=30)
        if lines:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
        fig.savefig(path, format="png")


def draw_small_multiples(path: Path, title: str, panels: list[tuple[str, str, list[dict]]], zh: bool) -> None:
    """One panel per metric of a bank: (panel title, unit, points)."""
    import matplotlib

    panels = panels[:MAX_BANK_CHARTS]
    ncols = 2 if len(panels) > 1 else 1
    nrows = (len(panels) + ncols - 1) // ncols
    with matplotlib.rc_context(chart_font_rc() if zh else {}):
        fig = _figure(ncols, nrows, 5.2, 3.0)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, (name, unit, pts) in zip(axes.flat, panels):
            scale, unit_label = _axis([Decimal(p["value"]) for p in pts], unit, zh)
            xs = [p["period_end"] for p in pts]
            ys = [float(Decimal(p["value"]) / scale) for p in pts]
            ax.plot(xs, ys, color="#4c72b0", linewidth=1.2, zorder=1)
            for x, y, p in zip(xs, ys, pts):
                ax.scatter([x], [y], marker=_MARKERS.get(p["qualifier"], "x"), zorder=2,
                           color="#c44e52" if p["has_conflict"] else "#4c72b0")
            unit_note = (f"（{unit_label}）" if zh else f" ({unit_label})") if unit_label else ""
            ax.set_title(chart_label(name + unit_note), fontsize=10)
            ax.tick_params(labelsize=7)
            ax.tick_params(axis="x", rotation=30)
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        fig.suptitle(chart_label(title), fontsize=11)
        fig.savefig(path, format="png")


# --- page pieces --------------------------------------------------------------------------

_CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       "WenQuanYi Micro Hei", system-ui, sans-serif; margin: 1.5rem auto; max-width: 1280px;
       color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 2px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0 1.2rem; font-size: 0.9rem; }
th, td { border: 1px solid #d4d4d4; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f4f6f8; white-space: nowrap; }
.scroll { overflow-x: auto; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.matrix td { text-align: right; white-space: nowrap; }
.matrix th { white-space: normal; min-width: 4.5rem; }
.matrix .en { display: none; }
.matrix th.bank, .matrix td.bank { text-align: left; }
.en { display: block; color: #777; font-size: 0.75rem; font-weight: normal; }
.asof { display: block; color: #777; font-size: 0.75rem; }
.asof.stale, .stale { color: #b36b00; }
.mark { color: #c00; font-weight: bold; } .mark.soft { color: #c80; }
.muted { color: #777; font-size: 0.85rem; }
.up { color: #c00; } .down { color: #080; }
.warn { background: #fff4e5; border: 1px solid #f0b96b; padding: 0.5rem 0.8rem; }
details summary { cursor: pointer; color: #1a5fb4; }
blockquote { margin: 0.3rem 0; padding-left: 0.6rem; border-left: 3px solid #ddd; }
mark { background: #fff1a8; }
img.chart { max-width: 100%; border: 1px solid #eee; }
nav a, .links a { margin-right: 0.8rem; white-space: nowrap; }
.dis { border: 1px solid #e3c0c0; border-radius: 4px; padding: 0.4rem 0.8rem; margin: 0.8rem 0; }
.dis h3 { margin: 0.2rem 0; font-size: 1rem; }
"""


def _table(headers: list[str], rows: list[list[str]], num_cols=frozenset(), cls: str = "") -> str:
    """An HTML table from already-escaped cells."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in num_cols else f"<td>{c}</td>"
                         for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _link(url: str | None, text: str, limit: int = 40) -> str:
    """A link for http(s) URLs only; a long title is cut (whole on hover)."""
    full = text or ""
    short = full if len(full) <= limit else full[:limit] + "…"
    if url and re.match(r"^https?://", url, re.I):
        return f'<a href="{esc(url)}" title="{esc(full)}" rel="noopener noreferrer">{esc(short)}</a>'
    return f'<span title="{esc(full)}">{esc(short)}</span>' if short != full else esc(full)


def _quote(sentence: str | None, surface: str | None) -> str:
    """The sentence, escaped, with the figure it states highlighted."""
    sentence = sentence or ""
    if surface and surface in sentence:
        before, _, after = sentence.partition(surface)
        return f"{esc(before)}<mark>{esc(surface)}</mark>{esc(after)}"
    return esc(sentence)


def _evidence(r: dict, label: str = "原文") -> str:
    """The evidence behind a value, opened on click (no script: <details>)."""
    return (f"<details><summary>{esc(label)}</summary><blockquote>{_quote(r.get('sentence'), r.get('surface'))}"
            f"</blockquote><span class=\"muted\">{_link(r.get('url'), r.get('title') or r.get('source_file') or '')}"
            f" · {esc(r.get('source'))} · {esc(iso_date(r.get('published_at')))} · "
            f"{esc(r.get('source_file'))}</span></details>")


def _date_cell(d, period_start=None) -> str:
    """2025年6月末 with 2025-06-30 below."""
    if d is None:
        return ""
    zh = zh_period(period_start, d) if period_start else zh_date(d)
    return f'{esc(zh)}<span class="asof">{esc(iso_date(d))}</span>'


def _value_cell(value, unit, qualifier) -> str:
    return f'<span title="{esc(exact(value, unit))}">{esc(amount(value, unit, qualifier))}</span>'


STALE_DAYS = 366  # an as-of date this much older than the newest of its column is greyed


def _stale(as_of, newest) -> bool:
    return as_of is not None and newest is not None and (newest - as_of).days > STALE_DAYS


def _asof(d, stale: bool, period_start=None, say: bool = True) -> str:
    """The as-of date under a value; an old one coloured and (with `say`) said so."""
    text = zh_period(period_start, d) if period_start else zh_date(d)
    if stale:
        return (f'<span class="asof stale" title="早于最新截至日期一年以上">{esc(text)}'
                f'{"（较旧）" if say else ""}</span>')
    return f'<span class="asof">{esc(text)}</span>'


def _mark(disagrees: bool, conflict: bool) -> str:
    if disagrees:
        return '<span class="mark" title="来源分歧超出舍入范围，见来源分歧">⚠ 分歧</span>'
    if conflict:
        return '<span class="mark soft" title="来源口径不一致，但差异在舍入范围内">≈ 舍入差</span>'
    return ""


def _move(g: dict | None) -> str:
    """The move since the previous as-of date: +9500万 (+14.39%) since 2020年6月末."""
    if not g:
        return ""
    cls = "up" if g["change_abs"] > 0 else "down" if g["change_abs"] < 0 else ""
    text = signed(g["change_abs"], g["change_unit"])
    if g["change_pct"] is not None and g["change_unit"] != "pp":
        text += f" ({pct(g['change_pct'])})"
    return (f'<span class="{cls}">{esc(text)}</span>'
            f'<span class="asof">较{esc(zh_date(g["period_from"]))}</span>')


def _page(title: str, body: str, run_id: str, generated: str, font_note: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{_CSS}</style></head>
<body>
<p class="links"><a href="index.html">总览</a><a href="disagreements.html">来源分歧</a>
<a href="index.html#metrics">指标</a><a href="index.html#banks">银行</a><a href="index.html#data-quality">数据质量</a></p>
{font_note}
{body}
<p class="muted">运行 {esc(run_id)} · 生成于 {esc(generated)} ·
数值为各来源的共识值（见 rpt_metric_series）；约=约数，超=下限，不足/最多=上限；悬停数值可见精确值；
⚠ 分歧：来源差异超出舍入范围；≈ 舍入差：口径不一致但在舍入范围内。引文照录原文。</p>
</body></html>
"""


# --- the report ---------------------------------------------------------------------------


class _Data:
    """Everything the pages need, read once per view (the large ones through temp tables)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.metrics = {r["metric_key"]: r for r in _rows(con, """
            select metric_key, unit, nature, name_zh, name_en, row_number() over () as ordinal
            from (select * from dim_metrics order by rowid)""")}
        self.banks = {r["entity"]: r for r in _rows(con, """
            select entity, name_zh, short_name_zh, kind, row_number() over () as ordinal
            from (select * from dim_institutions order by rowid)""")}
        # The queue, one row per series (small): the view is evaluated once here and once more for
        # the statements of the series shown, never materialised whole (millions of rows at scale).
        con.execute("""
            create or replace temp table report_disagreements as
            select queue_rank, entity, any_value(entity_name_zh) as entity_name_zh, metric_key,
                   any_value(metric_name_zh) as metric_name_zh, any_value(metric_name_en) as metric_name_en,
                   kind, unit, period_start, period_end, any_value(agreed_value) as agreed_value,
                   any_value(agreed_qualifier) as agreed_qualifier, any_value(spread_pct) as spread_pct,
                   any_value(n_statements) as n_statements, any_value(n_documents) as n_documents,
                   any_value(last_published_at) as last_published_at
            from rpt_disagreements
            group by queue_rank, entity, metric_key, kind, unit, period_start, period_end""")
        self.disagreeing = {
            (r["entity"], r["metric_key"], r["unit"], r["period_end"])
            for r in _rows(con, "select distinct entity, metric_key, unit, period_end "
                                "from report_disagreements where kind = 'level'")}
        self.latest = _rows(con, "select * from rpt_latest_metrics order by entity, metric_key, unit")
        # Each rpt_ view is evaluated once (rpt_metric_series costs seconds at 200,000 articles):
        # growth pairs all at once, the newest pair per series picked here.
        self.growth_all = _rows(con, "select * from rpt_metric_growth order by entity, metric_key, unit, period_to")
        self.growth = {(g["entity"], g["metric_key"], g["unit"]): g for g in self.growth_all}  # the last wins
        con.execute("create or replace temp table report_series as "
                    "select entity, metric_key, kind, unit, period_start, period_end, value, qualifier, "
                    "has_conflict, n_documents from rpt_metric_series")
        # one point per as-of date, as rpt_metric_growth picks it
        self.points = _rows(con, """
            select entity, metric_key, unit, period_end, value, qualifier, has_conflict
            from report_series where kind = 'level'
            qualify row_number() over (partition by entity, metric_key, unit, period_end
                                       order by (period_start is null) desc, n_documents desc,
                                                period_start desc nulls last) = 1
            order by entity, metric_key, unit, period_end""")
        self.totals = _rows(con, """
            select
                (select count(*) from dim_documents) as documents,
                (select count(*) from fct_mentions) as mentions,
                (select count(*) from report_series) as series,
                (select count(*) from report_series where has_conflict) as conflicts,
                (select count(*) from report_disagreements) as disagreements,
                (select count(*) from etl_quarantine) as quarantined
        """)[0]
        con.execute("drop table report_series")
        self.dq_counts = _rows(con, """
            select check_name, severity, count(*) as n from rpt_data_quality
            group by all order by severity, check_name""")
        self.quarantined = _rows(con, """
            select path, reason || coalesce(': ' || detail, '') as detail from etl_quarantine
            order by path limit ?""", [MAX_ROWS])  # rpt_data_quality's quarantined_file rows, read at the source
        # the newest MAX_DISAGREEMENTS across documents, then the newest within one document
        self.queue = _rows(con, """
            select * from report_disagreements
            qualify row_number() over (partition by n_documents > 1 order by queue_rank) <= ?
            order by queue_rank""", [MAX_DISAGREEMENTS])
        shown = [r["queue_rank"] for r in self.queue]
        # per series: its distinct stated values (most documents first), each with its newest sentences
        self.stated: dict[int, list[dict]] = {}
        for r in _rows(con, """
            with shown as (
                select * from report_disagreements where list_contains(?, queue_rank)
            ),
            s as (
                -- the statements of the shown series straight from rpt_mentions (the view would
                -- be evaluated whole again to rank its series)
                select sh.queue_rank, m.*,
                       case when sh.agreed_value <> 0
                            then cast(m.value - sh.agreed_value as double) / abs(cast(sh.agreed_value as double)) * 100
                       end as deviation_pct,
                       count(distinct m.doc_id) over (partition by sh.queue_rank, m.value, m.qualifier) as n_docs,
                       row_number() over (partition by sh.queue_rank, m.value, m.qualifier
                                          order by m.published_at desc nulls last, m.doc_id, m.mention_no) as k
                from shown sh
                join rpt_mentions m
                    on  m.entity = sh.entity
                    and m.metric_key = sh.metric_key
                    and m.kind = sh.kind
                    and m.unit = sh.unit
                    and m.period_start is not distinct from sh.period_start
                    and m.period_end = sh.period_end
            ),
            v as (
                select *, dense_rank() over (partition by queue_rank
                                             order by n_docs desc, value, qualifier) as value_rank
                from s
            )
            select * from v where value_rank <= ? and k <= ?
            order by queue_rank, value_rank, k""", [shown, MAX_VALUES, MAX_EXAMPLES]):
            self.stated.setdefault(r["queue_rank"], []).append(r)
        con.execute("drop table report_disagreements")

    def bank_name(self, entity: str | None) -> str:
        b = self.banks.get(entity or "")
        return b["short_name_zh"] if b else (entity or "")

    def metric_name(self, key: str | None) -> tuple[str, str]:
        m = self.metrics.get(key or "")
        return (m["name_zh"], m["name_en"]) if m else (key or "", key or "")

    def bank_order(self, entity: str) -> tuple:
        b = self.banks.get(entity)
        return (0, b["ordinal"], entity) if b else (1, 0, entity)

    def metric_order(self, key: str) -> tuple:
        m = self.metrics.get(key)
        return (0, m["ordinal"], key) if m else (1, 0, key)


def _metric_head(d: _Data, key: str, link: str | None = None) -> str:
    zh, en = d.metric_name(key)
    inner = f'{esc(zh)}<span class="en">{esc(en)}</span>'
    title = f"{en} ({key})"
    return (f'<a href="{esc(link)}" title="{esc(title)}">{inner}</a>' if link
            else f'<span title="{esc(title)}">{inner}</span>')


def _disagreement_block(d: _Data, s: dict, pages: dict[str, str]) -> str:
    """One series of the review queue: what the sources say, each value with its sentences."""
    zh, en = d.metric_name(s["metric_key"])
    bank = d.bank_name(s["entity"])
    bank_link = pages.get(("bank", s["entity"]))
    metric_link = pages.get(("metric", s["metric_key"]))
    head = (f'<h3>{s["queue_rank"]}. <a href="{esc(bank_link)}">{esc(bank)}</a> · '
            if bank_link else f"<h3>{s['queue_rank']}. {esc(bank)} · ")
    head += (f'<a href="{esc(metric_link)}" title="{esc(en)}">{esc(zh)}</a>' if metric_link else esc(zh))
    kind = "" if s["kind"] == "level" else f" ({esc(labels()['kinds'].get(s['kind'], s['kind']))})"
    head += (f"{kind} · {esc(zh_period(s['period_start'], s['period_end']))} "
             f'<span class="muted">{esc(iso_date(s["period_end"]))}</span></h3>')
    summary = (f'<p class="muted">共识值 {esc(amount(s["agreed_value"], s["unit"], s["agreed_qualifier"]))} · '
               f'分歧幅度 {esc(pct(s["spread_pct"], False))} · {esc(s["n_statements"])} 处表述，'
               f'{esc(s["n_documents"])} 篇文档 · 最新发布 {esc(iso_date(s["last_published_at"]))}</p>')
    rows = []
    by_value: dict[tuple, list[dict]] = {}
    for r in d.stated.get(s["queue_rank"], []):
        by_value.setdefault((r["value"], r["qualifier"]), []).append(r)
    for (value, qualifier), examples in by_value.items():
        first = examples[0]
        quotes = "".join(
            f'<blockquote>{_quote(e["sentence"], e["surface"])}</blockquote>'
            f'<span class="muted">{_link(e["url"], e["title"] or e["source_file"] or "")} · {esc(e["source"])} · '
            f'{esc(iso_date(e["published_at"]))} · {esc(e["source_file"])}</span>'
            for e in examples)
        rows.append([
            _value_cell(value, s["unit"], qualifier),
            esc(first["surface"]),
            "共识值" if first["deviation_pct"] == 0 else esc(pct(first["deviation_pct"])),
            esc(first["n_docs"]),
            quotes,
        ])
    more = ""
    shown = sum(r["n_docs"] for r in (v[0] for v in by_value.values()))
    if s["n_documents"] > shown:
        more = f'<p class="muted">另有 {esc(s["n_documents"] - shown)} 篇文档的表述未列出（见 rpt_disagreements）。</p>'
    return (f'<div class="dis">{head}{summary}'
            + _table(["表述数值", "原文数字", "偏离共识", "文档数", "原文、来源、发布日期与文件"], rows, {0, 2, 3})
            + more + "</div>")


def render_report(con: duckdb.DuckDBPyConnection, out_dir: Path, run_id: str) -> dict:
    """Write the pages and charts into `out_dir` (created); returns what was written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    d = _Data(con)
    font = cjk_font()
    zh_charts = font is not None
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    font_note = "" if zh_charts else (
        f'<p class="warn" id="font-warning">未找到中文字体：图表暂用英文名称和银行代码。'
        f"请安装 {FONT_PACKAGE}（Debian/Ubuntu：apt-get install {FONT_PACKAGE}），再导出一次。"
        f"<br>No CJK font found: charts use English names. Install {FONT_PACKAGE}.</p>")

    latest_by_metric: dict[str, list[dict]] = {}
    latest_by_bank: dict[str, list[dict]] = {}
    for r in d.latest:
        latest_by_metric.setdefault(r["metric_key"], []).append(r)
        latest_by_bank.setdefault(r["entity"], []).append(r)
    points: dict[tuple, list[dict]] = {}
    for p in d.points:
        points.setdefault((p["entity"], p["metric_key"], p["unit"]), []).append(p)

    metrics = sorted(latest_by_metric, key=d.metric_order)
    banks = sorted({r["entity"] for r in d.latest} | {p["entity"] for p in d.points}, key=d.bank_order)
    pages: dict[tuple, str] = {}
    for m in metrics:
        pages[("metric", m)] = _safe_name("metric", m, "html")
    for b in banks:
        pages[("bank", b)] = _safe_name("bank", b, "html")
    written_pages, charts = ["index.html", "disagreements.html"], []

    def disagrees(r: dict) -> bool:
        return (r["entity"], r["metric_key"], r["unit"], r.get("as_of_date") or r.get("period_end")) in d.disagreeing

    def page(name: str, title: str, body: str) -> None:
        (out_dir / name).write_text(_page(title, body, run_id, generated, font_note), encoding="utf-8")
        if name not in written_pages:
            written_pages.append(name)

    # --- one page per metric: every bank side by side
    for m in metrics:
        zh, en = d.metric_name(m)
        catalogue_unit = d.metrics.get(m, {}).get("unit")
        rows_all = sorted(latest_by_metric[m], key=lambda r: (r["unit"] != catalogue_unit, r["unit"],
                                                               -(r["value"] or 0), d.bank_order(r["entity"])))
        table_rows = []
        newest = max((r["as_of_date"] for r in rows_all if r["as_of_date"] is not None), default=None)
        for r in rows_all[:MAX_ROWS]:
            bank_link = pages.get(("bank", r["entity"]))
            stale = _stale(r["as_of_date"], newest)
            table_rows.append([
                f'<a href="{esc(bank_link)}">{esc(d.bank_name(r["entity"]))}</a>'
                f'<span class="en">{esc(r["entity"])}</span>',
                _value_cell(r["value"], r["unit"], r["qualifier"]),
                _date_cell(r["as_of_date"], r["period_start"]) if not stale
                else _asof(r["as_of_date"], True, r["period_start"]) + f'<span class="asof">{esc(iso_date(r["as_of_date"]))}</span>',
                esc(labels()["qualifier_names"].get(r["qualifier"], r["qualifier"])),
                _move(d.growth.get((r["entity"], m, r["unit"]))),
                esc(r["n_documents"]),
                _mark(disagrees(r), r["has_conflict"]),
                _evidence(r),
            ])
        chart_html = '<p class="muted">没有可绘制的时间序列。</p>'
        unit = catalogue_unit or (rows_all[0]["unit"] if rows_all else "")
        lines = [(d.bank_name(r["entity"]) if zh_charts else r["entity"], points[(r["entity"], m, r["unit"])])
                 for r in rows_all if r["unit"] == unit and (r["entity"], m, r["unit"]) in points]
        if lines:
            chart = _safe_name("chart-metric", m, "png")
            title = f"{zh}：各行对比" if zh_charts else f"{en}: banks compared"
            draw_lines(out_dir / chart, title, lines[:MAX_CHART_BANKS], unit, zh_charts)
            charts.append(chart)
            note = (f'<p class="muted">图中为最新值最大的 {MAX_CHART_BANKS} 家银行，全部银行见上表。</p>'
                    if len(lines) > MAX_CHART_BANKS else "")
            chart_html = (f'<img class="chart" src="{esc(chart)}" alt="{esc(zh)} 各行时间序列">'
                          '<p class="muted">标记：● 确数 ■ 约数 ▲ 下限 ▼ 上限；红色描边：该日各来源不一致</p>' + note)
        body = (f'<h1>{esc(zh)} <span class="muted">{esc(en)} · {esc(m)}</span></h1>'
                f'<h2>各行最新值</h2>'
                + _table(["银行", "最新值", "截至", "口径", "较上期", "文档数", "冲突", "证据"], table_rows,
                         {1, 4, 5})
                + f"<h2>各行走势</h2>{chart_html}")
        page(pages[("metric", m)], f"{zh}：各行对比", body)

    # --- one page per bank
    growth_by_bank: dict[str, list[dict]] = {}
    for g in d.growth_all:
        growth_by_bank.setdefault(g["entity"], []).append(g)
    for b in banks:
        name = d.bank_name(b)
        info = d.banks.get(b)
        rows = sorted(latest_by_bank.get(b, []), key=lambda r: d.metric_order(r["metric_key"]))
        latest_rows = [[
            _metric_head(d, r["metric_key"], pages.get(("metric", r["metric_key"]))),
            _value_cell(r["value"], r["unit"], r["qualifier"]),
            _date_cell(r["as_of_date"], r["period_start"]),
            esc(labels()["qualifier_names"].get(r["qualifier"], r["qualifier"])),
            _move(d.growth.get((b, r["metric_key"], r["unit"]))),
            esc(r["n_documents"]),
            _mark(disagrees(r), r["has_conflict"]),
            _evidence(r),
        ] for r in rows[:MAX_ROWS]]
        growth_rows = [[
            _metric_head(d, g["metric_key"], pages.get(("metric", g["metric_key"]))),
            f'{esc(amount(g["value_from"], g["unit"], g["qualifier_from"]))}'
            f'<span class="asof">{esc(zh_date(g["period_from"]))}</span>',
            f'{esc(amount(g["value_to"], g["unit"], g["qualifier_to"]))}'
            f'<span class="asof">{esc(zh_date(g["period_to"]))}</span>',
            esc(signed(g["change_abs"], g["change_unit"])),
            esc(pct(g["change_pct"])),
            esc(pct(g["change_pct_annualised"])),
            "" if g["is_exact"] else '<span class="muted">含约数或上下限</span>',
        ] for g in growth_by_bank.get(b, [])[:MAX_ROWS]]
        panels = []
        for (e, m, unit), pts in sorted(points.items(), key=lambda kv: (-len(kv[1]), d.metric_order(kv[0][1]))):
            if e == b and len(pts) > 1:  # a single date says nothing a table does not
                zh, en = d.metric_name(m)
                panels.append((zh if zh_charts else en, unit, pts))
        chart_html = '<p class="muted">没有两个以上截至日期的指标，不绘图。</p>'
        if panels:
            chart = _safe_name("chart-bank", b, "png")
            draw_small_multiples(out_dir / chart, f"{name}：各指标走势" if zh_charts else f"{b}: levels by as-of date",
                                 panels, zh_charts)
            charts.append(chart)
            chart_html = f'<img class="chart" src="{esc(chart)}" alt="{esc(name)} 各指标走势">'
        full = f'{info["name_zh"]} · ' if info and info["name_zh"] != name else ""
        body = (f'<h1>{esc(name)} <span class="muted">{esc(full)}{esc(b)}</span></h1>{chart_html}'
                "<h2>最新值</h2>"
                + _table(["指标", "最新值", "截至", "口径", "较上期", "文档数", "冲突", "证据"], latest_rows, {1, 4, 5})
                + ("<h2>各截至日期间的变动</h2>"
                   + _table(["指标", "起点", "终点", "变动", "变动率", "年化", ""], growth_rows, {1, 2, 3, 4, 5})
                   if growth_rows else ""))
        page(pages[("bank", b)], f"{name}：各指标", body)

    # --- the review queue: sources against each other first, then one document against itself
    across = [_disagreement_block(d, s, pages) for s in d.queue if s["n_documents"] > 1]
    within = [_disagreement_block(d, s, pages) for s in d.queue if s["n_documents"] <= 1]

    def queue_html(limit: int, fold_within: bool) -> str:
        out = ("<h3>不同来源之间</h3>" + ("".join(across[:limit]) or "<p>没有不同来源之间超出舍入范围的分歧。</p>"))
        if within:
            note = ("<p class=\"muted\">同一文章对同一银行、指标、日期给出不同数值，多为指标或银行归属的抽取问题"
                    "（如“分别为”列举多家银行），请核对原文。</p>")
            listed = "".join(within[:limit])
            out += (f"<details><summary>同一篇文档内的不同数值（{len(within)} 组）</summary>{note}{listed}</details>"
                    if fold_within else f"<h3>同一篇文档内的不同数值</h3>{note}{listed}")
        return out
    n_dis = d.totals["disagreements"]
    cut = (f'<p class="muted">共 {esc(n_dis)} 组分歧，此页每类列出最新的 {MAX_DISAGREEMENTS} 组；'
           "全部见 rpt_disagreements（Parquet 或 xlsx 导出）。</p>" if n_dis > MAX_DISAGREEMENTS else "")
    rule = ("<p class=\"muted\">分歧：同一银行、指标、截至日期的各来源数值，按各自写出的最后一位四舍五入"
            "（7.55亿 ±0.005亿，7亿 ±0.5亿）并按口径（约、超、不足）放宽后仍无交集。最新的截至日期在前。</p>")
    page("disagreements.html", "来源分歧：待核对",
         f"<h1>来源分歧：待核对</h1>{rule}{cut}" + queue_html(MAX_DISAGREEMENTS, False))

    # --- the overview
    coverage: dict[str, int] = {}
    for r in d.latest:
        if r["unit"] == d.metrics.get(r["metric_key"], {}).get("unit", r["unit"]):
            coverage[r["metric_key"]] = coverage.get(r["metric_key"], 0) + 1
    main = sorted(coverage, key=lambda m: (-coverage[m], d.metric_order(m)))[:MAX_MATRIX_METRICS]
    main.sort(key=d.metric_order)
    cell: dict[tuple, dict] = {}
    for r in d.latest:
        if r["metric_key"] in main and r["unit"] == d.metrics.get(r["metric_key"], {}).get("unit", r["unit"]):
            cell[(r["entity"], r["metric_key"])] = r
    newest_in = {m: max((r["as_of_date"] for (_, mm), r in cell.items() if mm == m and r["as_of_date"]),
                        default=None) for m in main}
    matrix_rows = []
    for b in banks:
        if not any((b, m) in cell for m in main):
            continue  # its figures are all outside the main metrics: on its own page
        row = [f'<a href="{esc(pages[("bank", b)])}">{esc(d.bank_name(b))}</a><span class="en">{esc(b)}</span>']
        for m in main:
            r = cell.get((b, m))
            row.append("" if r is None else (
                f'<a href="{esc(pages[("metric", m)])}" title="{esc(exact(r["value"], r["unit"]))}">'
                f'{esc(amount(r["value"], r["unit"], r["qualifier"]))}</a> {_mark(disagrees(r), r["has_conflict"])}'
                + _asof(r["as_of_date"], _stale(r["as_of_date"], newest_in[m]), say=False)))
        matrix_rows.append(row)
    matrix_head = ['<span class="bank">银行</span>'] + [_metric_head(d, m, pages[("metric", m)]) for m in main]
    matrix = (f'<div class="scroll">{_table(matrix_head, matrix_rows, cls="matrix")}</div>' if matrix_rows
              else "<p>还没有时间序列：没有提及同时带有银行、指标和日期。</p>")
    t = d.totals
    totals = _table(["文档", "数字提及", "时间序列", "口径冲突的序列", "超出舍入的分歧", "隔离文件"],
                    [[esc(t["documents"]), esc(t["mentions"]), esc(t["series"]), esc(t["conflicts"]),
                      esc(t["disagreements"]), esc(t["quarantined"])]], {0, 1, 2, 3, 4, 5})
    checks = labels()["checks"]
    dq = (_table(["检查项", "代码", "严重程度", "数量"],
                 [[esc(checks.get(r["check_name"], r["check_name"])), esc(r["check_name"]), esc(r["severity"]),
                   esc(r["n"])] for r in d.dq_counts], {3})
          if d.dq_counts else "<p>没有数据质量问题。</p>")
    quarantined = ("<h3>隔离文件</h3>" + _table(["文件", "原因"], [[esc(q["path"]), esc(q["detail"])]
                                                            for q in d.quarantined])
                   if d.quarantined else "")
    metric_links = " ".join(
        f'<a href="{esc(pages[("metric", m)])}" title="{esc(d.metric_name(m)[1])}">{esc(d.metric_name(m)[0])}</a>'
        for m in metrics)
    bank_links = " ".join(f'<a href="{esc(pages[("bank", b)])}">{esc(d.bank_name(b))}</a>' for b in banks)
    more_dis = (f'<p><a href="disagreements.html">全部 {esc(n_dis)} 组分歧 →</a></p>'
                if n_dis > MAX_DISAGREEMENTS_INDEX else "")
    body = (
        "<h1>银行指标对比</h1>"
        f'<p class="muted">各行最新值与来源分歧，数据来自新闻原文。bankmetrics 报告</p>'
        f'<div id="totals">{totals}</div>'
        f'<h2 id="overview">总览：各行最新值</h2>'
        '<p class="muted">每格为该行该指标的最新值及其截至日期；点击数值进入指标页（各行对比、走势图和原文），'
        "点击银行进入银行页。列为报告银行最多的指标；其余指标和银行见下方指标页、银行页。"
        '<span class="stale">橙色日期</span>早于该列最新截至日期一年以上。</p>'
        + matrix
        + f'<h2 id="disagreements">来源分歧：待核对（最新在前）</h2>{rule}'
        + queue_html(MAX_DISAGREEMENTS_INDEX, True) + more_dis
        + f'<h2 id="metrics">指标页</h2><p class="links">{metric_links or "无"}</p>'
        + f'<h2 id="banks">银行页</h2><p class="links">{bank_links or "无"}</p>'
        + f'<h2 id="data-quality">数据质量</h2>{dq}{quarantined}'
    )
    page("index.html", "银行指标对比 · bankmetrics", body)
    return {
        "path": f"{out_dir.name}/index.html",
        "pages": [f"{out_dir.name}/{p}" for p in written_pages],
        "charts": [f"{out_dir.name}/{c}" for c in charts],
        "entities": banks,
        "metrics": metrics,
        "main_metrics": main,
        "disagreements": n_dis,
        "data_quality": {r["check_name"]: r["n"] for r in d.dq_counts},
        "totals": d.totals,
        "cjk_font": font[0] if font else None,
        "bytes": sum((out_dir / p).stat().st_size for p in [*written_pages, *charts]),
    }
