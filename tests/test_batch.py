"""flows/batch.py: what a batch keeps of a document whose bytes had to be repaired (issue 14)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows.batch import build_batch, touches_replacement
from flows.ingest import FileEntry

ARTICLE = "工行半年报\n截至三季度末,工商银行个人客户数达7.55亿户,较年初增加超1400万户。\n个人客户金融资产突破22万亿元。\n"


def entry(folder: Path, name: str) -> FileEntry:
    st = os.stat(folder / name)
    return FileEntry(name, st.st_size, st.st_mtime_ns, None)


@pytest.mark.parametrize("text, start, end, touching", [
    ("达7.55亿户,", 1, 7, False),
    ("达\ufffd7.55亿户,", 2, 8, True),  # right before the surface: a lost digit or sign
    ("达7.55亿户\ufffd", 1, 7, True),  # right after: a lost unit or measure word
    ("达7.5\ufffd5亿户", 1, 8, True),  # inside
    ("\ufffd达7.55亿户", 2, 8, False),  # one character away
])
def test_touching_a_replacement_character(text, start, end, touching):
    assert touches_replacement(text, start, end) is touching


def test_mentions_touching_a_replaced_byte_are_not_loaded_and_the_document_says_so(tmp_path: Path):
    clean = (ARTICLE * 30).encode("utf-8")  # ~4 KB: 4 invalid bytes allowed
    at = clean.index("7.55".encode()) + 3  # "7.5|5亿户": read alone, "5亿户" would be a wrong figure
    (tmp_path / "stray.txt").write_bytes(clean[:at] + b"\xff" + clean[at:])
    (tmp_path / "clean.txt").write_bytes(clean)
    batch = build_batch(tmp_path, [entry(tmp_path, "clean.txt"), entry(tmp_path, "stray.txt")])
    docs = {d["primary_path"]: d for d in batch.docs.to_pylist()}
    mentions = batch.mentions.to_pylist()
    by_doc = {p: [m["surface"] for m in mentions if m["doc_id"] == d["doc_id"]] for p, d in docs.items()}
    assert by_doc["clean.txt"].count("7.55亿户") == 30
    # one figure lost, every other one kept; numbering has no gap
    assert by_doc["stray.txt"].count("7.55亿户") == 29 and "5亿户" not in by_doc["stray.txt"]
    assert len(by_doc["stray.txt"]) == len(by_doc["clean.txt"]) - 1
    stray_nos = [m["mention_no"] for m in mentions if m["doc_id"] == docs["stray.txt"]["doc_id"]]
    assert stray_nos == list(range(1, len(stray_nos) + 1))
    assert docs["stray.txt"]["replaced_byte_offsets"] == [at] and docs["stray.txt"]["truncated_bytes"] == 0
    assert docs["stray.txt"]["warnings"] == ["1 mention touching an unreadable character (U+FFFD) not loaded"]
    assert (docs["clean.txt"]["replaced_byte_offsets"], docs["clean.txt"]["warnings"]) == ([], [])


def test_a_cut_short_file_loads_with_its_byte_count(tmp_path: Path):
    data = (ARTICLE + "银").encode("gb18030")
    (tmp_path / "cut.txt").write_bytes(data[:-1])
    batch = build_batch(tmp_path, [entry(tmp_path, "cut.txt")])
    assert batch.quarantined.num_rows == 0
    [doc] = batch.docs.to_pylist()
    assert (doc["encoding"], doc["truncated_bytes"], doc["replaced_byte_offsets"]) == ("gb18030", 1, [])
    assert doc["body_text"].endswith("个人客户金融资产突破22万亿元。")
    assert batch.mentions.num_rows == 3
