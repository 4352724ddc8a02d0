-- pg_tenancy 0.7 -> 0.8, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.8'" to load this file. \quit

-- Every tenant lives in a region; those of 0.7 in "default" (objects/10_regions.sql
-- creates it and the foreign key). The default fills the existing rows
-- without firing the triggers of tenancy.tenants, and is dropped at once:
-- tenancy.create_tenant() names the region of each new tenant.
ALTER TABLE tenancy.tenants ADD COLUMN region text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE tenancy.tenants ALTER COLUMN region DROP DEFAULT;
COMMENT ON COLUMN tenancy.tenants.region IS
    'the region (tenancy.regions) where the tenant''s data lives (tenancy.set_region())';
-- create_tenant() takes a region, and tenant_list() shows it.
DROP FUNCTION IF EXISTS tenancy.create_tenant(text, text, text, text, tenancy.isolation, uuid);
DROP FUNCTION IF EXISTS tenancy.tenant_list();
