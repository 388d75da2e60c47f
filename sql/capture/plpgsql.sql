-- PostgreSQL before 9.0 does not install PL/pgSQL in new databases. From 8.4 on, pg_pltemplate
-- lets a database owner create it (a superuser can always); ibex runs this when it is missing.
CREATE LANGUAGE plpgsql;
