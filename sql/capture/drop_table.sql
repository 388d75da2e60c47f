-- Removes the capture function of one table whose table is gone or no longer read by any sync (its
-- triggers are dropped first, by ibex, while the table exists; its own delta table, if it has one,
-- after this).
DROP FUNCTION IF EXISTS ibex.{{function}}();
