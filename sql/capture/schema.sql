-- ibex capture: the objects every captured source database holds once, in schema ibex.
-- ibex runs this (and the per-table files) in one transaction when a sync starts reading this
-- database, after CREATE SCHEMA ibex when that schema is missing, and only while ibex.captured is
-- missing: the repository may live in the same database and schema, and nothing here drops or
-- replaces what is already there. Plain SQL from PostgreSQL 8.4 on (no IF NOT EXISTS before 9.1).
-- Applications write through the triggers as their own users (no SECURITY DEFINER: it would cost a
-- GUC switch per row), so PUBLIC may use the schema and insert keys; a stray inserted key is
-- harmless because ibex re-copies the row's current state.

GRANT USAGE ON SCHEMA ibex TO PUBLIC;

-- Which tables are captured, and how. tab numbers the table in ibex.log. keycols and keytypes are
-- the key as captured (types as the key's base types). delta names the table's own delta table
-- when its key cannot go to the shared log as text (see delta_table.sql); NULL otherwise.
CREATE TABLE ibex.captured (
  schemaname text    NOT NULL,
  tablename  text    NOT NULL,
  tab        serial  NOT NULL UNIQUE,
  keycols    text[]  NOT NULL,
  keytypes   text[]  NOT NULL,
  delta      text,
  function   text    NOT NULL,
  PRIMARY KEY (schemaname, tablename)
);

-- The change log of every captured table of this database, one row per changed key: a look, or a
-- run with nothing to do, reads one index whatever the number of tables (PgQ keeps one event table
-- per queue for the same reason). The key is stored as text in k1 … k4, one column per key column
-- (plain text columns: an array would cost every captured row more), for keys of up to four
-- columns whose types' text reads back as the same value whatever the writer's settings
-- (DateStyle, TimeZone, extra_float_digits and the like change the text of dates, times and
-- floats). A table with another key logs its keys in its own delta table and a row with the k
-- columns NULL here, so that looks and runs still find it from this table alone.
-- ts is when the row changed, for a sync with several sources whose conflict strategy is
-- "latest" (clock_timestamp(): the change itself, not its transaction's start). origin is NULL
-- for a change an application made; a row ibex wrote itself (makedelta: it applied the change
-- here for the sync named in origin) is not read back by that sync.
CREATE TABLE ibex.log (
  txid   bigint  NOT NULL DEFAULT txid_current(),
  tab    integer NOT NULL,
  k1     text,
  k2     text,
  k3     text,
  k4     text,
  ts     timestamptz DEFAULT clock_timestamp(),
  origin text
);
CREATE INDEX log_txid ON ibex.log (txid);
-- txid, ts and origin always come from the writer's own transaction
GRANT INSERT (tab, k1, k2, k3, k4) ON ibex.log TO PUBLIC;

-- TRUNCATE fires no row triggers: it is logged as its own event, and the batch that sees it
-- replaces the target table's contents.
CREATE TABLE ibex.truncate_log (
  schemaname text   NOT NULL,
  tablename  text   NOT NULL,
  txid       bigint NOT NULL DEFAULT txid_current(),
  origin     text
);
CREATE INDEX truncate_log_txid ON ibex.truncate_log (txid);
-- written only through log_truncate(), which runs as its owner: nobody can force whole-table copies
REVOKE ALL ON ibex.truncate_log FROM PUBLIC;

CREATE OR REPLACE FUNCTION ibex.log_truncate() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ibex$
BEGIN
  INSERT INTO ibex.truncate_log (schemaname, tablename) VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME);
  RETURN NULL;
END
$ibex$;

-- Autokick needs nothing here: the controller polls ibex.log by txid (no NOTIFY, whose commit-time
-- lock would serialize every writing transaction of this database).
