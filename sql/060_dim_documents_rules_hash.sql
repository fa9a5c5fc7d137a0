-- rules_hash: the rule files and extractor version a document was extracted with
-- (flows.lexicon.rules_fingerprint). A run re-extracts documents whose hash differs from the
-- current one: after an edit to flows/rules/, or for every document of a warehouse older than
-- this column (null).
alter table dim_documents add column if not exists rules_hash varchar;
