-- pg_tenancy 0.4 -> 0.5, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.5'" to load this file. \quit

-- tenancy.protect() takes backfill and backfill_from, and is SECURITY
-- INVOKER now (tenancy._protect_table() does the privileged work): the
-- six-argument version goes, or calls with defaults would be ambiguous.
DROP FUNCTION IF EXISTS tenancy.protect(regclass, tenancy.role, tenancy.role, tenancy.role, boolean, boolean);
