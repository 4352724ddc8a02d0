-- Setup shared by the regression tests (after install, or after updated on
-- a database updated from an earlier version): the cast of roles, an
-- application schema owned by an ordinary role, and two tenants.

-- People log in as themselves; app_server is a trusted service; ops is a
-- platform admin; app_owner owns the application tables and is no superuser.
CREATE ROLE app_owner LOGIN PASSWORD 'tenancy-test';
CREATE ROLE alice LOGIN PASSWORD 'tenancy-test';
CREATE ROLE bob LOGIN PASSWORD 'tenancy-test';
CREATE ROLE carol LOGIN PASSWORD 'tenancy-test';
CREATE ROLE dave LOGIN PASSWORD 'tenancy-test';
CREATE ROLE erin LOGIN PASSWORD 'tenancy-test';
CREATE ROLE mallory LOGIN PASSWORD 'tenancy-test';
CREATE ROLE app_server LOGIN PASSWORD 'tenancy-test';
CREATE ROLE ops LOGIN PASSWORD 'tenancy-test';
SELECT tenancy.grant_platform_admin('ops');
SELECT tenancy.grant_service('app_server');
SELECT role, platform_admin, service FROM tenancy.platform_roles()
 WHERE role IN ('ops', 'app_server', 'alice') ORDER BY role;

CREATE SCHEMA app AUTHORIZATION app_owner;
GRANT USAGE ON SCHEMA app TO PUBLIC;
SET ROLE app_owner;
CREATE TABLE app.invoices (
    id       integer PRIMARY KEY,
    customer text NOT NULL,
    amount   numeric(10,2) NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.invoices TO PUBLIC;
RESET ROLE;

-- acme: alice owner, carol admin, dave member, erin viewer. globex: bob owner.
SELECT tenancy.create_tenant('acme', 'Acme Corp', owner => 'alice') IS NOT NULL AS created;
SELECT tenancy.create_tenant('globex', 'Globex', owner => 'bob') IS NOT NULL AS created;
SELECT tenancy.add_member('acme', 'carol', 'admin');
SELECT tenancy.add_member('acme', 'dave', 'member');
SELECT tenancy.add_member('acme', 'erin', 'viewer');
SELECT t.slug, m.actor, m.role, m.is_active
  FROM tenancy.memberships m JOIN tenancy.tenants t ON t.id = m.tenant_id
 ORDER BY t.slug, m.role DESC, m.actor;

-- The owner of the table protects it.
SET ROLE app_owner;
SELECT tenancy.protect('app.invoices');
RESET ROLE;
SELECT relid, read_role, write_role, delete_role, audit FROM tenancy.protected_tables;
