"""The compiled hot path (tools/build_native.py, flows/__init__.py): used only when fresh, and it
extracts exactly what the pure-Python modules extract."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import flows
from flows import native_status
from tests.test_normalise import EQUIVALENCE, _digest, _equivalence_ctx

ROOT = Path(__file__).resolve().parents[1]


def _build(tmp_path: Path, sources: dict[str, str], python: str = sys.implementation.cache_tag) -> tuple[Path, Path]:
    src = tmp_path / "src"
    native = tmp_path / "native"
    src.mkdir()
    native.mkdir()
    for name, text in sources.items():
        (src / name).write_text(text)
    manifest = {"python": python,
                "sources": {n: hashlib.sha256(t.encode()).hexdigest() for n, t in sources.items()}}
    (native / "manifest.json").write_text(json.dumps(manifest))
    return native, src


def test_a_build_is_used_only_while_its_sources_are_unchanged(tmp_path, monkeypatch):
    monkeypatch.delenv("BANKMETRICS_PURE", raising=False)
    native, src = _build(tmp_path, {"normalise.py": "x = 1\n", "extract.py": "y = 2\n"})
    assert native_status(native, src) == "compiled"

    (src / "extract.py").write_text("y = 3\n")  # edited after the build
    status = native_status(native, src)
    assert status.startswith("pure Python") and "extract.py changed" in status

    (src / "extract.py").unlink()
    assert "extract.py changed" in native_status(native, src)


def test_a_build_for_another_python_or_none_at_all_is_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv("BANKMETRICS_PURE", raising=False)
    native, src = _build(tmp_path, {"normalise.py": "x = 1\n"}, python="cpython-399")
    assert "cpython-399" in native_status(native, src)
    assert "no compiled build" in native_status(tmp_path / "missing", src)
    (native / "manifest.json").write_text("{not json")
    assert "no compiled build" in native_status(native, src)


def test_pure_can_be_forced(tmp_path, monkeypatch):
    native, src = _build(tmp_path, {"normalise.py": "x = 1\n"})
    monkeypatch.setenv("BANKMETRICS_PURE", "1")
    assert "BANKMETRICS_PURE" in native_status(native, src)


def test_make_built_the_compiled_modules_and_this_process_runs_them():
    # `make test` builds them first (Makefile: $(NATIVE)); a bare pytest after editing one of the
    # hot modules lands here until `make native` runs again.
    assert flows.NATIVE == "compiled", f"{flows.NATIVE}: run `make native`"
    from flows import normalise

    assert Path(normalise.__file__).suffix == ".so"
    assert Path(normalise.__file__).is_relative_to(flows.NATIVE_DIR)


def test_pure_python_extracts_exactly_what_the_compiled_modules_extract():
    # Both runs over the frozen equivalence inputs: this process (compiled when built) and a
    # fresh one forced to pure Python. Every document's mentions must hash the same.
    import gzip

    docs = json.loads(gzip.decompress(EQUIVALENCE.read_bytes()).decode("utf-8"))
    from flows.normalise import extract_mentions

    here = [_digest(extract_mentions(d["text"], _equivalence_ctx(d))) for d in docs]
    code = (
        "import gzip, json, flows\n"
        "from flows.normalise import extract_mentions\n"
        "from tests.test_normalise import EQUIVALENCE, _digest, _equivalence_ctx\n"
        "assert flows.NATIVE.startswith('pure'), flows.NATIVE\n"
        "assert flows.normalise.__file__.endswith('.py')\n"
        "docs = json.loads(gzip.decompress(EQUIVALENCE.read_bytes()).decode('utf-8'))\n"
        "print(json.dumps([_digest(extract_mentions(d['text'], _equivalence_ctx(d))) for d in docs]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "BANKMETRICS_PURE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    pure = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(pure) == len(here) >= 250
    differ = [d["name"] for d, a, b in zip(docs, here, pure) if a != b]
    assert not differ, f"compiled and pure Python disagree on {len(differ)} documents: {differ[:5]}"


def test_written_out_inits_take_every_field():
    # Mention, PeriodState, PeriodMatch, Place, Located and Subject write their __init__ out for
    # mypyc; a field added to the class but not to the __init__ would silently keep its class
    # default. Read from the sources: a compiled __init__ shows no signature.
    import ast

    for module, name in (("models", "Mention"), ("context", "PeriodState"), ("context", "PeriodMatch"),
                         ("document", "Place"), ("phrasing", "Located"), ("phrasing", "Subject")):
        tree = ast.parse((ROOT / "flows" / f"{module}.py").read_text(encoding="utf-8"))
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
        fields = [s.target.id for s in cls.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
        init = next(s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == "__init__")
        assert [a.arg for a in init.args.args[1:]] == fields, name
        assigned = {t.attr for s in ast.walk(init) if isinstance(s, ast.Assign) for t in s.targets
                    if isinstance(t, ast.Attribute)}
        assigned |= {c.args[1].value for c in ast.walk(init) if isinstance(c, ast.Call) and len(c.args) > 1
                     and isinstance(c.args[1], ast.Constant)}  # object.__setattr__(self, "x", x)
        assert set(fields) <= assigned, (name, set(fields) - assigned)
