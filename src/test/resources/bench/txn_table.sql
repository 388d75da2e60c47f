-- Shape txn_row, per table ({{table}} numbered {{tab}}, its one-column key {{key}}): the row
-- trigger appends the key to ibex.buf (its text as an array literal quotes it); past 16 kB of
-- buffer (a bulk statement) it writes a log row itself, so that the buffer does not grow row by
-- row into an O(n²) copy.
CREATE FUNCTION ibex.buf_{{table}}() RETURNS trigger LANGUAGE plpgsql AS $ibex$
DECLARE
  e text;
  b text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    e := ARRAY['{{tab}}', NEW.{{key}}::text]::text;
  ELSIF TG_OP = 'DELETE' THEN
    e := ARRAY['{{tab}}', OLD.{{key}}::text]::text;
  ELSIF (NEW.{{key}}) IS DISTINCT FROM (OLD.{{key}}) THEN
    e := ARRAY['{{tab}}', OLD.{{key}}::text, '{{tab}}', NEW.{{key}}::text]::text;
  ELSE
    e := ARRAY['{{tab}}', OLD.{{key}}::text]::text;
  END IF;
  b := coalesce(current_setting('ibex.buf', true), '') || ',' || substr(e, 2, length(e) - 2);
  IF length(b) > 16384 THEN
    b := substr(b, 2);
    INSERT INTO ibex.tlog (tabs, keys)
      SELECT array_agg(x::integer ORDER BY o) FILTER (WHERE o % 2 = 1), array_agg(x ORDER BY o) FILTER (WHERE o % 2 = 0)
      FROM unnest(('{' || b || '}')::text[]) WITH ORDINALITY AS u(x, o);
    b := '';
  END IF;
  b := set_config('ibex.buf', b, true);
  RETURN NULL;
END
$ibex$;
CREATE TRIGGER ibex_buf AFTER INSERT OR UPDATE OR DELETE ON {{table}}
  FOR EACH ROW EXECUTE PROCEDURE ibex.buf_{{table}}();
-- The WHEN of an AFTER trigger runs as the row is queued, before any AFTER trigger of the
-- statement fires: it sets the flag itself, so that only the transaction's first changed row,
-- whatever its table, queues a flush (a rolled-back savepoint drops both the flag and its event).
CREATE CONSTRAINT TRIGGER ibex_flush AFTER INSERT OR UPDATE OR DELETE ON {{table}}
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (CASE WHEN current_setting('ibex.q', true) = '1' THEN false ELSE set_config('ibex.q', '1', true) = '1' END)
  EXECUTE PROCEDURE ibex.flush();
