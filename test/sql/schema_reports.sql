-- Schema mode, continued: tables of tenant schemas get row level security
-- (pg_stats keeps their values from other tenants); union views, the
-- cross-tenant report of platform admins; the health check's findings about
-- tenant schemas.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

CREATE ROLE reports_owner LOGIN;
CREATE ROLE reports_reader LOGIN;
SELECT tenancy.grant_platform_admin('reports_owner');
SELECT current_database() AS db \gset
ALTER DATABASE :"db" OWNER TO reports_owner;
CREATE SCHEMA reports AUTHORIZATION reports_owner;

-- A tenant migration made before the tenants: each new schema replays it.
SET ROLE reports_owner;
BEGIN;
SELECT tenancy.start_migration('tenant', NULL, '0001_orders.sql', repeat('1', 64),
    'CREATE TABLE orders (id int PRIMARY KEY, amount int NOT NULL, note text); '
    'GRANT SELECT ON orders TO reports_reader; '
    'DO $d$ BEGIN EXECUTE format(''GRANT USAGE ON SCHEMA %I TO reports_reader'', current_schema()); END $d$;');
CREATE TABLE public.orders (id int PRIMARY KEY, amount int NOT NULL, note text);
SELECT tenancy.finish_migration('tenant', NULL, '0001_orders.sql') IS NOT NULL AS finished;
COMMIT;
SELECT tenancy.create_tenant('rep-one', 'Reports One', isolation => 'schema') IS NOT NULL AS created;
SELECT tenancy.create_tenant('rep-two', 'Reports Two', isolation => 'schema') IS NOT NULL AS created;
BEGIN;
SELECT tenancy.enter('rep-one') IS NOT NULL AS entered;
INSERT INTO orders SELECT n, n * 10, 'one-secret' FROM generate_series(1, 50) n;
ANALYZE orders;
COMMIT;
BEGIN;
SELECT tenancy.enter('rep-two') IS NOT NULL AS entered;
INSERT INTO orders SELECT n, n * 100, 'two-secret' FROM generate_series(1, 3) n;
ANALYZE orders;
COMMIT;
RESET ROLE;
SELECT tenancy.add_member('rep-one', 'reports_reader', 'viewer');
SELECT tenancy.add_member('rep-two', 'reports_reader', 'viewer');

-- Every table of a tenant schema has row level security and the policy that
-- lets every row through: the replayed migration's tables included.
SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT string_agg(p.polname || ' ' || pg_get_expr(p.polqual, p.polrelid) || ' ' ||
                          pg_get_expr(p.polwithcheck, p.polrelid), '; ') FROM pg_policy p WHERE p.polrelid = c.oid) AS policy
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname = 'orders' ORDER BY 1;
-- The policy filters nothing: a member reads all of its tenant's rows.
SET ROLE reports_reader;
SELECT tenancy.enter('rep-one') IS NOT NULL AS entered;
SELECT count(*) AS rep_one_rows FROM orders;
-- pg_stats shows no values of any tenant's table, its own included: in
-- rep-one, the reader (who may read rep-two's table in rep-two) sees none
-- of rep-two's values.
SELECT count(*) AS stats_rows FROM pg_stats WHERE schemaname LIKE 'tenant\_rep%';
RESET ROLE;
RESET tenancy.tenant;
RESET search_path;

-- Disabling it does not last: the event trigger enables it again.
ALTER TABLE tenant_rep_two.orders DISABLE ROW LEVEL SECURITY;
SELECT relrowsecurity AS sealed_again FROM pg_class WHERE oid = 'tenant_rep_two.orders'::regclass;
DROP POLICY tenancy_schema_rows ON tenant_rep_two.orders;
ALTER TABLE tenant_rep_two.orders ALTER COLUMN note SET STATISTICS 100;
SELECT count(*) AS policy_again FROM pg_policy WHERE polrelid = 'tenant_rep_two.orders'::regclass;
-- A table moved into a tenant schema is sealed too.
CREATE TABLE public.moved (id int);
ALTER TABLE public.moved SET SCHEMA tenant_rep_two;
SELECT relrowsecurity AS moved_sealed FROM pg_class WHERE oid = 'tenant_rep_two.moved'::regclass;
DROP TABLE tenant_rep_two.moved;

-- What the seal prevents: with the event trigger off and row level security
-- off, rep-two's values show in pg_stats to the reader working in rep-one.
-- The health check names both problems.
ALTER EVENT TRIGGER tenancy_seal_tenant_tables DISABLE;
ALTER TABLE tenant_rep_two.orders DISABLE ROW LEVEL SECURITY;
SET ROLE reports_reader;
SELECT tenancy.enter('rep-one') IS NOT NULL AS entered;
SELECT attname, most_common_vals FROM pg_stats
 WHERE schemaname = 'tenant_rep_two' AND tablename = 'orders' AND attname = 'note';
RESET ROLE;
RESET tenancy.tenant;
RESET search_path;
SELECT severity, object, problem FROM tenancy.health_check()
 WHERE object IN ('tenant_rep_two.orders', 'tenancy_seal_tenant_tables') ORDER BY object;
ALTER EVENT TRIGGER tenancy_seal_tenant_tables ENABLE;
ALTER TABLE tenant_rep_two.orders ENABLE ROW LEVEL SECURITY;
SET ROLE reports_reader;
SELECT tenancy.enter('rep-one') IS NOT NULL AS entered;
SELECT count(*) AS stats_rows FROM pg_stats WHERE schemaname LIKE 'tenant\_rep%';
RESET ROLE;
RESET tenancy.tenant;
RESET search_path;

-- Union views: one table of every schema tenant, with tenant_id.
SET ROLE reports_owner;
SELECT tenancy.union_view('reports.all_orders', 'orders');
SELECT attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid = 'reports.all_orders'::regclass AND attnum > 0 ORDER BY attnum;
SELECT t.slug, count(*), sum(o.amount), min(o.note) FROM reports.all_orders o JOIN tenancy.tenants t ON t.id = o.tenant_id
 GROUP BY t.slug ORDER BY t.slug;
-- Predicates and joins work on it as on any view.
SELECT count(*) AS big_orders FROM reports.all_orders WHERE amount >= 100;
GRANT USAGE ON SCHEMA reports TO reports_reader;
GRANT SELECT ON reports.all_orders TO reports_reader;
RESET ROLE;
-- Anyone else is refused, even granted SELECT on the view and a member of
-- every tenant, and so is the reading function behind it.
SET ROLE reports_reader;
SELECT count(*) FROM reports.all_orders;
:sqlstate
SELECT tenancy.enter('rep-one') IS NOT NULL AS entered;
SELECT count(*) FROM reports.all_orders;
:sqlstate
SELECT * FROM tenancy._read_tenant_schemas('SELECT note FROM tenant_rep_two.orders') AS r(note text);
:sqlstate
SELECT * FROM tenancy._union_rows('orders', '{note}', '{text}') AS r(tenant_id uuid, note text);
:sqlstate
SELECT tenancy.union_view('reports.mine', 'orders');
:sqlstate
RESET ROLE;
RESET tenancy.tenant;
RESET search_path;

-- A tenant created later is in the view at once, a dropped one gone.
SET ROLE reports_owner;
SELECT tenancy.create_tenant('rep-three', 'Reports Three', isolation => 'schema') IS NOT NULL AS created;
BEGIN;
SELECT tenancy.enter('rep-three') IS NOT NULL AS entered;
INSERT INTO orders VALUES (1, 7, 'three');
COMMIT;
SELECT t.slug, count(*) FROM reports.all_orders o JOIN tenancy.tenants t ON t.id = o.tenant_id
 GROUP BY t.slug ORDER BY t.slug;
RESET ROLE;
SELECT tenancy.drop_tenant('rep-three');
SET ROLE reports_owner;
SELECT count(*) AS rows_left FROM reports.all_orders;

-- Migrations change and drop columns freely: the view depends on no
-- tenant's table. Until refreshed it shows the columns it had, NULL where a
-- tenant's table lacks one; the health check says it is behind.
BEGIN;
SELECT tenancy.enter('rep-one') IS NOT NULL AS entered;
SELECT tenancy.start_migration('tenant', 'rep-one', '0002_status.sql', repeat('2', 64),
    'ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT ''open''; ALTER TABLE orders DROP COLUMN note;');
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'open';
ALTER TABLE orders DROP COLUMN note;
SELECT tenancy.finish_migration('tenant', 'rep-one', '0002_status.sql') IS NOT NULL AS finished;
COMMIT;
RESET tenancy.tenant;
RESET search_path;
SELECT t.slug, count(*), count(o.note) AS notes FROM reports.all_orders o JOIN tenancy.tenants t ON t.id = o.tenant_id
 GROUP BY t.slug ORDER BY t.slug;
-- rep-two misses the migration; its table is unlike most.
SELECT severity, object, problem FROM tenancy.health_check()
 WHERE object LIKE 'tenant\_rep%' OR object LIKE 'reports.%' ORDER BY object, problem;
SELECT * FROM tenancy.refresh_union_views();
SELECT attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid = 'reports.all_orders'::regclass AND attnum > 0 ORDER BY attnum;
SELECT t.slug, count(*), min(o.status) AS status, count(o.note) AS notes
  FROM reports.all_orders o JOIN tenancy.tenants t ON t.id = o.tenant_id GROUP BY t.slug ORDER BY t.slug;
-- Once every tenant has dropped the column, the view is made again without
-- it, with its owner and grants.
BEGIN;
SELECT tenancy.enter('rep-two') IS NOT NULL AS entered;
SELECT tenancy.start_migration('tenant', 'rep-two', '0002_status.sql', repeat('2', 64),
    'ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT ''open''; ALTER TABLE orders DROP COLUMN note;');
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'open';
ALTER TABLE orders DROP COLUMN note;
SELECT tenancy.finish_migration('tenant', 'rep-two', '0002_status.sql') IS NOT NULL AS finished;
COMMIT;
RESET tenancy.tenant;
RESET search_path;
SELECT "view", table_name, columns FROM tenancy.refresh_union_views();
SELECT attname FROM pg_attribute WHERE attrelid = 'reports.all_orders'::regclass AND attnum > 0 ORDER BY attnum;
SELECT pg_get_userbyid(relowner) AS owner, relacl FROM pg_class WHERE oid = 'reports.all_orders'::regclass;
SELECT count(*) AS findings FROM tenancy.health_check()
 WHERE object LIKE 'tenant\_rep%' OR object LIKE 'reports.%';
-- The regclass form refreshes an existing union view.
SELECT tenancy.union_view('reports.all_orders'::regclass, 'orders');

-- Attacks on the read. A union view reads every tenant's table with the
-- rights of pg_tenancy, so it runs no code a role chose. A tenant's role who
-- may create in its schema makes a column of its own type, castable to the
-- view's type by its own function that would make it a superuser: the read
-- is refused, naming the tenant, and the cast never runs.
RESET ROLE;
CREATE TABLE public.window_log (what text, outcome text);
GRANT INSERT ON public.window_log TO PUBLIC;
GRANT CREATE ON SCHEMA tenant_rep_two TO reports_reader;
SET ROLE reports_owner;
BEGIN;
SELECT tenancy.enter('rep-one') IS NOT NULL AS entered;
CREATE TABLE ledger (id int, amount numeric);
INSERT INTO ledger VALUES (1, 10);
COMMIT;
RESET ROLE;
SELECT tenancy.set_member_role('rep-two', 'reports_reader', 'member');
SET ROLE reports_reader;
BEGIN;
SELECT tenancy.enter('rep-two') IS NOT NULL AS entered;
CREATE TYPE tenant_rep_two.money_box AS (v numeric);
CREATE FUNCTION tenant_rep_two.unbox(b tenant_rep_two.money_box) RETURNS numeric LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO public.window_log VALUES ('cast ran', current_user);
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE reports_reader SUPERUSER';
    END IF;
    RETURN b.v;
END $f$;
CREATE CAST (tenant_rep_two.money_box AS numeric) WITH FUNCTION tenant_rep_two.unbox(tenant_rep_two.money_box);
CREATE TABLE ledger (id int, amount tenant_rep_two.money_box);
INSERT INTO ledger VALUES (2, ROW(5));
COMMIT;
RESET ROLE;
RESET tenancy.tenant;
RESET search_path;
SET ROLE reports_owner;
SELECT tenancy.union_view('reports.all_ledgers', 'ledger');
SELECT * FROM reports.all_ledgers;
:sqlstate
RESET ROLE;
SELECT rolsuper AS reader_is_superuser FROM pg_roles WHERE rolname = 'reports_reader';
SELECT count(*) AS casts_run FROM public.window_log;
-- A platform admin's own domain, whose CHECK would run with pg_tenancy's
-- rights: refused, in the view and in a direct call.
SET ROLE reports_owner;
CREATE FUNCTION reports.promote(v text) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN EXECUTE 'ALTER ROLE reports_owner SUPERUSER'; RETURN true; END $f$;
CREATE DOMAIN reports.sneaky AS text CHECK (reports.promote(VALUE));
SELECT * FROM tenancy._union_rows('orders', '{note}', '{reports.sneaky}') AS r(tenant_id uuid, note reports.sneaky);
:sqlstate
SELECT * FROM tenancy._union_rows('orders', '{note}', '{text,text}') AS r(tenant_id uuid, note text);
:sqlstate
RESET ROLE;
SELECT rolsuper AS owner_is_superuser FROM pg_roles WHERE rolname = 'reports_owner';
-- While a union view is read, tenant schemas are open to reading its
-- tables and to nothing else: code that runs then (the CHECK of a
-- superuser's domain, on the NULL of a tenant lacking the column) cannot
-- create, drop or call anything in a tenant schema.
CREATE FUNCTION public.probe_window(v text) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
    BEGIN
        EXECUTE 'CREATE TABLE tenant_rep_two.planted (x int)';
        INSERT INTO public.window_log VALUES ('create', 'made');
    EXCEPTION WHEN OTHERS THEN INSERT INTO public.window_log VALUES ('create', SQLSTATE);
    END;
    BEGIN
        EXECUTE 'DROP TABLE tenant_rep_two.ledger';
        INSERT INTO public.window_log VALUES ('drop', 'dropped');
    EXCEPTION WHEN OTHERS THEN INSERT INTO public.window_log VALUES ('drop', SQLSTATE);
    END;
    BEGIN
        PERFORM tenant_rep_two.unbox(ROW(1)::tenant_rep_two.money_box);
        INSERT INTO public.window_log VALUES ('call', 'called');
    EXCEPTION WHEN OTHERS THEN INSERT INTO public.window_log VALUES ('call', SQLSTATE);
    END;
    RETURN true;
END $f$;
CREATE DOMAIN public.probed AS text CHECK (public.probe_window(VALUE));
CREATE TABLE tenant_rep_one.tagged (id int, tag public.probed);
CREATE TABLE tenant_rep_two.tagged (id int);
INSERT INTO tenant_rep_two.tagged VALUES (1);
SET ROLE reports_owner;
SELECT tenancy.union_view('reports.all_tagged', 'tagged');
SELECT count(*) AS tagged_rows FROM reports.all_tagged;
RESET ROLE;
SELECT what, outcome FROM public.window_log WHERE what <> 'cast ran' ORDER BY what;
SELECT to_regclass('tenant_rep_two.planted') AS planted, to_regclass('tenant_rep_two.ledger') AS ledger;
DROP VIEW reports.all_tagged;
DROP VIEW reports.all_ledgers;
DROP TABLE tenant_rep_one.tagged, tenant_rep_two.tagged, tenant_rep_one.ledger, tenant_rep_two.ledger;
DROP CAST (tenant_rep_two.money_box AS numeric);
DROP FUNCTION tenant_rep_two.unbox(tenant_rep_two.money_box);
DROP TYPE tenant_rep_two.money_box;
REVOKE CREATE ON SCHEMA tenant_rep_two FROM reports_reader;
DROP DOMAIN reports.sneaky;
DROP FUNCTION reports.promote(text);
DROP DOMAIN public.probed;
DROP FUNCTION public.probe_window(text);
DROP TABLE public.window_log;

-- Materialized views and foreign tables cannot have row level security:
-- refused in tenant schemas, which keeps their values out of pg_stats.
SET ROLE reports_owner;
BEGIN;
SELECT tenancy.enter('rep-one') IS NOT NULL AS entered;
CREATE MATERIALIZED VIEW order_totals AS SELECT sum(amount) FROM orders;
:sqlstate
ROLLBACK;
CREATE MATERIALIZED VIEW reports.totals AS SELECT 1 AS one;
BEGIN;
SELECT tenancy.enter('rep-one') IS NOT NULL AS entered;
ALTER MATERIALIZED VIEW reports.totals SET SCHEMA tenant_rep_one;
:sqlstate
ROLLBACK;
DROP MATERIALIZED VIEW reports.totals;
RESET tenancy.tenant;
RESET search_path;

-- Bad input changes nothing.
SELECT tenancy.union_view('reports.nothing', 'no_such_table');
:sqlstate
SELECT tenancy.union_view('tenant_rep_one.orders_view', 'orders');
:sqlstate
SELECT tenancy.union_view('tenancy.orders_view', 'orders');
:sqlstate
SELECT tenancy.union_view('no_schema.orders_view', 'orders');
:sqlstate
SELECT tenancy.union_view('a.b.c', 'orders');
:sqlstate
SELECT tenancy.union_view(NULL::text, 'orders');
:sqlstate
CREATE VIEW reports.plain AS SELECT 1 AS one;
SELECT tenancy.union_view('reports.plain', 'orders');
:sqlstate
SELECT tenancy.union_view('reports.plain'::regclass, 'orders');
:sqlstate
-- Views dropped by hand leave the list at the next refresh.
DROP VIEW reports.plain;
DROP VIEW reports.all_orders;
SELECT count(*) AS refreshed FROM tenancy.refresh_union_views();
RESET ROLE;
SELECT count(*) AS union_views FROM tenancy.union_views;

-- Clean up.
SELECT tenancy.drop_tenant('rep-one');
SELECT tenancy.drop_tenant('rep-two');
DELETE FROM tenancy.migrations;
DELETE FROM tenancy.migration_scripts;
DROP TABLE public.orders;
DROP SCHEMA reports;
ALTER DATABASE :"db" OWNER TO postgres;
SELECT tenancy.revoke_platform_admin('reports_owner');
DROP OWNED BY reports_owner;
DROP ROLE reports_owner;
DROP OWNED BY reports_reader;
DROP ROLE reports_reader;
