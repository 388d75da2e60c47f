-- Statement-level capture of the table in the placeholder (PostgreSQL 10+: transition tables):
-- DELETE by a statement trigger (a trigger with transition tables may have one event only), INSERT
-- and UPDATE by a row trigger. Statement-level INSERT and UPDATE capture were measured and left
-- out: they cut bulk statements' cost but raised single-row statements' (README, Benchmark);
-- a single-row DELETE costs the same either way. Not for partitioned tables, partitions and
-- inheritance children: a statement on the parent fires no statement trigger of a child.
-- EXECUTE PROCEDURE: 10 knows no EXECUTE FUNCTION.
CREATE TRIGGER ibex_delete AFTER DELETE ON {{table}} REFERENCING OLD TABLE AS ibex_old
  FOR EACH STATEMENT EXECUTE PROCEDURE ibex.{{function}}();
CREATE TRIGGER ibex_rows AFTER INSERT OR UPDATE ON {{table}}
  FOR EACH ROW EXECUTE PROCEDURE ibex.{{function}}();
