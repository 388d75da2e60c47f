-- The row trigger function of one captured table: logs the keys into its delta table (see
-- table.sql); {{new_keys}} and {{old_keys}} are the key columns prefixed NEW. and OLD.
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
