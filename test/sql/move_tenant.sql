-- Moving a tenant between row and schema mode: tenancy.move_tenant() copies
-- the tenant's rows into the tables of the same names, verifies counts and
-- checksums, switches the tenant and removes the old copy, all in one
-- transaction; a move that fails leaves the tenant in its old mode with every
-- row. Other tenants' rows are never touched, and isolation holds in the new
-- mode. (Concurrent writers: test/specs/move_race.spec.)
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- The migration role owns the database (tenant schemas belong to it) and is
-- a platform admin; mover_ann owns tenant m-one, mover_bo owns m-two.
CREATE ROLE mover_migrator LOGIN;
CREATE ROLE mover_ann LOGIN;
CREATE ROLE mover_bo LOGIN;
SELECT tenancy.grant_platform_admin('mover_migrator');
SELECT current_database() AS db \gset
ALTER DATABASE :"db" OWNER TO mover_migrator;
GRANT CREATE ON SCHEMA public TO mover_migrator;

-- One tenant migration: lists and items (a foreign key, an identity and a
-- serial key, NULLs, arrays, numerics), granted to everyone in each place.
SET ROLE mover_migrator;
BEGIN;
SELECT tenancy.start_migration('tenant', NULL, '0101_items.sql', repeat('d', 64), $m$
    CREATE TABLE mv_lists (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
    CREATE TABLE mv_items (id bigserial PRIMARY KEY, list_id bigint REFERENCES mv_lists, title text NOT NULL,
                           price numeric(10,2), tags text[], done boolean NOT NULL DEFAULT false);
    GRANT SELECT, INSERT, UPDATE, DELETE ON mv_lists, mv_items TO PUBLIC;
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO PUBLIC;
    DO $d$ BEGIN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO PUBLIC', current_schema());
        EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO PUBLIC', current_schema());
    END $d$;
$m$) AS runs;
CREATE TABLE public.mv_lists (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.mv_items (id bigserial PRIMARY KEY, list_id bigint REFERENCES public.mv_lists, title text NOT NULL,
                              price numeric(10,2), tags text[], done boolean NOT NULL DEFAULT false);
GRANT SELECT, INSERT, UPDATE, DELETE ON public.mv_lists, public.mv_items TO PUBLIC;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO PUBLIC;
SELECT tenancy.finish_migration('tenant', NULL, '0101_items.sql') IS NOT NULL AS applied;
COMMIT;
RESET ROLE;
SELECT tenancy.protect('public.mv_lists');
SELECT tenancy.protect('public.mv_items');

-- Two row-mode tenants with rows.
SELECT tenancy.create_tenant('m-one', 'Mover One', owner => 'mover_ann') IS NOT NULL AS created;
SELECT tenancy.create_tenant('m-two', 'Mover Two', owner => 'mover_bo') IS NOT NULL AS created;
SET ROLE mover_ann;
SET tenancy.tenant = 'm-one';
INSERT INTO mv_lists (name) VALUES ('home'), ('work');
INSERT INTO mv_items (list_id, title, price, tags)
SELECT l.id, l.name || ' ' || g, g * 1.25, CASE WHEN g % 2 = 0 THEN ARRAY['x', 'ü, "quoted"'] END
  FROM mv_lists l, generate_series(1, 3) g;
INSERT INTO mv_items (title) VALUES ('no list, no price');
RESET tenancy.tenant;
SET ROLE mover_bo;
SET tenancy.tenant = 'm-two';
INSERT INTO mv_lists (name) VALUES ('two');
INSERT INTO mv_items (list_id, title) SELECT id, 'two item' FROM mv_lists;
RESET tenancy.tenant;
RESET ROLE;
-- Every row of both tenants, to compare with after each move.
CREATE TEMPORARY TABLE before_move AS
SELECT t.slug, 'item' AS kind, i.id, i.list_id, i.title, i.price, i.tags, i.done
  FROM public.mv_items i JOIN tenancy.tenants t ON t.id = i.tenant_id
UNION ALL
SELECT t.slug, 'list', l.id, NULL, l.name, NULL, NULL, NULL
  FROM public.mv_lists l JOIN tenancy.tenants t ON t.id = l.tenant_id;
GRANT SELECT ON before_move TO PUBLIC;
SELECT slug, kind, count(*) FROM before_move GROUP BY 1, 2 ORDER BY 1, 2;

-- Refusals, each changing nothing: not a platform admin (the tenant's own
-- owner included), null or unknown input, database mode, the same mode, a
-- snapshot older than the wait.
SET ROLE mover_ann;
SELECT tenancy.move_tenant('m-one', 'schema');
:sqlstate
RESET ROLE;
SELECT tenancy.move_tenant(NULL, 'schema');
:sqlstate
SELECT tenancy.move_tenant('m-one', NULL);
:sqlstate
SELECT tenancy.move_tenant('m-nowhere', 'schema');
:sqlstate
SELECT tenancy.move_tenant('m-one', 'database');
:sqlstate
SELECT tenancy.move_tenant('m-one', 'row');
:sqlstate
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT tenancy.move_tenant('m-one', 'schema');
:sqlstate
ROLLBACK;

-- Rows of the tenant in a protected table that no tenant migration makes
-- have nowhere to go: refused, nothing moved.
CREATE TABLE public.mv_extras (id int PRIMARY KEY, note text);
GRANT ALL ON public.mv_extras TO PUBLIC;
SELECT tenancy.protect('public.mv_extras');
SET ROLE mover_ann;
SET tenancy.tenant = 'm-one';
INSERT INTO public.mv_extras VALUES (1, 'extra');
RESET tenancy.tenant;
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'schema');
:sqlstate
-- A column the tenant's schema would not have: refused.
DELETE FROM public.mv_extras;
ALTER TABLE public.mv_items ADD COLUMN only_here text;
SELECT tenancy.move_tenant('m-one', 'schema');
:sqlstate
ALTER TABLE public.mv_items DROP COLUMN only_here;
-- A row outside the tenant that refers to its rows (a table that is not
-- protected, with ON DELETE CASCADE): refused, the row stays.
CREATE TABLE public.mv_pins (id int PRIMARY KEY, list_id bigint REFERENCES public.mv_lists ON DELETE CASCADE);
INSERT INTO public.mv_pins SELECT 1, min(l.id) FROM public.mv_lists l JOIN tenancy.tenants t ON t.id = l.tenant_id
 WHERE t.slug = 'm-one';
SELECT tenancy.move_tenant('m-one', 'schema');
:sqlstate
SELECT count(*) AS pins FROM public.mv_pins;
DROP TABLE public.mv_pins;
-- A trigger of a table that writes a row of the tenant into a protected
-- table as its rows leave, and a policy of the owner that hides rows from
-- the move's delete: refused, whatever the order of the tables.
CREATE FUNCTION public.mv_note_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.mv_extras VALUES (OLD.id, 'deleted'); RETURN OLD; END $$;
ALTER FUNCTION public.mv_note_deletion() OWNER TO mover_migrator;
SET ROLE mover_migrator;
CREATE TRIGGER mv_note_deletion AFTER DELETE ON public.mv_lists FOR EACH ROW EXECUTE FUNCTION public.mv_note_deletion();
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'schema');
:sqlstate
DROP TRIGGER mv_note_deletion ON public.mv_lists;
DROP FUNCTION public.mv_note_deletion();
SET ROLE mover_migrator;
CREATE POLICY mv_hide_work ON public.mv_lists AS RESTRICTIVE USING (name <> 'work');
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'schema');
:sqlstate
DROP POLICY mv_hide_work ON public.mv_lists;
-- Nothing of those attempts is left: no schema, the tenant in row mode.
SELECT slug, isolation, schema_name FROM tenancy.tenants WHERE slug LIKE 'm-%' ORDER BY 1;
SELECT count(*) AS tenant_schemas FROM pg_namespace WHERE nspname LIKE 'tenant\_m\_%';

-- Extended statistics whose expression calls the owner's function (the
-- planner evaluates it, with the rights of whoever plans): refused before
-- anything is planned as the extension's owner.
CREATE FUNCTION public.mv_zero(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 0';
ALTER FUNCTION public.mv_zero(int) OWNER TO mover_migrator;
SET ROLE mover_migrator;
CREATE STATISTICS public.mv_list_stats ON (id + public.mv_zero(1)) FROM public.mv_lists;
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'schema');
:sqlstate
DROP STATISTICS public.mv_list_stats;
DROP FUNCTION public.mv_zero(int);

-- A protected table whose foreign key compares through an implicit cast of
-- its owner (a function that would make a role superuser if a superuser ran
-- it): refused before the comparison is ever run.
SET ROLE mover_migrator;
CREATE TYPE public.mv_key AS (v bigint);
CREATE FUNCTION public.mv_key_value(public.mv_key) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE mover_bo SUPERUSER';
    END IF;
    RETURN $1.v;
END $$;
CREATE CAST (public.mv_key AS bigint) WITH FUNCTION public.mv_key_value(public.mv_key) AS IMPLICIT;
CREATE TABLE public.mv_refs (id int PRIMARY KEY, list public.mv_key REFERENCES public.mv_lists (id));
RESET ROLE;
SELECT tenancy.protect('public.mv_refs');
INSERT INTO public.mv_refs (id, list, tenant_id)
SELECT 1, ROW(l.id)::public.mv_key, l.tenant_id FROM public.mv_lists l JOIN tenancy.tenants t ON t.id = l.tenant_id
 WHERE t.slug = 'm-two';
SELECT tenancy.move_tenant('m-one', 'schema');
:sqlstate
SELECT rolsuper AS mover_bo_superuser FROM pg_roles WHERE rolname = 'mover_bo';
SELECT tenancy.unprotect('public.mv_refs');
DROP TABLE public.mv_refs;
DROP CAST (public.mv_key AS bigint);
DROP FUNCTION public.mv_key_value(public.mv_key);
DROP TYPE public.mv_key;

-- A tenant migration whose trigger writes a row of the tenant into a
-- protected table while the move loads the new schema: the last scan
-- refuses it.
CREATE FUNCTION public.mv_echo() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.mv_extras VALUES (99, 'echo'); RETURN NULL; END $$;
ALTER FUNCTION public.mv_echo() OWNER TO mover_migrator;
SET ROLE mover_migrator;
BEGIN;
SELECT tenancy.start_migration('tenant', NULL, '0102_echo.sql', repeat('e', 64),
    'CREATE TRIGGER mv_echo AFTER INSERT ON mv_lists FOR EACH STATEMENT EXECUTE FUNCTION public.mv_echo();') AS runs;
SELECT tenancy.finish_migration('tenant', NULL, '0102_echo.sql') IS NOT NULL AS applied;
COMMIT;
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'schema');
:sqlstate
DELETE FROM tenancy.migrations WHERE version = '0102_echo.sql';
DELETE FROM tenancy.migration_scripts WHERE version = '0102_echo.sql';
DROP FUNCTION public.mv_echo();
-- A table that is not protected refers to a protected one and has an index
-- whose predicate calls its owner's function: looking for its rows that
-- refer to the tenant's runs that code as its owner, never as a superuser.
CREATE FUNCTION public.mv_escalate() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE mover_bo SUPERUSER';
    END IF;
    RETURN true;
END $$;
CREATE FUNCTION public.mv_predicate(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT public.mv_escalate()';
ALTER FUNCTION public.mv_escalate() OWNER TO mover_migrator;
ALTER FUNCTION public.mv_predicate(int) OWNER TO mover_migrator;
SET ROLE mover_migrator;
CREATE TABLE public.mv_pins (id int PRIMARY KEY, list_id bigint REFERENCES public.mv_lists ON DELETE CASCADE);
CREATE INDEX ON public.mv_pins (id) WHERE public.mv_predicate(1);
RESET ROLE;

-- Row to schema mode: every row of m-one into tenant_m_one, counts and
-- checksums verified; m-two untouched.
SELECT m->>'from' AS "from", m->>'to' AS "to", m->>'schema' AS schema, m->>'rows' AS rows,
       jsonb_path_query_array(m->'tables', '$[*].target') AS targets,
       jsonb_path_query_array(m->'tables', '$[*].rows') AS table_rows
  FROM tenancy.move_tenant('m-one', 'schema') m;
SELECT slug, isolation, schema_name FROM tenancy.tenants WHERE slug LIKE 'm-%' ORDER BY 1;
SELECT rolsuper AS mover_bo_superuser FROM pg_roles WHERE rolname = 'mover_bo';
DROP TABLE public.mv_pins;
DROP FUNCTION public.mv_predicate(int), public.mv_escalate();
SELECT t.slug, count(*) AS rows_in_protected_tables
  FROM (SELECT tenant_id FROM public.mv_items UNION ALL SELECT tenant_id FROM public.mv_lists) r
  JOIN tenancy.tenants t ON t.id = r.tenant_id GROUP BY 1 ORDER BY 1;
-- The rows, every value and key, as the tenant sees them now.
SET ROLE mover_ann;
SELECT tenancy.enter('m-one');
(SELECT 'item' AS kind, id, list_id, title, price, tags, done FROM mv_items
 UNION ALL SELECT 'list', id, NULL, name, NULL, NULL, NULL FROM mv_lists)
EXCEPT
SELECT kind, id, list_id, title, price, tags, done FROM before_move WHERE slug = 'm-one';
SELECT count(*) AS items FROM mv_items;
SELECT pg_catalog.to_regclass('mv_items') AS resolved;
-- New keys follow the moved ones (the sequences moved past them).
INSERT INTO mv_items (title) VALUES ('after the move') RETURNING id;
INSERT INTO mv_lists (name) VALUES ('third') RETURNING id;
-- Its old place refuses its rows, with a hint; the schema is its own.
INSERT INTO public.mv_items (title) VALUES ('into the old place');
:sqlstate
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;
-- Another tenant's member, with every grant, cannot reach the moved rows.
SET ROLE mover_bo;
SET tenancy.tenant = 'm-two';
SELECT count(*) FROM tenant_m_one.mv_items;
:sqlstate
SELECT count(*) AS m_two_items FROM public.mv_items;
RESET tenancy.tenant;
RESET ROLE;
-- m-two's rows are as they were.
SELECT kind, id, list_id, title FROM before_move WHERE slug = 'm-two'
EXCEPT
(SELECT 'item', i.id, i.list_id, i.title FROM public.mv_items i JOIN tenancy.tenants t ON t.id = i.tenant_id
  WHERE t.slug = 'm-two'
 UNION ALL SELECT 'list', l.id, NULL, l.name FROM public.mv_lists l JOIN tenancy.tenants t ON t.id = l.tenant_id
  WHERE t.slug = 'm-two');
-- The move is in the tenant's history, and its schema has the migration.
SELECT event, "from", "to" FROM tenancy.tenant_events e JOIN tenancy.tenants t ON t.id = e.tenant_id
 WHERE t.slug = 'm-one' AND event = 'isolation';
SELECT m.version FROM tenancy.migrations m JOIN tenancy.tenants t ON t.id = m.tenant_id WHERE t.slug = 'm-one';

-- Exports and clones read protected tables: refused for a schema-mode tenant
-- (its rows would be left out).
SELECT tenancy.export_manifest('m-one');
:sqlstate
SELECT tenancy.clone_tenant('m-one', 'm-copy');
:sqlstate

-- Back to row mode fails on a key another tenant holds (the tables' keys are
-- unique across tenants, and a move keeps every value): m-one's new list 3
-- and item 8 came from its own sequences, m-two has both. Nothing changes.
SELECT tenancy.move_tenant('m-one', 'row');
:sqlstate
SELECT slug, isolation, schema_name FROM tenancy.tenants WHERE slug = 'm-one';
SET ROLE mover_ann;
SELECT tenancy.enter('m-one');
DELETE FROM mv_lists WHERE name = 'third';
UPDATE mv_items SET id = 800 WHERE id = 8;
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;

-- A trigger of the new table that changes rows on their way in makes the
-- copy differ: refused by the checksum, nothing moved.
CREATE FUNCTION public.mv_shout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.title := upper(NEW.title); RETURN NEW; END $$;
ALTER FUNCTION public.mv_shout() OWNER TO mover_migrator;
SET ROLE mover_migrator;
CREATE TRIGGER mv_shout BEFORE INSERT ON public.mv_items FOR EACH ROW EXECUTE FUNCTION public.mv_shout();
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'row');
:sqlstate
SELECT slug, isolation FROM tenancy.tenants WHERE slug = 'm-one';
DROP TRIGGER mv_shout ON public.mv_items;
DROP FUNCTION public.mv_shout();

-- A view outside the tenant's schema over its table: moving to row mode
-- would drop it with the schema, so it is refused.
SET ROLE mover_migrator;
SELECT tenancy.enter('m-one');
CREATE VIEW public.mv_item_titles AS SELECT title FROM tenant_m_one.mv_items;
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'row');
:sqlstate
DROP VIEW public.mv_item_titles;
-- A partition in the tenant's schema of a table outside it holds that
-- table's rows: refused too.
SET ROLE mover_migrator;
CREATE TABLE public.mv_log (id int, message text) PARTITION BY RANGE (id);
SELECT tenancy.enter('m-one');
CREATE TABLE tenant_m_one.mv_log_high PARTITION OF public.mv_log FOR VALUES FROM (100) TO (200);
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'row');
:sqlstate
DROP TABLE public.mv_log;

-- A table of the schema whose rows have no protected table to go to: refused.
SET ROLE mover_migrator;
SELECT tenancy.enter('m-one');
CREATE TABLE mv_notes (id int PRIMARY KEY);
INSERT INTO mv_notes VALUES (1);
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'row');
:sqlstate
-- A column tenant_id of the tenant's own (in row mode that column holds the
-- tenant): refused, its values would be lost.
SET ROLE mover_migrator;
SELECT tenancy.enter('m-one');
DELETE FROM mv_notes;
ALTER TABLE mv_notes ADD COLUMN tenant_id text;
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'row');
:sqlstate
SET ROLE mover_migrator;
SELECT tenancy.enter('m-one');
DROP TABLE mv_notes;
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;

-- A policy of the tenant's table that hides rows from its owner (FORCE
-- ROW LEVEL SECURITY): the direct count sees them, refused.
SET ROLE mover_migrator;
SELECT tenancy.enter('m-one');
ALTER TABLE mv_items FORCE ROW LEVEL SECURITY;
CREATE POLICY mv_hide_home ON mv_items AS RESTRICTIVE FOR SELECT USING (title <> 'home 1');
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;
SELECT tenancy.move_tenant('m-one', 'row');
:sqlstate
SET ROLE mover_migrator;
SELECT tenancy.enter('m-one');
DROP POLICY mv_hide_home ON mv_items;
ALTER TABLE mv_items NO FORCE ROW LEVEL SECURITY;
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;

-- Objects of the schema itself (statistics, a collation) go with it.
SET ROLE mover_migrator;
SELECT tenancy.enter('m-one');
CREATE STATISTICS tenant_m_one.mv_stats ON id, title FROM tenant_m_one.mv_items;
CREATE COLLATION tenant_m_one.mv_collation FROM "C";
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;

-- Schema back to row mode: the rows return with their keys and tenant_id,
-- the schema and the tenant's ledger rows go.
SELECT m->>'from' AS "from", m->>'to' AS "to", m->>'schema' AS schema, m->>'rows' AS rows,
       jsonb_path_query_array(m->'tables', '$[*].source') AS sources
  FROM tenancy.move_tenant('m-one', 'row') m;
SELECT slug, isolation, schema_name FROM tenancy.tenants WHERE slug = 'm-one';
SELECT count(*) AS tenant_schemas FROM pg_namespace WHERE nspname = 'tenant_m_one';
SELECT count(*) AS ledger_rows FROM tenancy.migrations m JOIN tenancy.tenants t ON t.id = m.tenant_id
 WHERE t.slug = 'm-one';
SET ROLE mover_ann;
SET tenancy.tenant = 'm-one';
SELECT kind, id, list_id, title, price, tags, done FROM before_move WHERE slug = 'm-one'
EXCEPT
(SELECT 'item', id, list_id, title, price, tags, done FROM mv_items
 UNION ALL SELECT 'list', id, NULL, name, NULL, NULL, NULL FROM mv_lists);
SELECT id, title FROM mv_items WHERE id > 7 ORDER BY id;
SELECT count(*) AS lists FROM mv_lists;
-- The shared sequence is past the keys that came back.
INSERT INTO mv_items (title) VALUES ('back in row mode') RETURNING id > 800 AS past_moved_keys;
RESET tenancy.tenant;
RESET ROLE;
SELECT event, "from", "to" FROM tenancy.tenant_events e JOIN tenancy.tenants t ON t.id = e.tenant_id
 WHERE t.slug = 'm-one' AND event = 'isolation' ORDER BY e.id;

-- An import into schema mode: loaded in row mode (new keys), then moved
-- into the new tenant's schema, references following.
SELECT tenancy.export_manifest('m-one') AS manifest \gset
BEGIN;
SELECT max(stage) FILTER (WHERE table_name = 'public.mv_lists') AS lists_stage,
       max(stage) FILTER (WHERE table_name = 'public.mv_items') AS items_stage
  FROM tenancy.import_stage(:'manifest') \gset
INSERT INTO :lists_stage (id, name)
SELECT l.id, l.name FROM public.mv_lists l JOIN tenancy.tenants t ON t.id = l.tenant_id WHERE t.slug = 'm-one';
INSERT INTO :items_stage (id, list_id, title, price, tags, done)
SELECT i.id, i.list_id, i.title, i.price, i.tags, i.done
  FROM public.mv_items i JOIN tenancy.tenants t ON t.id = i.tenant_id WHERE t.slug = 'm-one';
SELECT r.key AS table_name, r.value AS rows
  FROM jsonb_each(tenancy.import_tenant('m-three', :'manifest', isolation => 'schema')->'rows') r
 WHERE r.key LIKE 'public.mv\_%' ORDER BY 1;
COMMIT;
SELECT slug, isolation, schema_name FROM tenancy.tenants WHERE slug = 'm-three';
SELECT count(*) AS m_three_rows_in_protected_tables FROM public.mv_items i JOIN tenancy.tenants t ON t.id = i.tenant_id
 WHERE t.slug = 'm-three';
SET ROLE mover_ann;
SELECT tenancy.enter('m-three');
SELECT l.name AS list, count(i.*) AS items FROM mv_items i LEFT JOIN mv_lists l ON l.id = i.list_id GROUP BY 1 ORDER BY 1;
RESET tenancy.tenant;
RESET search_path;
RESET ROLE;

-- A terminating tenant is not moved.
SELECT tenancy.terminate_tenant('m-two') IS NOT NULL AS terminating;
SELECT tenancy.move_tenant('m-two', 'schema');
:sqlstate

-- Clean up.
SELECT tenancy.drop_tenant('m-one');
SELECT tenancy.drop_tenant('m-two');
SELECT tenancy.drop_tenant('m-three');
DELETE FROM tenancy.migrations;
DELETE FROM tenancy.migration_scripts;
SELECT tenancy.unprotect('public.mv_extras');
SELECT tenancy.unprotect('public.mv_items');
SELECT tenancy.unprotect('public.mv_lists');
DROP TABLE public.mv_extras, public.mv_items, public.mv_lists;
ALTER DATABASE :"db" OWNER TO postgres;
REVOKE CREATE ON SCHEMA public FROM mover_migrator;
SELECT tenancy.revoke_platform_admin('mover_migrator');
DROP OWNED BY mover_migrator;
DROP ROLE mover_migrator, mover_ann, mover_bo;
