-- pg_tenancy 0.10 -> 0.11, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.11'" to load this file. \quit

-- Schema-mode tenants name their schema (every tenant of 0.10 is in row mode).
ALTER TABLE tenancy.tenants ADD COLUMN schema_name text COLLATE "C";
ALTER TABLE tenancy.tenants ADD CONSTRAINT tenants_schema_name_key UNIQUE (schema_name);
ALTER TABLE tenancy.tenants ADD CONSTRAINT tenants_schema_name_check
    CHECK ((isolation = 'schema') = (schema_name IS NOT NULL));
COMMENT ON COLUMN tenancy.tenants.schema_name IS
    'the schema of a schema-mode tenant (tenancy.tenant_schema()), null in the other modes';
