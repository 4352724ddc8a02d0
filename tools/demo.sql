-- The pg_tenancy walkthrough that `make demo` plays in a throwaway cluster.
-- Errors are part of the story: they show what the database refuses. Any other
-- error stops the demo (ON_ERROR_STOP), and so does a refusal that did not come.
\set ON_ERROR_STOP on
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
CREATE TABLE app.invoices (id serial, tenant_id uuid, PRIMARY KEY (tenant_id, id), customer text NOT NULL, amount numeric(10,2) NOT NULL);
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
\set ON_ERROR_STOP off
SELECT * FROM app.invoices;
\ir demo_expect_refusal.sql
RESET tenancy.tenant;
\set ON_ERROR_STOP off
SELECT * FROM app.invoices;
\ir demo_expect_refusal.sql
RESET ROLE;

\echo
\echo '== 6. carol is a viewer of acme: she reads, she cannot write'
SET ROLE carol;
SET tenancy.tenant = 'acme';
SELECT count(*) AS acme_invoices FROM app.invoices;
\set ON_ERROR_STOP off
DELETE FROM app.invoices WHERE customer = 'Road Runner';
\ir demo_expect_refusal.sql
RESET ROLE;

\echo
\echo '== 7. The owner of the table cannot switch the protection off'
SET ROLE app_owner;
\set ON_ERROR_STOP off
ALTER TABLE app.invoices DISABLE ROW LEVEL SECURITY;
\ir demo_expect_refusal.sql
\set ON_ERROR_STOP off
TRUNCATE app.invoices;
\ir demo_expect_refusal.sql
RESET ROLE;

\echo
\echo '== 8. An application server: one login role, behind a pooler, acts for its users'
\echo '   (the service role names the user and the tenant for one transaction, with SET LOCAL)'
CREATE ROLE app_server LOGIN;
SELECT tenancy.grant_service('app_server');
SELECT tenancy.add_member('acme', 'dave@acme.example', 'member');
SELECT tenancy.add_domain('acme', 'acme.example.com');
SET ROLE app_server;
BEGIN;
SELECT tenancy.resolve_domain('acme.example.com') AS tenant_of_the_request_host;
SET LOCAL tenancy.tenant = 'acme';
SET LOCAL tenancy.actor = 'dave@acme.example';
UPDATE app.invoices SET amount = 95.00 WHERE customer = 'Road Runner';
SELECT tenancy.actor(), customer, amount FROM app.invoices ORDER BY id;
COMMIT;
\echo '   a session-level actor would outlive the transaction on a pooled connection: it is refused at use'
SET tenancy.actor = 'dave@acme.example';
SET tenancy.tenant = 'acme';
\set ON_ERROR_STOP off
SELECT count(*) FROM app.invoices;
\ir demo_expect_refusal.sql
RESET tenancy.actor;
RESET tenancy.tenant;
RESET ROLE;

\echo
\echo '== 9. Every change is audited with its tenant and actor; refusals are recorded durably'
SELECT a.operation, t.slug AS tenant, a.actor, a.table_name, coalesce(a.new_row, a.old_row) - 'tenant_id' AS data
  FROM tenancy.audit_log a JOIN tenancy.tenants t ON t.id = a.tenant_id
 WHERE a.table_name = 'app.invoices' ORDER BY a.id;
SELECT tenancy.wait_for_access_log() AS denials_written;
SELECT actor, requested_tenant, reason, attempts, message FROM tenancy.access_denials ORDER BY at;

\echo
\echo '== 10. The database checks its own setup: nothing to report'
SELECT severity, object, problem FROM tenancy.health_check();
