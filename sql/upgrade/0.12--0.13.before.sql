-- pg_tenancy 0.12 -> 0.13, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.13'" to load this file. \quit
