"""`bankmetrics serve`'s health check (issue 14): it asks a Prefect server's /api/health again and
again for a bounded, configurable time before it gives up, and says how long it waited. A busy
machine made a single check fail ("does not answer .../health") while the server was only slow."""
from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from flows.serve import HEALTH_TIMEOUT_ENV, free_port, health_timeout, wait_healthy

BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "bankmetrics"


class _Health(http.server.BaseHTTPRequestHandler):
    asks: list[str] = []
    up = threading.Event()

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).asks.append(self.path)
        self.send_response(200 if self.up.is_set() else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_health_check_waits_for_a_server_that_answers_late():
    _Health.asks, _Health.up = [], threading.Event()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{httpd.server_address[1]}/api"
    try:
        def come_up():  # healthy only once it has been asked (and refused) twice
            while len(_Health.asks) < 2:
                threading.Event().wait(0.05)
            _Health.up.set()

        threading.Thread(target=come_up, daemon=True).start()
        waited = wait_healthy(api, None, timeout=120)
        assert len(_Health.asks) >= 3 and set(_Health.asks) == {"/api/health"}
        assert 0 < waited < 120
    finally:
        httpd.shutdown()


def test_the_health_check_gives_up_after_its_timeout_saying_how_long_it_waited():
    api = f"http://127.0.0.1:{free_port()}/api"  # nobody listens
    with pytest.raises(RuntimeError) as exc:
        wait_healthy(api, None, timeout=1.5)
    message = str(exc.value)
    assert f"does not answer {api}/health: waited " in message and "--health-timeout 1.5s" in message
    waited = float(message.split("waited ")[1].split("s")[0])
    assert waited >= 1.5


def test_the_health_timeout_comes_from_the_option_then_the_environment(monkeypatch):
    monkeypatch.delenv(HEALTH_TIMEOUT_ENV, raising=False)
    assert health_timeout() == 180.0 and health_timeout(7) == 7.0
    monkeypatch.setenv(HEALTH_TIMEOUT_ENV, "45")
    assert health_timeout() == 45.0 and health_timeout(3) == 3.0
    monkeypatch.setenv(HEALTH_TIMEOUT_ENV, "soon")
    with pytest.raises(ValueError, match="not a number"):
        health_timeout()


def test_serve_gives_up_on_a_silent_server_with_one_line(tmp_path: Path, cli_env: dict):
    env = dict(cli_env, PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api")
    exe = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "flows.cli"]
    r = subprocess.run([*exe, "serve", "--health-timeout", "2"], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=300)
    assert r.returncode == 2, (r.stdout, r.stderr)
    [line] = [ln for ln in r.stderr.splitlines() if ln.startswith("bankmetrics:")]
    assert "does not answer" in line and "--health-timeout 2s" in line
    assert float(line.split("/health: waited ")[1].split("s ")[0]) >= 2  # it waited, then said how long
