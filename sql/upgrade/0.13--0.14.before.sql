-- pg_tenancy 0.13 -> 0.14, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.14'" to load this file. \quit

-- migration_places() gains the database of database-mode tenants.
DROP FUNCTION IF EXISTS tenancy.migration_places();
