"""The real thing: a Prefect server, `prefect deploy` from prefect.yaml, a process worker, runs
triggered by the CLI and the API, the concurrency limit, and `bankmetrics serve`'s own server.

Everything listens on 127.0.0.1 and everything started here is stopped here (process groups,
module-scoped fixtures with finalizers). About a minute and a half on two cores.

CI runs on shared machines, where a Prefect server under load answers late or not at all for a
while: every wait here polls for readiness (health, states, log lines) up to a generous bounded
deadline, never sleeps a fixed time, and every request to the server is retried on timeouts and
Prefect's transient 429/502/503 until its own deadline (creating a flow run carries an idempotency
key, so a retried POST cannot create a second run). tools/busy_suite.py runs the suite with both
cores busy-looping.
"""
from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import uuid

import duckdb
import httpx
import pytest

from flows.serve import free_port, read_daily_spec, start_server, stop_process_group, wait_healthy

pytestmark = [pytest.mark.server, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
PREFECT = str(Path(sys.executable).parent / "prefect")
SPEC = read_daily_spec(ROOT / "prefect.yaml")
FLOW_DEPLOYMENT = "bankmetrics-etl/daily"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}
# Deadlines, in seconds: generous, for a loaded machine. They bound waits that poll; on an idle
# machine each is met in a few seconds.
HEALTH_TIMEOUT = 240.0  # a Prefect server's cold start: 8-20 s idle
RUN_TIMEOUT = 300.0  # a flow run on the seeds, from creation to a final state: ~10 s idle
REQUEST_DEADLINE = 180.0  # one API request, retries included
LINE_TIMEOUT = 240.0  # a subprocess printing an expected line
HAS_EXPORT = (ROOT / "flows" / "export.py").exists()  # issue 4 adds the export stage


def work_pool_name() -> str:
    import yaml

    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return next(d for d in doc["deployments"] if d["name"] == "daily")["work_pool"]["name"]


def base_env(home: Path) -> dict:
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    env.update(
        PREFECT_HOME=str(home),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        # Prefect's own clients (CLI, worker, flow runs) and the server's SQLite, on a loaded machine:
        # longer request timeouts, more retries, a longer wait for a busy database.
        PREFECT_API_REQUEST_TIMEOUT="120",
        PREFECT_CLIENT_MAX_RETRIES="10",
        PREFECT_SERVER_DATABASE_TIMEOUT="60",
    )
    return env


@dataclass
class Server:
    api: str
    env: dict  # for clients of this server (CLI, worker)
    proc: subprocess.Popen
    log: Path

    def _call(self, method: str, path: str, body: dict | None = None, ok: tuple[int, ...] = ()) -> httpx.Response:
        # Prefect's server answers 503 while its SQLite database is busy, and on a loaded machine it
        # may not answer within a request's timeout at all (httpx.ReadTimeout failed two CI runs).
        # Prefect's own client retries 429/502/503; this one also retries transport errors, until
        # REQUEST_DEADLINE. Only idempotent requests come here (creating a run has its key).
        deadline = time.monotonic() + REQUEST_DEADLINE
        delay = 0.5
        while True:
            try:
                r = httpx.request(method, f"{self.api}{path}", json=body, timeout=60)
                if r.status_code not in (429, 502, 503):
                    break
                problem = f"HTTP {r.status_code}"
            except httpx.TransportError as exc:  # ReadTimeout, ConnectError, ...
                problem = repr(exc)
            assert time.monotonic() < deadline, f"{method} {path}: still {problem} after {REQUEST_DEADLINE:.0f}s"
            time.sleep(delay)
            delay = min(delay * 2, 5)
        if r.status_code not in ok:
            r.raise_for_status()
        return r

    def get(self, path: str) -> dict | list:
        return self._call("GET", path).json()

    def get_or_none(self, path: str) -> dict | None:
        """GET `path`, None while it is 404 (e.g. a deployment not registered yet)."""
        r = self._call("GET", path, ok=(404,))
        return None if r.status_code == 404 else r.json()

    def post(self, path: str, body: dict | None = None) -> dict | list:
        r = self._call("POST", path, body or {})
        return r.json() if r.content else {}

    def patch(self, path: str, body: dict) -> None:
        self._call("PATCH", path, body)

    def create_flow_run(self, deployment_id: str, parameters: dict | None = None) -> str:
        """A flow run of the deployment; its idempotency key makes a retried request return the same run."""
        body = {"idempotency_key": uuid.uuid4().hex}
        if parameters is not None:
            body["parameters"] = parameters
        return self.post(f"/deployments/{deployment_id}/create_flow_run", body)["id"]

    def cli(self, *args: str, timeout: float = 300) -> str:
        res = subprocess.run(
            [PREFECT, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        assert res.returncode == 0, f"prefect {' '.join(args)}:\n{res.stdout}\n{res.stderr}"
        return res.stdout

    def wait_run(self, run_id: str, timeout: float = RUN_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.get(f"/flow_runs/{run_id}")
            if run["state_type"] in TERMINAL:
                return run
            assert time.monotonic() < deadline, f"flow run {run_id} still {run['state_type']} after {timeout}s"
            time.sleep(1)

    def logs(self, run_id: str, until: str, timeout: float = 120) -> list[str]:
        """The run's log messages, once one starts with `until` (logs reach the API in batches,
        possibly after the run's final state)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200})
            messages = [r["message"] for r in rows]
            if any(m.startswith(until) for m in messages) or time.monotonic() > deadline:
                return messages
            time.sleep(1)


def _log_tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    log = home / "server.log"
    t0 = time.monotonic()
    proc = start_server(port, log, env=base_env(home), ui=False)
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_healthy(api, proc, timeout=HEALTH_TIMEOUT)
    except RuntimeError as exc:
        stop_process_group(proc)
        pytest.fail(f"{exc}\n{_log_tail(log)}")
    print(f"server healthy after {time.monotonic() - t0:.1f}s")
    env = base_env(home)
    env["PREFECT_API_URL"] = api
    yield Server(api, env, proc, log)
    stop_process_group(proc)


@pytest.fixture(scope="module")
def deployment(server: Server) -> dict:
    """`daily` deployed from prefect.yaml as docs/scheduling.md says."""
    server.cli("work-pool", "create", work_pool_name(), "--type", "process")
    out = server.cli("--no-prompt", "deploy", "--all")
    assert "bankmetrics-etl/daily" in out
    return server.get("/deployments/name/" + FLOW_DEPLOYMENT)


@pytest.fixture(scope="module")
def worker(server: Server, deployment: dict, tmp_path_factory):
    """A process worker on the pool, once the schedule is switched off: a scheduled run would
    use the project's real folders."""
    for sched in deployment["schedules"]:
        server.patch(f"/deployments/{deployment['id']}/schedules/{sched['id']}", {"active": False})
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = dict(server.env, PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="5")
    with open(log, "ab") as fh:
        proc = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", work_pool_name(), "--type", "process"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    yield log
    # A Prefect worker shuts down on SIGINT; the group also holds any flow-run process it started.
    stop_process_group(proc, timeout=20, first=signal.SIGINT)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A raw folder with the two seeds, and where the warehouse and exports of the test go."""
    d = tmp_path_factory.mktemp("data")
    shutil.copytree(RAW, d / "raw")
    return d


def run_params(data: Path) -> dict:
    return {
        "raw_dir": str(data / "raw"),
        "db": str(data / "warehouse.duckdb"),
        "export_dir": str(data / "exports") if HAS_EXPORT else None,
    }


def etl_runs(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select flow_run_id, status, docs_new, docs_unchanged, mentions_loaded, started_at, finished_at "
            "from etl_runs order by started_at"
        ).fetchall()
    finally:
        con.close()


def count(db: Path, table: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"select count(*) from {table}").fetchall()[0][0]
    finally:
        con.close()


def cron_matches(cron: str, when: datetime) -> bool:
    """`when` fits the minute and hour fields of `cron` (other fields are not checked)."""
    minute, hour = cron.split()[:2]
    return all(f == "*" or not f.isdigit() or int(f) == v for f, v in ((minute, when.minute), (hour, when.hour)))


# --- the deployment --------------------------------------------------------------------------


def test_deploy_creates_the_daily_schedule_and_its_runs(server: Server, deployment: dict):
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == [SPEC.cron]
    assert deployment["schedules"][0]["schedule"]["timezone"] == SPEC.timezone == "Asia/Shanghai"
    assert deployment["schedules"][0]["active"] is True
    assert deployment["entrypoint"] == "flows/pipeline.py:scheduled_etl"
    assert deployment["work_pool_name"] == work_pool_name()
    assert deployment["parameters"] == SPEC.parameters
    assert deployment["global_concurrency_limit"]["limit"] == 1
    assert deployment["concurrency_options"]["collision_strategy"] == SPEC.collision_strategy
    # The pull step holds the absolute folder `deploy` ran from (a build-step output).
    [step] = deployment["pull_steps"]
    directory = step["prefect.deployments.steps.set_working_directory"]["directory"]
    assert Path(directory).resolve() == ROOT.resolve()

    # The server's scheduler fills in the next runs within seconds of a deployment change.
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        runs = server.post(
            "/flow_runs/filter",
            {"deployments": {"id": {"any_": [deployment["id"]]}},
             "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "sort": "EXPECTED_START_TIME_ASC"},
        )
        if len(runs) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(runs) >= 3 and all(r["auto_scheduled"] for r in runs)
    tz = ZoneInfo(SPEC.timezone)
    local = [datetime.fromisoformat(r["expected_start_time"].replace("Z", "+00:00")).astimezone(tz) for r in runs]
    assert all(cron_matches(SPEC.cron, t) for t in local), local
    assert local == sorted(set(local)) and local[0] > datetime.now(tz)
    assert all(r["parameters"] == SPEC.parameters for r in runs)


# --- runs through the worker -----------------------------------------------------------------


def test_a_run_triggered_from_the_cli_loads_the_seeds(server: Server, deployment: dict, worker: Path, data: Path):
    params = run_params(data)
    args = ["deployment", "run", FLOW_DEPLOYMENT]
    for key, value in params.items():
        args += ["--param", f"{key}={'null' if value is None else value}"]
    out = server.cli(*args)
    run_id = re.search(r"UUID: ([0-9a-f-]{36})", out).group(1)

    run = server.wait_run(run_id)
    assert run["state_type"] == "COMPLETED", f"{run['state']}\n{_log_tail(worker)}"
    db = Path(params["db"])
    assert count(db, "dim_documents") == 2 and count(db, "fct_mentions") > 40
    [(flow_run_id, status, docs_new, _, mentions, _, _)] = etl_runs(db)
    assert (flow_run_id, status, docs_new, mentions) == (run_id, "completed", 2, count(db, "fct_mentions"))
    if HAS_EXPORT:
        assert any((data / "exports").iterdir())

    # What the UI shows for the run (its logs) says what each stage did, with the same counts.
    logs = server.logs(run_id, until="stage seconds: ")
    assert any(m.startswith("scan: 2 files, 2 to read") for m in logs), logs
    loaded = [m for m in logs if m.startswith("loaded: ")]
    assert loaded and f"{mentions} mentions" in loaded[0] and loaded[0].startswith("loaded: 2 new")
    assert any(m.startswith("stage seconds: ") for m in logs)


def test_two_runs_at_once_never_overlap(server: Server, deployment: dict, worker: Path, data: Path):
    params = run_params(data)
    before = {r[0] for r in etl_runs(Path(params["db"]))}
    ids = [server.create_flow_run(deployment["id"], params) for _ in range(2)]
    runs = [server.wait_run(i) for i in ids]
    states = sorted(r["state_type"] for r in runs)
    completed = [r for r in runs if r["state_type"] == "COMPLETED"]
    if SPEC.collision_strategy == "CANCEL_NEW":
        # The documented choice: the run that finds the slot taken is cancelled, never started.
        assert states == ["CANCELLED", "COMPLETED"], [r["state"] for r in runs]
        [cancelled] = [r for r in runs if r["state_type"] == "CANCELLED"]
        assert "concurrency" in (cancelled["state"]["message"] or "").lower()
        assert cancelled["run_count"] == 0
    else:
        # ENQUEUE: the second waits for the slot, then runs.
        assert states == ["COMPLETED", "COMPLETED"], [r["state"] for r in runs]

    # Prefect's view: the completed runs' [start, end] intervals do not overlap.
    spans = sorted(
        (datetime.fromisoformat(r["start_time"]), datetime.fromisoformat(r["end_time"])) for r in completed
    )
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    # The warehouse's view agrees: one etl_runs row per completed flow run, none per cancelled one.
    new = [r for r in etl_runs(Path(params["db"])) if r[0] not in before]
    assert sorted(r[0] for r in new) == sorted(r["id"] for r in completed)
    assert all(r[1] == "completed" and r[2] == 0 and r[3] == 2 for r in new)  # seeds unchanged
    assert all(a[6] <= b[5] for a, b in zip(new, new[1:]))


# --- bankmetrics serve -----------------------------------------------------------------------


class Lines:
    """Lines of a subprocess's stdout, read by a thread so waiting never blocks on the pipe."""

    def __init__(self, proc: subprocess.Popen):
        self.seen: list[str] = []
        self._q: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.seen:
                if m := re.search(pattern, line):
                    return m
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no line matching {pattern!r} in:\n" + "\n".join(self.seen)
            try:
                line = self._q.get(timeout=remaining)
            except queue.Empty:
                continue
            assert line is not None, f"process ended before {pattern!r}:\n" + "\n".join(self.seen)
            self.seen.append(line)


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # a zombie is gone too


def test_serve_uses_the_server_in_prefect_api_url(server: Server, tmp_path: Path):
    """With PREFECT_API_URL set, serve registers `daily` there and starts no server of its own."""
    db = tmp_path / "served.duckdb"
    code = f"from flows.serve import serve; serve(raw_dir={str(RAW)!r}, db={str(db)!r}, no_export=True)"
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", code], cwd=tmp_path, env=server.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        lines = Lines(proc)
        lines.wait_for(re.escape(f"using the Prefect server at {server.api}"), LINE_TIMEOUT)
        lines.wait_for(r"answered its health check after \d+\.\ds", LINE_TIMEOUT)
        lines.wait_for(r"serving bankmetrics-etl/daily", LINE_TIMEOUT)
        deadline = time.monotonic() + LINE_TIMEOUT
        while True:  # until the served deployment replaced (or created) `daily`
            dep = server.get_or_none(f"/deployments/name/{FLOW_DEPLOYMENT}") or {"parameters": {}}
            if dep["parameters"].get("db") == str(db) or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert dep["parameters"] == {"raw_dir": str(RAW), "db": str(db), "export_dir": None}
        assert dep["schedules"][0]["schedule"] == {"cron": SPEC.cron, "timezone": SPEC.timezone, "day_or": True}
        assert dep["work_pool_name"] is None  # served: this process runs it, not a worker
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=LINE_TIMEOUT) == 0, "\n".join(lines.seen)
        assert not any("local Prefect server" in line for line in lines.seen)
        assert server.proc.poll() is None  # someone else's server keeps running
    finally:
        stop_process_group(proc, timeout=10)


def test_serve_starts_a_local_server_serves_runs_and_stops_it(tmp_path: Path):
    home = tmp_path / "prefect-home"
    home.mkdir()
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    db = tmp_path / "served.duckdb"
    exports = tmp_path / "exports"
    env = base_env(home)  # no PREFECT_API_URL
    cmd = [sys.executable, "-u", "-m", "flows.cli", "serve", "--raw-dir", str(raw), "--db", str(db),
           "--export-dir", str(exports)]  # `bankmetrics serve ...`
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    server_pid = None
    try:
        lines = Lines(proc)
        m = lines.wait_for(r"started a local Prefect server at (http://127\.0\.0\.1:\d+) \(pid (\d+)", LINE_TIMEOUT)
        url, server_pid = m.group(1), int(m.group(2))
        lines.wait_for(r"local Prefect server healthy after", HEALTH_TIMEOUT)
        lines.wait_for(r"serving bankmetrics-etl/daily: cron '" + re.escape(SPEC.cron), LINE_TIMEOUT)

        client = Server(f"{url}/api", env, proc, home / "bankmetrics-serve-server.log")
        dep = None
        deadline = time.monotonic() + LINE_TIMEOUT
        while dep is None:
            dep = client.get_or_none(f"/deployments/name/{FLOW_DEPLOYMENT}")
            if dep is None:
                assert time.monotonic() < deadline, "the served deployment never registered"
                time.sleep(1)
        assert [s["schedule"]["cron"] for s in dep["schedules"]] == [SPEC.cron]
        assert dep["schedules"][0]["schedule"]["timezone"] == SPEC.timezone
        assert dep["parameters"] == {"raw_dir": str(raw), "db": str(db), "export_dir": str(exports)}
        assert dep["global_concurrency_limit"]["limit"] == 1
        assert dep["concurrency_options"]["collision_strategy"] == SPEC.collision_strategy

        # The served process runs what the server hands it.
        run_id = client.create_flow_run(dep["id"])
        run = client.wait_run(run_id)
        assert run["state_type"] == "COMPLETED", (run["state"], "\n".join(lines.seen))
        assert [r[0] for r in etl_runs(db)] == [run_id]
        if HAS_EXPORT:
            assert any(exports.iterdir())

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=LINE_TIMEOUT) == 0, "\n".join(lines.seen)
        lines.wait_for(r"local Prefect server stopped", LINE_TIMEOUT)
        assert _gone(server_pid)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/api/health", timeout=5)
    finally:
        stop_process_group(proc, timeout=10)
        if server_pid is not None and not _gone(server_pid):
            os.killpg(server_pid, signal.SIGKILL)
