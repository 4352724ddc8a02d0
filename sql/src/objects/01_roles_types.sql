-- pg_tenancy: group roles, types and schema privileges.
\echo Use "CREATE EXTENSION pg_tenancy" to load this file. \quit

-- The owner of tables protected in strict mode. Roles are cluster-wide:
-- create it only when missing, and leave it in place on DROP EXTENSION
-- (other databases may use it). Platform rights are per database
-- (objects/04_platform_grants.sql), not roles.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_table_owner') THEN
        CREATE ROLE tenancy_table_owner NOLOGIN;
        COMMENT ON ROLE tenancy_table_owner IS
            'pg_tenancy: owns the tables protected in strict mode; their schema is changed by platform admins '
            'of their database';
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA tenancy FROM PUBLIC;
GRANT USAGE ON SCHEMA tenancy TO PUBLIC;
COMMENT ON SCHEMA tenancy IS 'pg_tenancy: tenant catalog, tenant context, protection and audit';

CREATE TYPE tenancy.role AS ENUM ('viewer', 'member', 'admin', 'owner');
COMMENT ON TYPE tenancy.role IS 'membership role in a tenant, ordered viewer < member < admin < owner';

CREATE TYPE tenancy.tenant_status AS ENUM ('active', 'suspended', 'archived', 'terminating');
COMMENT ON TYPE tenancy.tenant_status IS
    'tenant lifecycle: active; suspended (members refused); archived (read-only); terminating (read-only, '
    'deleted by tenancy.purge_terminated() once its grace period ends)';

CREATE TYPE tenancy.isolation AS ENUM ('row', 'schema', 'database');
COMMENT ON TYPE tenancy.isolation IS 'how a tenant''s data is isolated: rows in shared tables, a schema of its own, or a database of its own';
