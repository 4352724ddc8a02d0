-- Fills a database that has pg_tenancy at its oldest version with what a
-- user would have there: tenants, members, a protected table with rows
-- written by members, audit rows, domains and settings, a platform admin and
-- a service role. Uses only what
-- every version offers.
\set ON_ERROR_STOP on
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upgrade_alice') THEN CREATE ROLE upgrade_alice; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upgrade_bob') THEN CREATE ROLE upgrade_bob; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upgrade_owner') THEN CREATE ROLE upgrade_owner; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upgrade_ops') THEN CREATE ROLE upgrade_ops; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upgrade_app') THEN CREATE ROLE upgrade_app; END IF;
END $$;
SELECT tenancy.grant_platform_admin('upgrade_ops');
SELECT tenancy.grant_service('upgrade_app');
CREATE SCHEMA shop AUTHORIZATION upgrade_owner;
GRANT USAGE ON SCHEMA shop TO PUBLIC;
SET ROLE upgrade_owner;
CREATE TABLE shop.orders (id int PRIMARY KEY, item text NOT NULL, qty int NOT NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.orders TO PUBLIC;
RESET ROLE;
SELECT tenancy.create_tenant('acme', 'Acme Corp', owner => 'upgrade_alice') IS NOT NULL AS created;
-- Since 0.7 a plan other than "basic" must exist first.
DO $$ BEGIN
    IF to_regprocedure('tenancy.create_plan(text, text[], jsonb, text)') IS NOT NULL THEN
        EXECUTE 'SELECT tenancy.create_plan(''pro'')';
    END IF;
END $$;
SELECT tenancy.create_tenant('globex', 'Globex', owner => 'upgrade_bob', plan => 'pro') IS NOT NULL AS created;
SELECT tenancy.add_member('acme', 'carol@example.com', 'viewer');
SELECT tenancy.add_domain('acme', 'acme.example.com');
SELECT tenancy.set_tenant_setting('globex', 'theme', '"dark"');
SET ROLE upgrade_owner;
SELECT tenancy.protect('shop.orders');
RESET ROLE;
SET ROLE upgrade_alice;
SET tenancy.tenant = 'acme';
INSERT INTO shop.orders (id, item, qty) SELECT g, 'widget ' || g, g FROM generate_series(1, 20) g;
UPDATE shop.orders SET qty = qty + 1 WHERE id <= 5;
DELETE FROM shop.orders WHERE id = 20;
RESET tenancy.tenant;
RESET ROLE;
SET ROLE upgrade_bob;
SET tenancy.tenant = 'globex';
INSERT INTO shop.orders (id, item, qty) SELECT g, 'gadget ' || g, g FROM generate_series(101, 110) g;
RESET tenancy.tenant;
RESET ROLE;
