-- pg_tenancy 0.1 -> 0.2. Every change to sql/src/ since 0.1 is repeated here,
-- so that ALTER EXTENSION pg_tenancy UPDATE gives a 0.1 database exactly the
-- objects a fresh 0.2 install has (test/upgrade/run.sh compares them).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.2'" to load this file. \quit
