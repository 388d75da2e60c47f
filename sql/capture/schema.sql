-- ibex capture: the objects every captured source database holds once, in schema ibex.
-- ibex runs this (and the per-table files) in one transaction when a sync starts reading this
-- database, after CREATE SCHEMA ibex when that schema is missing, and only while ibex.captured is
-- missing: the repository may live in the same database and schema, and nothing here drops or
-- replaces what is already there. Plain SQL from PostgreSQL 8.4 on (no IF NOT EXISTS before 9.1).
-- Applications write through the triggers as their own users (no SECURITY DEFINER: it would cost a
-- GUC switch per row), so PUBLIC may use the schema and insert keys; a stray inserted key is
-- harmless because ibex re-copies the row's current state.

GRANT USAGE ON SCHEMA ibex TO PUBLIC;

-- Which tables are captured, and the names of their objects (derived names are cut to 63 bytes).
CREATE TABLE ibex.captured (
  schemaname text NOT NULL,
  tablename  text NOT NULL,
  delta      text NOT NULL,
  function   text NOT NULL,
  PRIMARY KEY (schemaname, tablename)
);

-- TRUNCATE fires no row triggers: it is logged as its own event, and the batch that sees it
-- replaces the target table's contents.
CREATE TABLE ibex.truncate_log (
  schemaname text   NOT NULL,
  tablename  text   NOT NULL,
  txid       bigint NOT NULL DEFAULT txid_current()
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

-- Autokick needs nothing here: the controller polls the delta tables by txid (no NOTIFY, whose
-- commit-time lock would serialize every writing transaction of this database).
