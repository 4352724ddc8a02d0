-- pg_tenancy 0.8 -> 0.9, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.9'" to load this file. \quit

-- Nothing to change before the functions: 0.9 adds the requests about
-- persons (objects/13_pii.sql) and the functions of the PII registry.
