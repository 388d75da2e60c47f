-- The row trigger function of one captured table whose key has no settings-independent text form
-- (a date, a time, a float…) or more than four columns: the typed keys go to its own delta table (delta_table.sql), and a
-- row without a key to the shared log, which looks and runs read to find the tables that changed.
-- {{new_keys}} and {{old_keys}} are the key columns prefixed NEW. and OLD.
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
  INSERT INTO ibex.log (tab) VALUES ({{tab}});
  RETURN NULL;
END
$ibex$;
