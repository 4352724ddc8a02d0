-- Aggregate over every row of one big tenant, with parallel workers.
BEGIN;
SELECT set_config('tenancy.tenant', md5('1')::uuid::text, true);
SELECT count(*), sum(amount) FROM bench.big;
END;
