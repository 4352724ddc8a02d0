-- pg_tenancy: usage per tenant and day. The writes into protected tables are
-- metered in every session (extension/usage_meter.cpp) and folded in here
-- by the collector; rows per table and the storage estimate come from
-- tenancy.collect_usage(), run from cron. Read by platform admins, and by the
-- owners and admins of the current tenant for that tenant.

CREATE TABLE tenancy.usage_daily (
    tenant_id  uuid NOT NULL,
    day        date NOT NULL,
    table_name text NOT NULL,
    inserted   bigint NOT NULL DEFAULT 0,
    updated    bigint NOT NULL DEFAULT 0,
    deleted    bigint NOT NULL DEFAULT 0,
    rows       bigint,
    bytes      bigint,
    CONSTRAINT usage_daily_pkey PRIMARY KEY (tenant_id, day, table_name)
);
COMMENT ON TABLE tenancy.usage_daily IS
    'pg_tenancy: per tenant, UTC day and protected table: rows inserted, updated and deleted, and (from '
    'tenancy.collect_usage()) the rows the table held and an estimate of the bytes they take';
COMMENT ON COLUMN tenancy.usage_daily.bytes IS
    'the table''s total size (with indexes and TOAST) times the tenant''s share of its rows';

CREATE TABLE tenancy.usage_actors (
    tenant_id uuid NOT NULL,
    day       date NOT NULL,
    actor     text COLLATE "C" NOT NULL,
    CONSTRAINT usage_actors_pkey PRIMARY KEY (tenant_id, day, actor)
);
COMMENT ON TABLE tenancy.usage_actors IS 'pg_tenancy: the actors who used each tenant, per UTC day';

REVOKE ALL ON tenancy.usage_daily, tenancy.usage_actors FROM PUBLIC;
GRANT SELECT ON tenancy.usage_daily, tenancy.usage_actors TO PUBLIC;
ALTER TABLE tenancy.usage_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.usage_actors ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.usage_daily', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.usage_actors', '');
