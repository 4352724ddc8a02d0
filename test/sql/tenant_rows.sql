-- A tenant's rows live and die with it, without a foreign key from protected
-- tables to tenancy.tenants: the trigger tenancy_tenant_check holds roles
-- that bypass the policies to existing tenants, tenancy.drop_tenant() removes
-- the rows from every protected table, and nothing else removes a tenant.
-- (Concurrent writers and drops: test/specs/tenant_drop_race.spec.)
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

CREATE SCHEMA life AUTHORIZATION app_owner;
GRANT USAGE ON SCHEMA life TO PUBLIC;
SET ROLE app_owner;
CREATE TABLE life.orders (id int PRIMARY KEY, note text);
CREATE TABLE life.lines (id int PRIMARY KEY, order_id int, qty int);
GRANT SELECT, INSERT, UPDATE, DELETE ON life.orders, life.lines TO PUBLIC;
SELECT tenancy.protect('life.orders');
SELECT tenancy.protect('life.lines');
RESET ROLE;
SELECT tenancy.create_tenant('doomed', 'Doomed Ltd', owner => 'alice',
                             id => '00000000-0000-4000-8000-00000000d00d') IS NOT NULL AS created;

-- No foreign key: a row trigger (which pg_dump restores after the rows).
SELECT count(*) AS foreign_keys FROM pg_constraint WHERE conrelid = 'life.orders'::regclass AND contype = 'f';
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger
 WHERE tgrelid = 'life.orders'::regclass AND tgname = 'tenancy_tenant_check';

-- A superuser bypasses the policies; the trigger still wants a tenant that
-- exists.
INSERT INTO life.orders (id, note, tenant_id) VALUES (1, 'nobody''s', '00000000-0000-4000-8000-000000000bad');
:sqlstate
INSERT INTO life.orders (id, note, tenant_id) VALUES (1, 'by the superuser', '00000000-0000-4000-8000-00000000d00d');
UPDATE life.orders SET tenant_id = '00000000-0000-4000-8000-000000000bad' WHERE id = 1;
:sqlstate
COPY life.lines (id, order_id, qty, tenant_id) FROM stdin;
10	1	5	00000000-0000-4000-8000-000000000bad
\.
:sqlstate
COPY life.lines (id, order_id, qty, tenant_id) FROM stdin;
10	1	5	00000000-0000-4000-8000-00000000d00d
\.
-- A member writes under the policies.
SET ROLE alice;
SET tenancy.tenant = 'doomed';
INSERT INTO life.orders (id, note) VALUES (2, 'by alice');
INSERT INTO life.lines (id, order_id, qty) VALUES (11, 2, 1);
RESET tenancy.tenant;
RESET ROLE;
SELECT id, note FROM life.orders ORDER BY id;

-- Tenant users cannot call the trigger function to probe tenants.
SET ROLE mallory;
SELECT tenancy.tenant_check();
:sqlstate
RESET ROLE;

-- The table owner may neither drop, disable nor rename the trigger.
SET ROLE app_owner;
DROP TRIGGER tenancy_tenant_check ON life.orders;
:sqlstate
ALTER TABLE life.orders DISABLE TRIGGER tenancy_tenant_check;
:sqlstate
ALTER TRIGGER tenancy_tenant_check ON life.orders RENAME TO checked;
:sqlstate
RESET ROLE;

-- Nothing removes a tenant but drop_tenant() (or a DELETE by its owner):
-- TRUNCATE and a new id are refused.
TRUNCATE tenancy.tenants CASCADE;
:sqlstate
UPDATE tenancy.tenants SET id = '00000000-0000-4000-8000-00000000beef' WHERE slug = 'doomed';
:sqlstate
UPDATE tenancy.tenants SET name = 'Doomed Limited' WHERE slug = 'doomed';
SELECT count(*) AS orders, (SELECT count(*) FROM life.lines) AS lines FROM life.orders;

-- drop_tenant() removes the rows everywhere, also those a superuser wrote.
SELECT tenancy.drop_tenant('doomed');
SELECT count(*) AS orders, (SELECT count(*) FROM life.lines) AS lines FROM life.orders;
-- And so does a superuser's DELETE.
SELECT tenancy.create_tenant('doomed', 'Doomed Ltd', id => '00000000-0000-4000-8000-00000000d00d') IS NOT NULL AS created;
INSERT INTO life.orders (id, note, tenant_id) VALUES (3, 'again', '00000000-0000-4000-8000-00000000d00d');
DELETE FROM tenancy.tenants WHERE slug = 'doomed';
SELECT count(*) AS orders FROM life.orders;

-- In one transaction: rows written, the tenant dropped, no row written after.
BEGIN;
SELECT tenancy.create_tenant('brief', 'Brief', id => '00000000-0000-4000-8000-00000000b1ef') IS NOT NULL AS created;
INSERT INTO life.orders (id, note, tenant_id) VALUES (4, 'brief', '00000000-0000-4000-8000-00000000b1ef');
SELECT tenancy.drop_tenant('brief');
INSERT INTO life.orders (id, note, tenant_id) VALUES (5, 'too late', '00000000-0000-4000-8000-00000000b1ef');
:sqlstate
ROLLBACK;
-- A rolled-back savepoint lets go of the tenant it held; the next write
-- takes and checks it again.
BEGIN;
SELECT tenancy.create_tenant('brief', 'Brief', id => '00000000-0000-4000-8000-00000000b1ef') IS NOT NULL AS created;
SAVEPOINT s;
INSERT INTO life.orders (id, note, tenant_id) VALUES (4, 'brief', '00000000-0000-4000-8000-00000000b1ef');
SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 29812 AND pid = pg_backend_pid();
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 29812 AND pid = pg_backend_pid();
INSERT INTO life.orders (id, note, tenant_id) VALUES (4, 'brief', '00000000-0000-4000-8000-00000000b1ef');
SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 29812 AND pid = pg_backend_pid();
ROLLBACK;

-- A bulk load into many tenants does not fill the lock table: after 16
-- tenants one lock holds them all.
SELECT count(tenancy.create_tenant('bulk-' || n, 'Bulk ' || n,
                                   id => ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid))
  FROM generate_series(1, 40) n;
BEGIN;
INSERT INTO life.orders (id, note, tenant_id)
SELECT 100 + n, 'bulk', ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid FROM generate_series(1, 40) n;
SELECT count(*) AS tenant_locks, count(*) FILTER (WHERE mode = 'ShareLock') AS all_tenants
  FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 29812 AND pid = pg_backend_pid();
COMMIT;
SELECT count(*) AS bulk_rows FROM life.orders WHERE note = 'bulk';
SELECT count(tenancy.drop_tenant('bulk-' || n)) FROM generate_series(1, 40) n;
SELECT count(*) AS bulk_rows FROM life.orders WHERE note = 'bulk';

-- unprotect() takes the trigger away with the policies.
SELECT tenancy.unprotect('life.lines');
SELECT count(*) AS tenant_checks FROM pg_trigger WHERE tgrelid = 'life.lines'::regclass AND tgname = 'tenancy_tenant_check';
DROP SCHEMA life CASCADE;
