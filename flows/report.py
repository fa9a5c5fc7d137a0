"""Report: a static HTML page and PNG charts from the `rpt_` views, for people to look at.

`render_report(con, out_dir, run_id)` writes `out_dir/index.html` and one `chart-<entity>.png`
per institution: its level series over time, the latest values with the sentences that state
them, growth between as-of dates, and the data-quality counts.

- Every piece of text from the warehouse (titles, sentences, paths, even entity codes) is
  HTML-escaped; links are kept only for http(s) URLs. The page has no script.
- Charts are drawn with matplotlib's object API (no pyplot global state, safe in a worker
  thread). Chart labels are entity codes and metric keys; with no CJK font installed
  (`fc-list :lang=zh` empty) any non-ASCII label is transliterated to '?' rather than drawn as
  tofu boxes.
- Size stays bounded on a large warehouse: at most MAX_ENTITIES institutions, MAX_METRICS
  charts each and MAX_ROWS rows per table.
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

MAX_ENTITIES = 30
MAX_METRICS = 6
MAX_ROWS = 200

_QUALIFIER_SIGN = {"exact": "", "approx": "≈ ", "over": "> ", "under": "< ", "up_to": "≤ "}
_MARKERS = {"exact": "o", "approx": "s", "over": "^", "under": "v", "up_to": "v"}
_STOCK_UNITS = {"CNY", "USD", "HKD", "EUR", "count"}


def esc(value) -> str:
    """HTML-escape anything for text or attribute context; None is empty."""
    return "" if value is None else html.escape(str(value), quote=True)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


# --- numbers ------------------------------------------------------------------------------


def _plain(v: Decimal) -> str:
    """An exact decimal without exponent or trailing zeros: 7.5500000000 -> '7.55'."""
    s = format(v, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def human_value(value, unit: str | None) -> str:
    """A value as a reader expects it: 7.55亿, 15.5万亿, 1.35%, +0.2 pp, 2.5x."""
    if value is None:
        return ""
    v = Decimal(value)
    if unit == "percent":
        return f"{_plain(v)}%"
    if unit == "pp":
        return f"{_plain(v)} pp"
    if unit == "times":
        return f"{_plain(v)}x"
    for scale, word in ((Decimal(10) ** 12, "万亿"), (Decimal(10) ** 8, "亿"), (Decimal(10) ** 4, "万")):
        if abs(v) >= scale:
            return f"{_plain((v / scale).quantize(Decimal('0.0001')))}{word}"
    return _plain(v)


def exact_value(value, unit: str | None) -> str:
    """The exact stored value with thousands separators: 755,000,000 (CNY)."""
    if value is None:
        return ""
    s = format(Decimal(value).normalize(), ",f")
    return f"{s} {unit}" if unit else s


# --- charts -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Family name of an installed font that covers Chinese, or None."""
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                                 timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        families = [line.split(",")[0].strip() for line in out.splitlines() if line.strip()]
        if families:
            return sorted(families)[0]
    return None


def chart_label(text: str) -> str:
    """A label safe to draw: as is with a CJK font, else ASCII only (no tofu boxes)."""
    text = str(text)
    return text if cjk_font() else text.encode("ascii", "replace").decode("ascii")


def _axis_scale(values: list[Decimal], unit: str) -> tuple[Decimal, str]:
    top = max((abs(v) for v in values), default=Decimal(0))
    if unit in _STOCK_UNITS:
        for scale, word in ((Decimal(10) ** 12, "trillion"), (Decimal(10) ** 8, "100 million"),
                            (Decimal(10) ** 4, "10 thousand")):
            if top >= scale:
                return scale, f"{unit}, {word}"
    return Decimal(1), unit


def chart_file_name(entity: str) -> str:
    """`chart-<entity>.png` with anything but [A-Za-z0-9_-] replaced, plus a hash so two odd
    codes never share a file."""
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", entity)[:40] or "_"
    digest = hashlib.sha256(entity.encode()).hexdigest()[:8]
    return f"chart-{slug}-{digest}.png"


def draw_entity_chart(entity: str, series: dict[tuple[str, str], list[dict]], path: Path) -> None:
    """Small multiples, one per (metric_key, unit): agreed level values over as-of dates.

    Markers follow the qualifier (o exact, s approx, ^ over, v under); a point whose sources
    disagree is red.
    """
    import matplotlib

    from matplotlib.figure import Figure

    keys = list(series)[:MAX_METRICS]
    ncols = 2 if len(keys) > 1 else 1
    nrows = (len(keys) + ncols - 1) // ncols
    font = cjk_font()
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(5.2 * ncols, 3.0 * nrows), dpi=100, layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, key in zip(axes.flat, keys):
            points = series[key]
            metric, unit = key
            scale, unit_label = _axis_scale([Decimal(p["value"]) for p in points], unit)
            xs = [p["period_end"] for p in points]
            ys = [float(Decimal(p["value"]) / scale) for p in points]
            ax.plot(xs, ys, color="#4c72b0", linewidth=1.2, zorder=1)
            for x, y, p in zip(xs, ys, points):
                ax.scatter([x], [y], marker=_MARKERS.get(p["qualifier"], "x"), zorder=2,
                           color="#c44e52" if p["has_conflict"] else "#4c72b0")
            ax.set_title(chart_label(metric), fontsize=10)
            ax.set_ylabel(chart_label(unit_label), fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            ax.tick_params(axis="x", rotation=30)
        for ax in list(axes.flat)[len(keys):]:
            ax.set_visible(False)
        fig.suptitle(chart_label(f"{entity}: levels by as-of date"), fontsize=11)
        fig.savefig(path, format="png")


# --- page ---------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.conflict { color: #b00; font-weight: bold; }
.muted { color: #777; font-size: 0.85rem; }
blockquote { margin: 0; }
img.chart { max-width: 100%; border: 1px solid #eee; }
nav a { margin-right: 0.75rem; }
"""


def _table(headers: list[str], rows: list[list[str]], num_cols: set[int] = frozenset()) -> str:
    """An HTML table from already-escaped cells."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in num_cols else f"<td>{c}</td>"
                         for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _link(url: str | None, text: str) -> str:
    if url and re.match(r"^https?://", url, re.I):
        return f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(text)}</a>'
    return esc(text)


def _pct(x) -> str:
    return "" if x is None else f"{x:+.2f}%"


def render_report(con: duckdb.DuckDBPyConnection, out_dir: Path, run_id: str) -> dict:
    """Write index.html and the charts into `out_dir` (created); returns what was written.

    Reads rpt_metric_series, rpt_latest_metrics, rpt_metric_growth, rpt_data_quality and
    rpt_documents through `con`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    totals = _rows(con, """
        select
            (select count(*) from rpt_documents where status = 'loaded') as documents,
            (select count(*) from rpt_mentions) as mentions,
            (select count(*) from rpt_metric_series) as series,
            (select count(*) from rpt_metric_series where has_conflict) as conflicts,
            (select count(*) from rpt_documents where status = 'quarantined') as quarantined
    """)[0]
    dq_counts = _rows(con, """
        select check_name, severity, count(*) as n from rpt_data_quality
        group by all order by severity, check_name
    """)
    entities = [r["entity"] for r in _rows(con, """
        select entity, count(*) as n from rpt_metric_series
        group by entity order by n desc, entity limit ?
    """, [MAX_ENTITIES])]

    sections, charts = [], []
    for entity in entities:
        points = _rows(con, """
            select metric_key, unit, period_end, value, qualifier, has_conflict
            from rpt_metric_series where entity = ? and kind = 'level'
            order by metric_key, unit, period_end
        """, [entity])
        by_key: dict[tuple[str, str], list[dict]] = {}
        for p in points:
            by_key.setdefault((p["metric_key"], p["unit"]), []).append(p)
        # The metrics with the most dates first: those are the ones a chart says most about.
        by_key = dict(sorted(by_key.items(), key=lambda kv: (-len(kv[1]), kv[0])))
        chart_html = '<p class="muted">no level series to chart</p>'
        if by_key:
            name = chart_file_name(entity)
            draw_entity_chart(entity, by_key, out_dir / name)
            charts.append(name)
            chart_html = (f'<img class="chart" src="{esc(name)}" '
                          f'alt="{esc(entity)} level series by as-of date">'
                          '<p class="muted">markers: ● exact, ■ approx, ▲ over, ▼ under or up to; '
                          'red: the sources of that date disagree</p>')
        issues = _rows(con, """
            select check_name, count(*) as n from rpt_data_quality where entity = ?
            group by check_name order by check_name
        """, [entity])
        issues_html = ('<p class="muted">data quality: '
                       + (", ".join(f"{esc(i['check_name'])} {esc(i['n'])}" for i in issues) or "no issues")
                       + "</p>")

        latest = _rows(con, """
            select * from rpt_latest_metrics where entity = ? order by metric_key, unit limit ?
        """, [entity, MAX_ROWS])
        latest_rows = [[
            esc(r["metric_key"]),
            f'{esc(_QUALIFIER_SIGN.get(r["qualifier"], ""))}{esc(human_value(r["value"], r["unit"]))}'
            f'<br><span class="muted">{esc(exact_value(r["value"], r["unit"]))}</span>',
            esc(r["as_of_date"]),
            esc(r["n_documents"]) + (' <span class="conflict">conflict</span>' if r["has_conflict"] else ""),
            f'<blockquote>{esc(r["sentence"])}</blockquote>'
            f'<span class="muted">{_link(r["url"], r["title"] or r["source_file"] or "")} · '
            f'{esc(r["source"])} · {esc(r["published_at"])} · {esc(r["source_file"])}</span>',
        ] for r in latest]

        growth = _rows(con, """
            select * from rpt_metric_growth where entity = ? order by metric_key, unit, period_to
            limit ?
        """, [entity, MAX_ROWS])
        growth_rows = [[
            esc(g["metric_key"]),
            f'{esc(human_value(g["value_from"], g["unit"]))} ({esc(g["period_from"])}) → '
            f'{esc(human_value(g["value_to"], g["unit"]))} ({esc(g["period_to"])})',
            esc(("+" if g["change_abs"] >= 0 else "") + human_value(g["change_abs"], g["change_unit"])
                + ("" if g["change_unit"] in ("percent", "pp", "times") else f' {g["change_unit"]}')),
            esc(_pct(g["change_pct"])),
            esc(_pct(g["change_pct_annualised"])),
            "" if g["is_exact"] else '<span class="muted">bound/approx</span>',
        ] for g in growth]

        anchor = "entity-" + re.sub(r"[^A-Za-z0-9_-]", "_", entity)
        sections.append(
            f'<section id="{esc(anchor)}"><h2>{esc(entity)}</h2>{issues_html}{chart_html}'
            "<h3>Latest values</h3>"
            + _table(["metric", "value", "as of", "documents", "evidence"], latest_rows, {1, 2, 3})
            + ("<h3>Growth between as-of dates</h3>"
               + _table(["metric", "from → to", "change", "change %", "annualised %", ""],
                        growth_rows, {2, 3, 4}) if growth_rows else "")
            + "</section>"
        )

    conflicts = _rows(con, """
        select entity, metric_key, kind, unit, period_start, period_end, detail
        from rpt_data_quality where check_name = 'conflict'
        order by entity, metric_key, period_end limit ?
    """, [MAX_ROWS])
    quarantined = _rows(con, """
        select path, detail from rpt_data_quality where check_name = 'quarantined_file'
        order by path limit ?
    """, [MAX_ROWS])

    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#entity-{esc(re.sub(r"[^A-Za-z0-9_-]", "_", e))}">{esc(e)}</a>'
                  for e in entities)
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bankmetrics report</title><style>{_CSS}</style></head>
<body>
<h1>bankmetrics report</h1>
<p class="muted">run {esc(run_id)} · generated {esc(generated)}</p>
<div id="totals">{_table(["documents", "mentions", "series", "conflicting series", "quarantined files"],
    [[esc(totals["documents"]), esc(totals["mentions"]), esc(totals["series"]),
      esc(totals["conflicts"]), esc(totals["quarantined"])]], {0, 1, 2, 3, 4})}</div>
<nav>{nav}</nav>
<h2 id="data-quality">Data quality</h2>
{_table(["check", "severity", "count"],
        [[esc(r["check_name"]), esc(r["severity"]), esc(r["n"])] for r in dq_counts], {2})
 if dq_counts else '<p>no issues</p>'}
{"<h3>Conflicting series</h3>" + _table(["entity", "metric", "kind", "unit", "period", "statements"],
    [[esc(c["entity"]), esc(c["metric_key"]), esc(c["kind"]), esc(c["unit"]),
      esc(f'{c["period_start"] or ""}..{c["period_end"]}'), esc(c["detail"])] for c in conflicts])
 if conflicts else ""}
{"<h3>Quarantined files</h3>" + _table(["path", "reason"],
    [[esc(q["path"]), esc(q["detail"])] for q in quarantined]) if quarantined else ""}
{"".join(sections) or "<p>No series yet: no mention has an entity, a metric and a period.</p>"}
<p class="muted">Values are the agreed value of each series (see rpt_metric_series);
≈ approx, &gt; over, &lt; under, ≤ up to. Text is quoted from the articles.</p>
</body></html>
"""
    (out_dir / "index.html").write_text(page, encoding="utf-8")
    return {
        "path": f"{out_dir.name}/index.html",
        "charts": [f"{out_dir.name}/{c}" for c in charts],
        "entities": entities,
        "data_quality": {r["check_name"]: r["n"] for r in dq_counts},
        "totals": totals,
        "cjk_font": cjk_font(),
    }
