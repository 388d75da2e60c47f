-- Removes ibex's triggers from the table in the placeholder: those of either capture shape (the row
-- trigger of capture_trigger.sql, the statement-level ones of statement_triggers.sql) and the
-- truncate trigger. ibex runs this before it makes a table's triggers anew and when the table is
-- no longer captured.
DROP TRIGGER IF EXISTS ibex_capture ON {{table}};
DROP TRIGGER IF EXISTS ibex_rows ON {{table}};
DROP TRIGGER IF EXISTS ibex_delete ON {{table}};
DROP TRIGGER IF EXISTS ibex_truncate ON {{table}};
