-- pg_tenancy: group roles, types and schema privileges.
\echo Use "CREATE EXTENSION pg_tenancy" to load this file. \quit

-- Group roles are cluster-wide: create them only when missing, and leave them
-- in place on DROP EXTENSION (other databases may use them).
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_admin') THEN
        CREATE ROLE tenancy_admin NOLOGIN;
        COMMENT ON ROLE tenancy_admin IS
            'pg_tenancy platform admins: create, suspend and drop tenants; may enter any tenant (recorded)';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_service') THEN
        CREATE ROLE tenancy_service NOLOGIN;
        COMMENT ON ROLE tenancy_service IS
            'pg_tenancy trusted application servers: may assert an application user with SET LOCAL tenancy.actor';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_table_owner') THEN
        CREATE ROLE tenancy_table_owner NOLOGIN;
        COMMENT ON ROLE tenancy_table_owner IS
            'pg_tenancy: owns the tables protected in strict mode; platform admins (tenancy_admin) act as it';
    END IF;
    IF NOT pg_catalog.pg_has_role('tenancy_admin', 'tenancy_table_owner', 'MEMBER') THEN
        GRANT tenancy_table_owner TO tenancy_admin;
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA tenancy FROM PUBLIC;
GRANT USAGE ON SCHEMA tenancy TO PUBLIC;
COMMENT ON SCHEMA tenancy IS 'pg_tenancy: tenant catalog, tenant context, protection and audit';

CREATE TYPE tenancy.role AS ENUM ('viewer', 'member', 'admin', 'owner');
COMMENT ON TYPE tenancy.role IS 'membership role in a tenant, ordered viewer < member < admin < owner';

CREATE TYPE tenancy.tenant_status AS ENUM ('active', 'suspended', 'archived');
COMMENT ON TYPE tenancy.tenant_status IS
    'tenant lifecycle: active; suspended (members refused); archived (read-only)';

CREATE TYPE tenancy.isolation AS ENUM ('row', 'schema', 'database');
COMMENT ON TYPE tenancy.isolation IS 'how a tenant''s data is isolated; 0.1 implements row';
