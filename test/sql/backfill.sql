-- Adopting tables that already hold rows: protect() with backfill (one
-- tenant for every row without one) and backfill_from (an expression over the
-- row), rows nothing places reported and nothing changed, the single audit
-- row per table, and the online protection driven step by step through SQL
-- (tenantctl protect --online is tested in test/cli, with concurrent writers
-- and kill -9).
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- The application's own tables: organisations named like the tenants, and
-- their contracts (no tenant column yet). Org 3 has no tenant.
SET ROLE app_owner;
CREATE TABLE app.orgs (id int PRIMARY KEY, slug text NOT NULL);
INSERT INTO app.orgs VALUES (1, 'acme'), (2, 'globex'), (3, 'initech');
CREATE TABLE app.contracts (id int PRIMARY KEY, org_id int NOT NULL, title text NOT NULL);
INSERT INTO app.contracts SELECT g, 1 + g % 3, 'contract ' || g FROM generate_series(1, 30) g;
GRANT SELECT, INSERT, UPDATE, DELETE ON app.contracts TO PUBLIC;

RESET ROLE;
-- Rows the expression cannot place are reported (how many, a few keys) and
-- nothing changes: no column, no policy. (A superuser may act as the owner,
-- whose rights the expression runs with, and fill every tenant.)
SELECT tenancy.protect('app.contracts', backfill_from => '(SELECT o.slug FROM app.orgs o WHERE o.id = org_id)');
:sqlstate
SET ROLE app_owner;
SELECT count(*) AS tenant_columns FROM pg_attribute WHERE attrelid = 'app.contracts'::regclass AND attname = 'tenant_id';
SELECT relrowsecurity FROM pg_class WHERE oid = 'app.contracts'::regclass;

-- Bad input, refused before anything changes. The owner of the table is no
-- admin of any tenant: it may put rows in none, and learns nothing of which
-- exist.
SELECT tenancy.protect('app.contracts', backfill => 'no-such-tenant');
:sqlstate
SELECT tenancy.protect('app.contracts', backfill => 'globex');
:sqlstate
SELECT tenancy.protect('app.contracts', backfill_from => 'org_id); DROP TABLE app.orgs; SELECT (1');
:sqlstate
SELECT tenancy.protect('app.contracts', backfill_from => 'NULL) UNION SELECT (NULL');
:sqlstate
SELECT tenancy.protect('app.contracts', backfill_from => '   ');
:sqlstate
SELECT tenancy.protect('app.contracts', backfill_from => 'org_id::uuid');
:sqlstate
SELECT count(*) AS orgs FROM app.orgs;
-- The expression runs with the owner's rights: app_owner cannot read the catalog.
SELECT tenancy.protect('app.contracts', backfill_from => '(SELECT m.tenant_id FROM tenancy.memberships m LIMIT 1)');
:sqlstate
RESET ROLE;
-- Only the table's owner (or a platform admin) backfills it, and only a
-- member of the owner's role gives an expression, which runs as the owner.
SET ROLE mallory;
SELECT tenancy.protect('app.contracts', backfill => 'acme');
:sqlstate
SET ROLE ops;
SELECT tenancy.protect('app.contracts', backfill_from => 'org_id::text');
:sqlstate
RESET ROLE;

-- The expression runs as the table's owner, whoever calls: even a superuser's
-- call cannot read the catalog through it.
SELECT tenancy.protect('app.contracts', backfill => 'globex', backfill_from =>
    '(SELECT t.id FROM tenancy.tenants t JOIN app.orgs o ON o.slug = t.slug WHERE o.id = contracts.org_id)');
:sqlstate
-- With a tenant for the rest, every row is placed: the expression's tenant
-- where it names one (table-qualified columns work too), else globex.
SET search_path = app, public;
SELECT tenancy.protect('contracts', backfill => 'globex',
                       backfill_from => '(SELECT o.slug FROM orgs o WHERE o.id = contracts.org_id)');
RESET search_path;
SET row_security = off;
SELECT t.slug, count(*), min(c.org_id) AS min_org, max(c.org_id) AS max_org
  FROM app.contracts c JOIN tenancy.tenants t ON t.id = c.tenant_id GROUP BY t.slug ORDER BY t.slug;
RESET row_security;
-- One audit row for the table, not one per row; in no tenant's log, since
-- the rows went to several.
SELECT operation, tenant_id IS NULL AS no_tenant, table_name, new_row ->> 'rows' AS rows,
       new_row ->> 'tenant' AS tenant, new_row ? 'backfill_from' AS has_expression
  FROM tenancy.audit_log WHERE relid = 'app.contracts'::regclass;
-- Protected like any other table: each tenant reads its own rows.
SET ROLE alice;
SET tenancy.tenant = 'acme';
SELECT count(*) AS acme_rows, count(*) FILTER (WHERE org_id <> 1) AS others FROM app.contracts;
RESET tenancy.tenant;
SET ROLE bob;
SET tenancy.tenant = 'globex';
SELECT count(*) AS globex_rows FROM app.contracts;
RESET tenancy.tenant;
RESET ROLE;

-- A constant backfill, by a platform admin who does not own the table, goes
-- to one tenant; its audit row is in that tenant's log.
SET ROLE app_owner;
CREATE TABLE app.notes (id int PRIMARY KEY, body text);
INSERT INTO app.notes SELECT g, 'note ' || g FROM generate_series(1, 5) g;
GRANT SELECT ON app.notes TO PUBLIC;
SET ROLE ops;
SELECT tenancy.protect('app.notes', backfill => 'acme');
RESET ROLE;
SET ROLE carol;
SET tenancy.tenant = 'acme';
SELECT count(*) AS notes FROM app.notes;
SELECT operation, table_name, new_row ->> 'rows' AS rows, new_row ->> 'tenant' AS tenant
  FROM tenancy.audit_log WHERE relid = 'app.notes'::regclass;
RESET tenancy.tenant;
RESET ROLE;

-- Online, step by step: a table with rows and no tenant column.
SET ROLE app_owner;
CREATE TABLE app.events (id int PRIMARY KEY, org_id int NOT NULL, what text);
INSERT INTO app.events SELECT g, 1 + g % 2, 'event ' || g FROM generate_series(1, 1000) g;
GRANT SELECT, INSERT, UPDATE, DELETE ON app.events TO PUBLIC;
ANALYZE app.events;
RESET ROLE;
SELECT tenancy.protect_online('app.events', unassigned => 'refuse', batch_rows => 300, backfill_from =>
    '(SELECT o.slug FROM app.orgs o WHERE o.id = org_id)');
-- Again with the same settings: the same job; with others: refused.
SELECT tenancy.protect_online('app.events', unassigned => 'refuse', batch_rows => 300, backfill_from =>
    '(SELECT o.slug FROM app.orgs o WHERE o.id = org_id)');
\set VERBOSITY terse
SELECT tenancy.protect_online('app.events', backfill => 'acme');
:sqlstate
\set VERBOSITY default
-- protect() waits for the job to end or be cancelled.
SELECT tenancy.protect('app.events', backfill => 'acme');
:sqlstate
SELECT step, command, rows_done, done FROM tenancy.protect_online_step('app.events');
SELECT step, command, rows_done, done FROM tenancy.protect_online_step('app.events');
-- While it runs: a new row without a tenant is refused (unassigned =>
-- 'refuse'); one written with a tenant selected takes it; a changed row
-- still without a tenant takes the expression's; a tenant with rows here
-- cannot be dropped (the NOT VALID foreign key).
INSERT INTO app.events VALUES (5001, 1, 'no tenant');
:sqlstate
SET ROLE dave;
SET tenancy.tenant = 'acme';
INSERT INTO app.events (id, org_id, what) VALUES (5002, 2, 'written by dave in acme');
RESET tenancy.tenant;
RESET ROLE;
UPDATE app.events SET what = what || ' (changed)' WHERE id = 999;
SELECT e.id, t.slug FROM app.events e JOIN tenancy.tenants t ON t.id = e.tenant_id WHERE e.id IN (999, 5002) ORDER BY 1;
SELECT tenancy.create_tenant('doomed', 'Doomed') IS NOT NULL AS created;
UPDATE app.events SET tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'doomed') WHERE id = 1000;
\set VERBOSITY terse
SELECT tenancy.drop_tenant('doomed');
:sqlstate
\set VERBOSITY default
UPDATE app.events SET tenant_id = NULL WHERE id = 1000;
SELECT tenancy.drop_tenant('doomed');
SELECT slug FROM tenancy.tenants t JOIN app.events e ON e.tenant_id = t.id WHERE e.id = 1000;
-- The remaining steps, however many batches they take: each call's command
-- (CREATE INDEX CONCURRENTLY, which cannot run in a function) is run by the
-- caller outside a transaction block.
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT command FROM tenancy.protect_online_step('app.events') \gexec
SELECT step, command, done FROM tenancy.protect_online_step('app.events');
-- Protected: NOT NULL with the default, no temporary constraint or trigger
-- left, every row of an existing tenant, one audit row.
SELECT attnotnull, pg_get_expr(d.adbin, d.adrelid) AS default
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'app.events'::regclass AND a.attname = 'tenant_id';
SELECT conname FROM pg_constraint WHERE conrelid = 'app.events'::regclass ORDER BY 1;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'app.events'::regclass AND NOT tgisinternal ORDER BY 1;
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'app.events'::regclass;
SELECT count(*) AS jobs FROM tenancy.protect_jobs;
SET row_security = off;
SELECT count(*) AS events, count(*) FILTER (WHERE NOT EXISTS (SELECT FROM tenancy.tenants t WHERE t.id = e.tenant_id))
       AS orphans FROM app.events e;
RESET row_security;
SELECT operation, new_row ->> 'rows' AS rows, new_row ->> 'online' AS online
  FROM tenancy.audit_log WHERE relid = 'app.events'::regclass AND operation = 'BACKFILL';
SET ROLE bob;
SET tenancy.tenant = 'globex';
SELECT count(*) AS globex_events, count(*) FILTER (WHERE org_id <> 2) AS others FROM app.events;
RESET tenancy.tenant;
RESET ROLE;

-- An online job whose rows cannot all be placed stops at verify and says
-- which; cancelling it removes the trigger and constraints, keeping the
-- column and the tenants given.
SET ROLE app_owner;
CREATE TABLE app.tickets (id int PRIMARY KEY, org_id int);
INSERT INTO app.tickets SELECT g, g % 4 FROM generate_series(1, 8) g;
RESET ROLE;
SELECT tenancy.protect_online('app.tickets', backfill_from => '(SELECT o.slug FROM app.orgs o WHERE o.id = org_id)');
-- prepare, one batch, verify finds rows left and starts a second pass, one
-- batch, verify reports them.
SELECT step FROM tenancy.protect_online_step('app.tickets');
SELECT step FROM tenancy.protect_online_step('app.tickets');
SELECT step FROM tenancy.protect_online_step('app.tickets');
SELECT step FROM tenancy.protect_online_step('app.tickets');
SELECT step FROM tenancy.protect_online_step('app.tickets');
SELECT step FROM tenancy.protect_online_step('app.tickets');
SELECT step FROM tenancy.protect_online_step('app.tickets');
:sqlstate
-- Resuming starts another pass, in case the data was fixed; it was not.
SELECT tenancy.protect_online('app.tickets', backfill_from => '(SELECT o.slug FROM app.orgs o WHERE o.id = org_id)');
SELECT tenancy.protect_online_cancel('app.tickets');
SELECT count(*) AS tickets, count(*) FILTER (WHERE tenant_id IS NULL) AS without_tenant FROM app.tickets;
SELECT count(*) AS leftovers FROM pg_trigger WHERE tgrelid = 'app.tickets'::regclass AND tgname = 'tenancy_backfill';
SELECT count(*) AS leftovers FROM pg_constraint WHERE conrelid = 'app.tickets'::regclass AND conname LIKE 'tenancy_%';
SELECT tenancy.protect_online_step('app.tickets');
:sqlstate

-- Whatever pg_tenancy reads of a table runs as its owner: planning a query on
-- a table evaluates constant parts of its index expressions, here an
-- IMMUTABLE function of the owner's that refuses to run as a superuser (the
-- index is invalidated, so that the next use loads it again).
SET ROLE app_owner;
CREATE FUNCTION app.never_superuser(n int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'the owner''s index expression ran as superuser %', current_user;
    END IF;
    RETURN n;
END
$$;
CREATE TABLE app.crates (id int PRIMARY KEY, label text);
INSERT INTO app.crates SELECT g, 'crate ' || g FROM generate_series(1, 3) g;
CREATE INDEX crates_folded_idx ON app.crates ((id + app.never_superuser(0)));
-- The expression's own settings stay inside it.
CREATE FUNCTION app.leaky(slug text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'app', false);
    PERFORM pg_catalog.set_config('statement_timeout', '1234ms', false);
    RETURN slug;
END
$$;
ALTER INDEX app.crates_folded_idx SET (fillfactor = 90);
RESET ROLE;
SELECT tenancy.protect('app.crates', backfill_from => 'app.leaky(''acme'')');
SHOW search_path;
SHOW statement_timeout;
SET ROLE app_owner;
ALTER INDEX app.crates_folded_idx SET (fillfactor = 80);
RESET ROLE;
-- tenant_details() counts the rows by a direct scan, running none of it.
SELECT (tenancy.tenant_details('acme') -> 'tables') @> '[{"table": "app.crates", "rows": 3}]' AS counted;
