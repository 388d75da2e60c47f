-- Capture installed by an ibex before ibex.log had ts and origin (schema.sql) gets them in place,
-- once, when a reconcile finds them missing. Rows logged before get the time of this statement.
-- Plain SQL from PostgreSQL 8.4 on (no IF NOT EXISTS); {{delta}} statements follow, one per own
-- delta table (log_delta_columns.sql).
ALTER TABLE ibex.log ADD COLUMN ts timestamptz DEFAULT clock_timestamp(), ADD COLUMN origin text;
ALTER TABLE ibex.truncate_log ADD COLUMN origin text;
