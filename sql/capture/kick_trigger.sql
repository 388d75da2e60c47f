-- Present only while a sync reading the table has autokick: one NOTIFY per statement.
CREATE TRIGGER ibex_kick AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {{table}}
  FOR EACH STATEMENT EXECUTE PROCEDURE ibex.kick();
