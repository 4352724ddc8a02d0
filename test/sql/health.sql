-- The health check: nothing on a clean schema, and each problem found on a
-- purposely broken one. It runs in a database of its own.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'
CREATE DATABASE tenancy_health;
\c tenancy_health
CREATE EXTENSION pg_tenancy;
CREATE SCHEMA shop AUTHORIZATION app_owner;
SELECT tenancy.create_tenant('acme', 'Acme') IS NOT NULL AS created;

-- A clean schema: keys unique per tenant, a composite foreign key, a
-- security_invoker view.
SET ROLE app_owner;
CREATE TABLE shop.customers (tenant_id uuid NOT NULL, id int NOT NULL, name text, PRIMARY KEY (tenant_id, id));
CREATE TABLE shop.orders (tenant_id uuid NOT NULL, id int NOT NULL, customer int NOT NULL,
                          PRIMARY KEY (tenant_id, id),
                          FOREIGN KEY (tenant_id, customer) REFERENCES shop.customers (tenant_id, id));
SELECT tenancy.protect('shop.customers');
SELECT tenancy.protect('shop.orders');
CREATE VIEW shop.customer_names WITH (security_invoker) AS SELECT name FROM shop.customers;
RESET ROLE;
SELECT * FROM tenancy.health_check();

-- Only platform admins run it.
SET ROLE app_owner;
SELECT * FROM tenancy.health_check();
:sqlstate
RESET ROLE;

-- Now break it, one problem at a time (as a superuser, whom the guards let through).
SET ROLE app_owner;
CREATE TABLE shop.rls_off (tenant_id uuid, id int);
CREATE TABLE shop.not_forced (tenant_id uuid, id int);
CREATE TABLE shop.policy_dropped (tenant_id uuid, id int);
CREATE TABLE shop.policy_altered (tenant_id uuid, id int);
CREATE TABLE shop.nullable (tenant_id uuid, id int);
CREATE TABLE shop.no_tenant_check (tenant_id uuid, id int);
CREATE TABLE shop.check_disabled (tenant_id uuid, id int);
CREATE TABLE shop.no_index (tenant_id uuid, id int);
CREATE TABLE shop.audit_disabled (tenant_id uuid, id int);
CREATE TABLE shop.audit_dropped (tenant_id uuid, id int);
CREATE TABLE shop.unique_leak (tenant_id uuid, id int PRIMARY KEY, code text UNIQUE);
CREATE TABLE shop.fk_leak (tenant_id uuid, id int, customer int REFERENCES shop.unique_leak (id));
CREATE TABLE shop.unprotected (tenant_id uuid, id int);
CREATE TABLE shop.side_index (tenant_id uuid, id int, note text);
CREATE INDEX side_index_note_idx ON shop.side_index (note);
-- tenant_id only INCLUDEd is no part of the key; an exclusion constraint on
-- code alone is as much an oracle as a unique key; with tenant_id WITH = it is not.
CREATE TABLE shop.include_leak (tenant_id uuid, id int, code text);
CREATE UNIQUE INDEX include_leak_code_idx ON shop.include_leak (code) INCLUDE (tenant_id);
CREATE TABLE shop.exclusion_leak (tenant_id uuid, id int, code text, EXCLUDE (code WITH =));
CREATE TABLE shop.exclusion_per_tenant (tenant_id uuid, id int, code text, EXCLUDE (tenant_id WITH =, code WITH =));
CREATE TABLE shop.adopted (tenant_id uuid, id int);
CREATE TABLE shop.legacy_parent (tenant_id uuid, id int);
SELECT tenancy.protect(t) FROM unnest(ARRAY['shop.rls_off', 'shop.not_forced', 'shop.policy_dropped',
    'shop.policy_altered', 'shop.nullable', 'shop.no_tenant_check', 'shop.check_disabled', 'shop.no_index',
    'shop.audit_disabled', 'shop.audit_dropped', 'shop.unique_leak', 'shop.fk_leak', 'shop.side_index',
    'shop.include_leak', 'shop.exclusion_leak', 'shop.exclusion_per_tenant', 'shop.adopted']::regclass[]) t;
CREATE VIEW shop.owner_view AS SELECT id FROM shop.customers;
-- A materialized view cannot even be built by a role under row level
-- security without a tenant...
CREATE MATERIALIZED VIEW shop.snapshot AS SELECT id FROM shop.customers;
:sqlstate
RESET ROLE;
-- ...but a superuser can, and it then holds every tenant's rows.
CREATE MATERIALIZED VIEW shop.snapshot AS SELECT id FROM shop.customers;
CREATE VIEW shop.superuser_view AS SELECT id FROM shop.customers;
ALTER TABLE shop.rls_off DISABLE ROW LEVEL SECURITY;
ALTER TABLE shop.not_forced NO FORCE ROW LEVEL SECURITY;
DROP POLICY tenancy_select ON shop.policy_dropped;
ALTER POLICY tenancy_select ON shop.policy_altered USING (true);
ALTER TABLE shop.nullable ALTER COLUMN tenant_id DROP NOT NULL;
DROP TRIGGER tenancy_tenant_check ON shop.no_tenant_check;
ALTER TABLE shop.check_disabled DISABLE TRIGGER tenancy_tenant_check;
DROP INDEX shop.no_index_tenant_id_idx;
ALTER TABLE shop.audit_disabled DISABLE TRIGGER tenancy_audit;
DROP TRIGGER tenancy_audit ON shop.audit_dropped;
-- An unprotected child of a protected table, and an unprotected parent.
CREATE TABLE shop.side_child () INHERITS (shop.side_index);
ALTER TABLE shop.adopted INHERIT shop.legacy_parent;
CREATE ROLE leaky_app;
SELECT tenancy.grant_service('leaky_app');
ALTER ROLE leaky_app BYPASSRLS;
-- A column default and a domain's check that run the owner's code on every
-- write (listed like invoker's-rights triggers).
SET ROLE app_owner;
CREATE FUNCTION shop.stamp() RETURNS text LANGUAGE sql AS $$SELECT 'stamped'$$;
CREATE FUNCTION shop.plausible(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE DOMAIN shop.plausible_text AS text CHECK (shop.plausible(VALUE));
CREATE TABLE shop.notes (tenant_id uuid NOT NULL, id int NOT NULL, body shop.plausible_text,
                         stamp text DEFAULT shop.stamp(), PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('shop.notes');
RESET ROLE;
-- A service role dropped after its privileges were revoked by hand (not
-- with revoke_service(), not with DROP OWNED BY).
CREATE ROLE gone_app;
SELECT tenancy.grant_service('gone_app');
REVOKE USAGE ON SCHEMA tenancy FROM gone_app;
DROP ROLE gone_app;
-- New sessions no longer load pg_tenancy at start (CREATE EXTENSION had set it).
ALTER DATABASE tenancy_health RESET session_preload_libraries;

SELECT severity, object, problem FROM tenancy.health_check();
-- Every finding says how to fix it.
SELECT count(*) AS findings, count(*) FILTER (WHERE hint IS NULL OR hint = '') AS without_hint
  FROM tenancy.health_check();

\c contrib_regression
DROP DATABASE tenancy_health;
DROP ROLE leaky_app;
