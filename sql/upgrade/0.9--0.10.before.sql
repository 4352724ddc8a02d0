-- pg_tenancy 0.9 -> 0.10, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.10'" to load this file. \quit

-- 0.10 adds functions only (tenant export, import and clone).
-- _refuse_owner_code() takes the operation it refuses (export, clone) as a
-- second argument from 0.10 on.
DROP FUNCTION IF EXISTS tenancy._refuse_owner_code(regclass);
