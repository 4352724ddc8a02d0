-- pg_tenancy 0.5 -> 0.6, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.6'" to load this file. \quit

-- tenancy._known_tenants() takes the tenants the caller may fill, judged
-- before the backfill statement runs as the table's owner.
DROP FUNCTION IF EXISTS tenancy._known_tenants(regclass, text[]);
