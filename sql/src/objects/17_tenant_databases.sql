-- pg_tenancy: database-mode tenants. The control database (where the tenant
-- was created) keeps tenant_databases: the database of each such tenant and
-- the generation of the tenant's state last sent to it. The tenant's own
-- database keeps database_binding: the one tenant it belongs to and the
-- control database that manages it. Its tenancy catalog (the tenant, its
-- plan, its members, the platform grants) is a copy that only pg_tenancy's
-- worker writes, before the control database's transaction commits.

CREATE TABLE tenancy.tenant_databases (
    tenant_id     uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    database_name text COLLATE "C" NOT NULL,
    generation    bigint NOT NULL DEFAULT 0,
    state_hash    text,
    synced_at     timestamptz,
    CONSTRAINT tenant_databases_pkey PRIMARY KEY (tenant_id),
    CONSTRAINT tenant_databases_database_name_key UNIQUE (database_name),
    CONSTRAINT tenant_databases_database_name_check CHECK (pg_catalog.octet_length(database_name) BETWEEN 1 AND 63)
);
COMMENT ON TABLE tenancy.tenant_databases IS
    'pg_tenancy: the database of each database-mode tenant, and the generation of the tenant''s state (its '
    'row, plan, members, the platform grants) last sent to it';

CREATE TABLE tenancy.database_binding (
    singleton        boolean NOT NULL DEFAULT true,
    tenant_id        uuid NOT NULL,
    control_database text COLLATE "C" NOT NULL,
    generation       bigint NOT NULL,
    synced_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT database_binding_pkey PRIMARY KEY (singleton),
    CONSTRAINT database_binding_singleton_check CHECK (singleton)
);
COMMENT ON COLUMN tenancy.tenant_databases.state_hash IS
    'the MD5 of the state last sent: a change that leaves it equal sends nothing';

COMMENT ON TABLE tenancy.database_binding IS
    'pg_tenancy: in a database-mode tenant''s own database, the tenant it belongs to and the control database '
    'that manages it (empty in every other database)';

REVOKE ALL ON tenancy.tenant_databases, tenancy.database_binding FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_databases', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.database_binding', '');
