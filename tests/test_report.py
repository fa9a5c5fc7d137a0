"""flows/report.py: the static HTML report and its charts, escaped text, and (browser) the page
as headless Chromium renders it."""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flows import report
from flows.export import export_all
from report_fixture import SCRIPT_SENTENCE, build_warehouse, insert_rows, mention

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    con = build_warehouse(root / "w.duckdb", close=False)
    # A hostile document: markup in its title, a javascript: URL, newest ICBC total_assets
    insert_rows(con, "dim_documents", [{
        "doc_id": "d99", "title": "<b>bold</b> & <img src=x onerror=alert(1)>", "body_text": "x",
        "format": "html", "encoding": "utf-8", "script": "simplified",
        "published_at": date(2024, 12, 1), "source": "<i>src</i>", "url": "javascript:alert(1)",
        "byte_size": 1, "n_chars": 1, "n_paragraphs": 1, "primary_path": "evil/<x>.html",
        "loaded_at": date(2024, 12, 1), "run_id": "r"}])
    insert_rows(con, "fct_mentions", [mention(
        "d99", 1, "总资产达<script>document.title='pwned'</script>50万亿元", "50万亿元",
        value=Decimal("50000000000000"), unit="CNY", entity="ICBC", metric_key="total_assets",
        period_end=date(2024, 9, 30))])
    con.close()
    manifest = export_all(root / "w.duckdb", root / "exports", "report-run")
    return root / "exports", manifest


def _pages(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in (folder / "report").glob("*.html")}


def test_pages_and_charts_written(exported):
    folder, manifest = exported
    rep = manifest["report"]
    assert rep["entities"] == ["ICBC", "CCB"]  # the registry's order
    pages = _pages(folder)
    assert {"index.html", "disagreements.html", "metric-personal_customers.html", "metric-npl_ratio.html",
            "bank-ICBC.html", "bank-CCB.html"} <= set(pages)
    assert sorted(Path(p).name for p in rep["pages"]) == sorted(pages)
    # a chart per metric with a series, one per bank with a metric of two dates or more
    assert len(rep["charts"]) == 7  # 5 metrics (with the hostile total_assets), ICBC and CCB
    for chart in rep["charts"]:
        w, h = png_size(folder / chart)
        assert w > 300 and h > 200
        assert any(f'src="{Path(chart).name}"' in html for html in pages.values()), chart
    assert rep["bytes"] == sum(p.stat().st_size for p in (folder / "report").iterdir())
    assert rep["disagreements"] == 1
    assert ('id="font-warning"' in pages["index.html"]) == (rep["cjk_font"] is None)
    assert rep["data_quality"] == {
        "conflict": 1, "quarantined_file": 2, "unattributed_metric": 1, "unknown_unit": 1,
        "unresolved_period": 1}


def test_overview_matrix_compares_banks_in_chinese(exported):
    folder, _ = exported
    index = _pages(folder)["index.html"]
    matrix = index[index.index('class="matrix"'):index.index("</table>", index.index('class="matrix"'))]
    # names from the catalogues, never codes alone; English on hover
    for text in ("工商银行", "建设银行", "个人客户数", "个人客户金融资产", 'title="Retail AUM (personal_financial_assets)"'):
        assert text in matrix, text
    # banks are rows, linked to their pages; each cell has its value and as-of date
    assert matrix.index("工商银行") < matrix.index("建设银行")
    assert 'href="bank-ICBC.html"' in matrix and 'href="metric-personal_customers.html"' in matrix
    icbc_row = matrix[matrix.index("工商银行"):matrix.index("建设银行")]
    for text in ("7.55亿", "2024年9月末", "超16万亿元", "2020年6月末", "1.2亿"):
        assert text in icbc_row, text
    ccb_row = matrix[matrix.index("建设银行"):]
    assert "6.6亿" in ccb_row and "⚠ 分歧" in ccb_row and "1.35%" in ccb_row and "2024年6月末" in ccb_row


def test_metric_page_puts_every_bank_side_by_side(exported):
    folder, _ = exported
    page = _pages(folder)["metric-personal_customers.html"]
    assert "<h1>个人客户数" in page and "Personal (retail) customers" in page
    table = page[page.index("<table"):page.index("</table>")]
    assert table.index("工商银行") < table.index("建设银行")  # largest latest value first
    for text in ("7.55亿", "2024年9月末", "2024-09-30", "确数", "+9500万 (+14.39%)", "较2020年6月末",
                 "⚠ 分歧", "<details><summary>原文</summary>", "<mark>7.55亿户</mark>", "新华网",
                 "icbc/2024_q3.html", 'title="755,000,000 count"'):
        assert text in table, text
    assert 'src="chart-metric-personal_customers.png"' in page
    npl = _pages(folder)["metric-npl_ratio.html"]
    assert "1.35%" in npl and "-0.02个百分点" in npl


def test_disagreements_come_with_every_source(exported):
    folder, _ = exported
    index, page = _pages(folder)["index.html"], _pages(folder)["disagreements.html"]
    for html in (index, page):
        block = html[html.index('<div class="dis">'):]
        for text in ("建设银行", "个人客户数", "2023年末", "7.2亿", "6.6亿", "<mark>7.2亿户</mark>",
                     "证券时报", "ccb/2023_annual.html", "中国证券报", "ccb/2024_h1.html", "+9.09%"):
            assert text in block, text
    # the queue comes before data quality on the overview
    assert index.index('id="disagreements"') < index.index('id="data-quality"')


def test_bank_pages_stay(exported):
    folder, _ = exported
    page = _pages(folder)["bank-ICBC.html"]
    assert "<h1>工商银行" in page and "中国工商银行" in page
    for text in ("个人客户数", "7.55亿", "6.6亿", "超16万亿元", 'src="chart-bank-ICBC.png"', "+14.39%"):
        assert text in page, text


def test_article_text_is_escaped(exported):
    folder, _ = exported
    for name, html in _pages(folder).items():
        assert "<script" not in html.lower(), f"{name}: the pages have no script, least of all an article's"
        assert SCRIPT_SENTENCE not in html, name
        assert "<img src=x" not in html and "<b>bold" not in html, name
        assert "javascript:" not in html, f"{name}: only http(s) URLs become links"
        assert "<i>src</i>" not in html, name
    pages = _pages(folder)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in pages["bank-ICBC.html"]  # the fixture's sentence
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img" in pages["metric-total_assets.html"]
    assert "&lt;i&gt;src&lt;/i&gt;" in pages["metric-total_assets.html"]


def test_chart_labels_never_draw_tofu(monkeypatch):
    monkeypatch.setattr(report, "cjk_font", lambda: None)
    assert report.chart_label("工行 ICBC") == "?? ICBC"
    monkeypatch.setattr(report, "cjk_font", lambda: ("Noto Sans CJK SC", "/x.ttc"))
    assert report.chart_label("工行 ICBC") == "工行 ICBC"


def test_without_a_cjk_font_the_report_says_which_package(tmp_path, monkeypatch):
    build_warehouse(tmp_path / "w.duckdb")
    monkeypatch.setattr(report, "cjk_font", lambda: None)
    manifest = export_all(tmp_path / "w.duckdb", tmp_path / "exports", "no-font")
    assert manifest["report"]["cjk_font"] is None and manifest["report"]["charts"]
    for html in _pages(tmp_path / "exports").values():
        assert 'id="font-warning"' in html and "apt-get install fonts-noto-cjk" in html


def test_cjk_font_prefers_simplified_sans_faces():
    ranked = sorted(["Noto Serif CJK SC", "Noto Sans CJK JP", "Noto Sans Mono CJK SC", "Noto Sans CJK SC",
                     "Noto Sans CJK TC"], key=report._font_rank)
    assert ranked[0] == "Noto Sans CJK SC"


def test_chart_file_names_are_safe():
    for entity in ("../../x", "/etc", "a b", "工行"):
        for name in (report.chart_file_name(entity), report._safe_name("bank", entity, "html")):
            assert re.fullmatch(r"(chart|bank)-[A-Za-z0-9_-]+-[0-9a-f]{8}\.(png|html)", name), name
    assert report._safe_name("bank", "a/b", "html") != report._safe_name("bank", "a_b", "html")
    assert report._safe_name("metric", "npl_ratio", "html") == "metric-npl_ratio.html"


def test_empty_warehouse_still_renders(tmp_path):
    from flows.load import open_warehouse

    open_warehouse(tmp_path / "w.duckdb").close()
    manifest = export_all(tmp_path / "w.duckdb", tmp_path / "exports", "empty")
    html = (tmp_path / "exports" / "report" / "index.html").read_text(encoding="utf-8")
    assert "还没有时间序列" in html and manifest["report"]["charts"] == []
    assert all(info["rows"] == 0 for info in manifest["files"].values())


# --- the page in a real browser -------------------------------------------------------------

_CHECK_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.map.call(document.images, function (i) {
    return {src: i.getAttribute('src'), complete: i.complete, w: i.naturalWidth, h: i.naturalHeight};
  });
  var out = document.createElement('pre');
  out.id = 'img-check';
  out.textContent = JSON.stringify(imgs);
  document.body.appendChild(out);
});
</script>
"""
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--window-size=1280,2000"]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def _chromium_or_skip() -> str:
    path = find_chromium()
    if path is None:
        reason = ("headless Chromium not found: install it (apt-get install -y --no-install-recommends "
                  "chromium) to render the report")
        if os.environ.get("CI"):
            pytest.fail(reason + " — required when CI is set")
        pytest.skip(reason)
    return path


def _chromium(binary: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.browser
def test_report_renders_in_headless_chromium(exported, tmp_path):
    binary = _chromium_or_skip()
    folder, manifest = exported
    page = folder / "report" / "metric-personal_customers.html"
    # A copy of the page beside it (same relative image paths) with a probe that writes what
    # the browser made of each image into the DOM; the shipped page itself has no script.
    probe = page.with_name("_probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _CHECK_SCRIPT + "</body>"),
                     encoding="utf-8")
    try:
        dom = _chromium(binary, tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
        assert dom.returncode == 0, dom.stderr[-2000:]
        found = re.search(r'<pre id="img-check">(.*?)</pre>', dom.stdout, re.S)
        assert found, "the probe did not run: " + dom.stdout[-500:]
        imgs = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        assert [i["src"] for i in imgs] == ["chart-metric-personal_customers.png"]
        for img in imgs:
            assert img["complete"] and img["w"] > 0 and img["h"] > 0, img
        text = dom.stdout
        for number in ("7.55亿", "工商银行", "2024年9月末", "+9500万"):
            assert number in text, number
        assert len(re.findall(r"<script", text)) == 1, "no script but the probe ran"
    finally:
        probe.unlink()

    shot = tmp_path / "report.png"
    res = _chromium(binary, tmp_path, f"--screenshot={shot}", (folder / "report" / "index.html").as_uri())
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    assert png_size(shot) == (1280, 2000)
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    # non-blank: many distinct colours and dark text pixels on the white page
    assert pixels.std() > 0.05
    assert (pixels[..., :3].mean(axis=2) < 0.3).mean() > 0.005


def test_missing_chromium_fails_under_ci_and_skips_otherwise(monkeypatch):
    import sys

    this = sys.modules[__name__]
    monkeypatch.setattr(this, "find_chromium", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required when CI is set"):
        _chromium_or_skip()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not found"):
        _chromium_or_skip()


def test_one_article_contradicting_itself_is_folded_under_the_sources(tmp_path):
    con = build_warehouse(tmp_path / "w.duckdb", close=False)
    insert_rows(con, "fct_mentions", [
        mention("d05", 100 + i, f"农业银行、建设银行的私行客户数分别为{s}。", s, value=Decimal(v), entity="CCB",
                metric_key="private_banking_customers", period_end=date(2024, 12, 31))
        for i, (v, s) in enumerate([("256000", "25.6万户"), ("231500", "23.15万户")])])
    con.close()
    manifest = export_all(tmp_path / "w.duckdb", tmp_path / "exports", "fold")
    assert manifest["report"]["disagreements"] == 2
    index = _pages(tmp_path / "exports")["index.html"]
    across = index.index("<h3>不同来源之间</h3>")
    folded = index.index("<details><summary>同一篇文档内的不同数值（1 组）</summary>")
    assert across < index.index("7.2亿", across) < folded < index.index("私人银行客户数", folded)
    page = _pages(tmp_path / "exports")["disagreements.html"]
    assert "<h3>同一篇文档内的不同数值</h3>" in page and "<mark>23.15万户</mark>" in page


def test_old_as_of_dates_are_greyed_beside_newer_ones(tmp_path):
    con = build_warehouse(tmp_path / "w.duckdb", close=False)
    insert_rows(con, "fct_mentions", [mention(
        "d04", 100, "建行手机银行月活2.1亿户。", "2.1亿户", value=Decimal("210000000"), entity="CCB",
        metric_key="mobile_banking_mau", period_end=date(2020, 6, 30))])
    con.close()
    export_all(tmp_path / "w.duckdb", tmp_path / "exports", "stale")
    pages = _pages(tmp_path / "exports")
    table = pages["metric-mobile_banking_mau.html"]
    assert '<span class="asof stale" title="早于最新截至日期一年以上">2020年6月末（较旧）</span>' in table
    assert "2024年9月末（较旧）" not in table and "2024年9月末" in table
    assert 'class="asof stale" title="早于最新截至日期一年以上">2020年6月末</span>' in pages["index.html"]
    # 274 days apart is not stale: personal_customers (2024-09-30 and 2023-12-31)
    assert "2023年末（较旧）" not in pages["metric-personal_customers.html"]
