-- etl_runs: one row per pipeline run, written when it starts and completed when it ends.
-- A run that died leaves status 'running'; the next run marks it 'crashed'.
create table if not exists etl_runs (
    run_id              varchar not null,
    flow_run_id         varchar,
    started_at          timestamp not null,
    finished_at         timestamp,
    status              varchar not null,   -- running | completed | failed | crashed
    raw_dir             varchar not null,
    files_seen          integer,
    docs_new            integer,
    docs_changed        integer,
    docs_unchanged      integer,
    files_removed       integer,
    files_quarantined   integer,
    mentions_loaded     bigint,
    seconds             double,
    stage_seconds       json,
    message             varchar
);
