"""Shared fixtures. Prefect runs in its ephemeral mode with a PREFECT_HOME of the test session's
own, so tests never touch the user's Prefect state or telemetry."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="bankmetrics-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)
# Flows run in this process (and in the processes tests start: CLI runs, Dask workers) start a
# temporary Prefect server; on a loaded machine it takes longer than Prefect's 20 s default.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_STEMS = ("000_ab545eb3df99d10b", "001_b419b8a76fd784a7")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped raw/ folder (the two seeds and their sidecars)."""
    dest = tmp_path / "raw"
    shutil.copytree(RAW, dest)
    return dest


@pytest.fixture
def cli_env(tmp_path: Path) -> dict:
    """Environment for running the `bankmetrics` console script in a subprocess."""
    env = dict(os.environ)
    env["PREFECT_HOME"] = _PREFECT_HOME
    return env
