-- DROP EXTENSION pg_tenancy CASCADE leaves protected tables closed (no row
-- for anyone but superusers), and the way back: the extension again, the
-- tenants with the ids their rows still carry, protect() once more. It runs
-- in a database of its own.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'
CREATE DATABASE tenancy_drop;
\c tenancy_drop
CREATE EXTENSION pg_tenancy;
CREATE SCHEMA shop AUTHORIZATION app_owner;
GRANT USAGE ON SCHEMA shop TO PUBLIC;
\set acme_id 'a0000000-0000-4000-8000-000000000001'
\set globex_id 'b0000000-0000-4000-8000-000000000002'
SELECT tenancy.create_tenant('acme', 'Acme', owner => 'alice', id => :'acme_id') = :'acme_id' AS acme_created;
SELECT tenancy.create_tenant('globex', 'Globex', owner => 'bob', id => :'globex_id') = :'globex_id' AS globex_created;
SET ROLE app_owner;
CREATE TABLE shop.orders (id int NOT NULL, item text);
SELECT tenancy.protect('shop.orders');
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.orders TO PUBLIC;
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'acme';
INSERT INTO shop.orders VALUES (1, 'anvil');
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'globex';
INSERT INTO shop.orders VALUES (2, 'fusion reactor');
RESET ROLE;
RESET tenancy.tenant;
-- The permissive policy depends on the extension like the restrictive ones.
SELECT polname, pg_get_expr(polqual, polrelid) AS using_expression FROM pg_policy
 WHERE polrelid = 'shop.orders'::regclass AND polpermissive;

DROP EXTENSION pg_tenancy CASCADE;

-- Row level security stays enabled and forced, with no policy: nobody sees a
-- row, not the owner, not the tenants' members; nobody writes one.
SELECT relrowsecurity, relforcerowsecurity,
       (SELECT count(*) FROM pg_policy WHERE polrelid = 'shop.orders'::regclass) AS policies
  FROM pg_class WHERE oid = 'shop.orders'::regclass;
SET ROLE app_owner;
SELECT count(*) AS rows_the_owner_sees FROM shop.orders;
RESET ROLE;
SET ROLE alice;
SELECT count(*) AS rows_alice_sees FROM shop.orders;
INSERT INTO shop.orders (id, item, tenant_id) VALUES (3, 'smuggled', :'globex_id');
:sqlstate
UPDATE shop.orders SET item = 'changed';
RESET ROLE;
-- The rows are all still there (a superuser bypasses row level security).
SELECT id, item, tenant_id = :'acme_id' AS is_acme, tenant_id = :'globex_id' AS is_globex
  FROM shop.orders ORDER BY id;

-- The way back: the extension, the tenants with their old ids, protect().
CREATE EXTENSION pg_tenancy;
SELECT tenancy.create_tenant('acme', 'Acme', owner => 'alice', id => :'acme_id') = :'acme_id' AS acme_back;
SELECT tenancy.create_tenant('globex', 'Globex', owner => 'bob', id => :'globex_id') = :'globex_id' AS globex_back;
-- An id already taken is refused.
SELECT tenancy.create_tenant('initech', 'Initech', id => :'acme_id');
:sqlstate
SET ROLE app_owner;
SELECT tenancy.protect('shop.orders');
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'acme';
SELECT id, item FROM shop.orders ORDER BY id;
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'globex';
SELECT id, item FROM shop.orders ORDER BY id;
RESET ROLE;
RESET tenancy.tenant;

\c contrib_regression
DROP DATABASE tenancy_drop;
