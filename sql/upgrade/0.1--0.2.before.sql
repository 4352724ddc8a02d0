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
DROP FUNCTION tenancy._caller_role(uuid);
DROP FUNCTION tenancy._require_tenant_role(tenancy.tenants, tenancy.role, text);
DROP FUNCTION tenancy._authorize_member_change(tenancy.tenants, text, tenancy.role, tenancy.role);
-- slug_problem and platform_roles change language; protected_list its rows.
