-- dim_documents: one row per distinct article content (doc_id = sha256 of the file's bytes).
-- `body_text` is the clean text every evidence offset in fct_mentions points into: the title on
-- line one, then one paragraph per line. Metadata comes from the sidecar of `primary_path`, the
-- first path (in sort order) that carried these bytes.
-- Natural key: doc_id (kept unique by the loader and checked by tests: DuckDB's over-eager
-- unique checks would reject the delete-then-insert that replaces a document in one transaction).
create table if not exists dim_documents (
    doc_id               varchar not null,
    title                varchar,
    body_text            varchar not null,
    format               varchar not null,   -- html | text (sniffed from content)
    encoding             varchar not null,   -- utf-8 | utf-8-sig | utf-16 | gb18030 ...
    script               varchar not null,   -- simplified | traditional
    published_at         date,
    published_precision  varchar,            -- year | month | day | datetime
    published_raw        varchar,            -- the sidecar's value as written
    source               varchar,
    url                  varchar,
    sidecar_entity       varchar,            -- the sidecar's `entity` as written
    byte_size            bigint not null,
    n_chars              integer not null,
    n_paragraphs         integer not null,
    primary_path         varchar not null,
    sidecar_hash         varchar,
    warnings             varchar[],
    loaded_at            timestamp not null,
    run_id               varchar not null
);
