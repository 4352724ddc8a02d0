-- pg_tenancy 0.3 -> 0.4, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.4'" to load this file. \quit
