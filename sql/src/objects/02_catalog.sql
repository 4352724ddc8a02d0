-- pg_tenancy: the catalog tables. Nobody but the extension owner writes
-- them directly; every change goes through the management functions.

CREATE TABLE tenancy.tenants (
    id            uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
    slug          text COLLATE "C" NOT NULL,
    name          text NOT NULL,
    status        tenancy.tenant_status NOT NULL DEFAULT 'active',
    status_reason text,
    isolation     tenancy.isolation NOT NULL DEFAULT 'row',
    plan          text NOT NULL DEFAULT 'basic',
    settings      jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    purge_after   timestamptz,
    limits        jsonb NOT NULL DEFAULT '{}',
    region        text COLLATE "C" NOT NULL,
    schema_name   text COLLATE "C",
    CONSTRAINT tenants_pkey PRIMARY KEY (id),
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_slug_check CHECK (slug ~ '^[a-z][a-z0-9_-]{0,62}$'),
    CONSTRAINT tenants_name_check CHECK (pg_catalog.length(pg_catalog.btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT tenants_plan_check CHECK (plan ~ '^[a-z][a-z0-9_-]{0,62}$'),
    CONSTRAINT tenants_settings_check CHECK (pg_catalog.jsonb_typeof(settings) = 'object'),
    CONSTRAINT tenants_limits_check CHECK (pg_catalog.jsonb_typeof(limits) = 'object'),
    -- Compared as text: an upgrade adds the label in the same transaction.
    CONSTRAINT tenants_purge_after_check CHECK ((status::text = 'terminating') = (purge_after IS NOT NULL)),
    CONSTRAINT tenants_schema_name_key UNIQUE (schema_name),
    CONSTRAINT tenants_schema_name_check CHECK ((isolation = 'schema') = (schema_name IS NOT NULL))
);
COMMENT ON TABLE tenancy.tenants IS 'pg_tenancy: one row per tenant';
COMMENT ON COLUMN tenancy.tenants.limits IS
    'limits of this tenant that override its plan''s (tenancy.set_limit())';
COMMENT ON COLUMN tenancy.tenants.region IS
    'the region (tenancy.regions) where the tenant''s data lives (tenancy.set_region())';
COMMENT ON COLUMN tenancy.tenants.schema_name IS
    'the schema of a schema-mode tenant (tenancy.tenant_schema()), null in the other modes';
COMMENT ON COLUMN tenancy.tenants.purge_after IS
    'when a terminating tenant''s grace period ends: tenancy.purge_terminated() deletes it from then on';

CREATE TABLE tenancy.memberships (
    tenant_id  uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    actor      text COLLATE "C" NOT NULL,
    role       tenancy.role NOT NULL,
    is_active  boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT memberships_pkey PRIMARY KEY (tenant_id, actor),
    CONSTRAINT memberships_actor_check CHECK (
        pg_catalog.octet_length(actor) BETWEEN 1 AND 256
        AND actor !~ '[[:cntrl:]]' AND actor = pg_catalog.btrim(actor))
);
CREATE INDEX memberships_actor_idx ON tenancy.memberships (actor);
COMMENT ON TABLE tenancy.memberships IS 'pg_tenancy: which actor has which role in which tenant';

CREATE TABLE tenancy.domains (
    host       text COLLATE "C" NOT NULL,
    tenant_id  uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT domains_pkey PRIMARY KEY (host)
);
CREATE INDEX domains_tenant_idx ON tenancy.domains (tenant_id);
COMMENT ON TABLE tenancy.domains IS 'pg_tenancy: host names that resolve to a tenant';

CREATE TABLE tenancy.protected_tables (
    relid          regclass NOT NULL,
    read_role      tenancy.role NOT NULL,
    write_role     tenancy.role NOT NULL,
    delete_role    tenancy.role NOT NULL,
    audit          boolean NOT NULL,
    rls_was_enabled boolean NOT NULL,
    rls_was_forced  boolean NOT NULL,
    protected_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    protected_by   text NOT NULL,
    strict         boolean NOT NULL DEFAULT false,
    owner_before_strict regrole,
    CONSTRAINT protected_tables_pkey PRIMARY KEY (relid)
);
COMMENT ON TABLE tenancy.protected_tables IS
    'pg_tenancy: tables protected by tenancy.protect(), with their settings, for the health check';

-- tenancy.grant_platform_admin() grants SELECT on the catalog to each
-- platform admin of this database; nobody else may read it. Row level
-- security (policies in wiring/01_triggers.sql) keeps out the roles that
-- read every table without a grant (pg_read_all_data).
REVOKE ALL ON tenancy.tenants, tenancy.memberships, tenancy.domains, tenancy.protected_tables FROM PUBLIC;
ALTER TABLE tenancy.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.protected_tables ENABLE ROW LEVEL SECURITY;

SELECT pg_catalog.pg_extension_config_dump('tenancy.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.domains', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.protected_tables', '');
