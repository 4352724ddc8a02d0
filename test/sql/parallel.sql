-- Parallel query with pg_tenancy: parallel workers trust the context their
-- leader validated, so a parallel plan works with a tenant selected, over
-- protected tables and over any other table, and so does protecting a table
-- big enough for parallel scans.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'
SELECT id AS acme_id FROM tenancy.tenants WHERE slug = 'acme' \gset
SELECT id AS globex_id FROM tenancy.tenants WHERE slug = 'globex' \gset

-- Plans are made parallel even for small tables.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

-- A table that already holds rows of two tenants is protected by its owner;
-- protect() scans it with parallel plans.
CREATE TABLE app.measurements (id int PRIMARY KEY, tenant_id uuid NOT NULL, reading int NOT NULL);
INSERT INTO app.measurements
SELECT g, CASE WHEN g % 4 = 0 THEN :'globex_id'::uuid ELSE :'acme_id'::uuid END, g % 100
  FROM generate_series(1, 20000) g;
ALTER TABLE app.measurements OWNER TO app_owner;
GRANT SELECT ON app.measurements TO PUBLIC;
ANALYZE app.measurements;
SET ROLE app_owner;
SELECT tenancy.protect('app.measurements');
RESET ROLE;

-- A member of acme aggregates her tenant's rows with parallel workers.
SET ROLE dave;
SET tenancy.tenant = 'acme';
EXPLAIN (COSTS OFF) SELECT count(*), sum(reading) FROM app.measurements;
SELECT count(*), sum(reading) FROM app.measurements;
-- The workers did run (before pg_tenancy trusted the leader, every one of
-- them failed with "cannot update SecondarySnapshot during a parallel operation").
CREATE FUNCTION pg_temp.workers_launched(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
        IF line ~ 'Workers Launched' THEN
            RETURN NEXT btrim(line);
        END IF;
    END LOOP;
END
$$;
SELECT pg_temp.workers_launched('SELECT count(*), sum(reading) FROM app.measurements');
SET tenancy.tenant = 'globex';
SELECT count(*) FROM app.measurements;
:sqlstate
RESET tenancy.tenant;
SELECT count(*) FROM app.measurements;
:sqlstate
RESET ROLE;

-- A table pg_tenancy does not protect, read in parallel with a tenant selected.
CREATE TABLE public.plain_numbers AS SELECT g AS v FROM generate_series(1, 20000) g;
ANALYZE public.plain_numbers;
GRANT SELECT ON public.plain_numbers TO PUBLIC;
SET ROLE dave;
SET tenancy.tenant = 'acme';
EXPLAIN (COSTS OFF) SELECT sum(v) FROM public.plain_numbers;
SELECT sum(v) FROM public.plain_numbers;
-- force_parallel_mode runs even a trivial query in a worker.
SET force_parallel_mode = on;
SELECT count(*) AS acme_rows FROM app.measurements;
SELECT tenancy.current_tenant(), sum(v) FROM public.plain_numbers;
RESET force_parallel_mode;
RESET tenancy.tenant;
RESET ROLE;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- A SERIALIZABLE transaction that touches no protected table takes no
-- predicate lock on pg_tenancy's catalog, even right after it changed.
SET ROLE app_owner;
SELECT tenancy.protect('app.measurements', read_role => 'viewer');
RESET ROLE;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT sum(v) FROM public.plain_numbers;
SELECT count(*) AS predicate_locks_on_tenancy FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.mode = 'SIReadLock' AND c.relnamespace = 'tenancy'::regnamespace;
COMMIT;

DROP TABLE app.measurements, public.plain_numbers;
