-- Platform rights belong to a database, not to the cluster: ops (a platform
-- admin here) and app_server (a service here) have no rights in a second
-- database, and rights granted there do not reach this one. Superusers are
-- platform admins everywhere.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'
SELECT current_database() AS first_db \gset
SET ROLE ops;
SELECT tenancy.is_platform_admin() AS ops_is_admin_here;
RESET ROLE;

-- A second database with its own tenant and a table protected in strict mode.
CREATE DATABASE tenancy_second;
\c tenancy_second
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION pg_tenancy;
RESET client_min_messages;
SELECT tenancy.create_tenant('initech', 'Initech', owner => 'bob') IS NOT NULL AS created;
CREATE SCHEMA app AUTHORIZATION app_owner;
GRANT USAGE ON SCHEMA app TO PUBLIC;
SET ROLE app_owner;
CREATE TABLE app.ledger (id integer PRIMARY KEY, amount numeric NOT NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.ledger TO PUBLIC;
RESET ROLE;
SELECT tenancy.protect('app.ledger', strict => true);
SET ROLE bob;
SET tenancy.tenant = 'initech';
INSERT INTO app.ledger VALUES (1, 10), (2, 20);
RESET tenancy.tenant;
RESET ROLE;
SELECT role, platform_admin, service FROM tenancy.platform_roles()
 WHERE role IN ('ops', 'app_server', 'carol', 'erin') ORDER BY role;

-- ops is nobody here: no tenant management, no entry into a tenant, no
-- catalog, no platform roles, no retention.
SET ROLE ops;
SELECT tenancy.is_platform_admin() AS ops_is_admin_here;
SELECT tenancy.create_tenant('hooli', 'Hooli');
:sqlstate
SET tenancy.tenant = 'initech';
SELECT count(*) FROM app.ledger;
:sqlstate
RESET tenancy.tenant;
SELECT (SELECT count(*) FROM tenancy.tenants) AS tenants_seen,
       (SELECT count(*) FROM tenancy.memberships) AS memberships_seen,
       (SELECT count(*) FROM tenancy.platform_grants) AS grants_seen,
       (SELECT count(*) FROM tenancy.access_denials) AS denials_seen;
SELECT * FROM tenancy.platform_roles();
:sqlstate
SELECT * FROM tenancy.prune_audit('1 year');
:sqlstate
SELECT tenancy.grant_platform_admin('ops');
:sqlstate
-- Its platform admin right in the first database gave it the rights of
-- tenancy_table_owner, which owns the strict table here: the guards still
-- refuse it every schema change, the drop and TRUNCATE.
SELECT pg_has_role('ops', 'tenancy_table_owner', 'USAGE') AS acts_as_table_owner;
ALTER TABLE app.ledger ADD COLUMN note text;
:sqlstate
ALTER TABLE app.ledger ALTER COLUMN amount SET DEFAULT 0;
:sqlstate
DROP TABLE app.ledger;
:sqlstate
TRUNCATE app.ledger;
:sqlstate
RESET ROLE;
-- Nor does the owner of the table's schema drop it with the schema.
SET ROLE app_owner;
DROP SCHEMA app CASCADE;
:sqlstate
RESET ROLE;

-- app_server is no service here: the actor it asserts is refused.
SET ROLE app_server;
BEGIN;
SET LOCAL tenancy.actor = 'bob';
SET LOCAL tenancy.tenant = 'initech';
SELECT count(*) FROM app.ledger;
:sqlstate
ROLLBACK;
RESET ROLE;

-- Rights granted here: carol becomes a platform admin and erin a service.
SELECT tenancy.grant_platform_admin('carol');
SELECT tenancy.grant_service('erin');
SELECT role, platform_admin, service FROM tenancy.platform_roles()
 WHERE role IN ('ops', 'app_server', 'carol', 'erin') ORDER BY role;
SET ROLE carol;
SELECT tenancy.is_platform_admin() AS carol_is_admin_here;
ALTER TABLE app.ledger ADD COLUMN note text;
SET tenancy.tenant = 'initech';
SELECT count(*) AS carol_reads_initech FROM app.ledger;
RESET tenancy.tenant;
RESET ROLE;
SET ROLE erin;
BEGIN;
SET LOCAL tenancy.actor = 'bob';
SET LOCAL tenancy.tenant = 'initech';
SELECT count(*) AS erin_acts_for_bob FROM app.ledger;
COMMIT;
RESET ROLE;

-- Back in the first database, none of that holds: carol is only the acme
-- admin she was, erin asserts nobody, and ops is still a platform admin.
\c :first_db
\set VERBOSITY default
\set SHOW_CONTEXT never
SET ROLE carol;
SELECT tenancy.is_platform_admin() AS carol_is_admin_here;
SELECT tenancy.create_tenant('hooli', 'Hooli');
:sqlstate
SET tenancy.tenant = 'globex';
SELECT count(*) FROM app.invoices;
:sqlstate
RESET tenancy.tenant;
RESET ROLE;
SET ROLE erin;
BEGIN;
SET LOCAL tenancy.actor = 'alice';
SET LOCAL tenancy.tenant = 'acme';
SELECT count(*) FROM app.invoices;
:sqlstate
ROLLBACK;
RESET ROLE;
SET ROLE ops;
SELECT tenancy.is_platform_admin() AS ops_is_admin_here;
RESET ROLE;
SELECT role, platform_admin, service FROM tenancy.platform_roles()
 WHERE role IN ('ops', 'app_server', 'carol', 'erin') ORDER BY role;

-- Revoking takes effect at the next statement; granting back restores it.
SELECT tenancy.revoke_platform_admin('ops');
SET ROLE ops;
SELECT tenancy.is_platform_admin() AS ops_is_admin_here;
RESET ROLE;
SELECT tenancy.grant_platform_admin('ops');
DROP DATABASE tenancy_second WITH (FORCE);
