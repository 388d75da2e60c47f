-- ibex repository, version 3: several controllers on one repository (README, "Several controllers").
-- One row per live controller; each holds pg_advisory_lock(0x69626363 /* 'ibcc' */, id) on the
-- session connection whose backend pid is recorded here, and beats its heartbeat every ~2 s.
-- ibex.sync_claim says which controller runs a sync; epoch grows with every claim, and a run may
-- record its batch (sync_state, the run's end) only while its (sync, controller, epoch) still holds.

DROP TABLE ibex.controller;
CREATE TABLE ibex.controller (
  id        serial PRIMARY KEY,
  pid       bigint NOT NULL,
  host      text NOT NULL,
  backend   integer,                              -- pg_backend_pid() of its session connection
  started   timestamptz NOT NULL DEFAULT now(),
  heartbeat timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE ibex.sync_claim_epoch;

CREATE TABLE ibex.sync_claim (
  sync       text PRIMARY KEY REFERENCES ibex.sync (name) ON UPDATE CASCADE ON DELETE CASCADE,
  controller integer NOT NULL,
  epoch      bigint NOT NULL DEFAULT nextval('ibex.sync_claim_epoch'),
  previous   integer,                             -- the controller it was taken from, if any
  claimed    timestamptz NOT NULL DEFAULT now()
);
