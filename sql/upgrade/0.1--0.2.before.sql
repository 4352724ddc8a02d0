-- pg_tenancy 0.1 -> 0.2, before the functions. The upgrade script is this
-- file, then every file of sql/src/functions/ (all CREATE OR REPLACE), then
-- 0.1--0.2.after.sql; test/upgrade/run.sh checks that an updated database
-- has exactly the objects of a fresh install. Here: changes to roles, types
-- and tables, and functions that 0.2 drops or whose signature changes.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.2'" to load this file. \quit

-- tenancy.user is renamed tenancy.actor; the denial reasons follow.
DO $roles$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_service') THEN
        COMMENT ON ROLE tenancy_service IS
            'pg_tenancy trusted application servers: may assert an application user with SET LOCAL tenancy.actor';
    END IF;
END
$roles$;

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
END
$strict$;

-- Platform rights become per database (objects/04_platform_grants.sql,
-- filled in 0.1--0.2.after.sql from the members of the 0.1 group roles,
-- which stay: other databases of the cluster may still be at 0.1). The
-- catalog is read by this database's platform admins only.
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
DROP FUNCTION tenancy._set_group(regrole, name, boolean);
ALTER TABLE tenancy.protected_tables
    ADD COLUMN strict boolean NOT NULL DEFAULT false,
    ADD COLUMN owner_before_strict regrole;
-- protect() gains strict => ...
DROP FUNCTION tenancy.protect(regclass, tenancy.role, tenancy.role, tenancy.role, boolean);

-- Denials are recorded asynchronously and aggregated: first and last time,
-- number of attempts.
ALTER TABLE tenancy.access_denials ADD COLUMN last_at timestamptz, ADD COLUMN attempts bigint NOT NULL DEFAULT 1;
UPDATE tenancy.access_denials SET last_at = at;
UPDATE tenancy.access_denials SET reason = 'spoofed_actor' WHERE reason = 'spoofed_user';
ALTER TABLE tenancy.access_denials
    ALTER COLUMN last_at SET NOT NULL,
    DROP CONSTRAINT access_denials_reason_check,
    ADD CONSTRAINT access_denials_reason_check CHECK (reason IN
        ('unknown_tenant', 'not_member', 'inactive_membership', 'suspended', 'spoofed_actor', 'session_setting')),
    ADD CONSTRAINT access_denials_attempts_check CHECK (attempts > 0);
CREATE INDEX access_denials_repeat_idx ON tenancy.access_denials (actor, reason, requested_tenant, at);
COMMENT ON TABLE tenancy.access_denials IS
    'pg_tenancy: refused attempts to use a tenant, recorded outside the transaction that caused them (so that '
    'they survive its rollback), repeated attempts aggregated per hour';
COMMENT ON COLUMN tenancy.access_denials.at IS 'when the first of these attempts was refused';
COMMENT ON COLUMN tenancy.access_denials.last_at IS 'when the last of these attempts was refused';
COMMENT ON COLUMN tenancy.access_denials.attempts IS 'how many identical attempts this row stands for';
COMMENT ON COLUMN tenancy.access_denials.requested_tenant IS 'tenancy.tenant as the caller set it';

-- Replaced by tenancy._normalize_actor(); _caller_role gains an argument.
DROP FUNCTION tenancy._check_actor(text);
-- Takes the id of a tenant to bring back.
DROP FUNCTION tenancy.create_tenant(text, text, text, text, tenancy.isolation);
-- Now takes the tables to look at (the DDL guard asks about the ones it changed).
DROP FUNCTION tenancy._health_protected_tables();
DROP FUNCTION tenancy._caller_role(uuid);
DROP FUNCTION tenancy._require_tenant_role(tenancy.tenants, tenancy.role, text);
DROP FUNCTION tenancy._authorize_member_change(tenancy.tenants, text, tenancy.role, tenancy.role);
-- slug_problem and platform_roles change language; protected_list its rows.

-- Dump and restore: the audit log's parent index goes (pg_restore attaches
-- the monthly partitions after CREATE EXTENSION made it, which would give
-- each partition an index whose name the dump then creates again); every
-- partition gets its own. The denial ids' sequence is dumped with its table.
DROP INDEX tenancy.audit_log_tenant_at_idx;
DO $partitions$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i
                 WHERE i.inhparent = 'tenancy.audit_log'::regclass LOOP
        EXECUTE pg_catalog.format('CREATE INDEX %I ON %s (tenant_id, at)',
            (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = part) || '_tenant_at_idx', part);
    END LOOP;
END
$partitions$;
SELECT pg_catalog.pg_extension_config_dump('tenancy.access_denials_id_seq', '');
