-- fct_mentions: one row per quantity stated in a document (doc_id x mention_no).
-- value is in base units with its sign (yuan, plain counts, percent number, pp number, times);
-- surface, measure_word and scale_word keep what the article wrote beside it.
-- Evidence: substr(body_text, char_start + 1, char_end - char_start) = surface.
create table if not exists fct_mentions (
    doc_id           varchar not null,
    mention_no       integer not null,
    char_start       integer not null,
    char_end         integer not null,
    surface          varchar not null,
    sentence         varchar not null,
    sentence_start   integer not null,
    value            decimal(38, 10) not null,
    unit             varchar not null,
    measure_word     varchar,
    scale_word       varchar,
    qualifier        varchar not null,   -- exact | approx | over | under | up_to
    kind             varchar not null,   -- level | flow | change
    period_start     date,
    period_end       date,
    subject          varchar,
    metric_key       varchar,
    entity           varchar,
    is_implied_unit  boolean not null,
    run_id           varchar not null
);
