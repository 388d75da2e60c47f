-- Logs a TRUNCATE of the table.
CREATE TRIGGER ibex_truncate AFTER TRUNCATE ON {{table}}
  FOR EACH STATEMENT EXECUTE PROCEDURE ibex.log_truncate();
