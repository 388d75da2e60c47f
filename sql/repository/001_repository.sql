-- ibex repository, version 1.
-- Runs in the control database, in one transaction, as any user allowed to create a schema.
-- Readable and runnable by hand:  psql -d ibex -1 -f sql/001_repository.sql
-- Names follow Bucardo's vocabulary: db, relation (Bucardo: goat), relgroup (herd), dbgroup, sync.

CREATE SCHEMA IF NOT EXISTS ibex;

CREATE TABLE ibex.schema_version (
  version    integer PRIMARY KEY,
  file       text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- One named connection to one PostgreSQL database.
CREATE TABLE ibex.db (
  name     text PRIMARY KEY CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.-]*$'),
  dbname   text,
  host     text,
  port     integer CHECK (port BETWEEN 1 AND 65535),
  username text,
  password text,         -- never printed; NULL means PGPASSWORD / .pgpass at connect time
  conn     text,         -- extra connection parameters, e.g. 'sslmode=require'
  service  text,
  status   text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  cdate    timestamptz NOT NULL DEFAULT now()
);

-- One replicated table or sequence (Bucardo: goat).
CREATE TABLE ibex.relation (
  id                 serial PRIMARY KEY,
  db                 text NOT NULL REFERENCES ibex.db (name) ON UPDATE CASCADE,
  schemaname         text NOT NULL,
  tablename          text NOT NULL,
  reltype            text NOT NULL DEFAULT 'table' CHECK (reltype IN ('table', 'sequence')),
  keycols            text[] NOT NULL DEFAULT '{}',  -- primary key, else narrowest usable unique index; {} = keyless
  keytypes           text[] NOT NULL DEFAULT '{}',  -- format_type() of each key column
  autokick           boolean,                       -- NULL: the sync decides
  rebuild_index      smallint,
  analyze_after_copy boolean NOT NULL DEFAULT true,
  strict_checking    boolean NOT NULL DEFAULT true,
  cdate              timestamptz NOT NULL DEFAULT now(),
  UNIQUE (db, schemaname, tablename)
);

CREATE TABLE ibex.relgroup (
  name  text PRIMARY KEY CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.-]*$'),
  about text,
  cdate timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ibex.relgroup_member (
  relgroup text    NOT NULL REFERENCES ibex.relgroup (name) ON UPDATE CASCADE ON DELETE CASCADE,
  relation integer NOT NULL REFERENCES ibex.relation (id) ON DELETE CASCADE,
  priority integer NOT NULL DEFAULT 0,
  PRIMARY KEY (relgroup, relation)
);

CREATE TABLE ibex.dbgroup (
  name  text PRIMARY KEY CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.-]*$'),
  about text,
  cdate timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ibex.dbgroup_member (
  dbgroup  text NOT NULL REFERENCES ibex.dbgroup (name) ON UPDATE CASCADE ON DELETE CASCADE,
  db       text NOT NULL REFERENCES ibex.db (name) ON UPDATE CASCADE,
  role     text NOT NULL DEFAULT 'target' CHECK (role IN ('source', 'target', 'fullcopy')),
  priority integer NOT NULL DEFAULT 0,
  PRIMARY KEY (dbgroup, db)
);

CREATE TABLE ibex.sync (
  name               text PRIMARY KEY CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]*$'),
  relgroup           text NOT NULL REFERENCES ibex.relgroup (name) ON UPDATE CASCADE,
  dbgroup            text NOT NULL REFERENCES ibex.dbgroup (name) ON UPDATE CASCADE,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  paused             boolean  NOT NULL DEFAULT false,
  autokick           boolean  NOT NULL DEFAULT true,
  checktime          interval,
  onetimecopy        smallint NOT NULL DEFAULT 0 CHECK (onetimecopy IN (0, 1, 2)),
  stayalive          boolean  NOT NULL DEFAULT true,
  kidsalive          boolean  NOT NULL DEFAULT true,
  conflict_strategy  text     NOT NULL DEFAULT 'bucardo_latest',
  lifetime           interval,
  maxkicks           integer  NOT NULL DEFAULT 0 CHECK (maxkicks >= 0),
  isolation_level    text CHECK (isolation_level IN ('serializable', 'repeatable read')),
  rebuild_index      smallint NOT NULL DEFAULT 0 CHECK (rebuild_index IN (0, 1)),
  analyze_after_copy boolean  NOT NULL DEFAULT true,
  strict_checking    boolean  NOT NULL DEFAULT true,
  priority           integer  NOT NULL DEFAULT 0,
  cdate              timestamptz NOT NULL DEFAULT now()
);

-- The batch boundary: the last txid snapshot applied, per (sync, source db, target db).
-- Every committed source change is in exactly one batch (see DESIGN.md).
CREATE TABLE ibex.sync_state (
  sync      text NOT NULL REFERENCES ibex.sync (name) ON UPDATE CASCADE ON DELETE CASCADE,
  source    text NOT NULL,
  target    text NOT NULL,
  snapshot  text NOT NULL,    -- txid_current_snapshot() as text, e.g. '1234:1240:1236'
  suppression text,           -- how trigger suppression works on the target, as last probed
  updated   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sync, source, target)
);

-- One row per kid run; drives `ibex status` and `ibex kick S N`.
CREATE TABLE ibex.run (
  id        bigserial PRIMARY KEY,
  sync      text REFERENCES ibex.sync (name) ON UPDATE CASCADE ON DELETE SET NULL,
  started   timestamptz NOT NULL DEFAULT clock_timestamp(),
  ended     timestamptz,
  state     text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'good', 'empty', 'bad')),
  deletes   bigint NOT NULL DEFAULT 0,
  inserts   bigint NOT NULL DEFAULT 0,
  truncates bigint NOT NULL DEFAULT 0,
  snapshot  text,
  detail    text,   -- progress while running, e.g. 'Sync public.orders 120000/500000 keys'
  error     text
);
CREATE INDEX run_sync_started ON ibex.run (sync, started DESC);

-- The controller that holds the advisory lock writes itself here; status and stop read it.
CREATE TABLE ibex.controller (
  id        boolean PRIMARY KEY DEFAULT true CHECK (id),
  pid       bigint NOT NULL,
  host      text NOT NULL,
  started   timestamptz NOT NULL DEFAULT now(),
  heartbeat timestamptz NOT NULL DEFAULT now()
);

-- Global settings (Bucardo: bucardo_config); `ibex set` / `ibex show`.
CREATE TABLE ibex.config (
  name    text PRIMARY KEY,
  setting text NOT NULL,
  cdate   timestamptz NOT NULL DEFAULT now()
);
