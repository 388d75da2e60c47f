-- Drops a table's own delta table (delta_table.sql), when the table is no longer captured or its
-- key changed.
DROP TABLE IF EXISTS ibex.{{delta}};
