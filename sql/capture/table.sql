-- ibex capture of one table. ibex fills in the placeholders in double braces with quoted
-- identifiers: the captured table; its delta table in schema ibex and the index on txid; its row
-- trigger function in schema ibex; the key columns (with types; as names; prefixed NEW./OLD.).
-- Only keys are logged, never row data: the apply copies each changed row's current state.

CREATE TABLE IF NOT EXISTS ibex.{{delta}} (
  {{key_defs}},
  txid bigint NOT NULL DEFAULT txid_current()
);
CREATE INDEX IF NOT EXISTS {{delta_index}} ON ibex.{{delta}} (txid);
-- the key columns only: txid always comes from the writer's own transaction
GRANT INSERT ({{keys}}) ON ibex.{{delta}} TO PUBLIC;

-- Branches on TG_OP: on 9.6 and 10, NEW is unassigned in a DELETE trigger and touching it fails.
CREATE OR REPLACE FUNCTION ibex.{{function}}() RETURNS trigger LANGUAGE plpgsql AS $ibex$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ibex.{{delta}} ({{keys}}) VALUES ({{new_keys}});
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO ibex.{{delta}} ({{keys}}) VALUES ({{old_keys}});
  ELSE
    INSERT INTO ibex.{{delta}} ({{keys}}) VALUES ({{old_keys}});
    IF ({{new_keys}}) IS DISTINCT FROM ({{old_keys}}) THEN
      INSERT INTO ibex.{{delta}} ({{keys}}) VALUES ({{new_keys}});
    END IF;
  END IF;
  RETURN NULL;
END
$ibex$;
