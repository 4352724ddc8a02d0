-- Tenant lifecycle: creation with validation, the platform-admin-only rule,
-- suspend/activate/archive, drop with its cascade, and every bad input.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- Invalid slugs: each refused with 22023 and nothing created.
SELECT tenancy.create_tenant('Acme Corp', 'Acme Corp');
:sqlstate
SELECT tenancy.create_tenant('1acme', 'Numbers first');
:sqlstate
SELECT tenancy.create_tenant('', 'Empty');
:sqlstate
SELECT tenancy.create_tenant('acme''); DROP TABLE app.invoices; --', 'Injection');
:sqlstate
SELECT tenancy.create_tenant(repeat('a', 64), 'Too long');
:sqlstate
SELECT tenancy.create_tenant('deadbeef-dead-beef-dead-beefdeadbeef', 'Looks like a uuid');
:sqlstate
SELECT tenancy.create_tenant(NULL, 'No slug');
:sqlstate
-- Invalid names, plans, owners and isolation modes.
SELECT tenancy.create_tenant('initech', '   ');
:sqlstate
SELECT tenancy.create_tenant('initech', NULL);
:sqlstate
-- Control characters (a line break, a terminal escape sequence, a C1 CSI)
-- would reach operators' terminals.
SELECT tenancy.create_tenant('initech', E'Initech\nCorp');
:sqlstate
SELECT tenancy.create_tenant('initech', E'Initech \x1b[2J');
:sqlstate
SELECT tenancy.create_tenant('initech', 'Initech ' || chr(155) || '2J');
:sqlstate
SELECT tenancy.create_tenant('initech', 'Initech', plan => 'Gold Plan');
:sqlstate
SELECT tenancy.create_tenant('initech', 'Initech', owner => ' padded ');
:sqlstate
SELECT tenancy.create_tenant('initech', 'Initech', isolation => 'database');
:sqlstate
-- Duplicate slug.
SELECT tenancy.create_tenant('acme', 'Acme again');
:sqlstate
-- None of the above created anything.
SELECT slug FROM tenancy.tenants ORDER BY slug;
SELECT count(*) AS invoices_table_still_there FROM pg_class WHERE oid = 'app.invoices'::regclass;

-- The slug suggestion used in hints and by the tenantctl wizard.
SELECT tenancy.suggest_slug('Acme Corp'), tenancy.suggest_slug('  Über GmbH & Co. KG '),
       tenancy.suggest_slug('42'), tenancy.suggest_slug('Initech');

-- Only platform admins create, suspend, archive, activate and drop tenants.
SET ROLE alice;
SELECT tenancy.create_tenant('initech', 'Initech');
:sqlstate
SELECT tenancy.suspend_tenant('acme');
:sqlstate
SELECT tenancy.drop_tenant('globex');
:sqlstate
RESET ROLE;
SET ROLE ops;
-- A plan other than "basic" must exist first.
SELECT tenancy.create_tenant('initech', 'Initech', owner => 'mallory', plan => 'pro') IS NOT NULL AS created;
:sqlstate
SELECT count(*) AS initech FROM tenancy.tenants WHERE slug = 'initech';
SELECT tenancy.create_plan('pro', description => 'the plan of the tests');
SELECT tenancy.create_tenant('initech', 'Initech', owner => 'mallory', plan => 'pro') IS NOT NULL AS created;
SELECT slug, name, status, isolation, plan, settings FROM tenancy.tenants WHERE slug = 'initech';
RESET ROLE;

-- Lifecycle: suspended with a reason, archived, active again; unknown tenants.
SELECT tenancy.suspend_tenant('initech', 'unpaid invoices');
SELECT status, status_reason FROM tenancy.tenants WHERE slug = 'initech';
SELECT tenancy.archive_tenant('initech', 'contract ended');
SELECT tenancy.suspend_tenant('initech');
:sqlstate
SELECT status, status_reason FROM tenancy.tenants WHERE slug = 'initech';
SELECT tenancy.activate_tenant('initech');
SELECT status, status_reason FROM tenancy.tenants WHERE slug = 'initech';
SELECT tenancy.suspend_tenant('no-such-tenant');
:sqlstate
SELECT tenancy.activate_tenant(NULL);
:sqlstate

-- A tenant is named by slug or by uuid, in either case.
SELECT tenancy.suspend_tenant((SELECT upper(id::text) FROM tenancy.tenants WHERE slug = 'initech'));
SELECT status FROM tenancy.tenants WHERE slug = 'initech';
SELECT tenancy.activate_tenant((SELECT id::text FROM tenancy.tenants WHERE slug = 'initech'));

-- drop_tenant removes the tenant, its memberships and its rows in protected tables.
SELECT set_config('tenancy.tenant', 'initech', false);
SET ROLE ops;
INSERT INTO app.invoices (id, customer, amount) VALUES (9001, 'Initech customer', 1);
RESET ROLE;
RESET tenancy.tenant;
SELECT count(*) AS initech_rows FROM app.invoices WHERE customer = 'Initech customer';
SELECT tenancy.drop_tenant('initech');
SELECT count(*) AS initech_rows FROM app.invoices WHERE customer = 'Initech customer';
SELECT count(*) AS initech_members FROM tenancy.memberships WHERE actor = 'mallory';
SELECT slug FROM tenancy.tenants ORDER BY slug;
SELECT tenancy.drop_tenant('initech');
:sqlstate

-- The catalog cannot be written around the functions, and only platform
-- admins of this database read it.
SET ROLE alice;
INSERT INTO tenancy.tenants (slug, name) VALUES ('sneaky', 'Sneaky');
:sqlstate
UPDATE tenancy.memberships SET role = 'owner';
:sqlstate
SELECT count(*) FROM tenancy.memberships;
:sqlstate
RESET ROLE;

-- my_tenants() lists the caller's own active memberships.
SET ROLE carol;
SELECT slug, name, role, status FROM tenancy.my_tenants();
RESET ROLE;

-- Settings: a tenant's own jsonb; owners and platform admins change them,
-- admins read them, members neither.
SET ROLE alice;
SELECT tenancy.set_tenant_setting('acme', 'theme', '"dark"');
SELECT tenancy.set_tenant_setting('acme', 'max_users', '25');
SELECT tenancy.set_tenant_setting('acme', 'theme', NULL);
SELECT tenancy.set_tenant_setting('acme', 'Bad Key', '1');
:sqlstate
RESET ROLE;
SET ROLE carol;
SELECT tenancy.tenant_settings('acme');
SELECT tenancy.set_tenant_setting('acme', 'max_users', '1000');
:sqlstate
RESET ROLE;
SET ROLE dave;
SELECT tenancy.tenant_settings('acme');
:sqlstate
RESET ROLE;
