-- pg_tenancy: platform rights of this database. Roles are shared by every
-- database of the cluster; these rights are not. A role is a platform admin
-- or a trusted service of the databases whose tenancy.platform_grants name
-- it (or name a role it has the privileges of); superusers are platform
-- admins everywhere. The table travels with pg_dump; the role column is a
-- regrole, so a dump names the role and a restore finds it by name.
CREATE TABLE tenancy.platform_grants (
    role       regrole NOT NULL,
    kind       text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    granted_by text NOT NULL,
    CONSTRAINT platform_grants_pkey PRIMARY KEY (role, kind),
    CONSTRAINT platform_grants_kind_check CHECK (kind IN ('platform_admin', 'service'))
);
COMMENT ON TABLE tenancy.platform_grants IS
    'pg_tenancy: the platform admins and trusted services of this database (tenancy.grant_platform_admin(), '
    'tenancy.grant_service())';
COMMENT ON COLUMN tenancy.platform_grants.kind IS
    'platform_admin: manages tenants and may enter any (recorded); service: may assert tenancy.actor per transaction';

-- Changed only through the grant and revoke functions, which also grant each
-- holder privileges in this database: USAGE on schema tenancy (which keeps
-- the role from being dropped while it holds a right) and, to platform
-- admins, SELECT on the catalog, this table and the denials.
REVOKE ALL ON tenancy.platform_grants FROM PUBLIC;
ALTER TABLE tenancy.platform_grants ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.platform_grants', '');
