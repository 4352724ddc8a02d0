-- Code of a table's owner that pg_tenancy runs as the owner never sees other
-- tenants' rows: a backfill expression, the table's triggers while
-- drop_tenant() removes a tenant's rows, functions folded while a table's
-- rows are counted. The owner is never exempt from forced row level security
-- there: protected tables are closed, or show the one tenant concerned, and
-- settings the owner's code changes are thrown away. While a table is
-- protected online, a writer places rows only in tenants it belongs to.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- Rows of acme and globex in the protected app.invoices (owner app_owner).
SET ROLE alice;
SET tenancy.tenant = 'acme';
INSERT INTO app.invoices VALUES (9001, 'acme secret', 1);
RESET tenancy.tenant;
SET ROLE bob;
SET tenancy.tenant = 'globex';
INSERT INTO app.invoices VALUES (9002, 'globex secret', 2);
RESET tenancy.tenant;
RESET ROLE;
SELECT id AS globex_id FROM tenancy.tenants WHERE slug = 'globex' \gset

-- 1. A backfill expression (the owner's SQL, run as the owner) cannot read
-- or write a protected table, not even through a function.
SET ROLE app_owner;
CREATE TABLE app.scope_staging (id int PRIMARY KEY);
INSERT INTO app.scope_staging VALUES (1);
GRANT SELECT ON app.scope_staging TO PUBLIC;
CREATE FUNCTION app.scope_tamper() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    UPDATE app.invoices SET customer = 'tampered';
    RETURN NULL;
END $$;
RESET ROLE;
SELECT tenancy.protect('app.scope_staging', backfill => 'acme',
                       backfill_from => '(SELECT string_agg(customer, '','') FROM app.invoices)');
:sqlstate
SELECT tenancy.protect('app.scope_staging', backfill => 'acme', backfill_from => 'app.scope_tamper()');
:sqlstate
-- Nothing changed: the table is not protected, the invoices are as they were.
SELECT count(*) AS protected FROM tenancy.protected_tables WHERE relid = 'app.scope_staging'::regclass;
SELECT id, customer FROM app.invoices WHERE id IN (9001, 9002) ORDER BY id;
-- A backfill that uses the row's own columns still works.
SELECT tenancy.protect('app.scope_staging', backfill => 'acme');
SET ROLE alice;
SET tenancy.tenant = 'acme';
SELECT id FROM app.scope_staging;
RESET tenancy.tenant;
RESET ROLE;

-- 2. drop_tenant() removes a tenant's rows as each table's owner: the
-- owner's delete trigger sees only the removed tenant's rows, and what it
-- does to the session's settings does not outlive the call.
SET ROLE app_owner;
CREATE TABLE app.scope_loot (customer text);
CREATE FUNCTION app.scope_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO app.scope_loot SELECT customer FROM app.invoices;
    PERFORM set_config('search_path', 'app, pg_catalog, public', false);
    PERFORM set_config('work_mem', '7MB', false);
    RETURN OLD;
END $$;
CREATE TRIGGER scope_on_delete BEFORE DELETE ON app.invoices FOR EACH ROW EXECUTE FUNCTION app.scope_on_delete();
RESET ROLE;
SELECT tenancy.create_tenant('doomed', 'Doomed', owner => 'mallory') IS NOT NULL AS created;
SET ROLE mallory;
SET tenancy.tenant = 'doomed';
INSERT INTO app.invoices VALUES (9003, 'doomed row', 3);
RESET tenancy.tenant;
RESET ROLE;
SHOW work_mem;
SELECT tenancy.drop_tenant('doomed');
SHOW work_mem;
SHOW search_path;
SELECT customer FROM app.scope_loot ORDER BY customer;
SET ROLE app_owner;
DROP TRIGGER scope_on_delete ON app.invoices;
RESET ROLE;

-- And pg_tenancy judges the table's owner meanwhile, not the platform admin
-- who dropped the tenant: the owner's trigger cannot give itself rights.
SET ROLE app_owner;
CREATE OR REPLACE FUNCTION app.scope_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO app.scope_loot VALUES ('actor ' || tenancy.actor());
    BEGIN
        PERFORM tenancy.grant_platform_admin('app_owner');
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO app.scope_loot VALUES ('grant: ' || SQLERRM);
    END;
    BEGIN
        PERFORM tenancy.add_member('globex', 'app_owner', 'owner');
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO app.scope_loot VALUES ('member: ' || SQLERRM);
    END;
    RETURN OLD;
END $$;
CREATE TRIGGER scope_on_delete BEFORE DELETE ON app.invoices FOR EACH ROW EXECUTE FUNCTION app.scope_on_delete();
TRUNCATE app.scope_loot;
RESET ROLE;
SELECT tenancy.create_tenant('doomed', 'Doomed', owner => 'mallory') IS NOT NULL AS created;
SET ROLE mallory;
SET tenancy.tenant = 'doomed';
INSERT INTO app.invoices VALUES (9003, 'doomed row', 3);
RESET tenancy.tenant;
RESET ROLE;
SELECT tenancy.drop_tenant('doomed');
SELECT customer FROM app.scope_loot ORDER BY customer;
SELECT platform_admin FROM tenancy.platform_roles() WHERE role = 'app_owner';
SELECT count(*) AS app_owner_in_globex FROM tenancy.member_list('globex') WHERE actor = 'app_owner';
SET ROLE app_owner;
DROP TRIGGER scope_on_delete ON app.invoices;
RESET ROLE;

-- Nor can it read a cursor its caller opened with the caller's tenant: a
-- platform admin (ops, a viewer of globex for this) reads globex's invoices
-- through a cursor, then drops a tenant in the same transaction.
SET ROLE app_owner;
TRUNCATE app.scope_loot;
CREATE FUNCTION app.scope_fetch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c refcursor := 'admin_cursor';
    r record;
BEGIN
    FETCH c INTO r;
    INSERT INTO app.scope_loot VALUES ('fetched ' || r.customer);
    RETURN OLD;
EXCEPTION WHEN OTHERS THEN
    INSERT INTO app.scope_loot VALUES ('fetch: ' || SQLERRM);
    RETURN OLD;
END $$;
CREATE TRIGGER scope_fetch BEFORE DELETE ON app.invoices FOR EACH ROW EXECUTE FUNCTION app.scope_fetch();
RESET ROLE;
SELECT tenancy.add_member('globex', 'ops', 'viewer');
SELECT tenancy.create_tenant('doomed', 'Doomed', owner => 'mallory') IS NOT NULL AS created;
SET ROLE mallory;
SET tenancy.tenant = 'doomed';
INSERT INTO app.invoices VALUES (9003, 'doomed row', 3);
RESET tenancy.tenant;
SET ROLE ops;
BEGIN;
SET LOCAL tenancy.tenant = 'globex';
DECLARE admin_cursor CURSOR FOR SELECT customer FROM app.invoices WHERE customer LIKE 'globex%' ORDER BY id;
SELECT tenancy.drop_tenant('doomed');
COMMIT;
RESET ROLE;
SELECT customer FROM app.scope_loot ORDER BY customer;
-- A cursor WITH HOLD serves its rows from a store that no check sees: while
-- the session has one, pg_tenancy runs no owner's code.
SELECT tenancy.create_tenant('doomed', 'Doomed', owner => 'mallory') IS NOT NULL AS created;
SET ROLE ops;
SET tenancy.tenant = 'globex';
BEGIN;
DECLARE held_cursor CURSOR WITH HOLD FOR SELECT customer FROM app.invoices WHERE customer LIKE 'globex%';
COMMIT;
RESET tenancy.tenant;
SELECT tenancy.drop_tenant('doomed');
:sqlstate
CLOSE held_cursor;
-- So does a cursor over a statement with RETURNING, once fetched from.
BEGIN;
SET LOCAL tenancy.tenant = 'globex';
CREATE FUNCTION pg_temp.open_returning(c refcursor) RETURNS refcursor LANGUAGE plpgsql AS $$
BEGIN
    OPEN c FOR UPDATE app.invoices SET amount = amount WHERE customer LIKE 'globex%' RETURNING customer;
    RETURN c;
END $$;
SELECT pg_temp.open_returning('returning_cursor');
FETCH 1 FROM returning_cursor;
SELECT tenancy.drop_tenant('doomed');
:sqlstate
ROLLBACK;
SELECT tenancy.drop_tenant('doomed');
RESET ROLE;
SELECT tenancy.remove_member('globex', 'ops');
SET ROLE app_owner;
DROP TRIGGER scope_fetch ON app.invoices;
DROP FUNCTION app.scope_fetch();
RESET ROLE;

-- 3. tenant_details() counts a tenant's rows by a direct scan: no code of the
-- owner runs, not even a function that planning would fold (the predicate of
-- a partial index).
SET ROLE app_owner;
TRUNCATE app.scope_loot;
CREATE FUNCTION app.scope_grab() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO app.scope_loot SELECT 'grabbed ' || customer FROM app.invoices;
    RETURN true;
EXCEPTION WHEN OTHERS THEN
    INSERT INTO app.scope_loot VALUES ('grab: ' || SQLERRM);
    RETURN true;
END $$;
CREATE FUNCTION app.scope_folded(int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN app.scope_grab();
END $$;
CREATE TABLE app.scope_notes (id int PRIMARY KEY, body text);
CREATE INDEX scope_notes_partial ON app.scope_notes (id) WHERE app.scope_folded(1);
TRUNCATE app.scope_loot;
RESET ROLE;
-- protect() checks the rows as the owner: the folded function runs there,
-- and finds protected tables closed.
SELECT tenancy.protect('app.scope_notes');
SELECT DISTINCT customer AS while_protecting FROM app.scope_loot;
TRUNCATE app.scope_loot;
SELECT t->>'table' AS counted, t->>'rows' AS rows FROM jsonb_array_elements(tenancy.tenant_details('acme')->'tables') t
 WHERE t->>'table' IN ('app.invoices', 'app.scope_notes') ORDER BY 1;
SELECT count(*) AS owner_code_runs FROM app.scope_loot;

-- 4. During an online protection, the tenant a written row names is looked
-- up only for tenants the writer belongs to: no oracle of other tenants, and
-- no row placed in them by a non-member, by expression or by tenant_id.
SET ROLE app_owner;
CREATE TABLE app.scope_legacy (id int PRIMARY KEY, org text);
GRANT SELECT, INSERT, UPDATE ON app.scope_legacy TO PUBLIC;
SELECT tenancy.protect_online('app.scope_legacy', backfill_from => 'org', unassigned => 'backfill');
SELECT step FROM tenancy.protect_online_step('app.scope_legacy');
RESET ROLE;
SET ROLE mallory;
SELECT count(*) AS mallory_tenants FROM tenancy.my_tenants();
CREATE TEMP TABLE scope_probe (ref text, found uuid);
CREATE FUNCTION pg_temp.scope_probe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.found := tenancy._online_tenant_of('app.scope_legacy'::regclass, NEW.ref);
    RETURN NEW;
END $$;
CREATE TRIGGER scope_probe BEFORE INSERT ON scope_probe FOR EACH ROW EXECUTE FUNCTION pg_temp.scope_probe();
INSERT INTO scope_probe (ref) VALUES ('acme'), ('globex'), ('nosuch');
SELECT ref, found IS NULL AS told_nothing FROM scope_probe ORDER BY ref;
INSERT INTO app.scope_legacy VALUES (1, 'globex');
:sqlstate
INSERT INTO app.scope_legacy (id, org, tenant_id) VALUES (2, 'x', :'globex_id');
:sqlstate
RESET ROLE;
-- globex's owner names globex, by expression and by tenant_id.
SET ROLE bob;
INSERT INTO app.scope_legacy VALUES (3, 'globex');
INSERT INTO app.scope_legacy (id, org, tenant_id) VALUES (4, 'x', :'globex_id');
RESET ROLE;
SELECT id, tenant_id = :'globex_id' AS in_globex FROM app.scope_legacy ORDER BY id;
SELECT tenancy.protect_online_cancel('app.scope_legacy');

-- _known_tenants() answers only the backfill statement it is built into:
-- called directly, by the owner, with any set of tenants it may fill, it is
-- refused (it would tell which tenants exist).
SET ROLE app_owner;
CREATE TABLE app.scope_legacy2 (id int PRIMARY KEY, org text);
SELECT tenancy.protect_online('app.scope_legacy2', backfill_from => 'org');
SELECT * FROM tenancy._known_tenants('app.scope_legacy2', ARRAY['acme', 'globex'], NULL);
:sqlstate
SELECT tenancy.protect_online_cancel('app.scope_legacy2');
DROP TABLE app.scope_legacy2;
RESET ROLE;

-- 5. A foreign key's action runs as the referencing table's owner, exempt
-- from forced row level security; the owner's trigger it fires is not: it
-- sees the rows of the writer's tenant only.
SET ROLE app_owner;
CREATE TABLE app.scope_parent (id int PRIMARY KEY);
CREATE TABLE app.scope_child (id int PRIMARY KEY, parent_id int REFERENCES app.scope_parent ON DELETE CASCADE,
                              secret text);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.scope_parent, app.scope_child TO PUBLIC;
CREATE TABLE app.scope_seen (seen text);
GRANT INSERT ON app.scope_seen TO PUBLIC;
CREATE FUNCTION app.scope_child_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO app.scope_seen SELECT 'child ' || secret FROM app.scope_child;
    INSERT INTO app.scope_seen SELECT 'invoice ' || customer FROM app.invoices;
    RETURN OLD;
END $$;
CREATE TRIGGER scope_child_deleted BEFORE DELETE ON app.scope_child FOR EACH ROW
    EXECUTE FUNCTION app.scope_child_deleted();
RESET ROLE;
SELECT tenancy.protect('app.scope_parent'), tenancy.protect('app.scope_child');
SET ROLE bob;
SET tenancy.tenant = 'globex';
INSERT INTO app.scope_parent VALUES (2);
INSERT INTO app.scope_child VALUES (2, 2, 'globex child');
SET ROLE alice;
SET tenancy.tenant = 'acme';
INSERT INTO app.scope_parent VALUES (1);
INSERT INTO app.scope_child VALUES (1, 1, 'acme child');
DELETE FROM app.scope_parent WHERE id = 1;
RESET tenancy.tenant;
RESET ROLE;
SELECT seen FROM app.scope_seen ORDER BY seen;
-- What the guard cannot cover, the health check names: a rule rewrites the
-- action's own statement (it runs exempt), and an index over the owner's
-- range type keeps its support functions set up from before the action.
SET ROLE app_owner;
CREATE TABLE app.scope_ruled (id int PRIMARY KEY, parent_id int REFERENCES app.scope_parent ON DELETE CASCADE);
CREATE TABLE app.scope_seen2 (seen text);
CREATE RULE scope_copy AS ON DELETE TO app.scope_ruled DO ALSO
    INSERT INTO app.scope_seen2 SELECT customer FROM app.invoices;
CREATE FUNCTION app.scope_diff(a float8, b float8) RETURNS float8 LANGUAGE sql IMMUTABLE AS 'SELECT a - b';
CREATE TYPE app.scope_range AS RANGE (subtype = float8, subtype_diff = app.scope_diff);
CREATE TABLE app.scope_ranged (id int PRIMARY KEY, parent_id int REFERENCES app.scope_parent ON UPDATE CASCADE);
CREATE INDEX scope_ranged_gist ON app.scope_ranged USING gist (app.scope_range(parent_id, parent_id + 1));
RESET ROLE;
SELECT severity, object, problem FROM tenancy.health_check()
 WHERE object IN ('app.scope_ruled', 'app.scope_ranged') ORDER BY object, severity;
SET ROLE app_owner;
DROP TABLE app.scope_ruled, app.scope_seen2, app.scope_ranged;
DROP TYPE app.scope_range;
DROP FUNCTION app.scope_diff(float8, float8);
RESET ROLE;
SELECT tenancy.unprotect('app.scope_child'), tenancy.unprotect('app.scope_parent');
SET ROLE app_owner;
DROP TABLE app.scope_child, app.scope_parent, app.scope_seen;
DROP FUNCTION app.scope_child_deleted();
RESET ROLE;

-- Clean up.
SET ROLE app_owner;
DROP TABLE app.scope_legacy, app.scope_loot;
DROP FUNCTION app.scope_on_delete(), app.scope_tamper();
RESET ROLE;
SELECT tenancy.unprotect('app.scope_staging'), tenancy.unprotect('app.scope_notes');
SET ROLE app_owner;
DROP TABLE app.scope_staging, app.scope_notes;
DROP FUNCTION app.scope_folded(int), app.scope_grab();
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'acme';
DELETE FROM app.invoices WHERE id = 9001;
RESET tenancy.tenant;
SET ROLE bob;
SET tenancy.tenant = 'globex';
DELETE FROM app.invoices WHERE id = 9002;
RESET tenancy.tenant;
RESET ROLE;
