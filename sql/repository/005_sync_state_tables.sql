-- ibex repository, version 5: the tables each S_prev covers.
-- A table added to a sync is copied whole to its targets once. When no sync of the source read it
-- before, its capture is new and logs a truncate that every reader copies from; when another sync
-- already captures it, nothing is logged, and the sync would read only its changes from its S_prev
-- on. So each (sync, source, target) keeps the tables its S_prev covers ("schema.table", as the
-- run recorded it): a table of the plan not among them is copied whole to that target, once.
-- NULL (a pair seeded before its first run, or recorded before this version): every table of the
-- plan is covered.
ALTER TABLE ibex.sync_state ADD COLUMN tables text[];
