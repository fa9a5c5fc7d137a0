"""Run settings with their defaults, in one place.

Limits protect a run from hostile input: a file or paragraph over them is quarantined
with a reason instead of being read into memory whole.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = Path(os.environ.get("BANKMETRICS_SQL_DIR", PROJECT_ROOT / "sql"))
RULES_DIR = Path(__file__).resolve().parent / "rules"

DEFAULT_RAW_DIR = "raw"
DEFAULT_DB = "warehouse/bankmetrics.duckdb"
DEFAULT_EXPORT_DIR = "exports"


@dataclass(frozen=True)
class Limits:
    """Input limits; both configurable from the CLI and the flow parameters."""

    max_file_bytes: int = 8 * 1024 * 1024
    max_paragraph_chars: int = 50_000


@dataclass(frozen=True)
class RunSettings:
    raw_dir: Path
    db_path: Path
    export_dir: Path | None = None
    batch_size: int = 500
    workers: int = 1
    limits: Limits = Limits()
