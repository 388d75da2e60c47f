-- log_columns.sql for one own delta table.
ALTER TABLE ibex.{{delta}} ADD COLUMN ibex_ts timestamptz DEFAULT clock_timestamp(), ADD COLUMN ibex_origin text;
