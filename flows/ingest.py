"""Ingest: walk the raw folder, read files, decode them and read their sidecars.

`scan` lists candidate files with their size and mtime only (cheap: a rerun on an unchanged
folder never reads a byte). `read_document` reads one file, hashes it, sniffs HTML versus plain
text from its content (never from its extension) and decodes it. Anything that cannot become
a document raises `Rejected` with a short machine reason and a human detail: the pipeline
quarantines the file and goes on with the others.

Nothing a file holds can stop a run or make it read more than `Limits.max_file_bytes`: files
that cannot be stat'ed, opened or listed, special files (FIFOs, sockets, devices), hidden and
temporary files still come out of `scan` as entries, so that `read_document` rejects them with a
reason and they land in quarantine instead of vanishing. Reasons (docs/robustness.md):
empty, binary, undecodable, too_large, unreadable, not_a_file, hidden, temporary.

A file that is valid text but for its cut-short last character (a download or copy that
stopped mid-character), or for a few invalid bytes (at most `REPLACED_BYTES_PER_1000` per 1,000
bytes), still loads: the incomplete character is dropped, the invalid bytes become U+FFFD, and the
document records both (`RawDocument.truncated_bytes`, `.replaced_offsets`) for rpt_data_quality.
"""
from __future__ import annotations

import codecs
import errno
import hashlib
import json
import os
import re
import stat
import threading
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from flows.config import Limits
from flows.models import RawDocument, Sidecar

SIDECAR_SUFFIX = ".meta.json"

# Names editors, downloaders and sync tools leave behind while a file is still being written.
_TEMP_NAME = re.compile(r"(~$|^~\$|^#.*#$|\.(tmp|temp|swp|swx|part|partial|crdownload|download)$)", re.I)

# Magic numbers of containers that are never an article, checked before any decoding.
_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"%PDF": "pdf",
    b"\x89PNG": "png",
    b"\xff\xd8\xff": "jpeg",
    b"GIF8": "gif",
    b"\x7fELF": "elf",
}

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)

# An HTML document shows tags of its own within its first few KB; a plain-text article
# that merely mentions "<" does not.
_HTML_SNIFF = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|span|br|table|article|section|h[1-6]|ul|li|a\s)[\s>/]",
    re.I,
)
# Control characters no text holds (tab, line feed and carriage return excepted), and the
# replacement character: counted by `_control_count`.
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20)) + b"\x7f"

_DATE_FORMATS = (
    (re.compile(r"^\d{4}$"), "year"),
    (re.compile(r"^\d{4}-\d{1,2}$"), "month"),
    (re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"), "day"),
)
# Other spellings of a bare date, rewritten to the dashed form above before matching:
# 20240630, 2024/06/30, 2024.6.30, 2024年6月30日, 2024年6月, 2024年.
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SLASHED_DATE = re.compile(r"^\d{4}([/.])\d{1,2}(\1\d{1,2})?$")
_CJK_DATE = re.compile(r"^(\d{4})\s*年(?:\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*[日号])?)?$")
# A publication date outside these years is a typo or a placeholder (0001-01-01, 2999-12-31).
_FIRST_YEAR = 1900


class Rejected(Exception):
    """A file that cannot become a document. `reason` is a short key, `detail` says why."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class FileEntry:
    """A candidate article file as seen by `scan`, before it is read."""

    path: str  # relative to the raw folder, POSIX separators
    size: int  # -1 when the file could not be stat'ed or is not a regular file
    mtime_ns: int  # -1 likewise: the entry stays quarantined until the file can be stat'ed
    sidecar_sig: str | None  # "size:mtime_ns" of NAME.meta.json, None without one
    # The name on disk when `path` had to be escaped to be storable (a file name that is not
    # UTF-8, e.g. a GBK name unpacked from a zip): `path` shows its bytes as \\xNN.
    fs_path: str | None = None


@dataclass(frozen=True)
class ScanProblem:
    path: str
    reason: str
    detail: str


def skip_reason(name: str) -> tuple[str, str] | None:
    """(reason, detail) for a file name that is never read as an article, else None."""
    if name.startswith("."):
        return "hidden", "a hidden file (name starts with a dot); rename it to load it"
    if _TEMP_NAME.search(name):
        return "temporary", "a temporary or partial file a program may still be writing; rename it to load it"
    return None


def _stem(name: str) -> str:
    """`PurePath.stem` of a file name: without its last suffix; a leading dot is not a suffix."""
    i = name.rfind(".")
    return name[:i] if 0 < i < len(name) - 1 else name


def _is_file(path: str) -> bool:
    """`Path(path).is_file()` without building a Path (read_document calls it per file).

    A missing name, a link loop or a non-folder on the way is False, and so is a name too long
    for the file system: an article named with 246 bytes has a sidecar name over the limit of
    255, and that must not stop the scan. Any other OSError (a folder we may not search)
    propagates.
    """
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP, errno.ENAMETOOLONG):
            return False
        raise
    except ValueError:  # a NUL in the name
        return False


def _sidecar_names(name: str) -> tuple[str, str]:
    """The sidecar names of article `name`, in the order they are tried: NAME.meta.json where NAME
    is the file's stem (000_x.txt -> 000_x.meta.json), then the full file name (000_x.txt.meta.json)."""
    return _stem(name) + SIDECAR_SUFFIX, name + SIDECAR_SUFFIX


def _find_sidecar(article: str) -> str | None:
    folder, name = os.path.split(article)
    for cand in _sidecar_names(name):
        path = os.path.join(folder, cand)
        if _is_file(path):
            return path
    return None


def storable_path(rel: str) -> str:
    """`rel` as it can be stored: a name that is not UTF-8 shows its bytes as \\xNN."""
    try:
        rel.encode("utf-8")
        return rel
    except UnicodeEncodeError:
        return os.fsencode(rel).decode("utf-8", "backslashreplace")


def _entry(rel: str, size: int, mtime_ns: int, sig: str | None) -> FileEntry:
    shown = storable_path(rel)
    return FileEntry(shown, size, mtime_ns, sig, None if shown == rel else rel)


def _sidecar_sig(folder: str, name: str, listed: set[str]) -> str | None:
    """`_find_sidecar`'s choice, as "size:mtime_ns", looked up in the folder's listing `listed`
    (a candidate not listed does not exist: no stat spent on it)."""
    for cand in _sidecar_names(name):
        if cand in listed:
            try:
                sst = os.stat(os.path.join(folder, cand))
            except OSError:
                continue
            if stat.S_ISREG(sst.st_mode):
                return f"{sst.st_size}:{sst.st_mtime_ns}"
    return None


def scan(raw_dir: Path) -> tuple[list[FileEntry], list[ScanProblem]]:
    """List every candidate article under `raw_dir`, recursively, sorted by path.

    Follows symlinks but visits each real directory once (symlink loops end there); skips hidden
    folders and sidecars. Every other name becomes an entry, even when it cannot be stat'ed or
    read (size and mtime -1), is not a regular file, or is hidden or temporary: `read_document`
    rejects those with a reason, so they are quarantined rather than silently left out. A folder
    that cannot be listed becomes an entry of its own for the same reason. The returned problem
    list is kept for callers and is always empty.
    """
    raw_dir = Path(raw_dir)
    entries: list[FileEntry] = []
    seen_dirs: set[tuple[int, int]] = set()

    def walk_error(exc: OSError) -> None:
        if exc.filename and Path(exc.filename) != raw_dir:
            entries.append(_entry(Path(exc.filename).relative_to(raw_dir).as_posix(), -1, -1, None))

    # Strings, not Paths, per file: a scan of 20,000 files spent half its time in pathlib.
    top = os.fspath(raw_dir)
    for dirpath, dirnames, filenames in os.walk(raw_dir, followlinks=True, onerror=walk_error):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            dirnames[:] = []  # a symlink loop or a second link to a folder already walked
            continue
        seen_dirs.add(key)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = dirpath[len(top):].lstrip(os.sep) if dirpath != top else ""
        listed = set(filenames)
        for name in sorted(filenames):
            if name.endswith(SIDECAR_SUFFIX):
                continue
            full = os.path.join(dirpath, name)
            rel = f"{rel_dir}/{name}" if rel_dir else name
            try:
                fst = os.stat(full)
            except OSError:
                # A dangling symlink, a link loop, a name we may not stat: read_document says which.
                entries.append(_entry(rel, -1, -1, None))
                continue
            if not stat.S_ISREG(fst.st_mode) or not os.access(full, os.R_OK):
                # FIFOs, sockets and devices are never opened; an unreadable file keeps -1 so
                # that the run after its permissions are fixed reads it again.
                entries.append(_entry(rel, -1, -1, None))
                continue
            entries.append(_entry(rel, fst.st_size, fst.st_mtime_ns, _sidecar_sig(dirpath, name, listed)))
    entries.sort(key=lambda e: e.path)
    return entries, []


def sniff_format(text: str) -> str:
    """'html' when the content carries HTML tags near its start, else 'text'."""
    head = text[:4096]
    # Two tags decide: the second is searched from the end of the first, as findall would.
    first = _HTML_SNIFF.search(head)
    if first is not None and _HTML_SNIFF.search(head, first.end()) is not None:
        return "html"
    # lower() turns each character into one or more, so whether the lowered head starts with
    # these (14 characters at most) shows in its first 16 characters: no need to lower 4 KB.
    if head.lstrip()[:16].lower().startswith(("<!doctype html", "<html")):
        return "html"
    return "text"


def _looks_utf16_without_bom(data: bytes) -> str | None:
    # ASCII-heavy UTF-16 puts a NUL in every other byte; CJK text does not, so this only
    # rescues mostly-markup files. Without a BOM we accept it only when the pattern is clear.
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even = sample[0::2].count(0) / (len(sample) / 2)
    odd = sample[1::2].count(0) / (len(sample) / 2)
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _looks_utf32_without_bom(data: bytes) -> str | None:
    # UTF-32 of any text has a NUL in at least every fourth byte, at a fixed position.
    sample = data[:4096]
    if len(data) % 4 or len(sample) < 8:
        return None
    if sample[3::4].count(0) == len(sample) // 4 and sample[2::4].count(0) > len(sample) // 8:
        return "utf-32-le"
    if sample[0::4].count(0) == len(sample) // 4 and sample[1::4].count(0) > len(sample) // 8:
        return "utf-32-be"
    return None


# Characters a decoded Chinese article plausibly holds besides ASCII: Latin-1 and Greek letters,
# punctuation, number forms, arrows, math and geometric symbols, circled numbers, CJK punctuation
# and ideographs, full-width forms. Mis-decoded bytes land elsewhere: private use, kana, Hangul,
# Yi, CJK extension A, box drawing, C1 controls (Big5 read as GBK gives PUA and kana; GBK read
# as UTF-16 gives Hangul and Yi).
_IMPLAUSIBLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\u00a0-\u00ff\u0370-\u03ff\u2000-\u206f\u2100-\u22ff"
    "\u2460-\u24ff\u25a0-\u26ff\u3000-\u303f\u3200-\u32ff\u4e00-\u9fff\ufe30-\ufe4f"
    "\uff00-\uff60\uffe0-\uffef]"
)


def _non_ascii_count(sample: str) -> int:
    """How many characters of `sample` are outside U+0000-U+007E (non-ASCII, and DEL).

    Counted by an encode that drops them (C speed) rather than by listing every match: a
    Chinese article is mostly non-ASCII.
    """
    return len(sample) - len(sample.encode("ascii", "ignore")) + sample.count("\x7f")


def plausible_text(text: str) -> bool:
    """False when a decoding looks like mojibake: over 10% of the non-ASCII characters (and at
    least 3) are ones a Chinese article does not hold."""
    sample = text[:65536]
    non_ascii = _non_ascii_count(sample)
    if non_ascii == 0:
        return True
    odd = len(_IMPLAUSIBLE.findall(sample))
    return odd < 3 or odd <= 0.1 * non_ascii


# Byte values plain text never holds in any supported encoding (UTF-16/32 were ruled out first).
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def _control_byte_share(data: bytes) -> float:
    sample = data[:65536]
    if not sample:
        return 0.0
    return (len(sample) - len(sample.translate(None, _BINARY_BYTES))) / len(sample)


# (codec, name stored as dim_documents.encoding), tried in order once UTF-8 has failed.
# cp950 is Microsoft's Big5, a superset of it.
_FALLBACKS = (("gb18030", "gb18030"), ("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be"), ("cp950", "big5"))


@dataclass(frozen=True)
class Decoded:
    """Article bytes as text, with what had to be repaired to get there."""

    text: str
    encoding: str  # stored as dim_documents.encoding
    truncated_bytes: int = 0  # bytes of an incomplete last character, dropped
    replaced_offsets: tuple[int, ...] = ()  # file offsets of invalid bytes, read as U+FFFD


# Invalid bytes a text may hold and still load (as U+FFFD): at most this many per 1,000 bytes of
# the file. Above it the file is a mix of encodings or not text: quarantined as before.
REPLACED_BYTES_PER_1000 = 1


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding) of article bytes: `decode_document` without the repair record."""
    decoded = decode_document(data)
    return decoded.text, decoded.encoding


def decode_document(data: bytes) -> Decoded:
    """Decode article bytes; repair a cut-short end or a few invalid bytes (`_repair`).

    Valid text takes the strict chain of `_decode_strict` and is never repaired. Only when that
    finds no encoding are the same encodings tried again, in the same order, first allowing
    only a cut-short last character, then also up to `REPLACED_BYTES_PER_1000` invalid bytes per
    1,000. Nothing fits: the strict chain's `Rejected` stands.
    """
    try:
        text, encoding = _decode_strict(data)
    except Rejected:
        repaired = _repair(data)
        if repaired is None:
            raise
        return repaired
    return Decoded(text, encoding)


def _decode_strict(data: bytes) -> tuple[str, str]:
    """Decode article bytes, returning (text, encoding used).

    A principled chain, fastest first: a BOM decides; else BOM-less UTF-32 or UTF-16 when their
    NUL pattern is unmistakable; else strict UTF-8; else strict GB18030 (a superset of GBK and
    GB2312, the encodings of Chinese pages without a declaration); when that fails or reads as
    mojibake (`plausible_text`), BOM-less UTF-16 of CJK text and then Big5 (Hong Kong and Taiwan
    pages). Statistical detectors are slow and misread GBK (measured: chardet ~260 files/s and
    wrong), so they are not in the chain. Nothing decodes: `Rejected` 'binary' when the bytes hold
    control codes no text has, else 'undecodable'. Known blind spot: EUC-KR and most Shift-JIS
    text are valid GB18030 and read as plausible-looking ideographs.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError as exc:
                raise Rejected("undecodable", f"{enc} byte-order mark but invalid {enc}: {exc.reason}") from None
            return text.lstrip("\ufeff"), enc
    # Before UTF-8: ASCII in UTF-16 or UTF-32 is valid UTF-8 too, with NULs between letters.
    # Both guesses need NULs in the first 4096 bytes: without one (nearly every file) skip them.
    if data.find(0, 0, 4096) >= 0:
        for guess in (_looks_utf32_without_bom(data), _looks_utf16_without_bom(data)):
            if guess:
                try:
                    return data.decode(guess), guess
                except UnicodeDecodeError:
                    pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for codec, name in _FALLBACKS:
        if codec.startswith("utf-16") and len(data) % 2:
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if plausible_text(text):
            return text, name
    share = _control_byte_share(data)
    if share > 0.01:
        raise Rejected("binary", f"{share:.0%} of the bytes are control codes and no supported encoding reads it: not text")
    raise Rejected(
        "undecodable",
        "not UTF-8, UTF-16, UTF-32, GB18030 or Big5 (or mixes them): convert it to UTF-8",
    )


# --- repair: a cut-short end, a few invalid bytes -------------------------------------------

# A BOM's encoding with its byte order spelled out: the repair decodes the bytes after the BOM.
_BOM_CODECS = {
    b"\xef\xbb\xbf": "utf-8",
    b"\xff\xfe\x00\x00": "utf-32-le",
    b"\x00\x00\xfe\xff": "utf-32-be",
    b"\xff\xfe": "utf-16-le",
    b"\xfe\xff": "utf-16-be",
}
# Encodings whose code units are single bytes: trailing NULs after a cut are a downloader's padding.
_BYTE_CODECS = frozenset({"utf-8", "gb18030", "cp950"})

_repair_state = threading.local()


def _replace_and_record(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: record the invalid bytes' offsets, read them as one U+FFFD; give up
    (re-raise) once more bytes are invalid than the budget allows."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    state = _repair_state.current
    state[0].extend(range(exc.start, exc.end))
    if len(state[0]) > state[1]:
        raise exc
    return "\ufffd", exc.end


codecs.register_error("bankmetrics-repair", _replace_and_record)


def _decode_tolerant(data: bytes, codec: str, start: int, budget: int) -> Decoded | None:
    """`data[start:]` in `codec`, dropping an incomplete last character and reading at most
    `budget` invalid bytes as U+FFFD; None when more are invalid. Offsets are the file's."""
    end = len(data)
    if codec in _BYTE_CODECS:
        end = len(data.rstrip(b"\x00")) or end  # NUL padding after the cut (check_text drops it)
    offsets: list[int] = []
    _repair_state.current = (offsets, budget)
    decoder = codecs.getincrementaldecoder(codec)("bankmetrics-repair")
    try:
        # final=False: an incomplete last character stays in the decoder's buffer, not an error.
        text = decoder.decode(data[start:end], final=False)
    except UnicodeDecodeError:
        return None
    finally:
        _repair_state.current = None
    pending = len(decoder.getstate()[0])
    return Decoded(text, codec, pending, tuple(o + start for o in offsets))


def _repair_candidates(data: bytes) -> list[tuple[str, int, str, bool]]:
    """(codec, first byte, stored encoding name, check plausibility), in the strict chain's order."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return [(_BOM_CODECS[bom], len(bom), enc, False)]
    out: list[tuple[str, int, str, bool]] = []
    if data.find(0, 0, 4096) >= 0:
        whole = data[: len(data) - len(data) % 4]  # a cut UTF-32 file still shows its pattern
        for guess in (_looks_utf32_without_bom(whole), _looks_utf16_without_bom(data)):
            if guess:
                out.append((guess, 0, guess, False))
    out.append(("utf-8", 0, "utf-8", False))
    out += [(codec, 0, name, True) for codec, name in _FALLBACKS]
    return out


# A repaired reading by one of the guessed encodings (GB18030, BOM-less UTF-16, Big5) must read as
# everyday Chinese: most of its ideographs among the common ones of GB2312 (level 1, rows
# 0xB0-0xD7: the 3,755 most used simplified characters) or Big5 (level 1, 0xA4-0xC6: 5,401
# traditional ones). Measured: 0.998-1.0 on every seed and holdout article, simplified and
# traditional; 0.21-0.25 for Shift-JIS read as GB18030 (which a cut-short tail made look like
# GB18030 with one incomplete character), 0.53 for GBK read as Big5 and Big5 as GB18030.
_EVERYDAY_HANZI_SHARE = 0.8
_HANZI = re.compile("[\u4e00-\u9fff]")


def _is_everyday_hanzi(char: str) -> bool:
    for codec, first, last in (("gb2312", 0xB0, 0xD7), ("big5", 0xA4, 0xC6)):
        try:
            if first <= char.encode(codec)[0] <= last:
                return True
        except UnicodeEncodeError:
            pass
    return False


def everyday_hanzi_share(text: str, sample: int = 2000) -> float:
    """Share of the first `sample` ideographs of `text` that are everyday ones (1.0 without any)."""
    hanzi = _HANZI.findall(text, 0, 200_000)[:sample]
    if not hanzi:
        return 1.0
    return sum(1 for c in hanzi if _is_everyday_hanzi(c)) / len(hanzi)


def _repair(data: bytes) -> Decoded | None:
    """The first encoding that reads `data` once its cut-short end is dropped; else the first that
    reads it with at most `REPLACED_BYTES_PER_1000` invalid bytes per 1,000 as U+FFFD; else None.

    Two passes, so that a GBK file cut short is read as GBK with nothing replaced rather than as
    UTF-8 with its few Chinese characters replaced. A guessed encoding must also read as everyday
    Chinese (`everyday_hanzi_share`): a Shift-JIS file whose last byte happens to open a GB18030
    character is not a cut-short GB18030 file.
    """
    candidates = _repair_candidates(data)
    allowed = len(data) * REPLACED_BYTES_PER_1000 // 1000
    for budget in (0, allowed) if allowed else (0,):
        for codec, start, name, check in candidates:
            got = _decode_tolerant(data, codec, start, budget)
            if got is None or not (got.truncated_bytes or got.replaced_offsets):
                continue  # not this encoding, or (strict failed for another reason) nothing to say
            text = got.text.lstrip("\ufeff") if start else got.text
            if check and not (plausible_text(text.replace("\ufffd", ""))
                              and everyday_hanzi_share(text) >= _EVERYDAY_HANZI_SHARE):
                continue
            return Decoded(text, name, got.truncated_bytes, got.replaced_offsets)
    return None


def _control_count(sample: str) -> int:
    """How many control (`_CONTROL_BYTES`) and replacement characters `sample` holds.

    The controls are all ASCII: they are counted in the ASCII part of the text with C-speed
    bytes operations, about 3x faster than a regular expression scanning CJK text.
    """
    ascii_part = sample.encode("ascii", "ignore")
    return len(ascii_part) - len(ascii_part.translate(None, _CONTROL_BYTES)) + sample.count("\ufffd")


def check_text(text: str) -> str:
    """Reject what decoded but is not an article; return the text with NULs removed.

    NUL padding at either end (downloaders preallocate files) and a few stray NULs are
    salvaged; text that is NUL or control characters throughout is a blob.
    """
    text = text.strip("\x00")
    nuls = text.count("\x00", 0, 65536)
    if nuls:
        sample_len = min(len(text), 65536)
        if nuls > max(8, sample_len * 0.02):
            raise Rejected("binary", f"{nuls} NUL characters in the first {sample_len}: not text")
        text = text.replace("\x00", "")
    if not text.strip():
        raise Rejected("empty", "no text after decoding")
    sample = text[:65536]
    bad = _control_count(sample)
    if bad > max(8, len(sample) * 0.02):
        raise Rejected("binary", f"{bad} control or replacement characters in the first {len(sample)}: not text")
    return text


def sniff_container(data: bytes) -> str | None:
    for magic, name in _MAGIC.items():
        if data.startswith(magic):
            return name
    return None


def parse_published_at(raw: object) -> tuple[date | None, str | None, str | None]:
    """Parse a sidecar `published_at`, keeping its precision.

    Returns (date, precision, warning). "2020-07" -> (2020-07-01, 'month', None). An impossible
    or unparseable value gives (None, None, warning): the article still loads.
    """
    if raw is None or raw == "":
        return None, None, None
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        return None, None, f"published_at is not a string: {raw!r}"
    value, precision, warning = _parse_date_text(raw)
    if warning is None and not _FIRST_YEAR <= value.year <= date.today().year + 1:
        return None, None, f"implausible published_at: {raw.strip()[:60]!r} (year {value.year})"
    return value, precision, warning


# A corpus spells few distinct dates: each spelling is parsed once per process. The year check
# stays out of the cache: it depends on today's date.
@lru_cache(maxsize=4096)
def _parse_date_text(raw: str) -> tuple[date | None, str | None, str | None]:
    """`parse_published_at` of a string, before the plausible-year check."""
    s = raw.strip()
    shown = s[:60]
    norm = _COMPACT_DATE.sub(r"\1-\2-\3", s)
    if _SLASHED_DATE.match(norm):
        norm = norm.replace("/", "-").replace(".", "-")
    elif m := _CJK_DATE.match(norm):
        norm = "-".join(p for p in m.groups() if p)
    for pattern, precision in _DATE_FORMATS:
        if pattern.match(norm):
            parts = [int(p) for p in norm.split("-")] + [1, 1]
            try:
                value = date(parts[0], parts[1], parts[2])
            except ValueError:
                return None, None, f"impossible published_at: {shown!r}"
            break
    else:
        try:
            value = datetime.fromisoformat(s.replace("Z", "+00:00").replace("/", "-")).date()
        except ValueError:
            return None, None, f"unparseable published_at: {shown!r}"
        precision = "datetime"
    return value, precision, None


# Sidecars are small; a bigger one is not read (a run never reads a huge file whole).
MAX_SIDECAR_BYTES = 1024 * 1024
# Characters that cannot be stored (lone surrogates from "\\ud800" escapes) or shown (controls).
_UNSAFE_FIELD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def safe_field(value: str, max_chars: int = 2000) -> str:
    """A sidecar string as it can be stored: controls and lone surrogates dropped, length capped."""
    return _UNSAFE_FIELD.sub("", value)[:max_chars]


def _str_field(meta: dict, key: str, warnings: list[str]) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        warnings.append(f"sidecar field {key} is not a string")
        return None
    cleaned = safe_field(value)
    if cleaned != value:
        warnings.append(f"sidecar field {key} had control characters or was over 2000 characters")
    cleaned = cleaned.strip()
    return cleaned or None


def read_sidecar(path: Path | str | None, max_bytes: int = MAX_SIDECAR_BYTES) -> tuple[Sidecar, str | None]:
    """Read `NAME.meta.json`. A bad sidecar gives warnings, never an exception."""
    if path is None:
        return Sidecar(), None
    try:
        # O_NONBLOCK: should the sidecar have become a FIFO since it was found, no hang.
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK)
        try:
            data = _read_at_most(fd, max_bytes + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        return Sidecar(warnings=(f"sidecar unreadable: {exc.strerror or exc}",)), None
    if len(data) > max_bytes:
        return Sidecar(warnings=(f"sidecar over {max_bytes} bytes: ignored",)), None
    digest = hashlib.sha256(data).hexdigest()
    try:
        meta = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        return Sidecar(warnings=(safe_field(f"sidecar is not valid JSON: {exc}", 300),)), digest
    if not isinstance(meta, dict):
        return Sidecar(warnings=("sidecar is not a JSON object",)), digest
    warnings: list[str] = []
    raw_pub = meta.get("published_at")
    published, precision, warn = parse_published_at(raw_pub)
    if warn:
        warnings.append(safe_field(warn, 300))
    return (
        Sidecar(
            published_at=published,
            published_precision=precision,
            published_raw=safe_field(str(raw_pub), 200) if raw_pub is not None else None,
            source=_str_field(meta, "source", warnings),
            url=_str_field(meta, "url", warnings),
            title=_str_field(meta, "title", warnings),
            entity=_str_field(meta, "entity", warnings),
            warnings=tuple(warnings),
        ),
        digest,
    )


_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
# First read size when the size is not known: sidecars are small, 64 KiB is cheap to allocate.
_FIRST_READ = 64 * 1024


def _read_at_most(fd: int, limit: int, expected: int = 0) -> bytes:
    """Read `fd` to its end but never more than `limit` bytes.

    `open(...).read(limit)` allocates `limit` bytes up front (8 MB per article, 1 MB per sidecar:
    most of the cost of reading a small file); this reads about the size expected, then checks
    for the end, reading on in growing steps should the file have grown.
    """
    chunks = []
    size = max(expected + 1, _FIRST_READ)
    while limit > 0:
        chunk = os.read(fd, min(size, limit))
        if not chunk:
            break
        chunks.append(chunk)
        limit -= len(chunk)
        size *= 2
    return b"".join(chunks)


@lru_cache(maxsize=16)
def _folder(raw_dir: Path | str) -> str:
    return os.fspath(Path(raw_dir))


def _article_path(raw_dir: Path | str, rel: str) -> str:
    """`str(Path(raw_dir) / rel)`, without building a Path for each file.

    A plain relative name (what `scan` makes: no empty, "." or absolute part) is joined as it
    is; anything else goes through pathlib, whose normalisation this must match.
    """
    folder = _folder(raw_dir)
    padded = f"/{rel}/"
    if os.sep == "/" and rel and "//" not in padded and "/./" not in padded:
        return rel if folder == "." else os.path.join(folder, rel)
    return str(Path(folder) / rel)


def _open_problem(full: str, exc: OSError) -> Rejected:
    """Why a file could not be opened, in words a user can act on."""
    if exc.errno == errno.ELOOP:
        return Rejected("unreadable", "a symbolic link loop")
    if exc.errno == errno.ENOENT and os.path.islink(full):
        return Rejected("unreadable", f"a broken symbolic link to {os.readlink(full)!r}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return Rejected("unreadable", "permission denied")
    return Rejected("unreadable", exc.strerror or str(exc))


def _not_a_file(mode: int) -> Rejected:
    if stat.S_ISDIR(mode):
        return Rejected("unreadable", "a folder that cannot be listed")
    kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device or special file"
    return Rejected("not_a_file", f"{kind}, not a regular file")


def read_document(raw_dir: Path, entry: FileEntry, limits: Limits = Limits()) -> RawDocument:
    """Read, hash, sniff and decode one file. Raises `Rejected` for anything not an article.

    Never reads more than `limits.max_file_bytes + 1` bytes and never opens a FIFO or device.
    """
    full = _article_path(raw_dir, entry.fs_path or entry.path)
    skip = skip_reason(os.path.basename(full))
    if skip:
        raise Rejected(*skip)
    if entry.size > limits.max_file_bytes:
        raise Rejected("too_large", f"{entry.size} bytes over the limit of {limits.max_file_bytes}")
    try:
        # A stat before opening: a device or FIFO is never opened at all.
        st = os.stat(full)
    except OSError as exc:
        raise _open_problem(full, exc) from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_a_file(st.st_mode)
    try:
        # O_NONBLOCK: should the name have become a FIFO since the stat, opening does not hang.
        fd = os.open(full, os.O_RDONLY | _O_NONBLOCK)
    except OSError as exc:
        raise _open_problem(full, exc) from None
    try:
        try:
            st = os.fstat(fd)  # the file opened, which may not be the one stat'ed
            if not stat.S_ISREG(st.st_mode):
                raise _not_a_file(st.st_mode)
            if st.st_size > limits.max_file_bytes:
                raise Rejected("too_large", f"{st.st_size} bytes over the limit of {limits.max_file_bytes}")
            data = _read_at_most(fd, limits.max_file_bytes + 1, st.st_size)
        finally:
            os.close(fd)
    except OSError as exc:
        raise Rejected("unreadable", exc.strerror or str(exc)) from None
    if len(data) > limits.max_file_bytes:
        raise Rejected("too_large", f"over the limit of {limits.max_file_bytes} bytes")
    if not data.strip():
        raise Rejected("empty", "the file is empty or blank")
    container = sniff_container(data)
    if container:
        raise Rejected("binary", f"{container} data, not an article")
    decoded = decode_document(data)
    text = check_text(decoded.text)
    sidecar, sidecar_hash = read_sidecar(_find_sidecar(full))
    return RawDocument(
        path=entry.path,
        content_hash=hashlib.sha256(data).hexdigest(),
        size=len(data),
        mtime_ns=st.st_mtime_ns,
        text=text,
        encoding=decoded.encoding,
        format=sniff_format(text),
        sidecar=sidecar,
        sidecar_hash=sidecar_hash,
        truncated_bytes=decoded.truncated_bytes,
        replaced_offsets=decoded.replaced_offsets,
    )
