"""Ingest: walk the raw folder, read files, decode them and read their sidecars.

`scan` lists candidate files with their size and mtime only (cheap: a rerun on an unchanged
folder never reads a byte). `read_document` reads one file, hashes it, sniffs HTML versus plain
text from its content (never from its extension) and decodes it. Anything that cannot become
a document raises `Rejected` with a short machine reason and a human detail: the pipeline
quarantines the file and goes on with the others.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import date, datetime
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
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")

_DATE_FORMATS = (
    (re.compile(r"^\d{4}$"), "year"),
    (re.compile(r"^\d{4}-\d{1,2}$"), "month"),
    (re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"), "day"),
)


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
    size: int
    mtime_ns: int
    sidecar_sig: str | None  # "size:mtime_ns" of NAME.meta.json, None without one


@dataclass(frozen=True)
class ScanProblem:
    path: str
    reason: str
    detail: str


def is_hidden_or_temp(name: str) -> bool:
    return name.startswith(".") or bool(_TEMP_NAME.search(name))


def _sidecar_candidates(article: Path) -> tuple[Path, ...]:
    # NAME.meta.json where NAME is the file's stem (000_x.txt -> 000_x.meta.json); a sidecar
    # named after the full file name (000_x.txt.meta.json) is accepted too.
    return (article.with_name(article.stem + SIDECAR_SUFFIX), article.with_name(article.name + SIDECAR_SUFFIX))


def find_sidecar(article: Path) -> Path | None:
    for cand in _sidecar_candidates(article):
        if cand.is_file():
            return cand
    return None


def scan(raw_dir: Path) -> tuple[list[FileEntry], list[ScanProblem]]:
    """List every candidate article under `raw_dir`, recursively, sorted by path.

    Follows symlinks but visits each real directory once (symlink loops end there); skips hidden
    and temporary files and sidecars. Files that cannot be stat'ed are reported as problems.
    """
    raw_dir = Path(raw_dir)
    entries: list[FileEntry] = []
    problems: list[ScanProblem] = []
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(raw_dir, followlinks=True):
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
        dirnames[:] = sorted(d for d in dirnames if not is_hidden_or_temp(d))
        base = Path(dirpath)
        for name in sorted(filenames):
            if is_hidden_or_temp(name) or name.endswith(SIDECAR_SUFFIX):
                continue
            full = base / name
            rel = full.relative_to(raw_dir).as_posix()
            try:
                fst = os.stat(full)
            except OSError as exc:
                problems.append(ScanProblem(rel, "unreadable", f"cannot stat: {exc.strerror or exc}"))
                continue
            if not stat.S_ISREG(fst.st_mode):
                continue
            sig = None
            side = find_sidecar(full)
            if side is not None:
                try:
                    sst = os.stat(side)
                    sig = f"{sst.st_size}:{sst.st_mtime_ns}"
                except OSError:
                    sig = None
            entries.append(FileEntry(rel, fst.st_size, fst.st_mtime_ns, sig))
    entries.sort(key=lambda e: e.path)
    return entries, problems


def sniff_format(text: str) -> str:
    """'html' when the content carries HTML tags near its start, else 'text'."""
    head = text[:4096]
    if len(_HTML_SNIFF.findall(head)) >= 2 or head.lstrip().lower().startswith(("<!doctype html", "<html")):
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


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode article bytes, returning (text, encoding used).

    A principled chain, fastest first: a BOM decides; else strict UTF-8; else BOM-less UTF-16
    when its NUL pattern is unmistakable; else strict GB18030 (a superset of GBK and GB2312, the
    encodings of Chinese pages without a declaration). Statistical detectors are slow and misread
    GBK (measured: chardet ~260 files/s and wrong), so they are not in the chain.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError as exc:
                raise Rejected("undecodable", f"{enc} byte-order mark but invalid {enc}: {exc.reason}") from None
            return text.lstrip("\ufeff"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    utf16 = _looks_utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise Rejected(
            "undecodable", f"not UTF-8, UTF-16 or GB18030 (first bad byte at offset {exc.start})"
        ) from None


def check_text(text: str) -> str:
    """Reject what decoded but is not an article; return the text with NULs removed."""
    if "\x00" in text:
        text = text.replace("\x00", "")  # stray NULs are salvageable; a blob is caught below
    if not text.strip():
        raise Rejected("empty", "no text after decoding")
    sample = text[:65536]
    bad = len(_CONTROL.findall(sample))
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
    s = raw.strip()
    for pattern, precision in _DATE_FORMATS:
        if pattern.match(s):
            parts = [int(p) for p in s.split("-")] + [1, 1]
            try:
                return date(parts[0], parts[1], parts[2]), precision, None
            except ValueError:
                return None, None, f"impossible published_at: {s!r}"
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("/", "-"))
    except ValueError:
        return None, None, f"unparseable published_at: {s!r}"
    return dt.date(), "datetime", None


def _str_field(meta: dict, key: str, warnings: list[str]) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        warnings.append(f"sidecar field {key} is not a string")
        return None
    value = value.strip()
    return value or None


def read_sidecar(path: Path | None) -> tuple[Sidecar, str | None]:
    """Read `NAME.meta.json`. A bad sidecar gives warnings, never an exception."""
    if path is None:
        return Sidecar(), None
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Sidecar(warnings=(f"sidecar unreadable: {exc.strerror or exc}",)), None
    digest = hashlib.sha256(data).hexdigest()
    try:
        meta = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Sidecar(warnings=(f"sidecar is not valid JSON: {exc}",)), digest
    if not isinstance(meta, dict):
        return Sidecar(warnings=("sidecar is not a JSON object",)), digest
    warnings: list[str] = []
    published, precision, warn = parse_published_at(meta.get("published_at"))
    if warn:
        warnings.append(warn)
    raw_pub = meta.get("published_at")
    return (
        Sidecar(
            published_at=published,
            published_precision=precision,
            published_raw=str(raw_pub) if raw_pub is not None else None,
            source=_str_field(meta, "source", warnings),
            url=_str_field(meta, "url", warnings),
            title=_str_field(meta, "title", warnings),
            entity=_str_field(meta, "entity", warnings),
            warnings=tuple(warnings),
        ),
        digest,
    )


def read_document(raw_dir: Path, entry: FileEntry, limits: Limits = Limits()) -> RawDocument:
    """Read, hash, sniff and decode one file. Raises `Rejected` for anything not an article."""
    full = Path(raw_dir) / entry.path
    if entry.size > limits.max_file_bytes:
        raise Rejected("too_large", f"{entry.size} bytes over the limit of {limits.max_file_bytes}")
    try:
        with open(full, "rb") as fh:
            data = fh.read(limits.max_file_bytes + 1)
            st = os.fstat(fh.fileno())
    except OSError as exc:
        raise Rejected("unreadable", exc.strerror or str(exc)) from None
    if len(data) > limits.max_file_bytes:
        raise Rejected("too_large", f"over the limit of {limits.max_file_bytes} bytes")
    if not data.strip():
        raise Rejected("empty", "the file is empty or blank")
    container = sniff_container(data)
    if container:
        raise Rejected("binary", f"{container} data, not an article")
    text, encoding = decode_bytes(data)
    text = check_text(text)
    sidecar, sidecar_hash = read_sidecar(find_sidecar(full))
    return RawDocument(
        path=entry.path,
        content_hash=hashlib.sha256(data).hexdigest(),
        size=len(data),
        mtime_ns=st.st_mtime_ns,
        text=text,
        encoding=encoding,
        format=sniff_format(text),
        sidecar=sidecar,
        sidecar_hash=sidecar_hash,
    )
