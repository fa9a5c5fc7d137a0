-- rpt_data_quality: one row per issue found (check_name x the item it concerns): the checks of
-- 450 (now int_data_quality: conflict, unresolved_period, unattributed_metric, unknown_unit,
-- unknown_qualifier, quarantined_file) and what decoding repaired in a loaded document:
--   truncated_file   the file ended inside a multi-byte character (a download or copy cut short):
--                    the incomplete character was dropped; detail gives the byte count
--   replaced_bytes   invalid bytes inside otherwise valid text were read as U+FFFD; detail gives
--                    how many and their file offsets (the first 20; all of them are in
--                    dim_documents.replaced_byte_offsets); mentions touching one were not loaded
-- Both are warnings (the document loaded) with doc_id and path (its primary path) set, one row per
-- document and check. A later change of the checks of 450 redefines int_data_quality.
alter view rpt_data_quality rename to int_data_quality;

create or replace view rpt_data_quality as
with base as (
    select * from int_data_quality
),
documents as (
    select doc_id, primary_path, encoding, truncated_bytes, replaced_byte_offsets
    from dim_documents
),
repairs as (
    select
        c.check_name, 'warning' as severity,
        cast(null as varchar) as entity, cast(null as varchar) as metric_key,
        cast(null as varchar) as kind, cast(null as varchar) as unit,
        cast(null as date) as period_start, cast(null as date) as period_end,
        d.doc_id, cast(null as integer) as mention_no,
        d.primary_path as path,
        case c.check_name
            when 'truncated_file' then
                'the file ends inside a character (cut short?): its last ' || d.truncated_bytes
                || ' byte' || case when d.truncated_bytes = 1 then '' else 's' end
                || ' (an incomplete ' || d.encoding || ' character) were dropped'
            else
                len(d.replaced_byte_offsets) || ' invalid byte'
                || case when len(d.replaced_byte_offsets) = 1 then '' else 's' end
                || ' read as U+FFFD at byte offset'
                || case when len(d.replaced_byte_offsets) = 1 then ' ' else 's ' end
                || array_to_string(d.replaced_byte_offsets[1:20], ', ')
                || case when len(d.replaced_byte_offsets) > 20 then ', ...' else '' end
                || '; mentions touching them were not loaded'
        end as detail
    from documents d
    join (values ('truncated_file'), ('replaced_bytes')) as c(check_name)
        on case c.check_name
            when 'truncated_file' then coalesce(d.truncated_bytes, 0) > 0
            when 'replaced_bytes' then coalesce(len(d.replaced_byte_offsets), 0) > 0
        end
),
final as (
    select * from base
    union all by name
    select * from repairs
)
select * from final;
