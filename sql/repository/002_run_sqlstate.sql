-- ibex repository, version 2: the SQLSTATE of a failed run's first database error, so status and
-- the metrics can tell a failure that needs a person (a grant, a table, a password) from one that
-- passes by itself (pg/SqlState). Null for errors ibex found itself and for runs before version 2.

ALTER TABLE ibex.run ADD COLUMN sqlstate text;
