-- Trigger suppression for ibex on services without superuser (AWS RDS, Cloud SQL, ...).
--
-- ibex applies changes with session_replication_role = replica so that the target's triggers,
-- rules and foreign-key checks do not fire. Setting that needs superuser (or, on PostgreSQL 15+,
-- GRANT SET ON PARAMETER session_replication_role TO <user>, which makes this file unnecessary).
-- This function lets ONE role set it, and nothing else.
--
-- Run it in the target database as a user who may set session_replication_role (on RDS: the
-- master user, a member of rds_superuser), naming the role ibex connects as:
--
--   psql -d shop -v grantee=ibex_user -f sql/shims/rds_session_replication_role.sql
--
-- It lands in schema public, which must be in ibex's search_path (it is by default).

CREATE OR REPLACE FUNCTION public.rds_session_replication_role(role text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $ibex$
BEGIN
  IF role IS NULL OR role NOT IN ('origin', 'replica', 'local') THEN
    RAISE EXCEPTION 'session_replication_role must be origin, replica or local, not %', coalesce(role, 'NULL');
  END IF;
  PERFORM pg_catalog.set_config('session_replication_role', role, false);
  RETURN role;
END
$ibex$;

REVOKE EXECUTE ON FUNCTION public.rds_session_replication_role(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.rds_session_replication_role(text) TO :"grantee";
