-- Schema-mode tenants: each has its own schema, tenant_<slug>, open only to
-- statements of that tenant, whatever the role's grants; tenancy.enter()
-- selects tenant and search path; migrations replayed for new tenants; the
-- tenant-scoped cache.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- Tenant schemas belong to the database's owner: the migration role
-- migrator here, a platform admin (it enters every tenant).
CREATE ROLE migrator LOGIN;
SELECT tenancy.grant_platform_admin('migrator');
SELECT current_database() AS db \gset
ALTER DATABASE :"db" OWNER TO migrator;
SELECT tenancy.isolation_problem('schema') AS schema_problem, tenancy.isolation_problem('database') AS database_problem;

-- A tenant migration applied before the tenants exist (by the migration
-- role, a platform admin): every schema tenant created later gets it.
SET ROLE migrator;
BEGIN;
SELECT tenancy.start_migration('tenant', NULL, '0001_notes.sql', repeat('a', 64),
    'CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL); '
    'CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql AS $f$ SELECT count(*) FROM notes $f$;');
CREATE TABLE public.notes (id int PRIMARY KEY, body text NOT NULL);
SELECT tenancy.finish_migration('tenant', NULL, '0001_notes.sql') IS NOT NULL AS finished;
COMMIT;
-- Outside a transaction block, or twice with another checksum: refused.
SELECT tenancy.start_migration('tenant', NULL, '0002_more.sql', repeat('b', 64), 'SELECT 1');
:sqlstate
BEGIN;
SELECT tenancy.start_migration('tenant', NULL, '0001_notes.sql', repeat('c', 64), 'SELECT 1');
:sqlstate
ROLLBACK;
BEGIN;
SELECT tenancy.start_migration('tenant', NULL, '0001_notes.sql', repeat('a', 64), 'SELECT 1') AS runs_again;
ROLLBACK;
RESET ROLE;
SET ROLE alice;
BEGIN;
SELECT tenancy.start_migration('shared', NULL, '0001_x.sql', repeat('a', 64), NULL);
:sqlstate
ROLLBACK;
RESET ROLE;

-- Two schema-mode tenants: alice owns north, bob owns south (dave is a
-- member of north, erin a viewer).
SELECT tenancy.create_tenant('north', 'North', owner => 'alice', isolation => 'schema') IS NOT NULL AS created;
SELECT tenancy.create_tenant('south', 'South', owner => 'bob', isolation => 'schema') IS NOT NULL AS created;
SELECT tenancy.add_member('north', 'dave', 'member');
SELECT tenancy.add_member('north', 'erin', 'viewer');
SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname LIKE 'tenant\_%' ORDER BY 1;
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname LIKE 'tenant\_%' AND c.relkind = 'r' ORDER BY 1, 2;
SELECT t.slug, m.version, m.checksum = repeat('a', 64) AS same_checksum, m.applied_by
  FROM tenancy.migrations m JOIN tenancy.tenants t ON t.id = m.tenant_id ORDER BY 1, 2;

-- Names: the schema, no database; members and platform admins only, and the
-- same refusal for a tenant that does not exist.
SET ROLE alice;
SELECT tenancy.tenant_schema('north') AS schema, tenancy.tenant_database('north') AS database;
SELECT tenancy.tenant_schema('south');
:sqlstate
SELECT tenancy.tenant_schema('nowhere');
:sqlstate
RESET ROLE;
SELECT tenancy.tenant_schema('acme') AS row_mode_schema;

-- Slugs whose schema cannot be made: too long, or the schema exists ("-"
-- and "_" give the same name; a schema made by hand is never taken over).
SELECT tenancy.create_tenant(repeat('x', 57), 'Long', isolation => 'schema');
:sqlstate
SELECT tenancy.create_tenant('east-wing', 'East wing', isolation => 'schema') IS NOT NULL AS created;
SELECT tenancy.create_tenant('east_wing', 'Lookalike', isolation => 'schema');
:sqlstate
SELECT tenancy.drop_tenant('east-wing');
CREATE SCHEMA tenant_squatted;
SELECT tenancy.create_tenant('squatted', 'Squatted', isolation => 'schema');
:sqlstate
DROP SCHEMA tenant_squatted;
SELECT count(*) AS tenants_made FROM tenancy.tenants WHERE slug IN ('east_wing', 'squatted');

-- The grants open everything to everyone: only pg_tenancy keeps tenants apart.
GRANT USAGE, CREATE ON SCHEMA tenant_north, tenant_south TO PUBLIC;
GRANT ALL ON ALL TABLES IN SCHEMA tenant_north, tenant_south TO PUBLIC;
GRANT CREATE ON SCHEMA public TO PUBLIC;

-- enter(): the tenant and its schema first in the search path.
SET ROLE bob;
SELECT tenancy.enter('south') AS path;
SHOW search_path;
INSERT INTO notes VALUES (1, 'south secret');
SELECT note_count() AS south_notes;
-- Objects bob makes for later attacks on north's statements.
CREATE FUNCTION tenant_south.planted() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;
CREATE TABLE south_only (x int);
CREATE SEQUENCE south_seq;
CREATE VIEW public.south_view AS SELECT * FROM tenant_south.notes;
GRANT SELECT ON public.south_view TO PUBLIC;
GRANT ALL ON south_only, south_seq TO PUBLIC;
CREATE FUNCTION public.south_reader() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER
    AS $$ SELECT body FROM tenant_south.notes $$;
RESET ROLE;
RESET tenancy.tenant;
RESET search_path;

-- With no tenant selected, tenant schemas are closed.
SET ROLE alice;
SELECT * FROM tenant_north.notes;
:sqlstate
SELECT * FROM public.south_view;
:sqlstate

-- alice in north: her own schema works, south's is refused (42501) by every
-- route: qualified names, views, SECURITY DEFINER functions, functions
-- (inlined SQL ones too), COPY, TRUNCATE, LOCK, DDL; the search path finds
-- nothing there.
SELECT tenancy.enter('north') AS path;
INSERT INTO notes VALUES (1, 'north note');
SELECT * FROM notes;
SELECT * FROM tenant_south.notes;
:sqlstate
UPDATE tenant_south.notes SET body = 'defaced';
:sqlstate
SELECT * FROM public.south_view;
:sqlstate
SELECT public.south_reader();
:sqlstate
SELECT tenant_south.planted();
:sqlstate
-- The search path leaves south's schema out, as PostgreSQL leaves out a
-- schema without USAGE: nothing there is found, so nothing is reached.
SET search_path = tenant_south, public;
SELECT * FROM south_only;
:sqlstate
SELECT planted();
:sqlstate
SELECT nextval('south_seq');
:sqlstate
COPY south_only TO STDOUT;
:sqlstate
TRUNCATE south_only;
:sqlstate
BEGIN;
LOCK TABLE south_only IN ACCESS EXCLUSIVE MODE;
:sqlstate
ROLLBACK;
CREATE TRIGGER planted BEFORE INSERT ON south_only FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
:sqlstate
GRANT SELECT ON south_only TO alice;
:sqlstate
SELECT nextval('tenant_south.south_seq');
:sqlstate
CREATE TABLE tenant_south.planted_table (x int);
:sqlstate
CREATE VIEW public.detour AS SELECT * FROM tenant_south.notes;
:sqlstate
RESET ROLE;
-- The owner of every tenant's tables, in north, reaches south's by no DDL.
SET ROLE migrator;
SELECT tenancy.enter('north') AS path;
ALTER TABLE tenant_south.notes ADD COLUMN defaced boolean;
:sqlstate
SET search_path = tenant_south, public;
ALTER TABLE south_only ADD COLUMN defaced boolean;
:sqlstate
DROP TABLE south_only;
:sqlstate
ALTER TABLE tenant_south.south_only SET SCHEMA tenant_north;
:sqlstate
CREATE TABLE tenant_north.moving (x int);
ALTER TABLE tenant_north.moving SET SCHEMA tenant_south;
:sqlstate
DROP TABLE tenant_north.moving;
SELECT count(*) AS south_changed FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE (n.nspname = 'tenant_south' AND (a.attname = 'defaced' OR c.relname IN ('moving', 'notes_body_idx')))
    OR (n.nspname = 'tenant_north' AND c.relname = 'south_only');
RESET ROLE;
SET ROLE alice;
SELECT tenancy.enter('north') AS path;
-- A statement prepared in one tenant is checked again in the next.
PREPARE north_notes AS SELECT body FROM tenant_north.notes;
EXECUTE north_notes;
RESET ROLE;
SET ROLE bob;
SELECT tenancy.enter('south') AS path;
EXECUTE north_notes;
:sqlstate
DEALLOCATE north_notes;
SELECT body FROM notes;
RESET ROLE;

-- A PL/pgSQL function keeps its plans across calls: checked at each run.
CREATE FUNCTION public.read_north() RETURNS bigint LANGUAGE plpgsql
    AS $$ BEGIN RETURN (SELECT count(*) FROM tenant_north.notes); END $$;
SET ROLE alice;
SELECT tenancy.enter('north') AS path;
SELECT public.read_north() AS north_notes;
RESET ROLE;
SELECT tenancy.add_member('south', 'alice', 'member');
SET ROLE alice;
SELECT tenancy.enter('south') AS path;
SELECT public.read_north();
:sqlstate
RESET ROLE;
SELECT tenancy.remove_member('south', 'alice');

-- Roles: a viewer reads, a member writes, deleting needs an admin.
SET ROLE erin;
SELECT tenancy.enter('north') AS path;
SELECT count(*) AS erin_reads FROM notes;
INSERT INTO notes VALUES (2, 'by erin');
:sqlstate
SET ROLE dave;
SELECT tenancy.enter('north') AS path;
INSERT INTO notes VALUES (2, 'by dave');
DELETE FROM notes WHERE id = 2;
:sqlstate
TRUNCATE notes;
:sqlstate
SET ROLE alice;
DELETE FROM notes WHERE id = 2;
-- Not a member: refused as for a tenant that does not exist.
SET ROLE mallory;
SELECT tenancy.enter('north');
:sqlstate
SELECT tenancy.enter('nowhere');
:sqlstate
RESET ROLE;

-- Inside a transaction block enter() lasts for the transaction only.
SET ROLE alice;
RESET tenancy.tenant;
BEGIN;
SELECT tenancy.enter('north') AS path;
SELECT count(*) AS inside FROM notes;
COMMIT;
SHOW tenancy.tenant;
SELECT count(*) FROM tenant_north.notes;
:sqlstate
RESET ROLE;

-- A platform admin who is not a member enters for support, recorded.
SELECT tenancy.wait_for_access_log() AS earlier_written;
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
SET ROLE ops;
SELECT tenancy.enter('south') AS path;
SELECT body FROM notes;
RESET ROLE;
SELECT tenancy.wait_for_access_log() AS written;
SELECT operation, actor, support_access FROM tenancy.audit_log WHERE id > :mark ORDER BY id;
RESET tenancy.tenant;
RESET search_path;

-- A superuser with no tenant selected sees every tenant schema (pg_dump),
-- and is held to the tenant she selects.
SELECT (SELECT count(*) FROM tenant_north.notes) AS north, (SELECT count(*) FROM tenant_south.notes) AS south;
SELECT tenancy.enter('north') AS path;
SELECT count(*) FROM tenant_south.notes;
:sqlstate
RESET tenancy.tenant;
RESET search_path;

-- A tenant schema is neither dropped nor renamed but with its tenant.
DROP SCHEMA tenant_south CASCADE;
:sqlstate
ALTER SCHEMA tenant_south RENAME TO elsewhere;
:sqlstate
SELECT tenancy.drop_tenant('south');
SELECT count(*) AS south_schema_left FROM pg_namespace WHERE nspname = 'tenant_south';
SELECT count(*) AS south_ledger_left FROM tenancy.migrations m
 WHERE NOT EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.id = m.tenant_id) AND m.tenant_id IS NOT NULL;
SELECT count(*) AS south_view_left FROM pg_class WHERE relname = 'south_view';
DROP FUNCTION public.south_reader();

-- A migration that fails in a new tenant's schema leaves no tenant.
SET ROLE migrator;
BEGIN;
SELECT tenancy.start_migration('tenant', NULL, '0002_fails_later.sql', repeat('d', 64),
    'ALTER TABLE notes ADD COLUMN tag text; SELECT 1 / (SELECT count(*) FROM notes)::int;') AS started;
ALTER TABLE public.notes ADD COLUMN tag text;
INSERT INTO public.notes VALUES (1, 'row mode', 'x');
SELECT 1 / (SELECT count(*) FROM public.notes)::int AS one;
SELECT tenancy.finish_migration('tenant', NULL, '0002_fails_later.sql') IS NOT NULL AS finished;
COMMIT;
RESET ROLE;
SELECT tenancy.create_tenant('west', 'West', isolation => 'schema');
:sqlstate
SELECT count(*) AS west_made FROM tenancy.tenants WHERE slug = 'west';

-- The cache: keys of the validated tenant only.
SET ROLE alice;
SELECT tenancy.cache_key('x');
:sqlstate
SELECT tenancy.enter('north') IS NOT NULL AS entered;
SELECT tenancy.cache_key('user:1') = 'tenant:' || tenancy.current_tenant_id() || ':user:1' AS prefixed;
SELECT tenancy.cache_put('user:1', '{"name": "Alice"}', '1 hour');
SELECT tenancy.cache_put('gone', '1', '1 millisecond');
SELECT tenancy.cache_get('user:1') AS hit, tenancy.cache_get('missing') AS miss;
SELECT pg_sleep(0.01);
SELECT tenancy.cache_get('gone') AS expired;
SELECT tenancy.cache_put('user:1', '{"name": "Alice B."}');
SELECT tenancy.cache_get('user:1') AS replaced;
SELECT tenancy.cache_put(NULL, '1', '1 hour');
:sqlstate
SELECT tenancy.cache_put('', '1', '1 hour');
:sqlstate
SELECT tenancy.cache_put('k', NULL, '1 hour');
:sqlstate
SELECT tenancy.cache_put('k', '1', '-1 second');
:sqlstate
SELECT tenancy.cache_put('k', to_jsonb(repeat('x', 2000000)), '1 hour');
:sqlstate
SELECT * FROM tenancy.cache;
:sqlstate
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'globex';
SELECT tenancy.cache_get('user:1') AS other_tenant;
SELECT tenancy.cache_delete('user:1') AS other_deleted;
SET ROLE alice;
SELECT tenancy.enter('north') IS NOT NULL AS entered;
SELECT tenancy.cache_delete('user:1') AS deleted, tenancy.cache_delete('user:1') AS again;
SELECT tenancy.cache_purge();
:sqlstate
RESET ROLE;
SELECT tenancy.cache_purge() AS purged;
RESET tenancy.tenant;
RESET search_path;

-- Clean up: the tenants and the migrations of this test.
SELECT tenancy.drop_tenant('north');
DELETE FROM tenancy.migrations;
DELETE FROM tenancy.migration_scripts;
DROP TABLE public.notes;
DROP FUNCTION public.read_north();
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER DATABASE :"db" OWNER TO postgres;
SELECT tenancy.revoke_platform_admin('migrator');
DROP OWNED BY migrator;
DROP ROLE migrator;
