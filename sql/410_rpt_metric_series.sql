-- rpt_metric_series: one row per institution x metric x kind x period x unit
-- (entity, metric_key, kind, period_start, period_end, unit): what the sources say about one fact.
-- Only mentions with an entity, a metric_key and a period_end form series (the others are counted
-- in rpt_data_quality). unit is part of the key so "+10%" never meets "+1亿户" in one series.
--
-- The agreed value (value, qualifier, value_rule), first rule that applies:
--   exact_mode     the exact value stated by the most documents (ties: most mentions, newest
--                  published_at, larger value)
--   approx_mode    no exact statement: the same vote among approx statements
--   lower_bound    only bounds: the greatest lower bound ("突破7亿" beats "超6.6亿")
--   upper_bound    only upper bounds: the least upper bound
--   latest         only unknown qualifiers: the newest statement
-- has_conflict: the statements' intervals (int_mention_bounds) have no common point, i.e. the
-- qualifiers cannot reconcile them: "over 6.6亿" + "exactly 7亿" agree, "6.6亿" + "7亿" do not.
-- lower_bound/upper_bound are that common interval (NULL = unbounded); with a conflict lower > upper.
-- Reconciliation (tested): sum(n_mentions) = mentions with entity, metric_key and period_end.
create or replace view rpt_metric_series as
with mentions as (
    select * from int_mention_bounds
    where entity is not null and metric_key is not null and period_end is not null
),
votes as (
    -- one row per series x qualifier x stated value, for exact and approx statements
    select
        entity, metric_key, kind, period_start, period_end, unit, qualifier, value,
        count(distinct doc_id) as n_docs,
        count(*) as n_stated,
        max(published_at) as last_published_at
    from mentions
    where qualifier in ('exact', 'approx')
    group by all
),
voted as (
    select
        *,
        row_number() over (
            partition by entity, metric_key, kind, period_start, period_end, unit
            order by case qualifier when 'exact' then 0 else 1 end,
                     n_docs desc, n_stated desc, last_published_at desc nulls last, value desc
        ) as vote_rank
    from votes
),
winners as (
    select entity, metric_key, kind, period_start, period_end, unit,
           value as voted_value, qualifier as voted_qualifier
    from voted
    where vote_rank = 1
),
series as (
    select
        entity, metric_key, kind, period_start, period_end, unit,
        count(*) as n_mentions,
        count(distinct doc_id) as n_documents,
        count(distinct source) as n_sources,
        count(*) filter (where qualifier = 'exact') as n_exact,
        count(distinct value) filter (where qualifier = 'exact') as n_exact_values,
        min(published_at) as first_published_at,
        max(published_at) as last_published_at,
        max(lower_bound) as lower_bound,
        min(upper_bound) as upper_bound,
        arg_max(value, lower_bound) filter (where qualifier in ('over', 'under', 'up_to')
                                            and lower_bound is not null) as glb_value,
        arg_max(qualifier, lower_bound) filter (where qualifier in ('over', 'under', 'up_to')
                                                and lower_bound is not null) as glb_qualifier,
        arg_min(value, upper_bound) filter (where qualifier in ('over', 'under', 'up_to')
                                            and upper_bound is not null) as lub_value,
        arg_min(qualifier, upper_bound) filter (where qualifier in ('over', 'under', 'up_to')
                                                and upper_bound is not null) as lub_qualifier,
        arg_max(value, published_at) as latest_value,
        arg_max(qualifier, published_at) as latest_qualifier,
        string_agg(distinct qualifier || ' ' || rtrim(rtrim(cast(value as varchar), '0'), '.'), '; '
                   order by qualifier || ' ' || rtrim(rtrim(cast(value as varchar), '0'), '.'))
            as statements,
        list(distinct doc_id order by doc_id) as doc_ids
    from mentions
    group by entity, metric_key, kind, period_start, period_end, unit
),
final as (
    select
        s.entity,
        s.metric_key,
        s.kind,
        s.period_start,
        s.period_end,
        s.unit,
        coalesce(w.voted_value, s.glb_value, s.lub_value, s.latest_value) as value,
        coalesce(w.voted_qualifier, s.glb_qualifier, s.lub_qualifier, s.latest_qualifier) as qualifier,
        case
            when w.voted_qualifier = 'exact' then 'exact_mode'
            when w.voted_qualifier = 'approx' then 'approx_mode'
            when s.glb_value is not null then 'lower_bound'
            when s.lub_value is not null then 'upper_bound'
            else 'latest'
        end as value_rule,
        coalesce(s.lower_bound > s.upper_bound, false) as has_conflict,
        s.lower_bound,
        s.upper_bound,
        s.n_mentions,
        s.n_documents,
        s.n_sources,
        s.n_exact,
        s.n_exact_values,
        s.first_published_at,
        s.last_published_at,
        s.statements,
        s.doc_ids
    from series s
    left join winners w
        on  w.entity = s.entity
        and w.metric_key = s.metric_key
        and w.kind = s.kind
        and w.period_start is not distinct from s.period_start
        and w.period_end = s.period_end
        and w.unit = s.unit
)
select * from final;
