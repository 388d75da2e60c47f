-- The delta table of one captured table whose key cannot go to the shared log as text (see
-- schema.sql), made when it is missing. ibex fills in the placeholders in double braces with
-- quoted identifiers: the delta table in schema ibex and the index on txid; the key columns (with
-- types; as names). Only keys are logged, never row data: the apply copies each changed row's
-- current state.

CREATE TABLE ibex.{{delta}} (
  {{key_defs}},
  txid bigint NOT NULL DEFAULT txid_current()
);
CREATE INDEX {{delta_index}} ON ibex.{{delta}} (txid);
-- the key columns only: txid always comes from the writer's own transaction
GRANT INSERT ({{keys}}) ON ibex.{{delta}} TO PUBLIC;
