-- Removes the capture function of one table whose table is gone or no longer read by any sync (its
-- triggers, of either shape, are dropped first by drop_triggers.sql while the table exists; its own
-- delta table, if it has one, after this).
DROP FUNCTION IF EXISTS ibex.{{function}}();
