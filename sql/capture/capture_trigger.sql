-- The row trigger that logs the keys of the table in the placeholder (EXECUTE PROCEDURE: 9.6 knows no EXECUTE FUNCTION).
CREATE TRIGGER ibex_capture AFTER INSERT OR UPDATE OR DELETE ON {{table}}
  FOR EACH ROW EXECUTE PROCEDURE ibex.{{function}}();
