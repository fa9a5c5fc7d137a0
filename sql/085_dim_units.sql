-- dim_units: one row per unit code a mention may carry (flows/rules/units.toml [codes]): its nature
-- (money | count | percent | pp | times) and Chinese name. Rewritten from the rule file whenever
-- the warehouse is opened for writing (flows/load.py:sync_catalogues), like dim_metrics. The views
-- ask it which units are known (rpt_data_quality) and which are stocks (rpt_metric_growth).
create table dim_units (
    unit varchar primary key,     -- the code fct_mentions.unit holds (CNY, TWD, pp)
    nature varchar not null,      -- money | count | percent | pp | times
    name_zh varchar not null      -- 人民币, 新台币, 百分点
);
