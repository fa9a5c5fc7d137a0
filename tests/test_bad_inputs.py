"""Issue 6.1: bad files never stop a run and never vanish.

One case of each kind of bad file: the committed ones are in tests/fixtures/bad_inputs/raw with
their expected outcome in expected.toml; the ones git cannot hold (symlinks, a FIFO, an
unreadable file, a name that is not UTF-8, files of several MB, a sidecar nested 100,000 deep)
are made here. A run on all of them beside the two seeds must load or quarantine each one as
listed; once every file is fixed, the next run loads them and the quarantine is empty.

Unreadable files: tests run as root, where `chmod 000` does not stop a read, so the test also
makes `os.access` and `os.open` refuse that one path (monkeypatch), as they do for a user.
"""
from __future__ import annotations

import errno
import os
import shutil
import tomllib
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.prefect

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "bad_inputs"
RAW_SEEDS = HERE.parent / "raw"
ARTICLE = "截至今年6月末，招商银行零售客户数达1.9亿户，管理零售客户总资产13.9万亿元，较年初增长{n}%。"
MAX_FILE_BYTES = 4_000_000  # the run's configured limit (the default is 8 MB)
GBK_NAME = "工行.txt".encode("gbk")  # b'\xb9\xa4\xd0\xd0.txt': not UTF-8
GBK_NAME_STORED = "\\xb9\\xa4\\xd0\\xd0.txt"
UNREADABLE = "no_permission.txt"


def committed_cases() -> dict[str, dict]:
    with open(FIXTURE / "expected.toml", "rb") as fh:
        return {c["path"]: c for c in tomllib.load(fh)["case"]}


def make_generated_cases(raw: Path) -> dict[str, dict]:
    """Cases that cannot be committed as files; returns their expected outcomes."""
    os.symlink("self_loop.txt", raw / "self_loop.txt")
    os.symlink("gone/nowhere.txt", raw / "dangling.txt")
    os.mkfifo(raw / "pipe.txt")
    (raw / "sub").mkdir()
    (raw / "sub" / "nested.txt").write_text("嵌套\n" + ARTICLE.format(n="3.1"), encoding="utf-8")
    os.symlink("..", raw / "sub" / "up")  # a folder loop: raw/sub/up -> raw
    (raw / UNREADABLE).write_text("无权限\n" + ARTICLE.format(n="3.2"), encoding="utf-8")
    os.chmod(raw / UNREADABLE, 0)
    with open(os.path.join(os.fsencode(raw), GBK_NAME), "wb") as fh:
        fh.write(("非UTF-8文件名\n" + ARTICLE.format(n="3.3")).encode("utf-8"))
    # One paragraph of 3 MB: under the file limit, over the paragraph limit.
    sentence = ARTICLE.format(n="3.4")
    (raw / "one_paragraph_3mb.txt").write_text(
        "一段\n" + sentence * (3_000_000 // len(sentence.encode())), encoding="utf-8"
    )
    # Over the run's file-size limit: never read into memory.
    with open(raw / "over_limit_5mb.txt", "wb") as fh:
        fh.write(("超限\n" + sentence + "\n").encode() * (5_000_000 // 120))
    (raw / "deep_sidecar.txt").write_text("深嵌套边车\n" + ARTICLE.format(n="3.5"), encoding="utf-8")
    (raw / "deep_sidecar.meta.json").write_text("[" * 100_000, encoding="utf-8")
    (raw / "huge_sidecar.txt").write_text("巨大边车\n" + ARTICLE.format(n="3.6"), encoding="utf-8")
    with open(raw / "huge_sidecar.meta.json", "w", encoding="utf-8") as fh:
        fh.write('{"title": "' + "长" * 1_000_000 + '"}')
    q = lambda reason, **kw: {"outcome": "quarantined", "reason": reason, **kw}  # noqa: E731
    return {
        "self_loop.txt": q("unreadable", detail="symbolic link loop"),
        "dangling.txt": q("unreadable", detail="broken symbolic link"),
        "pipe.txt": q("not_a_file", detail="FIFO"),
        "sub/nested.txt": {"outcome": "loaded"},
        UNREADABLE: q("unreadable", detail="permission denied"),
        GBK_NAME_STORED: {"outcome": "loaded"},
        "one_paragraph_3mb.txt": q("paragraph_too_long"),
        "over_limit_5mb.txt": q("too_large"),
        "deep_sidecar.txt": {"outcome": "loaded", "warning": "not valid JSON"},
        "huge_sidecar.txt": {"outcome": "loaded", "warning": "sidecar over"},
        "000_ab545eb3df99d10b.txt": {"outcome": "loaded"},
        "001_b419b8a76fd784a7.txt": {"outcome": "loaded"},
    }


@pytest.fixture
def unreadable_as_root(monkeypatch):
    """Make UNREADABLE unreadable even for root, as chmod 000 makes it for any other user."""
    state = {"locked": True}
    real_access, real_open = os.access, os.open

    def access(path, mode, *a, **kw):
        if state["locked"] and os.fsdecode(path).endswith(UNREADABLE):
            return False
        return real_access(path, mode, *a, **kw)

    def open_(path, flags, *a, **kw):
        if state["locked"] and os.fsdecode(path).endswith(UNREADABLE):
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
        return real_open(path, flags, *a, **kw)

    if os.geteuid() == 0:
        monkeypatch.setattr(os, "access", access)
        monkeypatch.setattr(os, "open", open_)
    return state


def run(raw: Path, db: Path) -> dict:
    from flows.pipeline import etl

    return etl(raw_dir=str(raw), db=str(db), batch_size=7, max_file_bytes=MAX_FILE_BYTES)


def warehouse_state(db: Path) -> tuple[dict, dict, dict, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        loaded = dict(con.execute("select path, doc_id from dim_source_files").fetchall())
        quarantined = {p: (r, d) for p, r, d in con.execute("select path, reason, detail from etl_quarantine").fetchall()}
        warnings = dict(
            con.execute(
                "select s.path, d.warnings from dim_source_files s join dim_documents d using (doc_id)"
            ).fetchall()
        )
        bad_evidence = con.execute(
            """select m.doc_id, m.mention_no from fct_mentions m join dim_documents d using (doc_id)
               where m.surface <> substr(d.body_text, m.char_start + 1, m.char_end - m.char_start)
                  or m.sentence <> substr(d.body_text, m.sentence_start + 1, length(m.sentence))"""
        ).fetchall()
    finally:
        con.close()
    return loaded, quarantined, warnings, bad_evidence


def test_every_bad_file_loads_or_is_quarantined_then_loads_once_fixed(tmp_path: Path, unreadable_as_root):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE / "raw", raw)
    for p in RAW_SEEDS.iterdir():
        shutil.copy(p, raw / p.name)
    expected = {**committed_cases(), **make_generated_cases(raw)}
    db = tmp_path / "w.duckdb"

    first = run(raw, db)
    loaded, quarantined, warnings, bad_evidence = warehouse_state(db)
    # Never vanish: every article name is either loaded or quarantined, nothing else is there.
    assert set(loaded) | set(quarantined) == set(expected)
    assert not set(loaded) & set(quarantined)
    for path, case in expected.items():
        if case["outcome"] == "loaded":
            assert path in loaded, (path, quarantined.get(path))
            if "warning" in case:
                assert any(case["warning"] in w for w in warnings[path]), (path, warnings[path])
        else:
            assert quarantined.get(path, (None,))[0] == case["reason"], (path, quarantined.get(path))
            assert case.get("detail", "") in quarantined[path][1]
    n_loaded = sum(c["outcome"] == "loaded" for c in expected.values())
    assert first["docs_new"] == n_loaded and first["files_seen"] == len(expected)
    assert first["mentions_loaded"] > 0 and bad_evidence == []

    # A rerun on the same folder reads nothing and keeps the quarantine as it was.
    again = run(raw, db)
    assert (again["docs_new"], again["docs_changed"], again["files_removed"]) == (0, 0, 0)
    assert warehouse_state(db)[1] == quarantined

    # Fix every quarantined file: the next run loads each one and clears its quarantine row.
    renamed = {}
    for n, path in enumerate(sorted(quarantined)):
        full = raw / path
        good = f"修好{n}\n" + ARTICLE.format(n=f"{n + 10}.5")
        if path.startswith(".") or expected[path]["reason"] == "temporary":
            new = f"fixed_{n}_" + path.lstrip(".~$").replace(".part", "")
            full.rename(raw / new)  # a finished download or a file made visible
            renamed[path] = new
            continue
        if full.is_symlink() or not full.is_file():
            full.unlink()
        else:
            os.chmod(full, 0o644)
        full.write_text(good, encoding="utf-8")
    unreadable_as_root["locked"] = False

    fixed = run(raw, db)
    loaded, quarantined_after, _, bad_evidence = warehouse_state(db)
    assert quarantined_after == {}, quarantined_after
    assert fixed["files_quarantined"] == 0 and bad_evidence == []
    assert (fixed["docs_new"], fixed["files_removed"]) == (len(quarantined), len(renamed)), fixed
    assert set(loaded) == (set(expected) - set(renamed)) | set(renamed.values())


def test_a_scan_never_reads_a_file_over_the_limit(tmp_path: Path, monkeypatch):
    """Peak memory follows the limit, not the file: a 5 MB file costs a stat, not a read."""
    from flows.batch import build_batch
    from flows.config import Limits
    from flows.ingest import scan

    (tmp_path / "big.txt").write_bytes(b"x" * 5_000_000)
    reads = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: reads.append(os.fsdecode(p)) or real_open(p, *a, **k))
    entries, _ = scan(tmp_path)
    batch = build_batch(tmp_path, entries, limits=Limits(max_file_bytes=1_000_000))
    assert batch.quarantined.column("reason").to_pylist() == ["too_large"]
    assert not any(r.endswith("big.txt") for r in reads)


# --- issue 14: a new user's hostile folder -----------------------------------------------------

BIN = HERE.parent / ".venv" / "bin" / "bankmetrics"


def hostile_cases() -> dict[str, dict]:
    with open(FIXTURE / "expected.toml", "rb") as fh:
        return {c["path"]: c for c in tomllib.load(fh)["hostile"]}


def test_a_new_users_hostile_folder_loses_no_readable_article(tmp_path: Path, cli_env: dict):
    """`bankmetrics run` on hostile/ (10 readable articles, 5 files that hold none), as a new user
    runs it: every readable article loads, the cut-short and repaired ones with a data-quality row
    saying what was dropped or replaced, and every other file is quarantined with its reason."""
    import subprocess

    raw = tmp_path / "news"
    shutil.copytree(FIXTURE / "hostile", raw)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(RAW_SEEDS / "000_ab545eb3df99d10b.txt", elsewhere / "article.txt")
    os.symlink(elsewhere / "article.txt", raw / "linked.txt")
    expected = hostile_cases()
    assert set(expected) == {p.name for p in raw.iterdir()}
    readable = {p for p, c in expected.items() if c["outcome"] == "loaded"}
    unreadable = {p: c["reason"] for p, c in expected.items() if c["outcome"] == "quarantined"}
    assert (len(readable), len(unreadable)) == (10, 5)

    db = tmp_path / "w.duckdb"
    res = subprocess.run(
        [str(BIN) if BIN.exists() else "bankmetrics", "run", "--raw-dir", str(raw), "--db", str(db), "--no-export"],
        capture_output=True, text=True, env=cli_env, cwd=tmp_path, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    # What the user reads: every reject with its reason.
    assert "quarantined: 5" in res.stdout and "10 new" in res.stdout, res.stdout
    for path, reason in unreadable.items():
        assert f"  {path}: {reason} (" in res.stdout, (path, res.stdout)

    con = duckdb.connect(str(db), read_only=True)
    try:
        loaded = {r[0] for r in con.execute("select path from dim_source_files").fetchall()}
        quarantined = dict(con.execute("select path, reason from etl_quarantine").fetchall())
        quality = {(c, p): d for c, p, d in con.execute(
            "select check_name, path, detail from rpt_data_quality "
            "where check_name in ('truncated_file', 'replaced_bytes')").fetchall()}
        stray = con.execute(
            """select m.surface, d.body_text, d.warnings from fct_mentions m
               join dim_documents d using (doc_id) where d.primary_path = 'stray_bytes.txt'""").fetchall()
        bad_evidence = con.execute(
            """select m.doc_id, m.mention_no from fct_mentions m join dim_documents d using (doc_id)
               where m.surface <> substr(d.body_text, m.char_start + 1, m.char_end - m.char_start)""").fetchall()
    finally:
        con.close()
    print(f"\nhostile folder: {len(loaded & readable)}/{len(readable)} readable articles loaded, "
          f"{sum(quarantined.get(p) == r for p, r in unreadable.items())}/{len(unreadable)} others quarantined "
          f"with their reason; data-quality rows: {sorted(quality)}")
    assert loaded == readable, (readable - loaded, quarantined)
    assert quarantined == unreadable
    assert bad_evidence == []
    assert quality == {
        (c["check"], p): quality.get((c["check"], p), "") for p, c in expected.items() if "check" in c
    }
    for path, case in expected.items():
        if "check" in case:
            assert case["detail"] in quality[(case["check"], path)], (path, quality)
    # The figure a stray byte sat in ("7.5\ufffd5亿户", which reads as 5亿户) did not load; the rest
    # of its article did.
    surfaces = [s for s, _, _ in stray]
    body, warnings = stray[0][1], stray[0][2]
    assert "7.5\ufffd5亿户" in body and "5亿户" not in surfaces
    assert len(surfaces) >= 3 and "1 mention touching an unreadable character (U+FFFD) not loaded" in warnings
