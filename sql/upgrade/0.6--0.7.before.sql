-- pg_tenancy 0.6 -> 0.7, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.7'" to load this file. \quit

-- Tenants can be terminating: read-only until their grace period ends. The
-- new label cannot be used before this transaction commits, so the
-- functions and the constraint below compare it as text.
ALTER TYPE tenancy.tenant_status ADD VALUE IF NOT EXISTS 'terminating' AFTER 'archived';
COMMENT ON TYPE tenancy.tenant_status IS
    'tenant lifecycle: active; suspended (members refused); archived (read-only); terminating (read-only, '
    'deleted by tenancy.purge_terminated() once its grace period ends)';
ALTER TABLE tenancy.tenants ADD COLUMN purge_after timestamptz,
    ADD CONSTRAINT tenants_purge_after_check CHECK ((status::text = 'terminating') = (purge_after IS NOT NULL));
COMMENT ON COLUMN tenancy.tenants.purge_after IS
    'when a terminating tenant''s grace period ends: tenancy.purge_terminated() deletes it from then on';
ALTER TABLE tenancy.tenants ADD COLUMN limits jsonb NOT NULL DEFAULT '{}',
    ADD CONSTRAINT tenants_limits_check CHECK (pg_catalog.jsonb_typeof(limits) = 'object');
COMMENT ON COLUMN tenancy.tenants.limits IS
    'limits of this tenant that override its plan''s (tenancy.set_limit())';
