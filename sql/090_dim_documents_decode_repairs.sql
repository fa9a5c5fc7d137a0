-- What decoding had to repair in a document's bytes (flows/ingest.py:decode_document), shown by
-- rpt_data_quality as `truncated_file` and `replaced_bytes` rows:
--   truncated_bytes        bytes of an incomplete last character dropped: the file was cut short
--                          inside a multi-byte character (a download or copy that stopped); 0 if none
--   replaced_byte_offsets  file offsets of invalid bytes (at most 1 per 1,000 bytes of the file)
--                          read as U+FFFD; mentions touching one were not loaded; empty if none
-- Documents loaded before these columns were read with the strict decoder only: 0 and [] are true.
-- (No IF NOT EXISTS: with it, DuckDB 2.0.1 replays the list column's default from the WAL after
-- a crash through an extension it tries to download, and fails offline. Tested: tests/test_crash.py.)
alter table dim_documents add column truncated_bytes integer default 0;
alter table dim_documents add column replaced_byte_offsets bigint[] default [];
