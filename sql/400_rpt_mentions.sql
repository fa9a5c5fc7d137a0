-- rpt_mentions: the contract view, one row per mention with its evidence and its document.
-- source_file is the document's primary path relative to the raw folder.
create or replace view rpt_mentions as
with mentions as (
    select * from fct_mentions
),
documents as (
    select doc_id, primary_path, title, source, url, published_at, published_precision
    from dim_documents
),
final as (
    select
        d.primary_path as source_file,
        m.doc_id,
        m.mention_no,
        m.entity,
        m.metric_key,
        m.subject,
        m.value,
        m.unit,
        m.measure_word,
        m.scale_word,
        m.qualifier,
        m.kind,
        m.period_start,
        m.period_end,
        m.surface,
        m.sentence,
        m.char_start,
        m.char_end,
        m.is_implied_unit,
        d.title,
        d.source,
        d.url,
        d.published_at,
        d.published_precision
    from mentions m
    join documents d using (doc_id)
)
select * from final;
