-- The source captures nothing any more. The schema itself is dropped by ibex only when it is empty
-- (never CASCADE: the repository may live in it).
DROP FUNCTION IF EXISTS ibex.log_truncate();
DROP TABLE IF EXISTS ibex.truncate_log;
DROP TABLE IF EXISTS ibex.log;
DROP TABLE IF EXISTS ibex.captured;
