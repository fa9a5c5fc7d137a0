-- rpt_latest_metrics: one row per institution x metric x unit (entity, metric_key, unit): the
-- newest level (largest period_end = as_of_date) with its agreed value from rpt_metric_series and
-- one evidence mention stating that value.
-- Same as-of date twice (a point in time and a period ratio): the point in time (period_start
-- NULL) wins, then the series stated by more documents.
-- Evidence: a mention of that series with the agreed value and qualifier, the newest published
-- first (ties: doc_id, mention_no) so the row is stable between runs.
create or replace view rpt_latest_metrics as
with series as (
    select * from rpt_metric_series
    where kind = 'level'
),
mentions as (
    select * from rpt_mentions
),
ranked as (
    select
        *,
        row_number() over (
            partition by entity, metric_key, unit
            order by period_end desc, (period_start is null) desc, n_documents desc,
                     period_start desc nulls last
        ) as recency_rank
    from series
),
latest as (
    select * exclude (recency_rank)
    from ranked
    where recency_rank = 1
),
evidence as (
    select
        l.entity, l.metric_key, l.unit,
        m.doc_id, m.mention_no, m.source_file, m.title, m.source, m.url, m.published_at,
        m.surface, m.sentence,
        row_number() over (
            partition by l.entity, l.metric_key, l.unit
            order by m.published_at desc nulls last, m.doc_id, m.mention_no
        ) as evidence_rank
    from latest l
    join mentions m
        on  m.entity = l.entity
        and m.metric_key = l.metric_key
        and m.kind = l.kind
        and m.unit = l.unit
        and m.period_start is not distinct from l.period_start
        and m.period_end = l.period_end
        and m.value = l.value
        and m.qualifier = l.qualifier
),
final as (
    select
        l.entity,
        l.metric_key,
        l.unit,
        l.value,
        l.qualifier,
        l.period_end as as_of_date,
        l.period_start,
        l.value_rule,
        l.has_conflict,
        l.n_documents,
        l.n_mentions,
        e.doc_id,
        e.mention_no,
        e.source_file,
        e.title,
        e.source,
        e.url,
        e.published_at,
        e.surface,
        e.sentence
    from latest l
    left join evidence e
        on  e.entity = l.entity
        and e.metric_key = l.metric_key
        and e.unit = l.unit
        and e.evidence_rank = 1
)
select * from final;
