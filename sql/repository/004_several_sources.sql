-- ibex repository, version 4: several sources in one sync (README, "Several sources").
-- A run counts the conflicts it resolved (the same key changed on two sources between two runs).
-- makedelta (Bucardo's word): the rows ibex applies to a db are captured there too, so that a sync
-- reading from that db carries them on (A -> B -> C); per db, and per relation (NULL: its db's).

ALTER TABLE ibex.run ADD COLUMN conflicts bigint NOT NULL DEFAULT 0;
ALTER TABLE ibex.db ADD COLUMN makedelta boolean NOT NULL DEFAULT false;
ALTER TABLE ibex.relation ADD COLUMN makedelta boolean;
