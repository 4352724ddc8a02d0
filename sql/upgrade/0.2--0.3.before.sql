-- pg_tenancy 0.2 -> 0.3, before the functions. The upgrade scripts are
-- assembled by the Makefile: the before parts of every step from the
-- version being updated (0.1--0.2, then this), the objects 0.3 adds,
-- every file of sql/src/functions/ (all CREATE OR REPLACE), and the after
-- parts; test/upgrade/run.sh checks that a database updated from each earlier
-- version has exactly the objects of a fresh install. Written so that it
-- also takes the development snapshots of 0.2 that main carried for a while
-- (IF EXISTS, IF NOT EXISTS).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.3'" to load this file. \quit

-- Strict mode: protected tables owned by tenancy_table_owner, which no role
-- is a member of; platform admins act as it through tenancy.as_table_owner().
DO $strict$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_table_owner') THEN
        CREATE ROLE tenancy_table_owner NOLOGIN;
        COMMENT ON ROLE tenancy_table_owner IS
            'pg_tenancy: owns the tables protected in strict mode; their schema is changed by platform admins '
            'of their database';
    END IF;
    -- A development snapshot of 0.2 made platform admins members of it.
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_admin')
       AND pg_catalog.pg_has_role('tenancy_admin', 'tenancy_table_owner', 'MEMBER') THEN
        REVOKE tenancy_table_owner FROM tenancy_admin;
    END IF;
END
$strict$;

-- Platform rights become per database (objects/04_platform_grants.sql,
-- filled in 0.2--0.3.after.sql from the members of the group roles of 0.1
-- and 0.2, which stay: other databases of the cluster may still use them).
-- The catalog is read by this database's platform admins only.
DO $catalog$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_admin') THEN
        REVOKE SELECT ON tenancy.tenants, tenancy.memberships, tenancy.domains, tenancy.protected_tables,
            tenancy.access_denials FROM tenancy_admin;
    END IF;
END
$catalog$;
ALTER TABLE tenancy.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.protected_tables ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.access_denials ENABLE ROW LEVEL SECURITY;
DROP FUNCTION IF EXISTS tenancy._set_group(regrole, name, boolean);
ALTER TABLE tenancy.protected_tables
    ADD COLUMN IF NOT EXISTS strict boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS owner_before_strict regrole;
-- protect() gains strict => ...
DROP FUNCTION IF EXISTS tenancy.protect(regclass, tenancy.role, tenancy.role, tenancy.role, boolean);

-- Takes the id of a tenant to bring back.
DROP FUNCTION IF EXISTS tenancy.create_tenant(text, text, text, text, tenancy.isolation);
-- Now takes the tables to look at (the DDL guard asks about the ones it changed).
DROP FUNCTION IF EXISTS tenancy._health_protected_tables();

-- Dump and restore: the audit log's parent index goes (pg_restore attaches
-- the monthly partitions after CREATE EXTENSION made it, which would give
-- each partition an index whose name the dump then creates again); every
-- partition gets its own. The denial ids' sequence is dumped with its table.
DROP INDEX IF EXISTS tenancy.audit_log_tenant_at_idx;
DO $partitions$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i
                 WHERE i.inhparent = 'tenancy.audit_log'::regclass LOOP
        EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS %I ON %s (tenant_id, at)',
            (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = part) || '_tenant_at_idx', part);
    END LOOP;
END
$partitions$;
SELECT pg_catalog.pg_extension_config_dump('tenancy.access_denials_id_seq', '');
