-- dim_metrics: one row per metric key of the taxonomy (flows/rules/metric_taxonomy.csv), with the
-- names analysts read. dim_institutions: one row per bank of the registry (flows/rules/institutions.csv).
-- Both are rewritten from the rule files whenever the warehouse is opened for writing
-- (flows/load.py:sync_catalogues), so an analyst's edit to a display name reaches every view.
create table dim_metrics (
    metric_key varchar primary key,
    unit varchar not null,
    nature varchar not null,      -- stock | flow | ratio
    name_zh varchar not null,     -- 个人客户金融资产
    name_en varchar not null      -- Retail AUM
);

create table dim_institutions (
    entity varchar primary key,   -- the code fct_mentions.entity holds (ICBC)
    name_zh varchar not null,     -- 中国工商银行
    short_name_zh varchar not null, -- 工商银行: what tables and charts show
    kind varchar not null         -- large_state | joint_stock | city | rural | policy | private
);
