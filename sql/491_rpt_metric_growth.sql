-- rpt_metric_growth: one row per institution x metric x unit x consecutive pair of as-of dates
-- (entity, metric_key, unit, period_to), as 430 defines it (now int_metric_growth), with
-- change_pct_annualised compounded for every stock unit dim_units names (nature money or count:
-- CNY, USD, HKD, MOP, TWD, EUR, JPY, GBP, count) instead of the list 430 wrote into the view,
-- which left Macau and Taiwan amounts without it. Ratios (percent, pp, times) still get NULL.
alter view rpt_metric_growth rename to int_metric_growth;

create or replace view rpt_metric_growth as
with base as (
    select * from int_metric_growth
),
units as (
    select unit, nature from dim_units
),
final as (
    select
        b.* replace (
            case when u.nature in ('money', 'count')
                      and b.value_from > 0 and b.value_to > 0 and b.days > 0
                 then (pow(cast(b.value_to as double) / cast(b.value_from as double), 365.25 / b.days) - 1) * 100
            end as change_pct_annualised
        )
    from base b
    left join units u using (unit)
)
select * from final;
