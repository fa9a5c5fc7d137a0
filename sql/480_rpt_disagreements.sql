-- rpt_disagreements: one row per statement (doc_id, mention_no) of a series whose sources disagree
-- beyond rounding: the analyst's review queue, every bank x metric x kind x period x unit where no
-- single true figure could have been written as each of its statements.
--
-- Beyond rounding, exactly:
--   rounding    half a unit in the last digit the article wrote: "7.55亿" -> 0.005亿 (500,000),
--               "7亿" -> 0.5亿, "2000万" -> 0.5万, "1.35%" -> 0.005. Read from the surface's Arabic
--               figure (full-width digits and thousands commas allowed) and the value it stands for;
--               a figure written without Arabic digits ("七亿", "6亿6千万") takes its value's last
--               non-zero digit (七亿 -> 0.5亿).
--   interval    the statement's qualifier interval (int_mention_bounds: exact [v, v], approx v ± 5%,
--               over [v, inf), under/up to (-inf, v]) widened by its rounding on both sides.
--   disagree    the widened intervals of the series' statements have no point in common
--               (greatest lower end > least upper end). So "7.2亿" and "6.6亿" disagree, "7亿" and
--               "6.6亿" do not (6.6亿 rounds to 7亿), "7.55亿" and "7.5亿" do not (7.549亿 writes as
--               both), "超7.5亿" and "7.55亿" never conflicted. Every such series also has
--               rpt_metric_series.has_conflict; the converse does not hold.
-- Series columns repeat on each statement: agreed_value/agreed_qualifier (rpt_metric_series), min/max
-- of the stated values, spread_pct = (max - min) / |agreed| * 100, counts, last_published_at.
-- queue_rank orders the series newest first: period_end desc, then the newest publication, then
-- the series key (one rank per series, dense).
-- deviation_pct: the statement against the agreed value, (value - agreed) / |agreed| * 100.
create or replace view rpt_disagreements as
with mentions as (
    select * from rpt_mentions
    where entity is not null and metric_key is not null and period_end is not null
),
bounds as (
    select doc_id, mention_no, lower_bound, upper_bound from int_mention_bounds
),
conflicting as (
    -- widening only adds agreement, so only series that conflict already can disagree beyond
    -- rounding: the rounding is worked out for their statements alone
    select entity, metric_key, kind, unit, period_start, period_end,
           value as agreed_value, qualifier as agreed_qualifier, n_sources
    from rpt_metric_series
    where has_conflict
),
written as (
    select
        m.*,
        c.agreed_value,
        c.agreed_qualifier,
        c.n_sources,
        b.lower_bound,
        b.upper_bound,
        regexp_extract(
            replace(replace(translate(m.surface, '０１２３４５６７８９．', '0123456789.'), ',', ''), '，', ''),
            '[0-9]+(\.[0-9]+)?', 0) as figure
    from mentions m
    join conflicting c
        on  c.entity = m.entity
        and c.metric_key = m.metric_key
        and c.kind = m.kind
        and c.unit = m.unit
        and c.period_start is not distinct from m.period_start
        and c.period_end = m.period_end
    join bounds b using (doc_id, mention_no)
),
digits as (
    select
        *,
        length(regexp_extract(figure, '\.([0-9]+)', 1)) as figure_decimals,
        case when try_cast(figure as double) > 0 and value <> 0
             then log10(abs(cast(value as double)) / cast(figure as double)) end as figure_scale,
        rtrim(rtrim(cast(abs(value) as varchar), '0'), '.') as value_digits
    from written
),
steps as (
    select
        *,
        case
            when figure_scale is not null and abs(figure_scale - round(figure_scale)) < 1e-9
                then cast(round(figure_scale) as integer) - figure_decimals
            when value = 0 then null
            when contains(value_digits, '.')
                then -(length(value_digits) - strpos(value_digits, '.'))
            else length(value_digits) - length(rtrim(value_digits, '0'))
        end as last_digit_exponent
    from digits
),
widened as (
    select
        *,
        cast(coalesce(0.5 * pow(10, last_digit_exponent), 0) as decimal(38, 10)) as rounding,
        lower_bound - cast(coalesce(0.5 * pow(10, last_digit_exponent), 0) as decimal(38, 10))
            as rounded_lower,
        upper_bound + cast(coalesce(0.5 * pow(10, last_digit_exponent), 0) as decimal(38, 10))
            as rounded_upper
    from steps
),
disagreeing as (
    select
        entity, metric_key, kind, unit, period_start, period_end,
        any_value(agreed_value) as agreed_value,
        any_value(agreed_qualifier) as agreed_qualifier,
        any_value(n_sources) as n_sources,
        count(*) as n_statements,
        count(distinct doc_id) as n_documents,
        min(value) as min_value,
        max(value) as max_value,
        max(published_at) as last_published_at
    from widened
    group by entity, metric_key, kind, unit, period_start, period_end
    having max(rounded_lower) > min(rounded_upper)
),
ranked as (
    select
        *,
        dense_rank() over (
            order by period_end desc, last_published_at desc nulls last, entity, metric_key,
                     kind, unit, period_start nulls first
        ) as queue_rank
    from disagreeing
),
final as (
    select
        r.queue_rank,
        w.entity,
        w.entity_name_zh,
        w.metric_key,
        w.metric_name_zh,
        w.metric_name_en,
        w.kind,
        w.unit,
        w.period_start,
        w.period_end,
        r.agreed_value,
        r.agreed_qualifier,
        r.min_value,
        r.max_value,
        case when r.agreed_value <> 0
             then cast(r.max_value - r.min_value as double) / abs(cast(r.agreed_value as double)) * 100
        end as spread_pct,
        r.n_statements,
        r.n_documents,
        r.n_sources,
        r.last_published_at,
        w.doc_id,
        w.mention_no,
        w.value,
        w.qualifier,
        w.surface,
        w.rounding,
        w.rounded_lower,
        w.rounded_upper,
        case when r.agreed_value <> 0
             then cast(w.value - r.agreed_value as double) / abs(cast(r.agreed_value as double)) * 100
        end as deviation_pct,
        w.source,
        w.published_at,
        w.source_file,
        w.title,
        w.url,
        w.sentence,
        w.char_start,
        w.char_end
    from widened w
    join ranked r
        on  r.entity = w.entity
        and r.metric_key = w.metric_key
        and r.kind = w.kind
        and r.unit = w.unit
        and r.period_start is not distinct from w.period_start
        and r.period_end = w.period_end
)
select * from final;
