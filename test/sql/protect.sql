-- tenancy.protect() and tenancy.unprotect(): what they install, idempotence,
-- and refusals that change nothing.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- What protect() installed on app.invoices.
SELECT attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(d.adbin, d.adrelid) AS default
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'app.invoices'::regclass AND a.attname = 'tenant_id';
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'app.invoices'::regclass;
SELECT polname, polpermissive, polcmd FROM pg_policy WHERE polrelid = 'app.invoices'::regclass ORDER BY polname;
-- No foreign key to tenancy.tenants: the tenancy_tenant_check trigger and tenant locks keep rows and tenant
-- together (test tenant_rows); and no check constraint either.
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'app.invoices'::regclass AND contype IN ('f', 'c');
SELECT indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid = 'app.invoices'::regclass ORDER BY 1;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'app.invoices'::regclass AND NOT tgisinternal ORDER BY tgname;

-- Idempotent: a second call changes nothing.
CREATE TEMP TABLE before_second_call AS
    SELECT polname, pg_get_expr(polqual, polrelid) AS qual FROM pg_policy WHERE polrelid = 'app.invoices'::regclass;
SET ROLE app_owner;
SELECT tenancy.protect('app.invoices');
RESET ROLE;
SELECT count(*) AS policies, count(*) FILTER (WHERE b.polname IS NULL) AS changed
  FROM pg_policy p LEFT JOIN before_second_call b
       ON b.polname = p.polname AND b.qual IS NOT DISTINCT FROM pg_get_expr(p.polqual, p.polrelid)
 WHERE p.polrelid = 'app.invoices'::regclass;
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'app.invoices'::regclass;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'app.invoices'::regclass AND NOT tgisinternal;

-- An existing uuid tenant_id column is adopted; its rows must all have a tenant.
SET ROLE app_owner;
CREATE TABLE app.projects (id int PRIMARY KEY, name text, tenant_id uuid);
INSERT INTO app.projects VALUES (1, 'orphan', NULL);
SELECT tenancy.protect('app.projects');
:sqlstate
SELECT relrowsecurity FROM pg_class WHERE oid = 'app.projects'::regclass;
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'app.projects'::regclass;
RESET ROLE;
UPDATE app.projects SET tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'acme');
SET ROLE app_owner;
SELECT tenancy.protect('app.projects', read_role => 'member', write_role => 'admin', delete_role => 'owner');
RESET ROLE;
SELECT relid, read_role, write_role, delete_role, audit FROM tenancy.protected_tables ORDER BY relid::text;
-- A tenant_id column of the wrong type, or rows of unknown tenants, are refused.
SET ROLE app_owner;
CREATE TABLE app.wrong_type (id int, tenant_id text);
SELECT tenancy.protect('app.wrong_type');
:sqlstate
CREATE TABLE app.unknown_tenant (id int, tenant_id uuid);
INSERT INTO app.unknown_tenant VALUES (1, '00000000-0000-0000-0000-000000000000');
SELECT tenancy.protect('app.unknown_tenant');
:sqlstate
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'app.unknown_tenant'::regclass;

-- Objects that are not ordinary tables.
CREATE VIEW app.invoice_view AS SELECT 1 AS x;
SELECT tenancy.protect('app.invoice_view');
:sqlstate
CREATE TABLE app.by_month (id int, at date) PARTITION BY RANGE (at);
SELECT tenancy.protect('app.by_month');
:sqlstate
-- Nor a partition or an inheritance child: reading through the parent would
-- bypass its policies.
CREATE TABLE app.by_month_2026 PARTITION OF app.by_month FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT tenancy.protect('app.by_month_2026');
:sqlstate
CREATE SEQUENCE app.counter;
SELECT tenancy.protect('app.counter');
:sqlstate
CREATE TEMP TABLE scratch (id int);
SELECT tenancy.protect('scratch');
:sqlstate
SELECT tenancy.protect('app.no_such_table');
:sqlstate
SELECT tenancy.protect(NULL);
:sqlstate
SELECT tenancy.protect('tenancy.tenants');
:sqlstate
SELECT tenancy.protect('pg_catalog.pg_class');
:sqlstate
SELECT tenancy.protect('app.invoices', read_role => 'root');
:sqlstate
RESET ROLE;

-- Only the table's owner (or a platform admin) protects it.
SET ROLE mallory;
SELECT tenancy.protect('app.wrong_type');
:sqlstate
RESET ROLE;

-- Identifiers are quoted: a table whose name carries quotes and SQL.
SET ROLE app_owner;
CREATE TABLE app."Weird ""Name""; DROP TABLE app.invoices; --" (id int);
SELECT tenancy.protect('app."Weird ""Name""; DROP TABLE app.invoices; --"');
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'app."Weird ""Name""; DROP TABLE app.invoices; --"'::regclass;
SELECT to_regclass('app.invoices') IS NOT NULL AS invoices_still_there;

-- Only platform admins exempt a table from audit or unprotect it.
SELECT tenancy.protect('app.projects', audit => false);
:sqlstate
SELECT tenancy.unprotect('app.projects');
:sqlstate
RESET ROLE;
SET ROLE ops;
SELECT tenancy.unprotect('app."Weird ""Name""; DROP TABLE app.invoices; --"');
RESET ROLE;
SELECT relrowsecurity, relforcerowsecurity,
       (SELECT count(*) FROM pg_policy WHERE polrelid = c.oid) AS policies,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = c.oid AND NOT tgisinternal) AS triggers,
       (SELECT count(*) FROM tenancy.protected_tables WHERE relid = c.oid) AS registered
  FROM pg_class c WHERE c.oid = 'app."Weird ""Name""; DROP TABLE app.invoices; --"'::regclass;
-- The column and its data stay; only the protection goes.
SELECT attname, attnotnull FROM pg_attribute
 WHERE attrelid = 'app."Weird ""Name""; DROP TABLE app.invoices; --"'::regclass AND attname = 'tenant_id';
SELECT tenancy.unprotect('app."Weird ""Name""; DROP TABLE app.invoices; --"');

-- Dropping a protected table forgets it.
SET ROLE app_owner;
SELECT tenancy.protect('app."Weird ""Name""; DROP TABLE app.invoices; --"');
DROP TABLE app."Weird ""Name""; DROP TABLE app.invoices; --";
DROP TABLE app.wrong_type, app.unknown_tenant, app.by_month;
DROP VIEW app.invoice_view;
DROP SEQUENCE app.counter;
RESET ROLE;
SELECT relid FROM tenancy.protected_tables ORDER BY relid::text;
