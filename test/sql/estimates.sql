-- The planner estimates a protected table's policy for the tenant the
-- statement works in, as it would a hand-written WHERE tenant_id = '...':
-- a big tenant gets a sequential scan, a small one its index. The plan stays
-- correct for every tenant: the tenant is still computed when it runs.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'
SELECT id AS acme_id FROM tenancy.tenants WHERE slug = 'acme' \gset
SELECT id AS globex_id FROM tenancy.tenants WHERE slug = 'globex' \gset

-- acme has 50,000 rows, globex 200: as skewed as one big customer among
-- small ones. The average of the two (what the planner assumes for an
-- unknown tenant) is wrong for both.
CREATE TABLE app.events (id int PRIMARY KEY, tenant_id uuid NOT NULL, kind int NOT NULL);
INSERT INTO app.events SELECT g, :'acme_id'::uuid, g % 10 FROM generate_series(1, 50000) g;
INSERT INTO app.events SELECT 50000 + g, :'globex_id'::uuid, g % 10 FROM generate_series(1, 200) g;
ALTER TABLE app.events OWNER TO app_owner;
GRANT SELECT ON app.events TO PUBLIC;
SET ROLE app_owner;
SELECT tenancy.protect('app.events');
RESET ROLE;
-- Statistics from every row, so that the numbers below do not depend on a sample.
SET default_statistics_target = 1000;
ANALYZE app.events;
RESET default_statistics_target;

-- The rows the planner expects from the scan of app.events in a query.
CREATE FUNCTION pg_temp.planned_rows(query text) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (SELECT (node ->> 'Plan Rows')::numeric
              FROM jsonb_path_query(plan::jsonb, 'strict $.**') AS node
             WHERE jsonb_typeof(node) = 'object' AND node ->> 'Relation Name' = 'events'
             LIMIT 1);
END
$$;

-- Each tenant's estimate is within a tenth of its real number of rows.
SET ROLE alice;
SET tenancy.tenant = 'acme';
SELECT count(*) AS acme_rows, pg_temp.planned_rows('SELECT * FROM app.events') BETWEEN 45000 AND 55000 AS estimated
  FROM app.events;
EXPLAIN (COSTS OFF) SELECT count(*) FROM app.events;
SET ROLE bob;
SET tenancy.tenant = 'globex';
SELECT count(*) AS globex_rows, pg_temp.planned_rows('SELECT * FROM app.events') BETWEEN 180 AND 220 AS estimated
  FROM app.events;
EXPLAIN (COSTS OFF) SELECT count(*) FROM app.events;
-- Other conditions are estimated on top of the tenant's rows.
SELECT pg_temp.planned_rows('SELECT * FROM app.events WHERE kind = 3') BETWEEN 15 AND 25 AS estimated;

-- A plan made for one tenant runs for another with that tenant's rows: a
-- prepared statement keeps its plan, never its tenant.
PREPARE count_events AS SELECT count(*), min(id), max(id) FROM app.events;
EXECUTE count_events;
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'acme';
EXECUTE count_events;
DEALLOCATE count_events;

-- Someone who may not use acme cannot plan with its rows either: the
-- planner's check of the context refuses quietly, the query is refused once,
-- and exactly one attempt is recorded (not one for planning and one for
-- running).
RESET ROLE;
SELECT tenancy.wait_for_access_log() AS written;
SELECT coalesce(sum(attempts), 0) AS denied_attempts FROM tenancy.access_denials \gset before_
SET ROLE mallory;
SET tenancy.tenant = 'acme';
SELECT count(*) FROM app.events;
:sqlstate
RESET ROLE;
SELECT tenancy.wait_for_access_log() AS written;
SELECT coalesce(sum(attempts), 0) - :before_denied_attempts AS new_denied_attempts FROM tenancy.access_denials;
RESET tenancy.tenant;

-- A superuser, to whom row level security does not apply, gets the
-- estimate of the whole table.
SELECT pg_temp.planned_rows('SELECT * FROM app.events') AS superuser_planned_rows;

-- tenancy.tenant_for(), the function of the policies, works in every place
-- the planner meets it: a PL/pgSQL expression, a FROM item of a subquery
-- that is flattened, an IN subquery.
SET ROLE alice;
SET tenancy.tenant = 'acme';
DO $$
DECLARE
    tenant uuid := tenancy.tenant_for('viewer', 'select', 'app.events');
BEGIN
    tenant := tenancy.tenant_for('viewer', 'select', 'app.events');
    IF tenancy.tenant_for('viewer', 'select', 'app.events') = tenant THEN
        RAISE NOTICE 'tenant_for() in PL/pgSQL: %', tenant = tenancy.current_tenant_id();
    END IF;
END
$$;
SELECT x = tenancy.current_tenant_id() AS from_item
  FROM (SELECT * FROM tenancy.tenant_for('viewer', 'select', 'app.events') x) s;
SELECT count(*) AS acme_rows FROM app.events
 WHERE tenant_id IN (SELECT x FROM tenancy.tenant_for('viewer', 'select', 'app.events') x);
RESET tenancy.tenant;
RESET ROLE;

DROP TABLE app.events;
