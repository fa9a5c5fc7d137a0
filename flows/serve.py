"""`bankmetrics serve`: the daily schedule in one command, with `flow.serve` instead of a worker.

The schedule and parameters come from the `daily` deployment in prefect.yaml, so both ways of
running (docs/scheduling.md) share one cron. `flow.serve` cannot schedule on Prefect's ephemeral
server ("Cannot schedule flows on an ephemeral server"), so:

- when a Prefect API is configured (PREFECT_API_URL, from the environment or the Prefect
  profile), the flow is served there;
- otherwise a local server is started on a free loopback port (`prefect server start --host
  127.0.0.1`), used once `/api/health` answers, and stopped when serving ends (Ctrl-C, SIGTERM,
  or an error). Its log is written under PREFECT_HOME.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from flows.config import PROJECT_ROOT

PREFECT_FILE = PROJECT_ROOT / "prefect.yaml"
DEPLOYMENT = "daily"
# How long `serve` waits for a Prefect server's /api/health before it gives up, in seconds (its
# own server or the one in PREFECT_API_URL): `--health-timeout`, or this environment variable.
# A cold start takes 8-20 s on two idle cores, and minutes on a loaded machine.
HEALTH_TIMEOUT_ENV = "BANKMETRICS_HEALTH_TIMEOUT"
DEFAULT_HEALTH_TIMEOUT = 180.0
SERVER_START_TIMEOUT = DEFAULT_HEALTH_TIMEOUT
SERVER_STOP_TIMEOUT = 15.0


def health_timeout(value: float | None = None) -> float:
    """`value`, else $BANKMETRICS_HEALTH_TIMEOUT, else DEFAULT_HEALTH_TIMEOUT; ValueError if not > 0."""
    if value is None:
        raw = os.environ.get(HEALTH_TIMEOUT_ENV, "").strip()
        try:
            value = float(raw) if raw else DEFAULT_HEALTH_TIMEOUT
        except ValueError:
            raise ValueError(f"{HEALTH_TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if not value > 0:
        raise ValueError(f"the health timeout must be a positive number of seconds, not {value}")
    return float(value)


@dataclass(frozen=True)
class DailySpec:
    """What prefect.yaml says about the `daily` deployment."""

    cron: str
    timezone: str
    parameters: dict = field(default_factory=dict)
    concurrency_limit: int | None = None
    collision_strategy: str | None = None
    description: str | None = None


def read_daily_spec(prefect_file: Path | str = PREFECT_FILE, name: str = DEPLOYMENT) -> DailySpec:
    """The cron, timezone, parameters and concurrency limit of deployment `name` in `prefect_file`."""
    import yaml

    prefect_file = Path(prefect_file)
    try:
        doc = yaml.safe_load(prefect_file.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ValueError(f"cannot read {prefect_file}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{prefect_file} is not valid YAML: {str(exc).splitlines()[0]}") from None
    found = [d for d in doc.get("deployments") or [] if isinstance(d, dict) and d.get("name") == name]
    if not found:
        raise ValueError(f"{prefect_file} has no deployment named {name!r}")
    dep = found[0]
    crons = [s for s in dep.get("schedules") or [] if isinstance(s, dict) and s.get("cron")]
    if len(crons) != 1:
        raise ValueError(f"deployment {name!r} in {prefect_file} needs exactly one cron schedule")
    limit = dep.get("concurrency_limit")
    if isinstance(limit, dict):
        limit, strategy = limit.get("limit"), limit.get("collision_strategy")
    else:
        strategy = None
    return DailySpec(
        cron=str(crons[0]["cron"]),
        timezone=str(crons[0].get("timezone") or "UTC"),
        parameters=dict(dep.get("parameters") or {}),
        concurrency_limit=limit,
        collision_strategy=strategy,
        description=dep.get("description"),
    )


# --- a local Prefect server ------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefect_executable() -> str:
    """The `prefect` CLI of this interpreter's environment (a venv needs no activation)."""
    candidate = Path(sys.executable).parent / "prefect"
    return str(candidate) if candidate.exists() else "prefect"


def server_env(base: dict | None = None) -> dict:
    """Environment for a server subprocess: no API URL of its own, no telemetry."""
    env = dict(os.environ if base is None else base)
    env.pop("PREFECT_API_URL", None)
    env["DO_NOT_TRACK"] = "1"
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    return env


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM if the process that started it dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def start_server(port: int, log_path: Path, env: dict | None = None, ui: bool = True) -> subprocess.Popen:
    """`prefect server start` on 127.0.0.1:`port` in a process group of its own, output to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [prefect_executable(), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    if not ui:
        cmd.append("--no-ui")
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            cmd,
            env=server_env(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, not the server; we stop it ourselves
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )


def is_healthy(api_url: str, timeout: float = 10.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_healthy(api_url: str, proc: subprocess.Popen | None = None, timeout: float = SERVER_START_TIMEOUT) -> float:
    """Seconds until `api_url`/health answers, asking again until `timeout` seconds have passed
    (each request may take up to 10 s: a busy server answers slowly); RuntimeError, saying how long
    it waited, if `proc` exits or time runs out."""
    t0 = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        if is_healthy(api_url, timeout=max(1.0, min(10.0, timeout - (time.monotonic() - t0)))):
            return time.monotonic() - t0
        waited = time.monotonic() - t0
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"the Prefect server exited with code {proc.returncode} before it was healthy (after {waited:.1f}s)")
        if waited >= timeout:
            raise RuntimeError(
                f"the Prefect server at {api_url} does not answer {api_url.rstrip('/')}/health: waited {waited:.1f}s "
                f"({attempts} tries, --health-timeout {timeout:g}s)")
        time.sleep(min(0.5, max(0.0, timeout - waited)))


def stop_process_group(
    proc: subprocess.Popen, timeout: float = SERVER_STOP_TIMEOUT, first: int = signal.SIGTERM
) -> None:
    """Signal the process group of `proc` (started with a session of its own) with `first`
    (SIGTERM; a Prefect worker wants SIGINT), then SIGKILL if it lingers after `timeout` seconds."""
    if proc.poll() is not None:
        return
    for sig, wait in ((first, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # The CLI may have gone first and left its uvicorn child in the group: make sure it is gone.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --- serve ----------------------------------------------------------------------------------


class _Stop(Exception):
    """SIGTERM before the runner took over signal handling."""


def _absolute(path: str | None, root: Path) -> str | None:
    if path is None:
        return None
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else root / p)


def serve(
    cron: str | None = None,
    timezone: str | None = None,
    raw_dir: str | None = None,
    db: str | None = None,
    export_dir: str | None = None,
    no_export: bool = False,
    echo: Callable[[str], object] = print,
    prefect_file: Path | str = PREFECT_FILE,
    health_timeout_s: float | None = None,
) -> None:
    """Serve `bankmetrics-etl` as deployment `daily` on its cron until interrupted.

    Every argument left as None comes from the `daily` deployment in `prefect_file`; relative
    paths are taken from the project folder (where prefect.yaml is), as the worker's pull step
    does. `no_export` serves runs that skip the Parquet exports and report. `health_timeout_s`
    bounds the wait for the server's /api/health (`health_timeout`). Returns when serving stops
    (Ctrl-C or SIGTERM); a local server it started is stopped.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    wait_s = health_timeout(health_timeout_s)
    spec = read_daily_spec(prefect_file)
    root = Path(prefect_file).resolve().parent
    params = dict(spec.parameters)
    for key, value in (("raw_dir", raw_dir), ("db", db), ("export_dir", export_dir)):
        if value is not None:
            params[key] = value
    if no_export:
        params["export_dir"] = None
    for key in ("raw_dir", "db", "export_dir"):
        if key in params:
            params[key] = _absolute(params[key], root)
    cron = cron or spec.cron
    timezone = timezone or spec.timezone

    # Until the runner installs its own handler, SIGTERM must still reach the `finally` below.
    previous = signal.getsignal(signal.SIGTERM)

    def _on_sigterm(signum, frame):
        raise _Stop()

    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        signal.signal(signal.SIGTERM, _on_sigterm)
    server: subprocess.Popen | None = None
    try:
        api_url = PREFECT_API_URL.value()
        if api_url:
            echo(f"using the Prefect server at {api_url} (PREFECT_API_URL)")
            secs = wait_healthy(api_url, None, wait_s)
            echo(f"the Prefect server at {api_url} answered its health check after {secs:.1f}s")
        else:
            port = free_port()
            api_url = f"http://127.0.0.1:{port}/api"
            log_path = Path(PREFECT_HOME.value()) / "bankmetrics-serve-server.log"
            server = start_server(port, log_path)
            echo(
                f"PREFECT_API_URL is not set: started a local Prefect server at http://127.0.0.1:{port} "
                f"(pid {server.pid}, log {log_path}); it stops when serving stops"
            )
            try:
                secs = wait_healthy(api_url, server, wait_s)
            except RuntimeError as exc:
                raise RuntimeError(f"{exc} (see {log_path})") from None
            echo(f"local Prefect server healthy after {secs:.1f}s; UI at http://127.0.0.1:{port}")
            os.environ["PREFECT_API_URL"] = api_url  # for the flow-run subprocesses
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            _serve_flow(cron, timezone, params, spec, echo)
    except (_Stop, KeyboardInterrupt):
        echo("stopping")
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        if server is not None:
            echo(f"stopping the local Prefect server (pid {server.pid})")
            stop_process_group(server)
            os.environ.pop("PREFECT_API_URL", None)
            echo("local Prefect server stopped")


def _serve_flow(cron: str, timezone: str, params: dict, spec: DailySpec, echo) -> None:
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from flows.pipeline import etl

    limit = None
    if spec.concurrency_limit:
        limit = ConcurrencyLimitConfig(
            limit=spec.concurrency_limit, collision_strategy=spec.collision_strategy or "ENQUEUE"
        )
    echo(
        f"serving {etl.name}/{DEPLOYMENT}: cron {cron!r} in {timezone}, parameters {params}; "
        "Ctrl-C or SIGTERM stops it"
    )
    etl.serve(
        name=DEPLOYMENT,
        schedules=[Cron(cron, timezone=timezone)],
        parameters=params,
        description=spec.description,
        global_limit=limit,
        limit=1,  # this process runs one flow run at a time
        # By module path, so the runs do not depend on this process's working directory.
        entrypoint_type=EntrypointType.MODULE_PATH,
        print_starting_message=False,
    )


if __name__ == "__main__":  # python -m flows.serve: the same as `bankmetrics serve`
    serve()
