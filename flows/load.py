"""Load: the DuckDB warehouse. Migrations, transactional batch loads, run bookkeeping.

Natural keys (kept unique by this module, checked by tests):
  dim_documents     doc_id                 (sha256 of the article's bytes)
  dim_source_files  path                   (relative to the raw folder)
  fct_mentions      doc_id, mention_no
  etl_quarantine    path
  etl_runs          run_id

Every batch is one transaction: a document and all its mentions are there, or none of them.
Values only ever reach SQL as bound parameters or registered Arrow tables, never as SQL text.
DuckDB lets one process write a file at a time and then nobody else may open it: a run holds
the connection from the end of its scan to its end, and readers use the Parquet exports.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from flows.config import SQL_DIR

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class WarehouseError(RuntimeError):
    """The warehouse cannot be used; the message is one line a user can act on."""


class WarehouseBusy(WarehouseError):
    """Another process holds DuckDB's lock on the warehouse file."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# DuckDB caches the warehouse's blocks up to 80% of the machine's memory by default, so a run's
# memory would follow the warehouse's size; above this limit it evicts (and spills) instead.
DUCKDB_MEMORY_LIMIT = os.environ.get("BANKMETRICS_DUCKDB_MEMORY_LIMIT", "512MB")


# Rows per row group in what this process writes (DuckDB's default: 122,880). A checkpoint
# compresses again the whole row group that new rows joined, so with the default every commit's
# checkpoint re-compressed every article text loaded so far (dim_documents stays in its first row
# group for 122,880 documents): measured, 0.25 ms of load CPU per document at 20,000 documents and
# growing, against 0.13 ms with 4,096 (and a smaller file). DuckDB takes it per ATTACH, not per file.
LOAD_ROW_GROUP_SIZE = 4096


def _attach_for_writing(db_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY_LIMIT, "threads": 1})
    try:
        quoted = "'" + str(db_path).replace("'", "''") + "'"
        con.execute(f"attach {quoted} as warehouse (row_group_size {LOAD_ROW_GROUP_SIZE})")
        con.execute("use warehouse")
    except BaseException:
        con.close()
        raise
    return con


def connect(db_path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, translating DuckDB's errors into one-line reasons."""
    db_path = Path(db_path)
    if not read_only:
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(f"cannot create {db_path.parent}: {exc.strerror or exc}") from None
    elif not db_path.exists():
        raise WarehouseError(f"no warehouse at {db_path}: run `bankmetrics run` first")
    try:
        if read_only:
            return duckdb.connect(str(db_path), read_only=True, config={"memory_limit": DUCKDB_MEMORY_LIMIT})
        return _attach_for_writing(db_path)
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            raise WarehouseBusy(
                f"warehouse busy: {db_path} is open by another process (a run is loading); "
                "try again when it ends, or read the Parquet exports"
            ) from None
        raise WarehouseError(f"cannot open {db_path}: {msg.splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open {db_path}: {str(exc).splitlines()[0]}") from None


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover_migrations(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """Numbered `NNN_name.sql` files in order; a misnamed or duplicate number fails loudly."""
    found: dict[int, Migration] = {}
    for path in sorted(Path(sql_dir).glob("*.sql")):
        m = _MIGRATION_NAME.match(path.name)
        if not m:
            raise WarehouseError(f"{path}: migration files are named NNN_snake_name.sql")
        version = int(m.group(1))
        if version in found:
            raise WarehouseError(f"{path}: version {version} is used twice")
        found[version] = Migration(version, path.stem, path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def migrate(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction. Returns their names.

    An older warehouse upgrades in place: only the new files run. A recorded file whose text
    changed since is reported, not re-run (add a new numbered file instead).
    """
    con.execute(
        """create table if not exists etl_schema_migrations (
               version integer not null, name varchar not null,
               checksum varchar not null, applied_at timestamp not null)"""
    )
    applied = dict(con.execute("select version, checksum from etl_schema_migrations").fetchall())
    done: list[str] = []
    for mig in discover_migrations(sql_dir):
        if mig.version in applied:
            continue
        con.execute("begin transaction")
        try:
            con.execute(mig.sql)
            con.execute(
                "insert into etl_schema_migrations values (?, ?, ?, ?)",
                [mig.version, mig.name, mig.checksum, utcnow()],
            )
            con.execute("commit")
        except duckdb.Error as exc:
            con.execute("rollback")
            raise WarehouseError(f"migration {mig.name} failed: {str(exc).splitlines()[0]}") from None
        done.append(mig.name)
    return done


def open_warehouse(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    """Connect for writing and bring the schema up to date."""
    con = connect(db_path)
    try:
        migrate(con)
        sync_catalogues(con)
    except Exception:
        con.close()
        raise
    return con


def sync_catalogues(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite dim_metrics, dim_institutions and dim_units from the rule files (a hundred rows, one transaction)."""
    import pandas as pd  # noqa: PLC0415 (pandas is heavy; only the writer needs it here)

    from flows.lexicon import load_lexicon, unit_codes

    lex = load_lexicon()
    # asdict, not vars: the compiled lexicon's dataclasses have no __dict__
    metrics = pd.DataFrame([asdict(m) for m in lex.metric_catalog.values()])
    banks = pd.DataFrame([asdict(i) for i in lex.institutions.values()]).rename(columns={"code": "entity"})
    units = pd.DataFrame([(c, n, z) for c, (n, z) in sorted(unit_codes().items())], columns=["unit", "nature", "name_zh"])
    con.execute("begin transaction")
    try:
        con.execute("delete from dim_metrics")
        con.execute("insert into dim_metrics select key, unit, nature, name_zh, name_en from metrics")
        con.execute("delete from dim_institutions")
        con.execute("insert into dim_institutions select entity, name_zh, short_name_zh, kind from banks")
        con.execute("delete from dim_units")
        con.execute("insert into dim_units select unit, nature, name_zh from units")
        con.execute("commit")
    except duckdb.Error:
        con.execute("rollback")
        raise


# --- what the warehouse already knows -------------------------------------------------------


@dataclass(frozen=True)
class KnownFile:
    doc_id: str | None  # None for a quarantined path
    size: int
    mtime_ns: int
    sidecar_sig: str | None
    quarantined: bool
    sidecar_hash: str | None = None
    reason: str | None = None  # quarantine reason
    rules_hash: str | None = None  # what its document was extracted with (flows.lexicon.rules_fingerprint)


def known_files(con: duckdb.DuckDBPyConnection) -> dict[str, KnownFile]:
    """Every path the warehouse holds, loaded or quarantined, with its stat signature."""
    out: dict[str, KnownFile] = {}
    for path, doc_id, size, mtime_ns, sig, sidecar_hash, rules_hash in con.execute(
        """select s.path, s.doc_id, s.size, s.mtime_ns, s.sidecar_sig, s.sidecar_hash, d.rules_hash
           from dim_source_files s left join dim_documents d using (doc_id)"""
    ).fetchall():
        out[path] = KnownFile(doc_id, size, mtime_ns, sig, False, sidecar_hash, rules_hash=rules_hash)
    for path, size, mtime_ns, sig, reason in con.execute(
        "select path, size, mtime_ns, sidecar_sig, reason from etl_quarantine"
    ).fetchall():
        out.setdefault(path, KnownFile(None, size or -1, mtime_ns or -1, sig, True, None, reason))
    return out


# --- batch loads ----------------------------------------------------------------------------

DOC_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("title", pa.string()),
        ("body_text", pa.string()),
        ("format", pa.string()),
        ("encoding", pa.string()),
        ("script", pa.string()),
        ("published_at", pa.date32()),
        ("published_precision", pa.string()),
        ("published_raw", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("sidecar_entity", pa.string()),
        ("byte_size", pa.int64()),
        ("n_chars", pa.int32()),
        ("n_paragraphs", pa.int32()),
        ("primary_path", pa.string()),
        ("sidecar_hash", pa.string()),
        ("warnings", pa.list_(pa.string())),
        ("rules_hash", pa.string()),
        ("truncated_bytes", pa.int32()),
        ("replaced_byte_offsets", pa.list_(pa.int64())),
    ]
)
PATH_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("doc_id", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("sidecar_sig", pa.string()),
        ("sidecar_hash", pa.string()),
    ]
)
MENTION_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("mention_no", pa.int32()),
        ("char_start", pa.int32()),
        ("char_end", pa.int32()),
        ("surface", pa.string()),
        ("sentence", pa.string()),
        ("sentence_start", pa.int32()),
        ("value", pa.decimal128(38, 10)),
        ("unit", pa.string()),
        ("measure_word", pa.string()),
        ("scale_word", pa.string()),
        ("qualifier", pa.string()),
        ("kind", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("subject", pa.string()),
        ("metric_key", pa.string()),
        ("entity", pa.string()),
        ("is_implied_unit", pa.bool_()),
    ]
)
QUARANTINE_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("sidecar_sig", pa.string()),
    ]
)


@dataclass
class Batch:
    """What one batch of files became, as Arrow tables ready for one transaction.

    `paths` are files that loaded (including duplicates of a document), `quarantined` files that
    did not, `touched` paths whose mtime moved but whose bytes and sidecar did not.
    """

    docs: pa.Table
    paths: pa.Table
    mentions: pa.Table
    quarantined: pa.Table
    touched: pa.Table
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def n_mentions(self) -> int:
        return self.mentions.num_rows


def _register(con: duckdb.DuckDBPyConnection, batch: Batch) -> None:
    con.register("b_docs", batch.docs)
    con.register("b_paths", batch.paths)
    con.register("b_mentions", batch.mentions)
    con.register("b_quarantine", batch.quarantined)
    con.register("b_touched", batch.touched)


def _unregister(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("b_docs", "b_paths", "b_mentions", "b_quarantine", "b_touched"):
        con.unregister(name)


# The statements of one batch load, in order. Each is set-based over the registered Arrow
# tables: no per-row Python, no per-row INSERT.
_LOAD_STEPS = (
    # (guard, statement): a guarded statement runs only when its temp table has rows. In a
    # backfill nothing is replaced or orphaned, and the guards spare a scan of fct_mentions per
    # batch (which made a long load quadratic).
    # Paths whose old document may become an orphan once this batch has moved them.
    (None, """create or replace temp table t_old_docs as
       select distinct doc_id from dim_source_files
       where path in (select path from b_paths union all select path from b_quarantine)"""),
    # A document already loaded from a path that sorts first keeps that path's metadata: a new
    # duplicate of its bytes only adds a path row.
    (None, """create or replace temp table t_keep as
       select d.doc_id from dim_documents d join b_docs b using (doc_id)
       where d.primary_path < b.primary_path
         and d.primary_path not in (select path from b_paths union all select path from b_quarantine)
         and exists (select 1 from dim_source_files s where s.path = d.primary_path)"""),
    # Documents of this batch the warehouse already holds: replaced whole.
    (None, """create or replace temp table t_replace as
       select doc_id from dim_documents
       where doc_id in (select doc_id from b_docs) and doc_id not in (select doc_id from t_keep)"""),
    ("t_replace", "delete from fct_mentions where doc_id in (select doc_id from t_replace)"),
    ("t_replace", "delete from dim_documents where doc_id in (select doc_id from t_replace)"),
    (None, """insert into dim_documents by name
       select b.*, $now as loaded_at, $run_id as run_id from b_docs b
       where b.doc_id not in (select doc_id from t_keep)"""),
    (None, """insert into fct_mentions
       select m.*, $run_id as run_id from b_mentions m
       where m.doc_id not in (select doc_id from t_keep)"""),
    # Path rows: replaced, keeping when each path was first seen.
    (None, """create or replace temp table t_first_seen as
       select path, first_seen_at from dim_source_files where path in (select path from b_paths)"""),
    (None, """delete from dim_source_files
       where path in (select path from b_paths union all select path from b_quarantine)"""),
    (None, """insert into dim_source_files
       select p.path, p.doc_id, p.size, p.mtime_ns, p.sidecar_sig, p.sidecar_hash,
              coalesce(f.first_seen_at, $now), $now, $run_id
       from b_paths p left join t_first_seen f using (path)"""),
    (None, """update dim_source_files s set mtime_ns = t.mtime_ns, size = t.size,
              sidecar_sig = t.sidecar_sig, last_seen_at = $now
       from b_touched t where s.path = t.path"""),
    # Quarantine: loaded paths leave it; rejected ones enter or refresh it.
    (None, """create or replace temp table t_q_first as
       select path, first_seen_at from etl_quarantine where path in (select path from b_quarantine)"""),
    (None, """delete from etl_quarantine
       where path in (select path from b_paths union all select path from b_quarantine
                      union all select path from b_touched)"""),
    (None, """insert into etl_quarantine
       select q.path, q.reason, q.detail, q.size, q.mtime_ns, q.sidecar_sig,
              coalesce(f.first_seen_at, $now), $now, $run_id
       from b_quarantine q left join t_q_first f using (path)"""),
    # Documents no path carries any more.
    ("t_old_docs", """create or replace temp table t_orphans as
       select doc_id from t_old_docs where doc_id not in (select doc_id from dim_source_files)"""),
    ("t_old_docs", "delete from fct_mentions where doc_id in (select doc_id from t_orphans)"),
    ("t_old_docs", "delete from dim_documents where doc_id in (select doc_id from t_orphans)"),
    # A document whose primary path now carries other bytes (or was quarantined) while another
    # path still carries it: `_REPOINT`.
    ("t_old_docs", None),
)

# The first path (in sort order) still carrying a document whose primary path no longer does
# becomes its primary path, and the document is marked for extraction again (rules_hash NULL):
# its metadata (sidecar) and the mentions extracted with it came from the path it lost, and must
# follow the path that carries it. The flow extracts it again in the same run
# (flows/pipeline.py); should the run die first, the next run does (a NULL rules_hash is stale).
_REPOINT = """update dim_documents d set primary_path = s.path, rules_hash = null
   from (select doc_id, min(path) as path from dim_source_files
         where doc_id in (select doc_id from {docs}) group by doc_id) s
   where d.doc_id = s.doc_id
     and not exists (select 1 from dim_source_files f where f.path = d.primary_path and f.doc_id = d.doc_id)"""


def _has_rows(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute(f"select exists (select 1 from {table})").fetchall()[0][0])


def load_batch(con: duckdb.DuckDBPyConnection, batch: Batch, run_id: str) -> None:
    """Load one batch in one transaction; on any error nothing of it stays."""
    params = {"now": utcnow(), "run_id": run_id}
    _register(con, batch)
    try:
        con.execute("begin transaction")
        try:
            guards: dict[str, bool] = {}
            for guard, step in _LOAD_STEPS:
                if guard is not None:
                    if guard not in guards:
                        guards[guard] = _has_rows(con, guard)
                    if not guards[guard]:
                        continue
                if step is None:
                    step = _REPOINT.format(docs=guard)
                con.execute(step, {k: v for k, v in params.items() if f"${k}" in step})
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        _unregister(con)


def remove_paths(con: duckdb.DuckDBPyConnection, paths: list[str]) -> int:
    """Forget files that left the raw folder, and the documents only they carried."""
    if not paths:
        return 0
    gone = pa.table({"path": pa.array(paths, pa.string())})
    con.register("b_gone", gone)
    try:
        con.execute("begin transaction")
        try:
            con.execute(
                """create or replace temp table t_old_docs as
                   select distinct doc_id from dim_source_files where path in (select path from b_gone)"""
            )
            con.execute("delete from dim_source_files where path in (select path from b_gone)")
            con.execute("delete from etl_quarantine where path in (select path from b_gone)")
            for table in ("fct_mentions", "dim_documents"):
                con.execute(
                    f"""delete from {table} where doc_id in (select doc_id from t_old_docs)
                        and doc_id not in (select doc_id from dim_source_files)"""
                )
            # A surviving duplicate becomes the primary path of a document that lost its own, and
            # the document is marked for extraction again from it (see _REPOINT).
            con.execute(_REPOINT.format(docs="t_old_docs"))
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        con.unregister("b_gone")
    return len(paths)


def has_documents_to_extract_again(con: duckdb.DuckDBPyConnection, rules_hash: str) -> bool:
    """Whether a document is marked for extraction again (`_REPOINT`), or was extracted with other
    rules than `rules_hash`."""
    return bool(con.execute(
        "select exists (select 1 from dim_documents where rules_hash is distinct from ?)", [rules_hash]
    ).fetchall()[0][0])


def touch_quarantine(con: duckdb.DuckDBPyConnection, paths: list[str], run_id: str) -> None:
    """Unchanged quarantined files: still bad, seen again by this run."""
    if not paths:
        return
    con.register("b_seen", pa.table({"path": pa.array(paths, pa.string())}))
    try:
        con.execute(
            "update etl_quarantine set last_seen_at = ?, run_id = ? where path in (select path from b_seen)",
            [utcnow(), run_id],
        )
    finally:
        con.unregister("b_seen")


# --- runs -----------------------------------------------------------------------------------


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, raw_dir: str, flow_run_id: str | None) -> None:
    """Record a run as started; runs an earlier process left 'running' died: mark them."""
    con.execute(
        "update etl_runs set status = 'crashed', message = 'the process ended before the run did' "
        "where status = 'running'"
    )
    con.execute(
        "insert into etl_runs (run_id, flow_run_id, started_at, status, raw_dir) values (?, ?, ?, 'running', ?)",
        [run_id, flow_run_id, utcnow(), raw_dir],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, summary: dict, status: str = "completed") -> None:
    con.execute(
        """update etl_runs set finished_at = ?, status = ?, files_seen = ?, docs_new = ?,
               docs_changed = ?, docs_unchanged = ?, files_removed = ?, files_quarantined = ?,
               mentions_loaded = ?, seconds = ?, stage_seconds = ?, message = ?
           where run_id = ?""",
        [
            utcnow(),
            status,
            summary.get("files_seen"),
            summary.get("docs_new"),
            summary.get("docs_changed"),
            summary.get("docs_unchanged"),
            summary.get("files_removed"),
            summary.get("files_quarantined"),
            summary.get("mentions_loaded"),
            summary.get("seconds"),
            json.dumps(summary.get("stage_seconds", {})),
            summary.get("message"),
            run_id,
        ],
    )


def quarantine_reasons(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return con.execute("select path, reason, detail from etl_quarantine order by path").fetchall()
