-- pg_tenancy: the union views of platform admins (tenancy.union_view()): one
-- view per row, showing one table of every schema-mode tenant.

CREATE TABLE tenancy.union_views (
    view_id     regclass PRIMARY KEY,
    table_name  text COLLATE "C" NOT NULL,
    created_by  text NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tenancy.union_views IS
    'pg_tenancy: the union views (tenancy.union_view()): each shows table_name of every schema-mode tenant';
REVOKE ALL ON tenancy.union_views FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('tenancy.union_views', '');
