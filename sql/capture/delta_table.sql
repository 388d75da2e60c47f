-- The delta table of one captured table whose key cannot go to the shared log as text (see
-- schema.sql), made when it is missing. ibex fills in the placeholders in double braces with
-- quoted identifiers: the delta table in schema ibex and the index on txid; the key columns (with
-- types; as names). Only keys are logged, never row data: the apply copies each changed row's
-- current state. ibex_ts and ibex_origin are ibex.log's ts and origin (schema.sql), named so
-- that they do not meet a key column.

CREATE TABLE ibex.{{delta}} (
  {{key_defs}},
  txid bigint NOT NULL DEFAULT txid_current(),
  ibex_ts timestamptz DEFAULT clock_timestamp(),
  ibex_origin text
);
CREATE INDEX {{delta_index}} ON ibex.{{delta}} (txid);
-- the key columns only: txid, ibex_ts and ibex_origin always come from the writer's own transaction
GRANT INSERT ({{keys}}) ON ibex.{{delta}} TO PUBLIC;
