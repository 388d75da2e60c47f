-- log_columns.sql for one own delta table.
ALTER TABLE ibex.{{delta}} ADD COLUMN ibex_ts timestamptz, ADD COLUMN ibex_origin text;
ALTER TABLE ibex.{{delta}} ALTER COLUMN ibex_ts SET DEFAULT clock_timestamp();
