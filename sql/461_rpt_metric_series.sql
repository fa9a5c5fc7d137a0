-- rpt_metric_series: one row per institution x metric x kind x period x unit.
-- It is int_metric_series (the view's logic as first defined) with the display names beside the codes: the bank's short Chinese name (entity_name_zh, 工商银行) and the
-- metric's Chinese and English names (metric_name_zh, metric_name_en) from dim_institutions and
-- dim_metrics. Same rows; a code missing from a catalogue keeps its row with a NULL name. A later
-- change of the logic redefines int_metric_series.
alter view rpt_metric_series rename to int_metric_series;

create or replace view rpt_metric_series as
with base as (
    select * from int_metric_series
),
institutions as (
    select entity, short_name_zh as entity_name_zh from dim_institutions
),
metrics as (
    select metric_key, name_zh as metric_name_zh, name_en as metric_name_en from dim_metrics
),
final as (
    select
        b.entity, i.entity_name_zh,
        b.metric_key, m.metric_name_zh, m.metric_name_en,
        b.* exclude (entity, metric_key)
    from base b
    left join institutions i using (entity)
    left join metrics m using (metric_key)
)
select * from final;
