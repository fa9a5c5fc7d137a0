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


def test_scan_walks_recursively_skips_sidecars_and_hidden_folders(tmp_path: Path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "a.meta.json").write_text('{"source": "x"}', encoding="utf-8")
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "deeper" / "b.html").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "no_extension").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text(ARTICLE, encoding="utf-8")
    entries, problems = scan(tmp_path)
    assert [e.path for e in entries] == ["a.txt", "no_extension", "sub/deeper/b.html"]
    assert entries[0].sidecar_sig is not None and entries[1].sidecar_sig is None
    assert problems == []


def test_scan_signs_the_sidecar_the_reader_reads(tmp_path: Path):
    # The scan's sidecar signature decides whether a file is read again; it must describe the
    # sidecar read_document picks: NAME.meta.json first, then FULLNAME.meta.json, files only.
    from flows.ingest import _find_sidecar

    sub = tmp_path / "sub"
    sub.mkdir()
    for name in ("stem.txt", "full.txt", "both.txt", "none.txt", "dir.txt", "dangling.txt", "sub/x.htm"):
        (tmp_path / name).write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "stem.meta.json").write_text("{}", encoding="utf-8")
    (tmp_path / "full.txt.meta.json").write_text('{"a": 1}', encoding="utf-8")
    (tmp_path / "both.meta.json").write_text("{}", encoding="utf-8")
    (tmp_path / "both.txt.meta.json").write_text('{"b": 22}', encoding="utf-8")
    (tmp_path / "dir.meta.json").mkdir()  # a folder is no sidecar: the full-name one counts
    (tmp_path / "dir.txt.meta.json").write_text('{"c": 333}', encoding="utf-8")
    (tmp_path / "dangling.meta.json").symlink_to(tmp_path / "missing.json")
    (sub / "x.meta.json").write_text('{"d": 4444}', encoding="utf-8")
    entries, _ = scan(tmp_path)
    assert len(entries) == 7
    for e in entries:
        side = _find_sidecar(str(tmp_path / e.path))
        expected = None if side is None else f"{os.stat(side).st_size}:{os.stat(side).st_mtime_ns}"
        assert e.sidecar_sig == expected, e.path
    by_path = {e.path: e.sidecar_sig for e in entries}
    assert by_path["none.txt"] is None and by_path["dangling.txt"] is None
    assert by_path["both.txt"].startswith("2:") and by_path["dir.txt"].startswith("10:")


@pytest.mark.parametrize(
    "name, reason",
    [(".hidden.txt", "hidden"), ("c.txt~", "temporary"), ("d.tmp", "temporary"), ("e.swp", "temporary"),
     ("f.part", "temporary"), ("#g.txt#", "temporary"), ("~$h.doc", "temporary")],
)
def test_hidden_and_temporary_files_are_listed_then_rejected_unread(tmp_path: Path, name: str, reason: str):
    (tmp_path / name).write_text(ARTICLE, encoding="utf-8")
    entries, _ = scan(tmp_path)
    assert [e.path for e in entries] == [name]
    with pytest.raises(Rejected) as exc:
        read_document(tmp_path, entries[0])
    assert exc.value.reason == reason and "rename" in exc.value.detail


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


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("20240630", (date(2024, 6, 30), "day", None)),
        (20240630, (date(2024, 6, 30), "day", None)),
        ("2024/06/30", (date(2024, 6, 30), "day", None)),
        ("2024.6", (date(2024, 6, 1), "month", None)),
        ("2024年6月30日", (date(2024, 6, 30), "day", None)),
        ("2024年6月", (date(2024, 6, 1), "month", None)),
        ("2024年", (date(2024, 1, 1), "year", None)),
    ],
)
def test_published_at_other_spellings_of_a_date(raw, expected):
    assert parse_published_at(raw) == expected


@pytest.mark.parametrize(
    "raw", ["2024-13-45", "2023-02-30", "yesterday", "20xx", "0001-01-01", "2999-12-31", "1800", "2024/02/30",
            "2024年2月30日", "2024-06-30/2024-07-01"]
)
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


# --- issue 6: bad inputs at the unit level (end to end: tests/test_bad_inputs.py) -----------


@pytest.mark.parametrize(
    "payload, expected",
    [
        ("截至今年6月末，工行服務個人客戶已超6.6億，個人客戶金融資產規模突破15.5萬億元。".encode("big5"), "big5"),
        (ARTICLE.encode("utf-16-le"), "utf-16-le"),  # CJK UTF-16 without a BOM: no NUL pattern
        (ARTICLE.encode("utf-32-be"), "utf-32-be"),
        ("<html><body><p>6.6 billion</p></body></html>".encode("utf-32-le"), "utf-32-le"),
        ("<html><body><p>6.6 billion</p></body></html>".encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_decode_fallbacks_when_gb18030_reads_mojibake_or_fails(payload: bytes, expected: str):
    text, used = decode_bytes(payload)
    assert used == expected and "6.6" in text


@pytest.mark.parametrize(
    "payload, reason",
    [
        ("今年6月末、個人顧客は6.6億人を超えた。ｶﾀｶﾅ ﾃｽﾄ".encode("shift_jis"), "undecodable"),
        (ARTICLE.encode("utf-8") + ARTICLE.encode("gbk"), "undecodable"),  # two encodings in one file
        (bytes(range(256)) * 4, "binary"),
    ],
)
def test_decode_rejects_unsupported_and_mixed_encodings(payload: bytes, reason: str):
    with pytest.raises(Rejected) as exc:
        decode_bytes(payload)
    assert exc.value.reason == reason


def test_nul_padding_is_salvaged_but_a_nul_blob_is_binary(tmp_path: Path):
    (tmp_path / "pad.txt").write_bytes(b"\x00" * 64 + ARTICLE.encode() + b"\x00" * 4096)
    assert read_document(tmp_path, entry_for(tmp_path, "pad.txt")).text == ARTICLE
    (tmp_path / "blob.txt").write_bytes(b"\x00a\x00\x00b" * 400 + ARTICLE.encode())
    with pytest.raises(Rejected) as exc:
        read_document(tmp_path, entry_for(tmp_path, "blob.txt"))
    assert exc.value.reason == "binary"


def test_unstatable_and_special_files_are_entries_that_read_document_rejects(tmp_path: Path):
    (tmp_path / "ok.txt").write_text(ARTICLE, encoding="utf-8")
    os.symlink("missing.txt", tmp_path / "dangling.txt")
    os.symlink("loop.txt", tmp_path / "loop.txt")
    os.mkfifo(tmp_path / "fifo.txt")
    entries, problems = scan(tmp_path)
    assert problems == []
    by_path = {e.path: e for e in entries}
    assert set(by_path) == {"ok.txt", "dangling.txt", "loop.txt", "fifo.txt"}
    expected = {"dangling.txt": ("unreadable", "broken symbolic link"), "loop.txt": ("unreadable", "loop"),
                "fifo.txt": ("not_a_file", "FIFO")}
    for path, (reason, words) in expected.items():
        assert (by_path[path].size, by_path[path].mtime_ns) == (-1, -1)
        with pytest.raises(Rejected) as exc:  # a FIFO would block a plain open(): this must not
            read_document(tmp_path, by_path[path])
        assert exc.value.reason == reason and words in exc.value.detail


def test_a_folder_that_cannot_be_listed_is_an_entry(tmp_path: Path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fsdecode(path).endswith("locked"):  # as for a user without r-x on it (we are root)
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    entries, _ = scan(tmp_path)
    assert [(e.path, e.size) for e in entries] == [("locked", -1)]
    with pytest.raises(Rejected) as exc:
        read_document(tmp_path, entries[0])
    assert exc.value.reason == "unreadable" and "folder" in exc.value.detail


def test_a_name_that_is_not_utf8_is_stored_escaped_and_read_by_its_real_name(tmp_path: Path):
    raw_name = "工行.txt".encode("gbk")
    with open(os.path.join(os.fsencode(tmp_path), raw_name), "wb") as fh:
        fh.write(ARTICLE.encode())
    (entry,), _ = scan(tmp_path)
    assert entry.path == "\\xb9\\xa4\\xd0\\xd0.txt" and entry.path.encode("utf-8")
    assert read_document(tmp_path, entry).text == ARTICLE


def test_hostile_sidecars_give_warnings_never_exceptions(tmp_path: Path):
    side = tmp_path / "a.meta.json"
    side.write_text("[" * 100_000, encoding="utf-8")
    assert "not valid JSON" in read_sidecar(side)[0].warnings[0]
    side.write_bytes(b'{"title": "x"}' + b" " * 2_000_000)
    sidecar, digest = read_sidecar(side)
    assert sidecar.title is None and "over" in sidecar.warnings[0] and digest is None
    side.write_text('{"title": "\\ud800标题\\u0000", "source": "a\\u001bb", "published_at": [1]}', encoding="utf-8")
    sidecar, _ = read_sidecar(side)
    assert (sidecar.title, sidecar.source) == ("标题", "ab")
    assert sidecar.published_at is None and len(sidecar.warnings) == 3
    sidecar.title.encode("utf-8")  # storable


def test_a_name_too_long_for_its_sidecar_name_still_loads(tmp_path: Path):
    # 82 three-byte characters: the article's name fits the 255-byte limit, NAME.meta.json does not
    name = "甲" * 82 + ".txt"
    (tmp_path / name).write_text("标题\n截至6月末，工行个人客户数达7.55亿户。", encoding="utf-8")
    (tmp_path / "b.txt").write_text("标题\n正文", encoding="utf-8")
    entries, _ = scan(tmp_path)
    assert sorted(e.path for e in entries) == sorted([name, "b.txt"])
    doc = read_document(tmp_path, next(e for e in entries if e.path == name))
    assert doc.sidecar_hash is None and "7.55亿户" in doc.text


# --- issue 14: a cut byte must not cost the article ----------------------------------------------

TRADITIONAL = "截至今年6月末，工行服務個人客戶已超6.6億，個人客戶金融資產規模突破15.5萬億元。"
# (how the file is written, the name decode_document stores, multi-byte last characters to cut)
CUT_ENCODINGS = [
    ("utf-8", "utf-8", "é银𠀀"),
    ("utf-8-sig", "utf-8-sig", "é银𠀀"),
    ("gb18030", "gb18030", "银é𠀀"),
    ("gbk", "gb18030", "银"),
    ("big5", "big5", "銀"),
    ("utf-16", "utf-16", "银𠀀"),  # with a BOM
    ("utf-16-le", "utf-16-le", "银𠀀"),  # without
    ("utf-16-be", "utf-16-be", "银𠀀"),
    ("utf-32", "utf-32", "银𠀀"),
    ("utf-32-le", "utf-32-le", "银𠀀"),
    ("utf-32-be", "utf-32-be", "银𠀀"),
]


def _cut_cases():
    for encoding, stored, chars in CUT_ENCODINGS:
        without_bom = {"utf-16": "utf-16-le", "utf-32": "utf-32-le", "utf-8-sig": "utf-8"}.get(encoding, encoding)
        for char in chars:
            size = len(char.encode(without_bom))
            for keep in range(1, size):
                yield pytest.param(encoding, stored, char, keep, id=f"{encoding}-U+{ord(char):04X}-{keep}of{size}")


@pytest.mark.parametrize("encoding, stored, char, keep", list(_cut_cases()))
def test_a_cut_inside_the_last_character_drops_only_that_character(encoding, stored, char, keep):
    from flows.ingest import decode_document

    article = (TRADITIONAL if encoding == "big5" else ARTICLE) + "\n" + (TRADITIONAL if encoding == "big5" else ARTICLE)
    whole = (article + char).encode(encoding)
    size = len(whole) - len(article.encode(encoding))
    data = whole[: len(whole) - size + keep]  # `keep` bytes of the last character's `size`
    got = decode_document(data)
    assert (got.text, got.encoding, got.truncated_bytes, got.replaced_offsets) == (article, stored, keep, ())
    assert decode_document(whole).text == article + char  # uncut: read strictly, nothing repaired
    assert decode_document(whole).truncated_bytes == 0


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16"])
def test_an_html_page_cut_mid_tag_and_mid_character_loads(tmp_path: Path, encoding: str):
    from flows.clean import clean_document

    page = ('<html><head><title>工行半年报</title></head><body><p>截至6月末，工商银行个人客户数达7.55亿户。</p>'
            '<p>较年初增加1400万户。</p><p class="more"><a href="/2024/08/30.html" title="相关阅读：工商银行')
    data = page.encode(encoding)
    last = len("行".encode(encoding if encoding != "utf-16" else "utf-16-le"))
    for keep in range(1, last):
        (tmp_path / "p.html").write_bytes(data[: len(data) - last + keep])
        raw = read_document(tmp_path, entry_for(tmp_path, "p.html"))
        assert (raw.format, raw.truncated_bytes, raw.replaced_offsets) == ("html", keep, ())
        clean = clean_document(raw)
        assert clean.paragraphs[:2] == ("截至6月末，工商银行个人客户数达7.55亿户。", "较年初增加1400万户。")


def _with_stray_bytes(data: bytes, n: int) -> tuple[bytes, list[int]]:
    """`data` with `n` 0xFF bytes inserted between characters, evenly spread; their offsets."""
    step = len(data) // (n + 1)
    out, offsets, last = bytearray(), [], 0
    for i in range(1, n + 1):
        at = data.index("，".encode("utf-8"), i * step) if b"\xef\xbc\x8c" in data else i * step
        out += data[last:at]
        offsets.append(len(out))
        out += b"\xff"
        last = at
    out += data[last:]
    return bytes(out), offsets


def test_a_few_invalid_bytes_load_as_replacement_characters_with_their_offsets():
    from flows.ingest import decode_document

    clean = ("\n".join([ARTICLE] * 40)).encode("utf-8")  # 4,4xx bytes: 4 invalid bytes allowed
    data, offsets = _with_stray_bytes(clean, 3)
    got = decode_document(data)
    assert (got.encoding, got.truncated_bytes, list(got.replaced_offsets)) == ("utf-8", 0, offsets)
    assert got.text == data.decode("utf-8", "replace") and got.text.count("\ufffd") == 3
    assert all(data[o] == 0xFF for o in offsets)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_invalid_bytes_load_up_to_one_per_thousand_and_not_one_more(encoding):
    from flows.ingest import REPLACED_BYTES_PER_1000, decode_document

    text = "\n".join([ARTICLE] * 60)
    clean = text.encode(encoding)
    allowed = None
    for n in range(1, 12):
        data, offsets = _with_stray_bytes(clean, n) if encoding == "utf-8" else _with_stray_gb(clean, n)
        if n * 1000 <= len(data) * REPLACED_BYTES_PER_1000:
            got = decode_document(data)
            assert (got.encoding, list(got.replaced_offsets)) == (encoding, offsets)
            allowed = n
        else:
            with pytest.raises(Rejected) as exc:
                decode_document(data)
            assert exc.value.reason == "undecodable"
    assert allowed is not None and allowed >= 3


def _with_stray_gb(data: bytes, n: int) -> tuple[bytes, list[int]]:
    """GB18030 `data` with `n` 0xFF bytes inserted before evenly spread full-width commas."""
    comma = "，".encode("gb18030")
    step = len(data) // (n + 1)
    out, offsets, last = bytearray(), [], 0
    for i in range(1, n + 1):
        at = data.index(comma, i * step)
        out += data[last:at]
        offsets.append(len(out))
        out += b"\xff"
        last = at
    out += data[last:]
    return bytes(out), offsets


def test_a_cut_short_gbk_page_is_read_as_gbk_not_as_utf8_with_its_chinese_replaced():
    """Mostly-ASCII markup with a few Chinese characters, cut mid-character: as UTF-8 its GBK
    characters would be within the rate of invalid bytes, but a reading that only drops the cut
    character wins."""
    from flows.ingest import decode_document

    page = "<html><body>" + "<div class='x'>&nbsp;</div>" * 200 + "<p>工行6.6亿</p><p>银"
    data = page.encode("gbk")[:-1]
    got = decode_document(data)
    assert (got.encoding, got.truncated_bytes, got.replaced_offsets) == ("gb18030", 1, ())
    assert got.text.endswith("<p>工行6.6亿</p><p>")


def test_shift_jis_that_ends_like_a_cut_gb18030_character_is_still_undecodable():
    from flows.ingest import decode_document, everyday_hanzi_share

    japanese = "今年6月末、個人顧客は6.6億人を超えた。これは日本の銀行にとって重要な数字です。ｶﾀｶﾅ"
    data = (japanese * 30).encode("shift_jis")
    assert data.decode("gb18030", "ignore") and everyday_hanzi_share(data.decode("gb18030", "ignore")) < 0.5
    with pytest.raises(Rejected) as exc:
        decode_document(data[:-1] if len(data) % 2 == 0 else data)
    assert exc.value.reason == "undecodable"
    assert everyday_hanzi_share(ARTICLE) == everyday_hanzi_share(TRADITIONAL) == 1.0
