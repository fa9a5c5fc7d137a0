"""flows/progress.py: a live bar on a terminal (files read / loaded, rate, ETA, quarantined), plain
log lines when output is not a terminal or the flow runs under a Prefect worker."""
from __future__ import annotations

import io
import logging
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from flows import progress

ROOT = Path(__file__).resolve().parent.parent
BANKMETRICS = str(Path(sys.executable).parent / "bankmetrics")


class FakeStream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize("tty, env, bar", [
    (True, {"TERM": "xterm-256color"}, True),
    (False, {"TERM": "xterm-256color"}, False),                              # piped or redirected
    (True, {"TERM": "dumb"}, False),
    (True, {"TERM": "xterm", "PREFECT__FLOW_RUN_ID": "8c1f..."}, False),     # a Prefect worker's run
    (True, {"TERM": "xterm", "BANKMETRICS_PROGRESS": "plain"}, False),
])
def test_bar_only_on_an_interactive_terminal(tty, env, bar):
    assert progress.wants_bar(FakeStream(tty), env) is bar


def test_no_bar_installed_means_plain_log_lines():
    stream = FakeStream(False)
    with progress.on_terminal(stream, {"TERM": "xterm"}) as installed:
        assert installed is None
        assert isinstance(progress.current(), progress.LogProgress)
    assert stream.getvalue() == ""


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_plain_lines_are_throttled_and_say_everything(monkeypatch):
    logger = logging.getLogger("test-progress")
    handler = ListHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    p = progress.LogProgress(logger, every=15)
    p.start(10_000)
    for _ in range(4):  # four batches within 15 s: no line until the interval has passed
        clock[0] += 2
        p.read(2000)
        p.loaded(2000, 1)
    assert len(handler.lines) == 1 and handler.lines[0].startswith("progress: 0 of 10,000 files read")
    clock[0] += 10  # 20 s after the start
    p.loaded(1000, 2)
    p.finish()
    assert handler.lines[-1] == ("progress: 9,000 of 10,000 files read, 9,000 loaded (90%), 500 files/s, "
                                 "ETA 0:00:02, 6 quarantined")
    assert len(handler.lines) == 3
    logger.removeHandler(handler)


def test_bar_draws_counts_rate_eta_and_quarantined(monkeypatch):
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    clock = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    with progress.BarProgress(console) as bar:
        bar.start(10_000)
        clock[0] += 4
        bar.read(4000)
        bar.loaded(2000, 3)
    text = out.getvalue()
    assert "2000/10000 files loaded" in text and "read 4,000" in text
    assert "500 files/s" in text and "quarantined 3" in text and "ETA" in text and "━" in text


def _run(args: list[str], tty: bool, tmp: Path) -> tuple[int, str]:
    # the suite quiets Prefect to warnings (conftest); a person's run logs at INFO
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "PREFECT_LOGGING_LEVEL": "INFO"}
    env.pop("PREFECT__FLOW_RUN_ID", None)
    cmd = [BANKMETRICS, "run", "--raw-dir", str(ROOT / "raw"), "--db", str(tmp / "w.duckdb"), "--no-export", *args]
    if not tty:
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        return res.returncode, res.stdout + res.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=60), out.decode("utf-8", "replace")


@pytest.mark.prefect
def test_run_shows_a_bar_on_a_terminal_and_plain_lines_in_a_pipe(tmp_path):
    code, raw = _run([], tty=True, tmp=tmp_path / "a")
    assert code == 0, raw[-2000:]
    assert "\x1b[" in raw, "a terminal gets a live display"
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)
    assert "━" in text and "2/2 files loaded" in text and "quarantined 0" in text and "files/s" in text
    assert "progress:" not in text, "on a terminal the bar replaces the plain lines"

    code, text = _run([], tty=False, tmp=tmp_path / "b")
    assert code == 0, text[-2000:]
    assert "progress: 2 of 2 files read, 2 loaded (100%)" in text and "0 quarantined" in text
    assert "━" not in text and "\x1b[" not in text, "no bar and no escape codes in a pipe"


def test_nothing_to_read_logs_nothing():
    logger = logging.getLogger("test-progress-empty")
    handler = ListHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    p = progress.LogProgress(logger)
    p.start(0)
    p.finish()
    assert handler.lines == []
    logger.removeHandler(handler)
