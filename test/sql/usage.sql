-- Usage metering: the rows each tenant writes into protected tables per UTC
-- day (exact across rollbacks and savepoints, COPY included), the actors
-- who used it, and, from collect_usage(), the rows and storage per table;
-- read by the tenant's owners and admins and by platform admins only; a
-- storage_mb limit alerts at 80 % and 100 %; only superusers stop metering.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

SET ROLE app_owner;
CREATE TABLE app.usage_rows (id integer PRIMARY KEY, note text);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.usage_rows TO PUBLIC;
SELECT tenancy.protect('app.usage_rows');
RESET ROLE;
SET ROLE ops;
SELECT tenancy.create_plan('metered', limits => '{"storage_mb": 0.01}');
SELECT tenancy.create_tenant('usage-co', 'Usage Co', owner => 'alice', plan => 'metered') IS NOT NULL AS created;
SELECT tenancy.add_member('usage-co', 'dave', 'member');
RESET ROLE;

-- Writes: 100 inserted, 10 updated, 5 deleted; a rolled-back transaction
-- and a rolled-back savepoint count nothing; COPY counts; two actors (a
-- platform admin's support work is none of the tenant's own use).
SET ROLE alice;
SET tenancy.tenant = 'usage-co';
INSERT INTO app.usage_rows SELECT g, repeat('x', 100) FROM generate_series(1, 100) g;
UPDATE app.usage_rows SET note = 'changed' WHERE id <= 10;
DELETE FROM app.usage_rows WHERE id > 95;
BEGIN;
INSERT INTO app.usage_rows VALUES (1000, 'rolled back');
ROLLBACK;
BEGIN;
INSERT INTO app.usage_rows VALUES (101, 'kept');
SAVEPOINT before_more;
INSERT INTO app.usage_rows VALUES (102, 'undone'), (103, 'undone');
ROLLBACK TO SAVEPOINT before_more;
COMMIT;
-- What a statement writes counts as what it is, wherever it is written:
-- writable CTEs (3 inserted, 2 updated, 1 deleted), an upsert (1 inserted,
-- 1 updated), MERGE (1 updated, 1 inserted).
WITH added AS (INSERT INTO app.usage_rows VALUES (301, 'cte'), (302, 'cte'), (303, 'cte') RETURNING id)
SELECT count(*) AS added FROM added;
WITH changed AS (UPDATE app.usage_rows SET note = 'cte again' WHERE id IN (301, 302) RETURNING id),
     removed AS (DELETE FROM app.usage_rows WHERE id = 303 RETURNING id)
SELECT (SELECT count(*) FROM changed) AS changed, (SELECT count(*) FROM removed) AS removed;
INSERT INTO app.usage_rows VALUES (301, 'upsert'), (304, 'upsert')
    ON CONFLICT (id) DO UPDATE SET note = excluded.note;
MERGE INTO app.usage_rows r USING (VALUES (304, 'merged'), (305, 'merged')) v(id, note) ON r.id = v.id
 WHEN MATCHED THEN UPDATE SET note = v.note WHEN NOT MATCHED THEN INSERT (id, note) VALUES (v.id, v.note);
RESET tenancy.tenant;
RESET ROLE;
-- COPY FROM (a superuser's: PostgreSQL refuses it under row level security).
SET tenancy.tenant = 'usage-co';
COPY app.usage_rows (id, note) FROM STDIN;
201	copied
202	copied
\.
RESET tenancy.tenant;
SET ROLE dave;
SET tenancy.tenant = 'usage-co';
UPDATE app.usage_rows SET note = 'by dave' WHERE id = 1;
RESET tenancy.tenant;
RESET ROLE;

SET ROLE alice;
SELECT inserted, updated, deleted, rows, active_actors, tables
  FROM tenancy.usage('usage-co', (now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date);
-- Thirty days by default, oldest first; a period that ends before it starts
-- is refused.
SELECT count(*) AS days, min(day) = (now() AT TIME ZONE 'UTC')::date - 29 AS from_30_days_ago
  FROM tenancy.usage('usage-co');
SELECT count(*) FROM tenancy.usage('usage-co', '2026-02-01', '2026-01-01');
:sqlstate
SELECT count(*) FROM tenancy.usage('usage-co', '2020-01-01', '2026-01-01');
:sqlstate
-- The owner reads the table too, for the current tenant only.
SET tenancy.tenant = 'usage-co';
SELECT table_name, inserted, updated, deleted FROM tenancy.usage_daily
 WHERE day = (now() AT TIME ZONE 'UTC')::date;
SELECT actor FROM tenancy.usage_actors WHERE day = (now() AT TIME ZONE 'UTC')::date AND actor IN ('alice', 'dave')
 ORDER BY actor;
RESET tenancy.tenant;
RESET ROLE;

-- A member, a stranger: refused; the summary is for platform admins.
SET ROLE dave;
SELECT count(*) FROM tenancy.usage('usage-co');
:sqlstate
SET tenancy.tenant = 'usage-co';
SELECT count(*) AS visible_to_a_member FROM tenancy.usage_daily;
RESET tenancy.tenant;
RESET ROLE;
SET ROLE mallory;
SELECT count(*) FROM tenancy.usage('usage-co');
:sqlstate
SELECT count(*) FROM tenancy.usage_summary();
:sqlstate
-- Only superusers stop metering.
SET tenancy.usage_metering = off;
:sqlstate
RESET ROLE;

-- Rows and storage per table, counted by collect_usage() (platform admins),
-- and the storage_mb alert.
SET ROLE alice;
SELECT tenancy.collect_usage();
:sqlstate
RESET ROLE;
SET ROLE ops;
SELECT tables > 0 AS collected FROM tenancy.collect_usage();
SELECT rows, storage_mb > 0 AS has_storage FROM tenancy.usage('usage-co', (now() AT TIME ZONE 'UTC')::date);
SELECT tenant, plan, inserted, updated, deleted, rows, storage_limit_mb, active_actors
  FROM tenancy.usage_summary() WHERE tenant = 'usage-co';
SELECT limit_key, threshold, "limit" FROM tenancy.alert_list('usage-co') ORDER BY id;
-- Collecting again changes nothing and alerts nobody twice.
SELECT tables > 0 AS collected FROM tenancy.collect_usage();
SELECT count(*) AS alerts FROM tenancy.alert_list('usage-co');
RESET ROLE;

-- With metering off (a superuser's choice), writes are not counted.
SET tenancy.usage_metering = off;
SET tenancy.tenant = 'usage-co';
INSERT INTO app.usage_rows VALUES (300, 'not metered');
RESET tenancy.tenant;
RESET tenancy.usage_metering;
SELECT inserted FROM tenancy.usage('usage-co', (now() AT TIME ZONE 'UTC')::date);

-- Clean up.
SET ROLE ops;
SELECT tenancy.drop_tenant('usage-co');
SELECT tenancy.drop_plan('metered');
RESET ROLE;
SET ROLE app_owner;
DROP TABLE app.usage_rows;
RESET ROLE;
