-- rpt_data_quality: one row per issue found (check_name x the item it concerns):
--   conflict             a series (rpt_metric_series) whose qualifiers cannot reconcile its values;
--                        one row per series, detail lists the statements
--   unresolved_period    a mention without a period_end (no as-of date or period end)
--   unattributed_metric  a mention with a metric_key but no entity: it forms no series
--   unknown_unit         a unit outside CNY USD HKD EUR count percent pp times
--   unknown_qualifier    a qualifier outside exact approx over under up_to, or a kind outside
--                        level flow change: its bounds are unknown
--   quarantined_file     a file the loader rejected (etl_quarantine), detail = reason: detail
-- severity: error (the numbers disagree or a file is lost) | warning (a mention is incomplete).
-- Mention-level rows carry doc_id and mention_no; series rows the series key; file rows the path.
create or replace view rpt_data_quality as
with mentions as (
    select * from rpt_mentions
),
series as (
    select * from rpt_metric_series
),
quarantine as (
    select path, reason, detail from etl_quarantine
),
conflicts as (
    select
        'conflict' as check_name, 'error' as severity,
        entity, metric_key, kind, unit, period_start, period_end,
        cast(null as varchar) as doc_id, cast(null as integer) as mention_no,
        cast(null as varchar) as path,
        statements as detail
    from series
    where has_conflict
),
mention_checks as (
    select
        c.check_name, 'warning' as severity,
        m.entity, m.metric_key, m.kind, m.unit, m.period_start, m.period_end,
        m.doc_id, m.mention_no, m.source_file as path,
        m.surface as detail
    from mentions m
    join (
        values ('unresolved_period'), ('unattributed_metric'), ('unknown_unit'), ('unknown_qualifier')
    ) as c(check_name)
        on case c.check_name
            when 'unresolved_period' then m.period_end is null
            when 'unattributed_metric' then m.metric_key is not null and m.entity is null
            when 'unknown_unit' then m.unit is null
                or m.unit not in ('CNY', 'USD', 'HKD', 'EUR', 'count', 'percent', 'pp', 'times')
            when 'unknown_qualifier' then m.qualifier not in ('exact', 'approx', 'over', 'under', 'up_to')
                or m.kind not in ('level', 'flow', 'change')
        end
),
quarantined as (
    select
        'quarantined_file' as check_name, 'error' as severity,
        cast(null as varchar) as entity, cast(null as varchar) as metric_key,
        cast(null as varchar) as kind, cast(null as varchar) as unit,
        cast(null as date) as period_start, cast(null as date) as period_end,
        cast(null as varchar) as doc_id, cast(null as integer) as mention_no,
        path,
        reason || coalesce(': ' || detail, '') as detail
    from quarantine
),
final as (
    select * from conflicts
    union all by name
    select * from mention_checks
    union all by name
    select * from quarantined
)
select * from final;
