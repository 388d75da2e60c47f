-- The trigger function of one captured table whose key goes to the shared log (schema.sql), for
-- statement-level capture (PostgreSQL 10+, statement_triggers.sql): a DELETE logs the keys of all
-- its rows with one INSERT … SELECT from its transition table ibex_old instead of one INSERT per
-- row; INSERT and UPDATE are logged row by row, as capture_function.sql does. {{tab}} is the
-- table's number in the log; {{log_keys}} names its key columns there (k1, k2…); {{new_key}} and
-- {{old_key}} are the key columns of NEW and OLD as text, {{new_keys}} and {{old_keys}} the key
-- columns themselves, {{old_rows_key}} those of the transition table as text.
CREATE OR REPLACE FUNCTION ibex.{{function}}() RETURNS trigger LANGUAGE plpgsql AS $ibex$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ibex.log (tab, {{log_keys}}) VALUES ({{tab}}, {{new_key}});
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO ibex.log (tab, {{log_keys}}) VALUES ({{tab}}, {{old_key}});
    IF ({{new_keys}}) IS DISTINCT FROM ({{old_keys}}) THEN
      INSERT INTO ibex.log (tab, {{log_keys}}) VALUES ({{tab}}, {{new_key}});
    END IF;
  ELSE
    INSERT INTO ibex.log (tab, {{log_keys}}) SELECT {{tab}}, {{old_rows_key}} FROM ibex_old o;
  END IF;
  RETURN NULL;
END
$ibex$;
