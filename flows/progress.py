"""Progress of a long run: a live bar on a terminal, plain log lines everywhere else.

The flow reports four things (flows/pipeline.py): how many files the run has to read (`start`),
a batch transformed (`read`), a batch loaded with how many files it quarantined (`loaded`), the
end (`finish`). Who shows them is chosen outside the flow:

- `bankmetrics run` on a terminal installs a `BarProgress` (rich): files read / loaded of the
  total, rate, ETA and files quarantined so far, redrawn in place; Prefect's log lines print
  above it through the same console.
- Anywhere else (output piped or redirected, `TERM=dumb`, a Prefect worker or `serve` running
  the flow, tests) the flow falls back to `LogProgress`: a plain log line at most every
  `LOG_EVERY_SECONDS` and one at the end, through the run's logger, so they reach Prefect's UI.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from typing import Iterator, TextIO

LOG_EVERY_SECONDS = 15.0


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """Counts shared by both displays; thread-safe (transforms finish on worker threads)."""

    def __init__(self) -> None:
        self.total = self.read_files = self.loaded_files = self.quarantined = 0
        self.t0 = time.monotonic()
        self._lock = threading.Lock()

    def start(self, total_files: int) -> None:
        with self._lock:
            self.total, self.t0 = total_files, time.monotonic()
        self._show(force=True)

    def read(self, n_files: int) -> None:
        with self._lock:
            self.read_files += n_files
        self._show()

    def loaded(self, n_files: int, n_quarantined: int = 0) -> None:
        with self._lock:
            self.loaded_files += n_files
            self.read_files = max(self.read_files, self.loaded_files)
            self.quarantined += n_quarantined
        self._show()

    def finish(self) -> None:
        self._show(force=True)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.t0
        return self.loaded_files / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        rate = self.rate()
        return (self.total - self.loaded_files) / rate if rate > 0 else None

    def line(self) -> str:
        pct = 100.0 * self.loaded_files / self.total if self.total else 100.0
        return (f"progress: {self.read_files:,} of {self.total:,} files read, {self.loaded_files:,} loaded "
                f"({pct:.0f}%), {self.rate():,.0f} files/s, ETA {_duration(self.eta())}, "
                f"{self.quarantined:,} quarantined")

    def _show(self, force: bool = False) -> None:  # pragma: no cover - overridden
        pass


class LogProgress(Progress):
    """Plain lines through a logger, at most one every `every` seconds (and at start and end)."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter, every: float = LOG_EVERY_SECONDS) -> None:
        super().__init__()
        self.logger, self.every, self._last = logger, every, 0.0

    def _show(self, force: bool = False) -> None:
        if not self.total:  # nothing to read (a rerun on an unchanged folder): nothing to say
            return
        now = time.monotonic()
        if force or now - self._last >= self.every:
            self._last = now
            self.logger.info(self.line())


class BarProgress(Progress):
    """A rich live bar on `console`; Prefect's console log handlers print through it meanwhile."""

    def __init__(self, console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

        super().__init__()
        self.console = console
        self.bar = Bar(
            TextColumn("[bold]loading[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("files loaded"),
            TextColumn("· read {task.fields[read]:,}"), TextColumn("· {task.fields[rate]:,.0f} files/s"),
            TextColumn("· ETA"), TimeRemainingColumn(),
            TextColumn("· quarantined {task.fields[quarantined]:,}"),
            console=console, transient=False, refresh_per_second=4,
        )
        self.task = self.bar.add_task("load", total=None, read=0, rate=0.0, quarantined=0)
        self._swapped: list[tuple[object, object]] = []

    def __enter__(self) -> "BarProgress":
        # Log lines written straight to the terminal would tear the bar: route Prefect's console
        # handlers through the bar's console, which prints them above it.
        from prefect.logging.handlers import PrefectConsoleHandler

        for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs"):
            for h in logging.getLogger(name).handlers:
                if isinstance(h, PrefectConsoleHandler):
                    self._swapped.append((h, h.console))
                    h.console = self.console
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()
        for h, console in self._swapped:
            h.console = console

    def _show(self, force: bool = False) -> None:
        self.bar.update(self.task, total=self.total or None, completed=self.loaded_files, read=self.read_files,
                        rate=self.rate(), quarantined=self.quarantined)


_installed: Progress | None = None


def current(logger: logging.Logger | logging.LoggerAdapter | None = None) -> Progress:
    """The display a run reports to: the one `bankmetrics run` installed, else plain log lines."""
    if _installed is not None:
        return _installed
    return LogProgress(logger or logging.getLogger("bankmetrics.progress"))


def wants_bar(stream: TextIO | None = None, env: dict | None = None) -> bool:
    """A live bar only on an interactive terminal, never under a Prefect worker or a dumb terminal."""
    stream = stream if stream is not None else sys.stderr
    env = os.environ if env is None else env
    if env.get("PREFECT__FLOW_RUN_ID") or env.get("TERM") == "dumb" or env.get("BANKMETRICS_PROGRESS") == "plain":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def on_terminal(stream: TextIO | None = None, env: dict | None = None) -> Iterator[Progress | None]:
    """Install a live bar for the duration when `stream` is a terminal; otherwise do nothing (the
    flow then logs plain progress lines)."""
    global _installed
    if not wants_bar(stream, env):
        yield None
        return
    from rich.console import Console

    with BarProgress(Console(file=stream if stream is not None else sys.stderr)) as bar:
        _installed = bar
        try:
            yield bar
        finally:
            _installed = None


def when_done(future, fn, *args) -> None:
    """Call fn(*args) when a task future finishes (from the thread finishing it); futures that
    cannot say (a Dask future may not) are counted when loaded instead."""
    try:
        future.add_done_callback(lambda _f: fn(*args))
    except Exception:  # noqa: BLE001 - optional: `loaded` counts the files anyway
        pass
