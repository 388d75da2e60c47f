-- Capture installed by an ibex before ibex.log had ts and origin (schema.sql) gets them in place,
-- once, when a reconcile finds them missing. Added without a default and given it after, so no
-- row is rewritten (a volatile default would rewrite the whole log under an exclusive lock);
-- rows logged before have no time (a conflict reads it as the earliest). Plain SQL from 8.4 on
-- (no IF NOT EXISTS); log_delta_columns.sql does the same for each own delta table.
ALTER TABLE ibex.log ADD COLUMN ts timestamptz, ADD COLUMN origin text;
ALTER TABLE ibex.log ALTER COLUMN ts SET DEFAULT clock_timestamp();
ALTER TABLE ibex.truncate_log ADD COLUMN origin text;
