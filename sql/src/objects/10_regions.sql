-- pg_tenancy: regions, for data residency. Every tenant lives in one
-- (tenancy.tenants.region); a region says, for database-mode tenants, which
-- server their databases live on. The install creates no region, so that a
-- dump of this table restores into a fresh install: tenancy.create_tenant()
-- creates the region "default" (this server) the first time a tenant takes
-- it, unless it exists already.

CREATE TABLE tenancy.regions (
    name        text COLLATE "C" NOT NULL,
    description text,
    server      text,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT regions_pkey PRIMARY KEY (name),
    CONSTRAINT regions_name_check CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
    CONSTRAINT regions_server_check CHECK (pg_catalog.length(pg_catalog.btrim(server)) > 0)
);
COMMENT ON TABLE tenancy.regions IS
    'pg_tenancy: the regions tenants'' data may live in (tenancy.define_region())';
COMMENT ON COLUMN tenancy.regions.server IS
    'the server that database-mode tenants of the region live on (a libpq connection string); '
    'null: this server';

-- Every tenant's region exists (an update from 0.7 puts its tenants in
-- "default"; a fresh install has no tenant).
INSERT INTO tenancy.regions (name, description)
SELECT 'default', 'this server' WHERE EXISTS (SELECT 1 FROM tenancy.tenants);
ALTER TABLE tenancy.tenants ADD CONSTRAINT tenants_region_fkey FOREIGN KEY (region) REFERENCES tenancy.regions (name);

REVOKE ALL ON tenancy.regions FROM PUBLIC;
ALTER TABLE tenancy.regions ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.regions', '');
