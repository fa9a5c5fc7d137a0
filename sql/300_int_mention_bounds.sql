-- int_mention_bounds: one row per mention (doc_id x mention_no) with the interval of values its
-- qualifier allows, so a series can tell statements that reconcile from statements that do not.
--   exact         [v, v]
--   approx        [v - 5%|v|, v + 5%|v|]   约/近/左右 round a figure; 5% lets "约6.6亿" meet "6.62亿"
--   over          [v, +inf)                 bounds are inclusive: "突破7亿" and "7亿" reconcile
--   under, up_to  (-inf, v]
-- A negative value (a decrease) bounds the magnitude: "下降超50%" (-50, over) is (-inf, -50].
-- NULL means unbounded on that side; an unknown qualifier is unbounded on both (rpt_data_quality
-- flags it). Bounds stay DECIMAL(38,10): exact comparisons, no float noise.
create or replace view int_mention_bounds as
with mentions as (
    select
        doc_id, mention_no, entity, metric_key, kind, unit, qualifier, value,
        period_start, period_end
    from fct_mentions
),
documents as (
    select doc_id, published_at, source
    from dim_documents
),
bounded as (
    select
        m.*,
        d.published_at,
        d.source,
        cast(abs(m.value) * 0.05 as decimal(38, 10)) as approx_slack
    from mentions m
    join documents d using (doc_id)
),
final as (
    select
        doc_id,
        mention_no,
        entity,
        metric_key,
        kind,
        unit,
        qualifier,
        value,
        period_start,
        period_end,
        published_at,
        source,
        cast(case
            when qualifier = 'exact' then value
            when qualifier = 'approx' then value - approx_slack
            when qualifier = 'over' and value >= 0 then value
            when qualifier in ('under', 'up_to') and value < 0 then value
        end as decimal(38, 10)) as lower_bound,
        cast(case
            when qualifier = 'exact' then value
            when qualifier = 'approx' then value + approx_slack
            when qualifier = 'over' and value < 0 then value
            when qualifier in ('under', 'up_to') and value >= 0 then value
        end as decimal(38, 10)) as upper_bound
    from bounded
)
select * from final;
