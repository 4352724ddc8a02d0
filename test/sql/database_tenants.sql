-- Database-mode tenants: each has its own database, tenant_<slug>, created
-- and bound by create_tenant(); inside it the tenant is fixed and its
-- schema open only to its members by role; members, status and platform
-- grants reach it before the control database's transaction commits; it
-- goes after the transaction that drops the tenant commits, or that created
-- it rolls back.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'
SELECT current_database() AS control, current_user AS admin \gset

CREATE ROLE dbt_ann LOGIN PASSWORD 'dbt-test';
CREATE ROLE dbt_bo LOGIN PASSWORD 'dbt-test';
CREATE ROLE dbt_cy LOGIN PASSWORD 'dbt-test';
CREATE ROLE dbt_ops LOGIN PASSWORD 'dbt-test';
SELECT tenancy.isolation_problem('database') IS NULL AS database_supported;

-- A tenant migration applied before the tenant exists, by the migration
-- role (the control database's owner, a platform admin).
CREATE ROLE dbt_migrator LOGIN;
SELECT tenancy.grant_platform_admin('dbt_migrator');
ALTER DATABASE :"control" OWNER TO dbt_migrator;
SET ROLE dbt_migrator;
BEGIN;
SELECT tenancy.start_migration('tenant', NULL, '0900_dbt_notes.sql', repeat('d', 64),
    'CREATE TABLE dbt_notes (id int PRIMARY KEY, body text NOT NULL);');
CREATE TABLE public.dbt_notes (id int PRIMARY KEY, body text NOT NULL);
SELECT tenancy.finish_migration('tenant', NULL, '0900_dbt_notes.sql') IS NOT NULL AS finished;
COMMIT;
RESET ROLE;

-- A tenant with its own database, with every tenant migration applied so
-- far, owned by the control database's owner.
SELECT tenancy.create_tenant('dbt-one', 'One', owner => 'dbt_ann', isolation => 'database') IS NOT NULL AS created;
SELECT tenancy.tenant_database('dbt-one') AS database, tenancy.tenant_schema('dbt-one') AS schema;
SELECT d.datname, pg_get_userbyid(d.datdba) AS owner FROM pg_database d WHERE d.datname = 'tenant_dbt_one';
SELECT t.isolation, d.database_name, d.generation FROM tenancy.tenants t JOIN tenancy.tenant_databases d
    ON d.tenant_id = t.id WHERE t.slug = 'dbt-one';
-- It is entered by connecting to it, not from here.
SELECT tenancy.enter('dbt-one');
:sqlstate

\c tenant_dbt_one :admin
-- Bound to its tenant and to the control database; the tenant is selected
-- and its schema searched first by default.
SELECT b.control_database = :'control' AS bound_here, b.generation FROM tenancy.database_binding b;
SELECT slug, isolation, schema_name FROM tenancy.tenants;
SELECT actor, role FROM tenancy.memberships;
SHOW tenancy.tenant;
SHOW search_path;
SELECT tenancy.tenant_database('dbt-one') = current_database() AS own_database;
SELECT version, applied_by FROM tenancy.migrations WHERE scope = 'tenant';
SELECT pg_get_userbyid(c.relowner) AS owner FROM pg_class c WHERE c.oid = 'tenant_dbt_one.dbt_notes'::regclass;
-- A table of the tenant, as its migrations would make it.
SELECT tenancy.enter('dbt-one');
CREATE TABLE items (id int PRIMARY KEY, title text NOT NULL);
GRANT USAGE ON SCHEMA tenant_dbt_one TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON items TO PUBLIC;

\c 'dbname=tenant_dbt_one user=dbt_ann password=dbt-test'
SELECT tenancy.current_tenant(), tenancy.current_role();
INSERT INTO items VALUES (1, 'first');
SELECT * FROM items;
-- The tenant is fixed: no other tenant exists here.
SET tenancy.tenant = 'dbt-two';
SELECT * FROM tenant_dbt_one.items;
:sqlstate
RESET tenancy.tenant;
-- Members are managed in the control database only.
SELECT tenancy.add_member('dbt-one', 'dbt_bo', 'owner');
:sqlstate

\c 'dbname=tenant_dbt_one user=dbt_bo password=dbt-test'
-- Not a member: the schema is out of the search path and closed by name.
SELECT * FROM items;
:sqlstate
SELECT * FROM tenant_dbt_one.items;
:sqlstate
COPY tenant_dbt_one.items TO STDOUT;
:sqlstate
-- The copy of the catalog is written by pg_tenancy's worker only, and the
-- worker's functions are closed.
SELECT tenancy._apply_tenant_state('{}');
:sqlstate
SELECT tenancy._run_in_database('postgres', '', 'SELECT 1', '');
:sqlstate
SELECT tenancy._run_outside_transaction('DROP DATABASE tenant_dbt_one');
:sqlstate

\c :control :admin
SELECT tenancy.add_member('dbt-one', 'dbt_bo', 'viewer');
\c 'dbname=tenant_dbt_one user=dbt_bo password=dbt-test'
-- A viewer now, with the viewer's rights.
SELECT * FROM items;
INSERT INTO items VALUES (2, 'second');
:sqlstate

\c :control :admin
SELECT tenancy.set_member_role('dbt-one', 'dbt_bo', 'member');
\c 'dbname=tenant_dbt_one user=dbt_bo password=dbt-test'
INSERT INTO items VALUES (2, 'second');
DELETE FROM items WHERE id = 2;
:sqlstate

-- Revoked in the control database: refused from the next statement.
\c :control :admin
SELECT tenancy.remove_member('dbt-one', 'dbt_bo');
\c 'dbname=tenant_dbt_one user=dbt_bo password=dbt-test'
SELECT * FROM tenant_dbt_one.items;
:sqlstate

-- Suspended in the control database: refused in the tenant's database.
\c :control :admin
SELECT tenancy.suspend_tenant('dbt-one', 'unpaid');
\c 'dbname=tenant_dbt_one user=dbt_ann password=dbt-test'
SELECT * FROM tenant_dbt_one.items;
:sqlstate
\c :control :admin
SELECT tenancy.activate_tenant('dbt-one');

-- Platform admins of the control database are platform admins there too,
-- and their entries are recorded there.
SELECT tenancy.grant_platform_admin('dbt_ops');
\c 'dbname=tenant_dbt_one user=dbt_ops password=dbt-test'
SELECT count(*) AS rows FROM tenant_dbt_one.items;
SELECT tenancy.wait_for_access_log() AS written;
SELECT count(*) > 0 AS entry_recorded FROM tenancy.audit_log WHERE operation = 'ENTER' AND actor = 'dbt_ops';
-- A platform admin there does not manage the tenant there either.
SELECT tenancy.drop_tenant('dbt-one');
:sqlstate
\c :control :admin
SELECT tenancy.revoke_platform_admin('dbt_ops');
\c 'dbname=tenant_dbt_one user=dbt_ops password=dbt-test'
SELECT count(*) FROM tenant_dbt_one.items;
:sqlstate

-- A second tenant: a member of the first is a stranger in its database.
\c :control :admin
SELECT tenancy.create_tenant('dbt-two', 'Two', owner => 'dbt_cy', isolation => 'database') IS NOT NULL AS created;
\c tenant_dbt_two :admin
SELECT tenancy.enter('dbt-two');
CREATE TABLE items (id int PRIMARY KEY, title text NOT NULL);
GRANT USAGE ON SCHEMA tenant_dbt_two TO PUBLIC;
GRANT SELECT ON items TO PUBLIC;
INSERT INTO items VALUES (7, 'two''s');
\c 'dbname=tenant_dbt_two user=dbt_ann password=dbt-test'
SELECT * FROM tenant_dbt_two.items;
:sqlstate
SET tenancy.tenant = 'dbt-one';
SELECT * FROM tenant_dbt_two.items;
:sqlstate

-- A database that exists already is never taken over.
\c :control :admin
CREATE DATABASE tenant_dbt_taken;
SELECT tenancy.create_tenant('dbt-taken', 'Taken', isolation => 'database');
:sqlstate
DROP DATABASE tenant_dbt_taken;
-- Too long a slug for a database name.
SELECT tenancy.create_tenant('dbt-' || repeat('x', 55), 'Long', isolation => 'database');
:sqlstate

-- Waits (up to 30 s) until a database exists or not, as wanted.
CREATE FUNCTION pg_temp.wait_for_database(name text, wanted boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..300 LOOP
        IF EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = name) = wanted THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN false;
END
$$;

-- A creation rolled back, or a savepoint rolled back, leaves no database.
BEGIN;
SELECT tenancy.create_tenant('dbt-gone', 'Gone', isolation => 'database') IS NOT NULL AS created;
SELECT count(*) AS exists_meanwhile FROM pg_database WHERE datname = 'tenant_dbt_gone';
ROLLBACK;
SELECT pg_temp.wait_for_database('tenant_dbt_gone', false) AS gone_after_rollback;
BEGIN;
SAVEPOINT kept;
SELECT tenancy.create_tenant('dbt-kept', 'Kept', isolation => 'database') IS NOT NULL AS created;
RELEASE kept;
SAVEPOINT undone;
SELECT tenancy.create_tenant('dbt-undone', 'Undone', isolation => 'database') IS NOT NULL AS created;
ROLLBACK TO undone;
COMMIT;
SELECT pg_temp.wait_for_database('tenant_dbt_undone', false) AS undone_gone,
       pg_temp.wait_for_database('tenant_dbt_kept', true) AS kept_there;
-- PREPARE TRANSACTION cannot hold a database created outside it.
BEGIN;
SELECT tenancy.create_tenant('dbt-prepared', 'Prepared', isolation => 'database') IS NOT NULL AS created;
PREPARE TRANSACTION 'dbt';
:sqlstate
SELECT pg_temp.wait_for_database('tenant_dbt_prepared', false) AS prepared_gone;

-- The health check: a database behind on the tenant's state is reported,
-- sync_tenant_database() brings it up to date.
SELECT severity, object, problem FROM tenancy.health_check() WHERE object LIKE 'tenant\_dbt%';
UPDATE tenancy.tenant_databases SET generation = generation + 5
 WHERE tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'dbt-one');
SELECT severity, object, regexp_replace(problem, 'state \d+ of \d+', 'state N of M') AS problem, hint
  FROM tenancy.health_check() WHERE object LIKE 'tenant\_dbt%';
SELECT tenancy.sync_tenant_database('dbt-one') > 0 AS synced;
SELECT severity, object, problem FROM tenancy.health_check() WHERE object LIKE 'tenant\_dbt%';
SELECT tenancy.sync_tenant_database('dbt-nowhere');
:sqlstate

-- Dropping a tenant drops its database once the transaction commits; not
-- before, and not when it rolls back.
BEGIN;
SELECT tenancy.drop_tenant('dbt-kept');
ROLLBACK;
SELECT pg_temp.wait_for_database('tenant_dbt_kept', true) AS kept_after_rollback;
SELECT tenancy.drop_tenant('dbt-kept');
SELECT tenancy.drop_tenant('dbt-two');
SELECT tenancy.drop_tenant('dbt-one');
SELECT pg_temp.wait_for_database('tenant_dbt_kept', false) AS kept_gone,
       pg_temp.wait_for_database('tenant_dbt_two', false) AS two_gone,
       pg_temp.wait_for_database('tenant_dbt_one', false) AS one_gone;
SELECT count(*) AS tenant_databases_left FROM tenancy.tenant_databases;

DELETE FROM tenancy.migration_scripts WHERE version = '0900_dbt_notes.sql';
DELETE FROM tenancy.migrations WHERE version = '0900_dbt_notes.sql';
DROP TABLE public.dbt_notes;
ALTER DATABASE :"control" OWNER TO :admin;
SELECT tenancy.revoke_platform_admin('dbt_migrator');
DROP ROLE dbt_ann, dbt_bo, dbt_cy, dbt_ops, dbt_migrator;
