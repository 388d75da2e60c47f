-- The row trigger function of one captured table whose key goes to the shared log (schema.sql):
-- {{tab}} is the table's number there; {{log_keys}} names its key columns there (k1, k2…);
-- {{new_key}} and {{old_key}} are the key columns of NEW and OLD as text; {{new_keys}} and
-- {{old_keys}} the key columns themselves.
-- Branches on TG_OP: on 9.6 and 10, NEW is unassigned in a DELETE trigger and touching it fails.
CREATE OR REPLACE FUNCTION ibex.{{function}}() RETURNS trigger LANGUAGE plpgsql AS $ibex$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ibex.log (tab, {{log_keys}}) VALUES ({{tab}}, {{new_key}});
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO ibex.log (tab, {{log_keys}}) VALUES ({{tab}}, {{old_key}});
  ELSE
    INSERT INTO ibex.log (tab, {{log_keys}}) VALUES ({{tab}}, {{old_key}});
    IF ({{new_keys}}) IS DISTINCT FROM ({{old_keys}}) THEN
      INSERT INTO ibex.log (tab, {{log_keys}}) VALUES ({{tab}}, {{new_key}});
    END IF;
  END IF;
  RETURN NULL;
END
$ibex$;
