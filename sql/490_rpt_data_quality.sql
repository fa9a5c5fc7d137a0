-- rpt_data_quality: one row per issue found (check_name x the item it concerns), as 470 defines it
-- (now int_data_quality_checks), with `unknown_unit` read from dim_units: a unit is unknown when
-- no row of dim_units (flows/rules/units.toml [codes]) names it. 450 listed the units in the view
-- and so flagged every Macau (MOP), Taiwan (TWD), yen and sterling amount. A later change of the
-- checks redefines int_data_quality (450) or int_data_quality_checks (470).
alter view rpt_data_quality rename to int_data_quality_checks;

create or replace view rpt_data_quality as
with base as (
    select * from int_data_quality_checks
),
units as (
    select unit from dim_units
),
final as (
    select b.*
    from base b
    where not (b.check_name = 'unknown_unit' and b.unit in (select unit from units))
)
select * from final;
