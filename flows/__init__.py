"""bankmetrics: Chinese bank news -> evidenced quantities in a DuckDB warehouse.

One module per stage (ingest, clean, extract, normalise, load, export); `pipeline` wires them
into the Prefect flow and `cli` is the command line. Nothing runs at import time, except the
choice below of compiled or pure-Python extraction modules.

The extraction hot path (normalise, document, phrasing, dates, extract, numerals, models, lexicon,
script, attribution, metric_match, context, subject, values) may also exist compiled by mypyc (tools/build_native.py, run by `make`) in the
virtual environment. It is used only when its manifest names this Python and the exact bytes of
every source it was built from:
a module edited since the build makes the whole package pure Python again, never stale.
`BANKMETRICS_PURE=1` forces pure Python. `NATIVE` says which one this process runs, and why.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

__version__ = "0.1.0"

NATIVE_DIR = Path(sys.prefix) / "bankmetrics-native"


def native_status(native_dir: Path = NATIVE_DIR, source_dir: Path = Path(__file__).parent) -> str:
    """'compiled' when the build in `native_dir` matches this Python and `source_dir`, else why not."""
    if os.environ.get("BANKMETRICS_PURE"):
        return "pure Python (BANKMETRICS_PURE is set)"
    try:
        manifest = json.loads((native_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return "pure Python (no compiled build: make builds one)"
    if manifest.get("python") != sys.implementation.cache_tag:
        return f"pure Python (the build is for {manifest.get('python')})"
    for name, digest in manifest.get("sources", {}).items():
        try:
            current = hashlib.sha256((source_dir / name).read_bytes()).hexdigest()
        except OSError:
            current = None
        if current != digest:
            return f"pure Python (flows/{name} changed since the build: make rebuilds it)"
    return "compiled" if manifest.get("sources") else "pure Python (empty build)"


def _use_native(native_dir: Path) -> None:
    import importlib.util

    # mypyc's shared library of the compiled group: the module shims import it by name. Loaded
    # here by path, so no directory joins sys.path (a child process inherits sys.path).
    for lib in native_dir.glob("*__mypyc.*"):
        name = lib.name.split(".")[0]
        spec = importlib.util.spec_from_file_location(name, lib)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {lib}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    __path__.insert(0, str(native_dir / "flows"))  # noqa: F821 (a package's own __path__)


NATIVE = native_status()
if NATIVE == "compiled":
    _use_native(NATIVE_DIR)
