from __future__ import annotations

import gzip
import json
import os
from datetime import date
from pathlib import Path

import pytest

from flows.config import Limits
from flows.ingest import (
    FileEntry,
    Rejected,
    decode_bytes,
    parse_published_at,
    read_document,
    read_sidecar,
    scan,
    sniff_format,
)

ARTICLE = "截至今年6月末，工行服务个人客户已超6.6亿，个人客户金融资产规模突破15.5万亿元。"


def entry_for(raw: Path, name: str) -> FileEntry:
    st = os.stat(raw / name)
    return FileEntry(name, st.st_size, st.st_mtime_ns, None)


def test_scan_walks_recursively_and_skips_sidecars_hidden_and_temp(tmp_path: Path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "a.meta.json").write_text('{"source": "x"}', encoding="utf-8")
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "deeper" / "b.html").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "no_extension").write_text(ARTICLE, encoding="utf-8")
    for junk in (".hidden.txt", "c.txt~", "d.tmp", "e.swp", "f.part", "#g.txt#"):
        (tmp_path / junk).write_text(ARTICLE, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text(ARTICLE, encoding="utf-8")
    entries, problems = scan(tmp_path)
    assert [e.path for e in entries] == ["a.txt", "no_extension", "sub/deeper/b.html"]
    assert entries[0].sidecar_sig is not None and entries[1].sidecar_sig is None
    assert problems == []


def test_scan_survives_a_symlink_loop(tmp_path: Path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    os.symlink(tmp_path, tmp_path / "d" / "loop")
    entries, _ = scan(tmp_path)
    assert [e.path for e in entries] == ["d/a.txt"]


@pytest.mark.parametrize(
    "encoding, expected",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),  # Python writes a BOM
        ("utf-16-be", None),  # BOM added below
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
    ],
)
def test_decode_round_trips_supported_encodings(encoding: str, expected: str | None):
    data = ARTICLE.encode(encoding)
    if encoding == "utf-16-be":
        data, expected = b"\xfe\xff" + data, "utf-16"
    text, used = decode_bytes(data)
    assert text == ARTICLE
    assert used == expected


def test_decode_traditional_big5_range_in_gb18030():
    trad = "截至今年6月末，工行服務個人客戶已超6.6億。"
    text, used = decode_bytes(trad.encode("gb18030"))
    assert (text, used) == (trad, "gb18030")


def test_decode_rejects_bytes_no_supported_encoding_reads():
    with pytest.raises(Rejected) as exc:
        decode_bytes(b"\xff\xfa\xff\xfb" * 50)
    assert exc.value.reason == "undecodable"


def test_sniff_html_from_content_not_extension():
    assert sniff_format("<div><span>工行</span></div><p>x</p>") == "html"
    assert sniff_format("<!DOCTYPE html><html><body>x</body></html>") == "html"
    assert sniff_format("标题\n\n正文 a<b 与 c>d 的比较。") == "text"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2020", (date(2020, 1, 1), "year", None)),
        ("2020-07", (date(2020, 7, 1), "month", None)),
        ("2024-11-05", (date(2024, 11, 5), "day", None)),
        ("2024-11-05T08:30:00+08:00", (date(2024, 11, 5), "datetime", None)),
        ("2024-11-05 08:30", (date(2024, 11, 5), "datetime", None)),
        (2021, (date(2021, 1, 1), "year", None)),
        (None, (None, None, None)),
    ],
)
def test_published_at_keeps_precision(raw, expected):
    assert parse_published_at(raw) == expected


@pytest.mark.parametrize("raw", ["2024-13-45", "2023-02-30", "yesterday", "20xx"])
def test_impossible_published_at_is_a_warning(raw):
    value, precision, warning = parse_published_at(raw)
    assert value is None and precision is None and raw in warning


def test_bad_sidecar_is_a_warning_not_an_error(tmp_path: Path):
    side = tmp_path / "a.meta.json"
    side.write_text("{not json", encoding="utf-8")
    sidecar, digest = read_sidecar(side)
    assert sidecar.published_at is None and "not valid JSON" in sidecar.warnings[0]
    assert digest is not None
    side.write_text(json.dumps({"published_at": "2020-07", "source": 5, "title": " T "}), encoding="utf-8")
    sidecar, _ = read_sidecar(side)
    assert sidecar.published_at == date(2020, 7, 1) and sidecar.title == "T"
    assert sidecar.source is None and any("source" in w for w in sidecar.warnings)


def test_read_document_gbk_html_with_txt_name_and_sidecar(tmp_path: Path):
    html = f"<html><head><title>标题</title></head><body><p>{ARTICLE}</p></body></html>"
    (tmp_path / "page.txt").write_bytes(html.encode("gbk"))
    (tmp_path / "page.meta.json").write_text('{"published_at": "2020-07", "entity": "ICBC"}', encoding="utf-8")
    entries, _ = scan(tmp_path)
    doc = read_document(tmp_path, entries[0])
    assert doc.format == "html" and doc.encoding == "gb18030"
    assert doc.sidecar.entity == "ICBC" and doc.sidecar.published_precision == "month"
    assert len(doc.content_hash) == 64


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"", "empty"),
        (b"   \n\t \r\n", "empty"),
        (gzip.compress(ARTICLE.encode()), "binary"),
        (b"PK\x03\x04" + os.urandom(64), "binary"),
        (bytes(range(0, 32)) * 40, "binary"),
    ],
)
def test_read_document_rejects_what_is_not_an_article(tmp_path: Path, payload: bytes, reason: str):
    (tmp_path / "bad.txt").write_bytes(payload)
    with pytest.raises(Rejected) as exc:
        read_document(tmp_path, entry_for(tmp_path, "bad.txt"))
    assert exc.value.reason == reason


def test_read_document_enforces_the_size_limit(tmp_path: Path):
    (tmp_path / "big.txt").write_text(ARTICLE * 100, encoding="utf-8")
    with pytest.raises(Rejected) as exc:
        read_document(tmp_path, entry_for(tmp_path, "big.txt"), Limits(max_file_bytes=1000))
    assert exc.value.reason == "too_large"


def test_stray_nul_bytes_are_salvaged(tmp_path: Path):
    (tmp_path / "nul.txt").write_bytes(ARTICLE.encode() + b"\x00\n" + ARTICLE.encode())
    doc = read_document(tmp_path, entry_for(tmp_path, "nul.txt"))
    assert "\x00" not in doc.text and doc.text.count("6.6亿") == 2
