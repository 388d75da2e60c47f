-- bin/ibex-bench --phases=capture, shape txn_row (not adopted; README, "one log row per
-- transaction"): the capture of sql/capture with one log row per transaction instead of one per
-- changed key. A row trigger appends the key to a transaction-local buffer (the custom setting
-- ibex.buf, array-literal elements ",tab,key,tab,key…"); a deferred constraint trigger, queued by
-- the transaction's first changed row only, writes the buffer as one row at commit. PostgreSQL
-- 9.6+ as written (current_setting's missing_ok); 9.0–9.5 would need the settings defined for the
-- database (ALTER DATABASE … SET ibex.buf = '') and 8.4–9.1 custom_variable_classes = 'ibex' in
-- postgresql.conf; 8.4 has no trigger WHEN.
CREATE SCHEMA ibex;
CREATE TABLE ibex.tlog (
  txid   bigint    NOT NULL DEFAULT txid_current(),
  tabs   integer[] NOT NULL,
  keys   text[]    NOT NULL,
  ts     timestamptz DEFAULT clock_timestamp(),
  origin text
);
CREATE INDEX tlog_txid ON ibex.tlog (txid);

-- Writes the buffered keys as one row, empties the buffer and clears the flag ibex.q, so that a
-- change after it (a deferred trigger's at commit, or one after SET CONSTRAINTS ALL IMMEDIATE)
-- queues a flush again.
CREATE FUNCTION ibex.flush() RETURNS trigger LANGUAGE plpgsql AS $ibex$
DECLARE
  b text := current_setting('ibex.buf', true);
  a text[];
  t integer[] := '{}';
  k text[] := '{}';
  q text;
BEGIN
  q := set_config('ibex.q', '', true);
  IF b <> '' THEN
    q := set_config('ibex.buf', '', true);
    a := ('{' || substr(b, 2) || '}')::text[];
    FOR i IN 1 .. array_length(a, 1) BY 2 LOOP
      t := t || a[i]::integer;
      k := k || a[i + 1];
    END LOOP;
    INSERT INTO ibex.tlog (tabs, keys) VALUES (t, k);
  END IF;
  RETURN NULL;
END
$ibex$;
