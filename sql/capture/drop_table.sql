-- Removes the capture of one table whose table is gone or no longer read by any sync (its triggers
-- are dropped first, by ibex, while the table exists).
DROP FUNCTION IF EXISTS ibex.{{function}}();
DROP TABLE IF EXISTS ibex.{{delta}};
