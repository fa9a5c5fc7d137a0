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


def test_page_and_charts_written(exported):
    folder, manifest = exported
    page = folder / "report" / "index.html"
    assert page.is_file()
    assert manifest["report"]["entities"] == ["ICBC", "CCB"]
    assert len(manifest["report"]["charts"]) == 2
    html = page.read_text(encoding="utf-8")
    for chart in manifest["report"]["charts"]:
        w, h = png_size(folder / chart)
        assert w > 300 and h > 200
        assert f'src="{Path(chart).name}"' in html
    # the numbers a reader looks for
    for text in ("7.55亿", "755,000,000", "6.6亿 (2020-06-30) → 7.55亿 (2024-09-30)", "+14.39%",
                 "&gt; 16万亿", "-0.02 pp", "data quality: conflict 1, unknown_unit 1"):
        assert text in html, text
    assert manifest["report"]["data_quality"] == {
        "conflict": 1, "quarantined_file": 2, "unattributed_metric": 1, "unknown_unit": 1,
        "unresolved_period": 1}


def test_article_text_is_escaped(exported):
    folder, _ = exported
    html = (folder / "report" / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower(), "the page has no script at all, least of all an article's"
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html  # the fixture's sentence
    assert SCRIPT_SENTENCE not in html
    assert "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img" in html
    assert "javascript:" not in html, "only http(s) URLs become links"
    assert "<i>src</i>" not in html and "&lt;i&gt;src&lt;/i&gt;" in html


def test_numbers_format_exactly():
    assert report.human_value(Decimal("755000000"), "count") == "7.55亿"
    assert report.human_value(Decimal("15500000000000.0000000000"), "CNY") == "15.5万亿"
    assert report.human_value(Decimal("20000000"), "count") == "2000万"
    assert report.human_value(Decimal("1.35"), "percent") == "1.35%"
    assert report.human_value(Decimal("-0.15"), "pp") == "-0.15 pp"
    assert report.exact_value(Decimal("16000000000000.0000000000"), "CNY") == "16,000,000,000,000 CNY"


def test_chart_labels_never_draw_tofu(monkeypatch):
    monkeypatch.setattr(report, "cjk_font", lambda: None)
    assert report.chart_label("工行 ICBC") == "?? ICBC"
    monkeypatch.setattr(report, "cjk_font", lambda: "Noto Sans CJK SC")
    assert report.chart_label("工行 ICBC") == "工行 ICBC"


def test_chart_file_names_are_safe():
    for entity in ("../../x", "/etc", "a b", "工行"):
        name = report.chart_file_name(entity)
        assert re.fullmatch(r"chart-[A-Za-z0-9_-]+-[0-9a-f]{8}\.png", name), name
    assert report.chart_file_name("a/b") != report.chart_file_name("a_b")


def test_empty_warehouse_still_renders(tmp_path):
    from flows.load import open_warehouse

    open_warehouse(tmp_path / "w.duckdb").close()
    manifest = export_all(tmp_path / "w.duckdb", tmp_path / "exports", "empty")
    html = (tmp_path / "exports" / "report" / "index.html").read_text(encoding="utf-8")
    assert "No series yet" in html and manifest["report"]["charts"] == []
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
    page = folder / "report" / "index.html"
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
        assert len(imgs) == len(manifest["report"]["charts"]) == 2
        for img in imgs:
            assert img["complete"] and img["w"] > 0 and img["h"] > 0, img
        text = dom.stdout
        for number in ("7.55亿", "755,000,000", "+14.39%", "16万亿", "1.35%"):
            assert number in text, number
        assert "&lt;script&gt;alert" in text, "the sentence is shown as text"
        assert len(re.findall(r"<script", text)) == 1, "no script but the probe ran"
        assert "pwned" not in re.search(r"<title>(.*?)</title>", text).group(1)
    finally:
        probe.unlink()

    shot = tmp_path / "report.png"
    res = _chromium(binary, tmp_path, f"--screenshot={shot}", page.as_uri())
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
