-- pg_tenancy: plans. A plan names the features it unlocks and the limits it
-- sets; each tenant has one (tenancy.tenants.plan), and may have limits of
-- its own that override the plan's (tenancy.tenants.limits). The install
-- creates no plan, so that a dump of this table restores into a fresh
-- install: tenancy.create_tenant() creates the plan "basic" (no features, no
-- limits) the first time a tenant takes it, unless it exists already.

CREATE TABLE tenancy.plans (
    name        text COLLATE "C" NOT NULL,
    description text,
    features    text[] NOT NULL DEFAULT '{}',
    limits      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT plans_pkey PRIMARY KEY (name),
    CONSTRAINT plans_name_check CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
    CONSTRAINT plans_limits_check CHECK (pg_catalog.jsonb_typeof(limits) = 'object')
);
COMMENT ON TABLE tenancy.plans IS
    'pg_tenancy: plans with the features they unlock and the limits they set (tenancy.create_plan())';
COMMENT ON COLUMN tenancy.plans.features IS 'what tenancy.has_feature() answers true for';
COMMENT ON COLUMN tenancy.plans.limits IS
    'members, rows (per protected table), storage_mb, statement_timeout, work_mem; absent: no limit';

-- Every tenant's plan exists (an update from 0.6 brings in the plans its
-- tenants named; a fresh install has no tenant).
INSERT INTO tenancy.plans (name) SELECT DISTINCT t.plan FROM tenancy.tenants t;
ALTER TABLE tenancy.tenants ADD CONSTRAINT tenants_plan_fkey FOREIGN KEY (plan) REFERENCES tenancy.plans (name);

REVOKE ALL ON tenancy.plans FROM PUBLIC;
ALTER TABLE tenancy.plans ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.plans', '');
