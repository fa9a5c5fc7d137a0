"""Batch: turn a list of files into Arrow tables ready for one load transaction.

Runs ingest -> clean -> extract for each file. A file that fails in any stage becomes a
quarantine row with its reason; it never stops the others. Identical bytes under several names
are cleaned and extracted once. Pure CPU and file reads: safe to run in a worker process.
"""
from __future__ import annotations

import decimal
import time
from collections import defaultdict
from decimal import Decimal
from operator import attrgetter
from pathlib import Path

import pyarrow as pa

from flows import lexicon
from flows.clean import clean_document
from flows.config import Limits
from flows.ingest import FileEntry, Rejected, read_document
from flows.load import DOC_SCHEMA, MENTION_SCHEMA, PATH_SCHEMA, QUARANTINE_SCHEMA, Batch
from flows.models import CleanDocument, DocContext, RawDocument
from flows.normalise import extract_mentions


def _doc_row(raw: RawDocument, clean: CleanDocument, dropped: int = 0) -> dict:
    """`dropped`: mentions not loaded because their surface touches a U+FFFD (`_mention_rows`)."""
    sc = raw.sidecar
    warnings = list(sc.warnings)
    if dropped:
        warnings.append(f"{dropped} mention{'s' if dropped > 1 else ''} touching an unreadable character "
                        "(U+FFFD) not loaded")
    return {
        "doc_id": raw.content_hash,
        "title": clean.title,
        "body_text": clean.text,
        "format": raw.format,
        "encoding": raw.encoding,
        "script": clean.script,
        "published_at": sc.published_at,
        "published_precision": sc.published_precision,
        "published_raw": sc.published_raw,
        "source": sc.source,
        "url": sc.url,
        "sidecar_entity": sc.entity,
        "byte_size": raw.size,
        "n_chars": len(clean.text),
        "n_paragraphs": len(clean.paragraphs),
        "primary_path": raw.path,
        "sidecar_hash": raw.sidecar_hash,
        "warnings": warnings,
        "rules_hash": lexicon.rules_fingerprint(),
        "truncated_bytes": raw.truncated_bytes,
        "replaced_byte_offsets": list(raw.replaced_offsets),
    }


# fct_mentions.value is DECIMAL(38, 10): ten decimals, 28 integer digits.
_SCALE = Decimal("1e-10")
_MAX_VALUE = Decimal("1e28")
_DECIMAL_CONTEXT = decimal.Context(prec=60)


def fit_decimal(value: Decimal) -> Decimal | None:
    """`value` rounded to the warehouse's ten decimals; None if it cannot be stored or is not finite."""
    if not value.is_finite() or abs(value) >= _MAX_VALUE:
        return None
    return value.quantize(_SCALE, context=_DECIMAL_CONTEXT)


# A mention row is MENTION_SCHEMA's columns in order: doc_id, mention_no, then the Mention's
# attributes of the same names, `value` fitted to the warehouse's decimal (read in C by attrgetter).
_VALUE_AT = MENTION_SCHEMA.names.index("value")
_FIELDS_BEFORE_VALUE = attrgetter(*MENTION_SCHEMA.names[2:_VALUE_AT])
_FIELDS_AFTER_VALUE = attrgetter(*MENTION_SCHEMA.names[_VALUE_AT + 1:])


def touches_replacement(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] holds a U+FFFD or one sits right beside it.

    U+FFFD stands for bytes that could not be read (flows.ingest.decode_document): a figure next
    to one may have lost a digit, a sign or its unit ("1\ufffd5亿" read as "5亿"), so the
    neighbours count as touching too.
    """
    return "\ufffd" in text[max(0, start - 1):end + 1]


def doc_context(clean: CleanDocument, raw: RawDocument) -> DocContext:
    """What extraction reads besides the text: the sidecar's date, entity, source and address,
    and the clean title."""
    sc = raw.sidecar
    return DocContext(published_at=sc.published_at, published_precision=sc.published_precision,
                      entity=sc.entity, title=clean.title, source=sc.source, url=sc.url)


def _mention_rows(doc_id: str, clean: CleanDocument, raw: RawDocument) -> tuple[list[tuple], int]:
    """The document's mentions as rows of `MENTION_SCHEMA`: tuples in its column order, and how
    many were left out because their surface touches a U+FFFD (`touches_replacement`).

    An article has dozens of mentions, and a tuple costs half what a dict does to build and
    converts to Arrow in half the time (`_mentions_table`).
    """
    ctx = doc_context(clean, raw)
    rows = []
    text = clean.text
    unreadable = "\ufffd" in text  # nearly never: one scan instead of one per mention
    dropped = 0
    for m in extract_mentions(text, ctx):
        value = fit_decimal(m.value)
        if value is None:
            continue  # e.g. a 40-digit string of numerals: not a figure any bank states
        if unreadable and touches_replacement(text, m.char_start, m.char_end):
            dropped += 1
            continue
        rows.append((doc_id, len(rows) + 1, *_FIELDS_BEFORE_VALUE(m), value, *_FIELDS_AFTER_VALUE(m)))
    return rows, dropped


def _quarantine_row(e: FileEntry, reason: str, detail: str) -> dict:
    return {"path": e.path, "reason": reason, "detail": detail, "size": e.size,
            "mtime_ns": e.mtime_ns, "sidecar_sig": e.sidecar_sig}


def _path_row(raw: RawDocument, e: FileEntry) -> dict:
    return {"path": e.path, "doc_id": raw.content_hash, "size": raw.size, "mtime_ns": raw.mtime_ns,
            "sidecar_sig": e.sidecar_sig, "sidecar_hash": raw.sidecar_hash}


_MENTION_STRUCT = pa.struct(list(MENTION_SCHEMA))


def _mentions_table(rows: list[tuple]) -> pa.Table:
    """Mention rows as a `MENTION_SCHEMA` table.

    Arrow reads the tuples as structs in C++, field by position: no per-value Python work, where
    `pa.Table.from_pylist` looks every value up by key.
    """
    struct = pa.array(rows, type=_MENTION_STRUCT)
    return pa.Table.from_batches([pa.RecordBatch.from_struct_array(struct)], schema=MENTION_SCHEMA)


def _to_arrow(docs, paths, mentions, quarantined, touched) -> Batch:
    return Batch(
        docs=pa.Table.from_pylist(docs, DOC_SCHEMA),
        paths=pa.Table.from_pylist(paths, PATH_SCHEMA),
        mentions=_mentions_table(mentions),
        quarantined=pa.Table.from_pylist(quarantined, QUARANTINE_SCHEMA),
        touched=pa.Table.from_pylist(touched, PATH_SCHEMA),
    )


# What a conversion to Arrow raises for a value it cannot store.
_CONVERT_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)


def _converts(convert, *args) -> bool:
    try:
        convert(*args)
    except _CONVERT_ERRORS:
        return False
    return True


def _unstorable_docs(docs: list[dict], mentions: list[tuple], paths: list[dict]) -> set[str]:
    """The documents with a value Arrow cannot store, converting row by row as `_to_arrow` does."""
    bad = {d["doc_id"] for d in docs if not _converts(pa.Table.from_pylist, [d], DOC_SCHEMA)}
    bad |= {m[0] for m in mentions if not _converts(_mentions_table, [m])}  # m[0]: doc_id
    bad |= {p["doc_id"] for p in paths if not _converts(pa.Table.from_pylist, [p], PATH_SCHEMA)}
    return bad


def build_batch(
    raw_dir: Path | str,
    entries: list[FileEntry],
    known: dict[str, tuple[str | None, str | None]] | None = None,
    limits: Limits = Limits(),
) -> Batch:
    """Read, clean and extract `entries` (sorted by path) into one `Batch`.

    `known` maps a path to the (doc_id, sidecar_hash) the warehouse holds for it: a file whose
    bytes and sidecar are both the same is only `touched` (its new mtime recorded).
    """
    known = known or {}
    raw_dir = Path(raw_dir)
    secs: dict[str, float] = defaultdict(float)
    docs, paths, mentions, quarantined, touched = [], [], [], [], []
    done: dict[str, bool] = {}  # content hash -> cleaned and extracted in this batch
    for e in sorted(entries, key=lambda x: x.path):
        t0 = time.perf_counter()
        try:
            raw = read_document(raw_dir, e, limits)
        except Rejected as exc:
            quarantined.append(_quarantine_row(e, exc.reason, exc.detail))
            continue
        except Exception as exc:  # a bug or an OS surprise must not stop the other files
            quarantined.append(_quarantine_row(e, "error", f"{type(exc).__name__}: {exc}"))
            continue
        finally:
            secs["read_decode"] += time.perf_counter() - t0
        if known.get(e.path) == (raw.content_hash, raw.sidecar_hash):
            touched.append(_path_row(raw, e))
            continue
        if raw.content_hash not in done:
            try:
                t1 = time.perf_counter()
                clean = clean_document(raw, limits)
                t2 = time.perf_counter()
                rows, dropped = _mention_rows(raw.content_hash, clean, raw)
                t3 = time.perf_counter()
                secs["clean"] += t2 - t1
                secs["extract"] += t3 - t2
            except Rejected as exc:
                quarantined.append(_quarantine_row(e, exc.reason, exc.detail))
                continue
            except Exception as exc:
                quarantined.append(_quarantine_row(e, "error", f"{type(exc).__name__}: {exc}"))
                continue
            done[raw.content_hash] = True
            docs.append(_doc_row(raw, clean, dropped))
            mentions.extend(rows)
        paths.append(_path_row(raw, e))
    t4 = time.perf_counter()
    try:
        batch = _to_arrow(docs, paths, mentions, quarantined, touched)
    except _CONVERT_ERRORS:
        # One value Arrow cannot store must not cost the whole batch: find its documents and
        # quarantine their files, then convert the rest.
        bad = _unstorable_docs(docs, mentions, paths)
        quarantined += [
            {"path": p["path"], "reason": "error", "detail": "a value cannot be stored in the warehouse",
             "size": p["size"], "mtime_ns": p["mtime_ns"], "sidecar_sig": p["sidecar_sig"]}
            for p in paths if p["doc_id"] in bad
        ]
        batch = _to_arrow(
            [d for d in docs if d["doc_id"] not in bad],
            [p for p in paths if p["doc_id"] not in bad],
            [m for m in mentions if m[0] not in bad],  # m[0]: doc_id
            quarantined,
            touched,
        )
    secs["to_arrow"] += time.perf_counter() - t4
    batch.stage_seconds = dict(secs)
    return batch


# --- spooling: a transformed batch travels to the loader as Arrow IPC files, not as a task result.
# Prefect keeps every task result of a flow run in memory (for dependency tracking), so a task
# returning a batch would make a backfill's memory grow with the corpus. A spooled batch is a
# folder of five Arrow files; the task returns only its path and stage seconds.

_SPOOL_TABLES = ("docs", "paths", "mentions", "quarantined", "touched")


def write_spool(batch: Batch, folder: Path | str) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in _SPOOL_TABLES:
        table = getattr(batch, name)
        with pa.OSFile(str(folder / f"{name}.arrow"), "wb") as sink:
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)


def read_spool(folder: Path | str, stage_seconds: dict | None = None) -> Batch:
    folder = Path(folder)
    tables = {}
    for name in _SPOOL_TABLES:
        with pa.memory_map(str(folder / f"{name}.arrow"), "r") as source:
            tables[name] = pa.ipc.open_file(source).read_all()
    return Batch(**tables, stage_seconds=dict(stage_seconds or {}))


def build_spooled_batch(
    raw_dir: Path | str,
    entries: list[FileEntry],
    known: dict[str, tuple[str | None, str | None]] | None,
    limits: Limits,
    folder: Path | str,
) -> dict[str, float]:
    """`build_batch` written to `folder` (see `write_spool`); returns its stage seconds."""
    batch = build_batch(raw_dir, entries, known, limits)
    t0 = time.perf_counter()
    write_spool(batch, folder)
    return {**batch.stage_seconds, "spool": time.perf_counter() - t0}
