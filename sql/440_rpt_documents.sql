-- rpt_documents: one row per loaded document (doc_id) plus one row per quarantined file (path,
-- doc_id NULL): everything the raw folder held and what became of it.
--   status                   loaded | quarantined
--   paths / n_paths          every file path carrying the document's bytes (duplicates included)
--   n_mentions_*             how many of its mentions lack a period (period_end), a metric_key or
--                            an entity: they are kept in rpt_mentions but form no series
--   quarantine_reason/detail why a file was not loaded (see etl_quarantine)
create or replace view rpt_documents as
with documents as (
    select doc_id, title, source, url, published_at, published_precision, primary_path,
           format, encoding, script, n_chars, n_paragraphs, loaded_at, run_id
    from dim_documents
),
source_files as (
    select doc_id, path from dim_source_files
),
mentions as (
    select doc_id, period_end, metric_key, entity from fct_mentions
),
quarantine as (
    select path, reason, detail, size, first_seen_at, last_seen_at, run_id
    from etl_quarantine
),
paths_per_doc as (
    select doc_id, list(path order by path) as paths, count(*) as n_paths
    from source_files
    group by doc_id
),
mentions_per_doc as (
    select
        doc_id,
        count(*) as n_mentions,
        count(*) filter (where period_end is null) as n_mentions_without_period,
        count(*) filter (where metric_key is null) as n_mentions_without_metric,
        count(*) filter (where entity is null) as n_mentions_without_entity
    from mentions
    group by doc_id
),
loaded as (
    select
        d.doc_id,
        'loaded' as status,
        d.title,
        d.source,
        d.url,
        d.published_at,
        d.published_precision,
        d.primary_path,
        coalesce(p.paths, [d.primary_path]) as paths,
        coalesce(p.n_paths, 0) as n_paths,
        coalesce(m.n_mentions, 0) as n_mentions,
        coalesce(m.n_mentions_without_period, 0) as n_mentions_without_period,
        coalesce(m.n_mentions_without_metric, 0) as n_mentions_without_metric,
        coalesce(m.n_mentions_without_entity, 0) as n_mentions_without_entity,
        d.format,
        d.encoding,
        d.n_chars,
        cast(null as varchar) as quarantine_reason,
        cast(null as varchar) as quarantine_detail,
        d.loaded_at as seen_at,
        d.run_id
    from documents d
    left join paths_per_doc p using (doc_id)
    left join mentions_per_doc m using (doc_id)
),
quarantined as (
    select
        cast(null as varchar) as doc_id,
        'quarantined' as status,
        cast(null as varchar) as title,
        cast(null as varchar) as source,
        cast(null as varchar) as url,
        cast(null as date) as published_at,
        cast(null as varchar) as published_precision,
        q.path as primary_path,
        [q.path] as paths,
        1 as n_paths,
        0 as n_mentions,
        0 as n_mentions_without_period,
        0 as n_mentions_without_metric,
        0 as n_mentions_without_entity,
        cast(null as varchar) as format,
        cast(null as varchar) as encoding,
        cast(null as integer) as n_chars,
        q.reason as quarantine_reason,
        q.detail as quarantine_detail,
        q.last_seen_at as seen_at,
        q.run_id
    from quarantine q
),
final as (
    select * from loaded
    union all by name
    select * from quarantined
)
select * from final;
