-- etl_quarantine: one row per file path that could not be loaded, with a short reason key
-- (empty, binary, undecodable, too_large, paragraph_too_long, no_text, unreadable, error) and a
-- human detail. The row goes when the file loads or disappears.
create table if not exists etl_quarantine (
    path            varchar not null,
    reason          varchar not null,
    detail          varchar,
    size            bigint,
    mtime_ns        bigint,
    sidecar_sig     varchar,
    first_seen_at   timestamp not null,
    last_seen_at    timestamp not null,
    run_id          varchar not null
);
