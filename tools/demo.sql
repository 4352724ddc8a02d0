-- The pg_tenancy walkthrough that `make demo` plays in a throwaway cluster.
-- Errors are part of the story: they show what the database refuses.
\set VERBOSITY default
\set SHOW_CONTEXT never
\pset footer off

\echo
\echo '== 1. Install the extension, and meet the people'
CREATE EXTENSION pg_tenancy;
CREATE ROLE alice LOGIN;   -- owner of acme
CREATE ROLE bob LOGIN;     -- owner of globex
CREATE ROLE carol LOGIN;   -- viewer of acme
CREATE ROLE app_owner;     -- owns the application's tables; no superuser, no BYPASSRLS
CREATE SCHEMA app AUTHORIZATION app_owner;
GRANT USAGE ON SCHEMA app TO PUBLIC;
SET ROLE app_owner;
CREATE TABLE app.invoices (id serial PRIMARY KEY, customer text NOT NULL, amount numeric(10,2) NOT NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.invoices TO PUBLIC;
GRANT USAGE ON SEQUENCE app.invoices_id_seq TO PUBLIC;
RESET ROLE;

\echo
\echo '== 2. Two tenants, members with roles (a platform admin does this)'
SELECT tenancy.create_tenant('acme', 'Acme Corp', owner => 'alice') IS NOT NULL AS acme_created;
SELECT tenancy.create_tenant('globex', 'Globex', owner => 'bob') IS NOT NULL AS globex_created;
SELECT tenancy.add_member('acme', 'carol', 'viewer');

\echo
\echo '== 3. The table owner protects the table: tenant_id, forced row level security, policies, audit'
SET ROLE app_owner;
SELECT tenancy.protect('app.invoices');
RESET ROLE;
\d app.invoices

\echo
\echo '== 4. alice works in acme, bob in globex: each sees only their own rows'
SET ROLE alice;
SET tenancy.tenant = 'acme';
INSERT INTO app.invoices (customer, amount) VALUES ('Wile E. Coyote', 120.00), ('Road Runner', 80.00);
SELECT id, customer, amount FROM app.invoices;
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'globex';
INSERT INTO app.invoices (customer, amount) VALUES ('Hank Scorpio', 1000.00);
SELECT id, customer, amount FROM app.invoices;

\echo
\echo '== 5. The wrong tenant is refused, and so is no tenant at all'
SET tenancy.tenant = 'acme';
SELECT * FROM app.invoices;
RESET tenancy.tenant;
SELECT * FROM app.invoices;
RESET ROLE;

\echo
\echo '== 6. carol is a viewer of acme: she reads, she cannot write'
SET ROLE carol;
SET tenancy.tenant = 'acme';
SELECT count(*) AS acme_invoices FROM app.invoices;
DELETE FROM app.invoices WHERE customer = 'Road Runner';
RESET ROLE;

\echo
\echo '== 7. The owner of the table cannot switch the protection off'
SET ROLE app_owner;
ALTER TABLE app.invoices DISABLE ROW LEVEL SECURITY;
TRUNCATE app.invoices;
RESET ROLE;

\echo
\echo '== 8. Every change is audited with its tenant and actor; refusals are recorded durably'
SELECT a.operation, t.slug AS tenant, a.actor, a.table_name, coalesce(a.new_row, a.old_row) - 'tenant_id' AS data
  FROM tenancy.audit_log a JOIN tenancy.tenants t ON t.id = a.tenant_id
 WHERE a.table_name = 'app.invoices' ORDER BY a.id;
SELECT tenancy.wait_for_access_log() AS denials_written;
SELECT actor, requested_tenant, reason, attempts, message FROM tenancy.access_denials ORDER BY at;

\echo
\echo '== 9. The same from the operator''s side, with tenantctl'
\! tenantctl tenant list
\! tenantctl member list acme
\! tenantctl tenant show acme
\! tenantctl health
\echo
\echo 'That was pg_tenancy. README.md has the walkthrough, the security model and the reference.'
