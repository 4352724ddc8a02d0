-- pg_tenancy: the trigger function that makes catalog changes reach every session.

-- Every change to tenants or memberships reaches every session's cache at
-- commit (see extension/catalog_changed.cpp).
CREATE OR REPLACE FUNCTION tenancy.catalog_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_catalog_changed';
COMMENT ON FUNCTION tenancy.catalog_changed() IS
    'internal: tells every session that tenants or memberships changed';
REVOKE ALL ON FUNCTION tenancy.catalog_changed() FROM PUBLIC;
