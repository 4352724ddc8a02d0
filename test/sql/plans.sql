-- Plans: the features they unlock and the limits they set, a tenant's own
-- limits over its plan's, the members limit enforced (also against platform
-- admins), and every bad input refused with nothing changed.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- "basic" came into being with the first tenant; "pro" was made by tenants.sql.
SELECT name, description, features, limits FROM tenancy.plans WHERE name IN ('basic', 'pro') ORDER BY name;

-- Only platform admins define plans and give them to tenants.
SET ROLE alice;
SELECT tenancy.create_plan('team');
:sqlstate
SELECT tenancy.alter_plan('basic', limits => '{"members": 1}');
:sqlstate
SELECT tenancy.set_plan('acme', 'pro');
:sqlstate
SELECT tenancy.set_limit('acme', 'members', '100');
:sqlstate
SELECT * FROM tenancy.plan_list();
:sqlstate
SELECT count(*) FROM tenancy.plans;
RESET ROLE;

-- Bad input, each refused with nothing created.
SET ROLE ops;
SELECT tenancy.create_plan('Team Plan');
:sqlstate
SELECT tenancy.create_plan(NULL);
:sqlstate
SELECT tenancy.create_plan('pro');
:sqlstate
SELECT tenancy.create_plan('team', features => ARRAY['SSO']);
:sqlstate
SELECT tenancy.create_plan('team', limits => '[1]');
:sqlstate
SELECT tenancy.create_plan('team', limits => '{"seats": 5}');
:sqlstate
SELECT tenancy.create_plan('team', limits => '{"members": -1}');
:sqlstate
SELECT tenancy.create_plan('team', limits => '{"members": 2.5}');
:sqlstate
SELECT tenancy.create_plan('team', limits => '{"members": "5"}');
:sqlstate
SELECT tenancy.create_plan('team', limits => '{"rows": {"invoices": 10}}');
:sqlstate
SELECT tenancy.create_plan('team', limits => '{"rows": {"app.invoices": "many"}}');
:sqlstate
SELECT tenancy.create_plan('team', limits => '{"rows": 10}');
:sqlstate
SELECT tenancy.create_plan('team', limits => '{"statement_timeout": "soon"}');
:sqlstate
SELECT tenancy.create_plan('team', limits => '{"work_mem": "64 parsecs"}');
:sqlstate
SELECT count(*) AS team_plans FROM tenancy.plans WHERE name = 'team';

-- A plan with features and every kind of limit: stored in one form (table
-- names quoted as identifiers, features sorted, nulls dropped).
SELECT tenancy.create_plan('team', features => ARRAY['sso', 'export', 'sso'],
    limits => '{"members": 3, "rows": {"app.invoices": 4, "App.Other": 9, "app.gone": null}, "storage_mb": 500,
                "statement_timeout": " 5s ", "work_mem": "64MB", "note": null}',
    description => 'small teams');
SELECT name, description, features, limits FROM tenancy.plans WHERE name = 'team';
SELECT name, features, tenants FROM tenancy.plan_list() WHERE name IN ('basic', 'pro', 'team') ORDER BY name;

-- A tenant on the team plan: its owner, admin and member fill the three seats.
SELECT tenancy.create_tenant('plan-co', 'Plan Co', owner => 'alice', plan => 'team') IS NOT NULL AS created;
SELECT tenancy.add_member('plan-co', 'carol', 'admin');
SELECT tenancy.add_member('plan-co', 'dave', 'member');
RESET ROLE;

-- The fourth member is refused, whoever adds it; nothing changes.
SET ROLE alice;
SELECT tenancy.add_member('plan-co', 'erin', 'viewer');
:sqlstate
RESET ROLE;
SET ROLE ops;
SELECT tenancy.add_member('plan-co', 'erin', 'viewer');
:sqlstate
SELECT count(*) AS members FROM tenancy.memberships m JOIN tenancy.tenants t ON t.id = m.tenant_id
 WHERE t.slug = 'plan-co';
-- A deactivated member frees a seat; bringing her back needs one.
SELECT tenancy.set_member_active('plan-co', 'dave', false);
SELECT tenancy.add_member('plan-co', 'erin', 'viewer');
SELECT tenancy.set_member_active('plan-co', 'dave', true);
:sqlstate
-- The tenant's own limit overrides the plan's.
SELECT tenancy.set_limit('plan-co', 'members', '4');
SELECT tenancy.set_member_active('plan-co', 'dave', true);
SELECT key, "limit", source, usage FROM tenancy.tenant_limits('plan-co') ORDER BY key;

-- Row limits merge table by table; null takes a table's back to the plan's,
-- a null limit removes the tenant's own.
SELECT tenancy.set_limit('plan-co', 'rows', '{"app.invoices": 40, "app.more": 7}');
SELECT tenancy.set_limit('plan-co', 'rows', '{"app.more": null}');
SELECT key, "limit", source, usage FROM tenancy.tenant_limits('plan-co') ORDER BY key;
SELECT tenancy.set_limit('plan-co', 'members', NULL);
SELECT tenancy.set_limit('plan-co', 'seats', '1');
:sqlstate
SELECT tenancy.set_limit('plan-co', 'rows', '{"invoices": 1}');
:sqlstate
SELECT tenancy.set_limit('plan-nowhere', 'members', '1');
:sqlstate
SELECT limits FROM tenancy.tenants WHERE slug = 'plan-co';
RESET ROLE;

-- Owners and admins read their tenant's limits; members and others do not.
SET ROLE carol;
SELECT key, "limit", source FROM tenancy.tenant_limits('plan-co') ORDER BY key;
SET ROLE dave;
SELECT key FROM tenancy.tenant_limits('plan-co');
:sqlstate
SET ROLE bob;
SELECT key FROM tenancy.tenant_limits('plan-co');
:sqlstate
RESET ROLE;

-- Features of the current tenant: true, false, and a refusal that names the
-- plan; no tenant selected is an error.
SET ROLE alice;
SET tenancy.tenant = 'plan-co';
SELECT tenancy.has_feature('sso') AS sso, tenancy.has_feature('audit-export') AS audit_export,
       tenancy.has_feature(NULL) AS nothing;
SELECT tenancy.require_feature('export');
SELECT tenancy.require_feature('audit-export');
:sqlstate
SET tenancy.tenant = 'acme';
SELECT tenancy.has_feature('sso') AS sso_in_acme;
RESET tenancy.tenant;
SELECT tenancy.has_feature('sso');
:sqlstate
RESET ROLE;

-- Changing a plan reaches its tenants at once; a new plan is an event, with
-- a notice for each limit the tenant is already over.
SET ROLE ops;
SELECT tenancy.alter_plan('team', features => ARRAY['export', 'sso', 'audit-export']);
SET ROLE alice;
SET tenancy.tenant = 'plan-co';
SELECT tenancy.has_feature('audit-export') AS audit_export_now;
RESET tenancy.tenant;
SET ROLE ops;
SELECT tenancy.create_plan('solo', limits => '{"members": 1}');
SELECT tenancy.set_plan('plan-co', 'solo');
SELECT tenancy.set_plan('plan-co', 'nowhere');
:sqlstate
SELECT "from", "to" FROM tenancy.tenant_event_list('plan-co') WHERE event = 'plan' ORDER BY id;
-- A plan in use is not dropped; an unused one is.
SELECT tenancy.drop_plan('solo');
:sqlstate
SELECT tenancy.set_plan('plan-co', 'team');
SELECT tenancy.drop_plan('solo');
SELECT tenancy.drop_plan('solo');
:sqlstate
-- A members limit of 0 refuses even the first owner of a new tenant.
SELECT tenancy.create_plan('closed', limits => '{"members": 0}');
SELECT tenancy.create_tenant('plan-closed', 'Closed', owner => 'bob', plan => 'closed');
:sqlstate
SELECT count(*) AS closed_tenants FROM tenancy.tenants WHERE slug = 'plan-closed';
SELECT tenancy.drop_plan('closed');
RESET ROLE;

-- Row limits: counted by triggers only on the tables a limit names, from
-- the rows already there; a statement that goes over is refused whole.
SET ROLE app_owner;
CREATE TABLE app.plan_items (id integer PRIMARY KEY, body text);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.plan_items TO PUBLIC;
GRANT TRUNCATE ON app.plan_items TO ops;
SELECT tenancy.protect('app.plan_items');
RESET ROLE;
SELECT count(*) AS counting_triggers FROM pg_trigger
 WHERE tgrelid = 'app.plan_items'::regclass AND tgname LIKE 'tenancy_row_%';
SET ROLE alice;
SET tenancy.tenant = 'plan-co';
INSERT INTO app.plan_items VALUES (1, 'one'), (2, 'two');
RESET tenancy.tenant;
RESET ROLE;
SET ROLE ops;
SELECT tenancy.alter_plan('team', limits => '{"members": 5, "rows": {"app.plan_items": 3}}');
RESET ROLE;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'app.plan_items'::regclass AND tgname LIKE 'tenancy_row_%' ORDER BY 1;
SET ROLE alice;
SET tenancy.tenant = 'plan-co';
INSERT INTO app.plan_items VALUES (3, 'three');
INSERT INTO app.plan_items VALUES (4, 'four'), (5, 'five');
:sqlstate
INSERT INTO app.plan_items SELECT g, 'many' FROM generate_series(6, 9) g;
:sqlstate
DELETE FROM app.plan_items WHERE id = 1;
INSERT INTO app.plan_items VALUES (4, 'four');
SELECT id FROM app.plan_items ORDER BY id;
RESET tenancy.tenant;
RESET ROLE;
SELECT t.slug, r.rows FROM tenancy.row_counts r JOIN tenancy.tenants t ON t.id = r.tenant_id
 WHERE r.relid = 'app.plan_items'::regclass;
SET ROLE ops;
SELECT key, "limit", source, usage FROM tenancy.tenant_limits('plan-co') WHERE key LIKE 'rows.%';
-- The tenant's own row limit wins over the plan's.
SELECT tenancy.set_limit('plan-co', 'rows', '{"app.plan_items": 4}');
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'plan-co';
INSERT INTO app.plan_items VALUES (5, 'five');
INSERT INTO app.plan_items VALUES (6, 'six');
:sqlstate
RESET tenancy.tenant;
RESET ROLE;
-- The table's owner can neither disable nor drop the counting triggers.
SET ROLE app_owner;
ALTER TABLE app.plan_items DISABLE TRIGGER tenancy_row_count;
:sqlstate
DROP TRIGGER tenancy_row_count_delete ON app.plan_items;
:sqlstate
RESET ROLE;
-- Nor take their names for triggers of its own, nor replace them (not the
-- audit trigger either), nor tie them to an extension it could drop.
SET ROLE app_owner;
CREATE FUNCTION app.plan_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER tenancy_row_count AFTER UPDATE ON app.plan_items
    FOR EACH STATEMENT EXECUTE FUNCTION app.plan_noop();
:sqlstate
CREATE OR REPLACE TRIGGER tenancy_audit AFTER UPDATE ON app.plan_items
    FOR EACH STATEMENT EXECUTE FUNCTION app.plan_noop();
:sqlstate
CREATE TRIGGER tenancy_decoy AFTER UPDATE ON app.plan_items FOR EACH STATEMENT EXECUTE FUNCTION app.plan_noop();
:sqlstate
ALTER TRIGGER tenancy_row_count ON app.plan_items DEPENDS ON EXTENSION plpgsql;
:sqlstate
ALTER TRIGGER tenancy_audit ON app.plan_items DEPENDS ON EXTENSION plpgsql;
:sqlstate
-- A table whose rows a limit counts takes no part in inheritance, even with
-- another protected table.
CREATE TABLE app.plan_other (id integer PRIMARY KEY, body text);
SELECT tenancy.protect('app.plan_other');
ALTER TABLE app.plan_other INHERIT app.plan_items;
:sqlstate
DROP TABLE app.plan_other;
RESET ROLE;
-- A writable CTE that deletes and inserts in one statement is counted
-- exactly (the counts were taken in full when the limit appeared); its
-- insert is checked before its delete is counted.
SET ROLE alice;
SET tenancy.tenant = 'plan-co';
DELETE FROM app.plan_items WHERE id = 5;
WITH gone AS (DELETE FROM app.plan_items WHERE id IN (2, 3) RETURNING id)
INSERT INTO app.plan_items VALUES (20, 'twenty');
INSERT INTO app.plan_items VALUES (21, 'twenty-one'), (22, 'twenty-two');
INSERT INTO app.plan_items VALUES (23, 'twenty-three');
:sqlstate
SELECT id FROM app.plan_items ORDER BY id;
RESET tenancy.tenant;
RESET ROLE;
SELECT r.rows AS counted, (SELECT count(*) FROM app.plan_items i WHERE i.tenant_id = r.tenant_id) AS actual
  FROM tenancy.row_counts r JOIN tenancy.tenants t ON t.id = r.tenant_id
 WHERE t.slug = 'plan-co' AND r.relid = 'app.plan_items'::regclass;
-- A trigger may not be renamed to a name of pg_tenancy's either.
SET ROLE app_owner;
CREATE TRIGGER plan_decoy AFTER UPDATE ON app.plan_items FOR EACH STATEMENT EXECUTE FUNCTION app.plan_noop();
ALTER TRIGGER plan_decoy ON app.plan_items RENAME TO tenancy_audit;
:sqlstate
DROP TRIGGER plan_decoy ON app.plan_items;
-- A trigger with such a name made before the table is protected makes
-- protect() refuse the table, rather than take it for its own.
CREATE TABLE app.plan_early (id integer PRIMARY KEY);
CREATE TRIGGER tenancy_audit AFTER INSERT ON app.plan_early FOR EACH ROW EXECUTE FUNCTION app.plan_noop();
SELECT tenancy.protect('app.plan_early');
:sqlstate
DROP TABLE app.plan_early;
RESET ROLE;
-- A row limit is added in READ COMMITTED transactions only (the rows are
-- counted with a snapshot taken after the table is locked).
SET ROLE app_owner;
CREATE TABLE app.plan_rr (id integer PRIMARY KEY);
SELECT tenancy.protect('app.plan_rr');
RESET ROLE;
SET ROLE ops;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT tenancy.set_limit('acme', 'rows', '{"app.plan_rr": 1000}');
:sqlstate
ROLLBACK;
RESET ROLE;
SELECT tenancy.unprotect('app.plan_rr');
DROP TABLE app.plan_rr;
-- Renamed by its owner, the table keeps its limit (the health check says to
-- rename it in the plans).
SET ROLE app_owner;
ALTER TABLE app.plan_items RENAME TO plan_things;
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'plan-co';
INSERT INTO app.plan_things VALUES (24, 'twenty-four');
:sqlstate
RESET tenancy.tenant;
RESET ROLE;
SELECT severity, object, problem FROM tenancy.health_check() WHERE object = 'app.plan_things';
-- Renamed in the limits too, it keeps its counts and its limit.
SET ROLE ops;
SELECT tenancy.set_limit('plan-co', 'rows', '{"app.plan_items": null, "app.plan_things": 4}');
RESET ROLE;
SELECT c.limit_name, r.rows FROM tenancy.row_count_tables c JOIN tenancy.row_counts r ON r.relid = c.relid
 WHERE c.relid = 'app.plan_things'::regclass;
SET ROLE alice;
SET tenancy.tenant = 'plan-co';
INSERT INTO app.plan_things VALUES (24, 'twenty-four');
:sqlstate
RESET tenancy.tenant;
RESET ROLE;
SET ROLE app_owner;
ALTER TABLE app.plan_things RENAME TO plan_items;
RESET ROLE;
SET ROLE ops;
SELECT tenancy.set_limit('plan-co', 'rows', '{"app.plan_things": null, "app.plan_items": 4}');
RESET ROLE;
SELECT c.limit_name, r.rows FROM tenancy.row_count_tables c JOIN tenancy.row_counts r ON r.relid = c.relid
 WHERE c.relid = 'app.plan_items'::regclass;
-- A row moved to another tenant (only a role that bypasses the policies can)
-- moves in the counts too; TRUNCATE (a platform admin's) starts them again.
UPDATE app.plan_items SET tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'acme') WHERE id = 4;
SELECT t.slug, r.rows FROM tenancy.row_counts r JOIN tenancy.tenants t ON t.id = r.tenant_id
 WHERE r.relid = 'app.plan_items'::regclass ORDER BY t.slug;
SET ROLE ops;
TRUNCATE app.plan_items;
RESET ROLE;
SELECT count(*) AS counts_after_truncate FROM tenancy.row_counts WHERE relid = 'app.plan_items'::regclass;
-- No limit names the table any more: its triggers and counts go.
SET ROLE ops;
SELECT tenancy.set_limit('plan-co', 'rows', NULL);
SELECT tenancy.alter_plan('team', limits => '{"members": 5}');
RESET ROLE;
SELECT count(*) AS counting_triggers FROM pg_trigger
 WHERE tgrelid = 'app.plan_items'::regclass AND tgname LIKE 'tenancy_row_%';

-- Clean up.
SELECT tenancy.unprotect('app.plan_items');
SET ROLE app_owner;
DROP TABLE app.plan_items;
DROP FUNCTION app.plan_noop();
RESET ROLE;
SELECT tenancy.drop_tenant('plan-co');
SELECT tenancy.drop_plan('team');
