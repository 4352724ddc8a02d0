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
SELECT count(*) FROM tenancy.tenants;
:sqlstate
SELECT count(*) FROM tenancy.access_denials;
:sqlstate
SELECT * FROM tenancy.platform_roles();
:sqlstate
SELECT * FROM tenancy.prune_audit('1 year');
:sqlstate
SELECT tenancy.grant_platform_admin('ops');
:sqlstate
-- The strict table belongs to tenancy_table_owner, whose member ops is not
-- (no role is): no schema change, no drop, no TRUNCATE, and
-- tenancy.as_table_owner() is for this database's platform admins.
SELECT pg_has_role('ops', 'tenancy_table_owner', 'USAGE') AS acts_as_table_owner;
ALTER TABLE app.ledger ADD COLUMN note text;
:sqlstate
SELECT tenancy.as_table_owner('ALTER TABLE app.ledger ADD COLUMN note text');
:sqlstate
DROP TABLE app.ledger;
:sqlstate
TRUNCATE app.ledger;
:sqlstate
RESET ROLE;
-- A role that reads all data (pg_read_all_data) reads no catalog either.
CREATE ROLE all_reader;
GRANT pg_read_all_data TO all_reader;
SET ROLE all_reader;
SELECT (SELECT count(*) FROM tenancy.tenants) AS tenants_seen,
       (SELECT count(*) FROM tenancy.memberships) AS memberships_seen,
       (SELECT count(*) FROM tenancy.platform_grants) AS grants_seen;
RESET ROLE;
DROP ROLE all_reader;
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
SELECT count(*) AS tenants_carol_reads FROM tenancy.tenants;
-- She changes the strict table as its owner, through the function only.
ALTER TABLE app.ledger ADD COLUMN note text;
:sqlstate
SELECT tenancy.as_table_owner('ALTER TABLE app.ledger ADD COLUMN note text');
SELECT tenancy.as_table_owner('CREATE INDEX ledger_amount_idx ON app.ledger (amount)');
SELECT attname FROM pg_attribute WHERE attrelid = 'app.ledger'::regclass AND attname = 'note';
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

-- A role that holds a right cannot be dropped (its grant would be left to an
-- oid a later role may get); DROP OWNED BY takes the right with its
-- privileges, and then it can.
CREATE ROLE passing_ops;
SELECT tenancy.grant_platform_admin('passing_ops');
\set VERBOSITY terse
DROP ROLE passing_ops;
\set VERBOSITY default
DROP OWNED BY passing_ops;
DROP ROLE passing_ops;
SELECT count(*) AS grants_left FROM tenancy.platform_grants WHERE kind = 'platform_admin';

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
