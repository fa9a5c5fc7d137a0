"""The `bankmetrics` console script as a user runs it (each full run starts Prefect: ~10 s)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest

BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "bankmetrics"


def cli(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    exe = str(BIN) if BIN.exists() else "bankmetrics"
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_missing_raw_folder_is_one_line_and_non_zero(tmp_path: Path, cli_env: dict):
    r = cli("run", "--raw-dir", "nope", "--db", "w.duckdb", env=cli_env, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "raw folder nope does not exist" in r.stderr


def test_unwritable_warehouse_is_one_line_and_non_zero(tmp_path: Path, cli_env: dict, raw_copy: Path):
    (tmp_path / "afile").write_text("x")
    r = cli("run", "--raw-dir", str(raw_copy), "--db", "afile/w.duckdb", env=cli_env, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "cannot" in r.stderr


def test_locked_warehouse_says_busy(tmp_path: Path, cli_env: dict, raw_copy: Path):
    db = tmp_path / "w.duckdb"
    holder = duckdb.connect(str(db))  # as a run in another process would
    try:
        r = cli("run", "--raw-dir", str(raw_copy), "--db", str(db), "--wait", "0", env=cli_env, cwd=tmp_path)
        assert r.returncode == 3 and "warehouse busy" in r.stderr
        assert r.stderr.strip().count("\n") == 0
    finally:
        holder.close()


@pytest.mark.prefect
def test_run_twice_then_query(tmp_path: Path, cli_env: dict, raw_copy: Path):
    args = ("run", "--raw-dir", str(raw_copy), "--db", "w.duckdb", "--no-export")
    first = cli(*args, env=cli_env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "files seen: 2" in first.stdout and "2 new, 0 changed, 0 unchanged" in first.stdout
    second = cli(*args, env=cli_env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "0 new, 0 changed, 2 unchanged" in second.stdout and "mentions loaded: 0" in second.stdout
    q = cli("sql", "select count(distinct doc_id) as docs from rpt_mentions", "--db", "w.duckdb",
            "--format", "csv", env=cli_env, cwd=tmp_path)
    assert q.returncode == 0 and q.stdout.split() == ["docs", "2"]


@pytest.mark.prefect
def test_a_run_whose_export_fails_exits_4_saying_the_load_committed(tmp_path: Path, cli_env: dict, raw_copy: Path):
    notes = tmp_path / "notes"  # not an earlier export: the export refuses to replace it
    notes.mkdir()
    (notes / "mine.txt").write_text("keep me")
    r = cli("run", "--raw-dir", str(raw_copy), "--db", "w.duckdb", "--export-dir", str(notes),
            env=cli_env, cwd=tmp_path)
    assert r.returncode == 4, (r.stdout, r.stderr[-2000:])
    [line] = [ln for ln in r.stderr.splitlines() if ln.startswith("bankmetrics:")]
    assert "export failed: the load committed (2 new" in line and "holds no manifest.json" in line
    assert "2 new, 0 changed" in r.stdout  # the load's summary is still printed
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("select status from etl_runs").fetchall() == [("completed_export_failed",)]
    con.close()
    assert (notes / "mine.txt").read_text() == "keep me"


def test_a_run_waits_generously_for_its_temporary_prefect_server(tmp_path: Path, cli_env: dict):
    """Prefect gives its temporary server 20 s to start; a busy machine needs more (issue 14)."""
    import sys

    env = {k: v for k, v in cli_env.items() if k != "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"}
    code = ("import flows.cli\n"
            "from prefect.settings import get_current_settings\n"
            "print(get_current_settings().server.ephemeral.startup_timeout_seconds)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300)
    assert out.returncode == 0 and out.stdout.split() == ["180"], out.stderr[-2000:]
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "45"  # the user's own setting wins
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300)
    assert out.stdout.split() == ["45"], out.stderr[-2000:]
