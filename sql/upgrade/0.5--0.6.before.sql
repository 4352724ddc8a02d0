-- pg_tenancy 0.5 -> 0.6, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.6'" to load this file. \quit

-- Nothing to take away: 0.6 changes function bodies only
-- (tenancy.resolve_domain() accepts a Host header with a port).
