-- The statement-level form (statement_function.sql) of delta_function.sql: the typed keys go to
-- the table's own delta table, those of a DELETE with one INSERT … SELECT from its transition
-- table, and a row without a key to the shared log, once per statement that changed rows.
-- {{new_keys}} and {{old_keys}} are the key columns prefixed NEW. and OLD., {{old_rows_keys}}
-- those of the transition table ibex_old.
CREATE OR REPLACE FUNCTION ibex.{{function}}() RETURNS trigger LANGUAGE plpgsql AS $ibex$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ibex.{{delta}} ({{keys}}) VALUES ({{new_keys}});
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO ibex.{{delta}} ({{keys}}) VALUES ({{old_keys}});
    IF ({{new_keys}}) IS DISTINCT FROM ({{old_keys}}) THEN
      INSERT INTO ibex.{{delta}} ({{keys}}) VALUES ({{new_keys}});
    END IF;
  ELSE
    INSERT INTO ibex.{{delta}} ({{keys}}) SELECT {{old_rows_keys}} FROM ibex_old o;
  END IF;
  IF FOUND THEN
    INSERT INTO ibex.log (tab) VALUES ({{tab}});
  END IF;
  RETURN NULL;
END
$ibex$;
