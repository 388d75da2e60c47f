-- Statement-level capture of the table in the placeholder (PostgreSQL 10+: transition tables):
-- INSERT and DELETE by one statement trigger each (a trigger with transition tables may have one
-- event only), UPDATE by a row trigger. Statement-level UPDATE capture was measured and left out:
-- it halves a bulk UPDATE's cost but raises a single-row UPDATE's, pgbench's shape, by about
-- half (README, Benchmark). Not for partitioned tables, partitions and inheritance children: a
-- statement on the parent fires no statement trigger of a child.
-- EXECUTE PROCEDURE: 10 knows no EXECUTE FUNCTION.
CREATE TRIGGER ibex_insert AFTER INSERT ON {{table}} REFERENCING NEW TABLE AS ibex_new
  FOR EACH STATEMENT EXECUTE PROCEDURE ibex.{{function}}();
CREATE TRIGGER ibex_delete AFTER DELETE ON {{table}} REFERENCING OLD TABLE AS ibex_old
  FOR EACH STATEMENT EXECUTE PROCEDURE ibex.{{function}}();
CREATE TRIGGER ibex_update AFTER UPDATE ON {{table}}
  FOR EACH ROW EXECUTE PROCEDURE ibex.{{function}}();
