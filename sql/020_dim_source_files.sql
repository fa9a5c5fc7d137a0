-- dim_source_files: one row per file path (relative to the raw folder) that carries a loaded
-- document. Identical bytes under two names: two rows, one document.
-- size, mtime_ns and sidecar_sig let a rerun skip unchanged files without reading them.
create table if not exists dim_source_files (
    path            varchar not null,
    doc_id          varchar not null,
    size            bigint not null,
    mtime_ns        bigint not null,
    sidecar_sig     varchar,             -- "size:mtime_ns" of the sidecar, null without one
    sidecar_hash    varchar,
    first_seen_at   timestamp not null,
    last_seen_at    timestamp not null,
    run_id          varchar not null
);
