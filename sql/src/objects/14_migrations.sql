-- pg_tenancy: the ledger of migrations (tenantctl migrate). A migration is a
-- file of DIR/shared (run once) or of DIR/tenant (run in every place a
-- tenant's tables live: the shared schemas of row-mode tenants, and each
-- schema-mode tenant's schema). Each place's migration commits with its row
-- here, so an interrupted run resumes where it stopped and nothing runs twice.

CREATE TABLE tenancy.migrations (
    scope      text NOT NULL,
    tenant_id  uuid REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    version    text COLLATE "C" NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    duration   interval,
    applied_by text NOT NULL,
    CONSTRAINT migrations_scope_check CHECK (scope IN ('shared', 'tenant')),
    CONSTRAINT migrations_shared_check CHECK (scope = 'tenant' OR tenant_id IS NULL),
    CONSTRAINT migrations_version_check CHECK (pg_catalog.length(version) BETWEEN 1 AND 255),
    CONSTRAINT migrations_checksum_check CHECK (checksum ~ '^[0-9a-f]{64}$')
);
CREATE UNIQUE INDEX migrations_place_version_key ON tenancy.migrations
    (scope, COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), version);
COMMENT ON TABLE tenancy.migrations IS
    'pg_tenancy: which migration ran where (scope shared; scope tenant with tenant_id null for the shared '
    'schemas of row-mode tenants, or a schema-mode tenant), with its SHA-256, when, how long, and by whom';

-- The tenant migrations applied so far, kept so that a tenant created later
-- gets every one of them before create_tenant() returns.
CREATE TABLE tenancy.migration_scripts (
    version     text COLLATE "C" NOT NULL,
    checksum    text NOT NULL,
    body        text NOT NULL,
    run_as      regrole NOT NULL,
    shared_path text NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT migration_scripts_pkey PRIMARY KEY (version),
    CONSTRAINT migration_scripts_checksum_check CHECK (checksum ~ '^[0-9a-f]{64}$')
);
COMMENT ON TABLE tenancy.migration_scripts IS
    'pg_tenancy: the tenant migrations applied so far, replayed (as the role that first applied them, with '
    'its shared schemas) in the schema of every tenant created later';

REVOKE ALL ON tenancy.migrations, tenancy.migration_scripts FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('tenancy.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.migration_scripts', '');
