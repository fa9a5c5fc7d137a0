"""What the report costs on a big warehouse: export time, page weight, render time in Chromium.

    python benchmarks/report_bench.py [--db bench-out/w0.duckdb] [--xlsx] [--json out.json]

`make bench` runs it on the warehouse benchmarks/bench.py just loaded. Measures:
  1. the export (Parquet + report) and, alone, the report (pages and charts);
  2. page weight: every page's bytes, the largest page, all pages + charts;
  3. render time in headless Chromium, median of --repeat, for the overview, the largest metric
     page and the disagreements page: the page's own Navigation Timing (DOMContentLoaded, load;
     a copy of the page with a probe script, no virtual time) and the
     wall time of a screenshot, less a blank page's (the browser's own start-up);
  4. with --xlsx, the workbook (seconds, MB, sheets cut at Excel's row limit).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--window-size=1280,2000"]
PROBE = """<script>
window.addEventListener('load', function () { setTimeout(function () {
  var n = performance.getEntriesByType('navigation')[0];
  var o = document.createElement('pre'); o.id = 'timing';
  o.textContent = JSON.stringify({dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,
                                  nodes: document.getElementsByTagName('*').length});
  document.body.appendChild(o); }, 0); });
</script>"""


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _browser(binary: str, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    with tempfile.TemporaryDirectory() as profile:
        t0 = time.perf_counter()
        res = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                             text=True, timeout=300)
        return time.perf_counter() - t0, res


def render_times(binary: str, page: Path, repeat: int) -> dict:
    probe = page.with_name("_bench_probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    timings, shots = [], []
    try:
        blank = page.with_name("_bench_blank.html")
        blank.write_text("<!doctype html><html><body></body></html>", encoding="utf-8")
        for _ in range(repeat):
            _, res = _browser(binary, "--dump-dom", probe.as_uri())
            found = re.search(r'<pre id="timing">(.*?)</pre>', res.stdout, re.S)
            if found:
                timings.append(json.loads(found.group(1).replace("&quot;", '"')))
            with tempfile.TemporaryDirectory() as d:
                wall, _ = _browser(binary, f"--screenshot={d}/p.png", page.as_uri())
                wall_blank, _ = _browser(binary, f"--screenshot={d}/b.png", blank.as_uri())
            shots.append(wall - wall_blank)
        blank.unlink()
    finally:
        probe.unlink()

    def med(key):
        vals = [t[key] for t in timings if t.get(key) is not None]
        return round(statistics.median(vals)) if vals else None

    return {"dom_content_loaded_ms": med("dcl"), "load_ms": med("load"), "dom_nodes": med("nodes"), "screenshot_over_blank_ms": round(statistics.median(shots) * 1000)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=ROOT / "bench-out" / "w0.duckdb")
    ap.add_argument("--out", type=Path, help="export folder (default: beside the warehouse)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--xlsx", action="store_true", help="also time the xlsx workbook")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    from flows.export import export_all
    from flows.load import connect
    from flows.report import render_report

    out = (args.out or args.db.with_name("report-bench-export")).resolve()  # a browser needs file:// URIs
    con = connect(args.db, read_only=True)
    docs, mentions, dis = con.execute(
        "select (select count(*) from dim_documents), (select count(*) from fct_mentions), "
        "(select count(distinct queue_rank) from rpt_disagreements)").fetchone()
    con.close()
    fig: dict = {"db": str(args.db), "documents": docs, "mentions": mentions, "disagreeing_series": dis}
    print(f"warehouse {args.db}: {docs:,} documents, {mentions:,} mentions, {dis:,} disagreeing series", flush=True)

    t0 = time.perf_counter()
    manifest = export_all(args.db, out, "report-bench")
    fig["export_s"] = round(time.perf_counter() - t0, 2)
    with tempfile.TemporaryDirectory() as d:
        con = connect(args.db, read_only=True)
        t0 = time.perf_counter()
        render_report(con, Path(d) / "report", "report-bench")
        fig["report_s"] = round(time.perf_counter() - t0, 2)
        con.close()
    report = out / "report"
    pages = {p.name: p.stat().st_size for p in report.glob("*.html")}
    charts = {p.name: p.stat().st_size for p in report.glob("*.png")}
    metric_pages = {k: v for k, v in pages.items() if k.startswith("metric-")}
    largest_metric = max(metric_pages, key=metric_pages.get) if metric_pages else None
    fig.update(pages=len(pages), charts=len(charts), report_kb=round((sum(pages.values()) + sum(charts.values())) / 1024),
               html_kb=round(sum(pages.values()) / 1024), index_kb=round(pages.get("index.html", 0) / 1024),
               disagreements_kb=round(pages.get("disagreements.html", 0) / 1024),
               largest_page=max(pages, key=pages.get), largest_page_kb=round(max(pages.values()) / 1024),
               largest_chart_kb=round(max(charts.values(), default=0) / 1024))
    print(f"export {fig['export_s']}s (report alone {fig['report_s']}s): {fig['pages']} pages + {fig['charts']} "
          f"charts = {fig['report_kb']:,} KB; index {fig['index_kb']} KB, disagreements {fig['disagreements_kb']} KB, "
          f"largest page {fig['largest_page']} {fig['largest_page_kb']} KB", flush=True)

    binary = chromium()
    if binary:
        fig["render"] = {}
        for name in ("index.html", largest_metric, "disagreements.html"):
            if name:
                fig["render"][name] = r = render_times(binary, report / name, args.repeat)
                print(f"Chromium {name}: DOMContentLoaded {r['dom_content_loaded_ms']} ms, load {r['load_ms']} ms, "
                      f"{r['dom_nodes']} elements; screenshot "
                      f"{r['screenshot_over_blank_ms']} ms over a blank page", flush=True)
    else:
        print("Chromium not found: render times skipped")

    if args.xlsx:
        from flows.xlsx import write_workbook

        book = write_workbook(args.db, out.with_suffix(".xlsx"))
        fig["xlsx"] = {"seconds": book["seconds"], "mb": round(Path(book["path"]).stat().st_size / 2**20, 1),
                       "cut": [k for k, v in book["sheets"].items() if v["cut"]]}
        print(f"xlsx: {book['seconds']}s, {fig['xlsx']['mb']} MB, cut at Excel's limit: {fig['xlsx']['cut'] or 'none'}")
    fig["manifest_report"] = {k: v for k, v in manifest["report"].items() if k in ("disagreements", "cjk_font")}
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
