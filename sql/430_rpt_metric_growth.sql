-- rpt_metric_growth: one row per institution x metric x unit x consecutive pair of as-of dates
-- (entity, metric_key, unit, period_to): how a level moved between two dates its sources give,
-- e.g. ICBC personal_customers 6.6亿 (2020-06-30) -> 7.55亿 (2024-09-30).
-- Levels only (kind = 'level'), one point per as-of date chosen as in rpt_latest_metrics.
--   change_abs             exact DECIMAL difference, in change_unit (percent levels change in pp)
--   change_pct             (to - from) / |from| * 100, double; NULL when from is 0
--   change_pct_annualised  ((to / from) ^ (365.25 / days) - 1) * 100, compounded; only for stocks
--                          (money and counts) with both values positive and days > 0 — compounding
--                          a ratio such as npl_ratio means nothing
-- is_exact: both ends are exact agreed values; has_conflict: either end's sources disagree.
create or replace view rpt_metric_growth as
with series as (
    select * from rpt_metric_series
    where kind = 'level'
),
ranked as (
    select
        *,
        row_number() over (
            partition by entity, metric_key, unit, period_end
            order by (period_start is null) desc, n_documents desc, period_start desc nulls last
        ) as point_rank
    from series
),
points as (
    select entity, metric_key, unit, period_end, value, qualifier, has_conflict, n_documents
    from ranked
    where point_rank = 1
),
paired as (
    select
        entity,
        metric_key,
        unit,
        lag(period_end) over w as period_from,
        period_end as period_to,
        lag(value) over w as value_from,
        value as value_to,
        lag(qualifier) over w as qualifier_from,
        qualifier as qualifier_to,
        lag(has_conflict) over w as has_conflict_from,
        has_conflict as has_conflict_to
    from points
    window w as (partition by entity, metric_key, unit order by period_end)
),
final as (
    select
        entity,
        metric_key,
        unit,
        period_from,
        period_to,
        value_from,
        value_to,
        qualifier_from,
        qualifier_to,
        value_to - value_from as change_abs,
        case when unit = 'percent' then 'pp' else unit end as change_unit,
        date_diff('day', period_from, period_to) as days,
        case when value_from <> 0
             then (cast(value_to as double) - cast(value_from as double))
                  / abs(cast(value_from as double)) * 100
        end as change_pct,
        case when unit in ('CNY', 'USD', 'HKD', 'EUR', 'count')
                  and value_from > 0 and value_to > 0
                  and date_diff('day', period_from, period_to) > 0
             then (pow(cast(value_to as double) / cast(value_from as double),
                       365.25 / date_diff('day', period_from, period_to)) - 1) * 100
        end as change_pct_annualised,
        qualifier_from = 'exact' and qualifier_to = 'exact' as is_exact,
        has_conflict_from or has_conflict_to as has_conflict
    from paired
    where period_from is not null
)
select * from final;
