"""Chinese renders as glyphs, not boxes: in headless Chromium (the report's pages) and in
matplotlib (its charts). Each check runs twice: with the machine's fonts, where it must pass, and
with a fontconfig that sees no CJK font, where the same check must report boxes, so the test
cannot pass on a machine that draws tofu."""
from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from flows import report
from test_report import _chromium_or_skip, exported  # noqa: F401 (a fixture)

CELL, COLS = 56, 10
INSTALL_HINT = "install fonts-noto-cjk (apt-get install fonts-noto-cjk); .ci/run does"


def cjk_chars(html: str, n: int = 12) -> list[str]:
    """The first n distinct Han characters of a page's text: what the report really shows."""
    text = re.sub(r"<[^>]+>", " ", html)
    out: list[str] = []
    for ch in text:
        if "\u4e00" <= ch <= "\u9fff" and ch not in out:
            out.append(ch)
    return out[:n]


def glyph_page(chars: list[str]) -> str:
    """Each character alone in a fixed cell, in the report's own font stack; the last cell holds
    a private-use character no font has: the browser's 'missing glyph' box, for comparison."""
    css = re.search(r"body \{ font-family: ([^;]+);", report._CSS).group(1)
    cells = "".join(
        f'<div style="position:absolute;left:{(i % COLS) * CELL}px;top:{(i // COLS) * CELL}px;'
        f'width:{CELL}px;height:{CELL}px;font-size:40px;line-height:{CELL}px;text-align:center">{c}</div>'
        for i, c in enumerate([*chars, "\ue000"]))
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>body {{ margin:0; '
            f"font-family: {css}; background:#fff; color:#000 }}</style></head><body>{cells}</body></html>")


def ink(pixels: np.ndarray, i: int) -> np.ndarray:
    y, x = (i // COLS) * CELL, (i % COLS) * CELL
    return pixels[y:y + CELL, x:x + CELL, :3].mean(axis=2) < 0.5


def glyph_problems(pixels: np.ndarray, n: int) -> list[str]:
    """What is wrong with the n characters' cells: blank, all alike, or drawn as the missing box."""
    cells = [ink(pixels, i) for i in range(n)]
    missing = ink(pixels, n)
    problems = [f"cell {i} is blank" for i, c in enumerate(cells) if c.sum() < 20]
    distinct = {c.tobytes() for c in cells}
    if len(distinct) < n:
        problems.append(f"{n} characters drew only {len(distinct)} distinct shapes (boxes)")
    problems += [f"cell {i} is the missing-glyph box" for i, c in enumerate(cells)
                 if (c != missing).sum() < 0.02 * c.size]
    return problems


def render(binary: str, page: Path, out: Path, profile: Path, env: dict | None = None) -> np.ndarray:
    import matplotlib.image as mpimg

    res = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={COLS * CELL},{3 * CELL}",
         f"--screenshot={out}", page.as_uri()],
        capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0 and out.is_file(), res.stderr[-2000:]
    return mpimg.imread(out)


def latin_only_fontconfig(tmp_path: Path) -> dict:
    """An environment whose fontconfig sees one Latin font (DejaVu Sans) and nothing else."""
    import os

    latin = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True).stdout
    if not latin or not Path(latin).is_file() or "cjk" in latin.lower():
        pytest.skip("no Latin-only font for the negative control")
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>{Path(latin).parent}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>""")
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


@pytest.mark.browser
def test_chinese_labels_render_as_glyphs_in_chromium(exported, tmp_path):  # noqa: F811
    binary = _chromium_or_skip()
    if not shutil.which("fc-list"):
        pytest.fail("fontconfig missing: " + INSTALL_HINT)
    folder, _ = exported
    chars = cjk_chars((folder / "report" / "index.html").read_text(encoding="utf-8"))
    assert len(chars) >= 10, chars  # bank and metric names, headings
    page = tmp_path / "glyphs.html"
    page.write_text(glyph_page(chars), encoding="utf-8")

    problems = glyph_problems(render(binary, page, tmp_path / "ok.png", tmp_path / "p1"), len(chars))
    assert not problems, f"Chinese renders as boxes ({'; '.join(problems[:3])}): {INSTALL_HINT}"

    # The negative control: the same page where fontconfig knows no CJK font must fail the check.
    env = latin_only_fontconfig(tmp_path)
    tofu = glyph_problems(render(binary, page, tmp_path / "tofu.png", tmp_path / "p2", env), len(chars))
    assert tofu, "the check found no boxes even without a CJK font: it cannot fail"


def _missing_glyph_warnings(rc: dict, text: str) -> list[str]:
    from io import BytesIO

    import matplotlib
    from matplotlib.figure import Figure

    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context(rc):
        warnings.simplefilter("always")
        fig = Figure(figsize=(3, 1))
        fig.suptitle(text)
        fig.savefig(BytesIO(), format="png")
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_charts_draw_chinese_with_the_cjk_font():
    if report.cjk_font() is None:
        pytest.fail("no CJK font for the charts: " + INSTALL_HINT)
    family, path = report.cjk_font()
    assert "CJK SC" in family or "SC" in family or "Hei" in family, family  # Simplified faces first
    assert _missing_glyph_warnings(report.chart_font_rc(), "个人客户金融资产：各行对比（单位：万亿元）") == []
    # negative control: matplotlib's default font has no Han glyphs and says so
    assert _missing_glyph_warnings({"font.family": ["DejaVu Sans"]}, "个人客户金融资产")
