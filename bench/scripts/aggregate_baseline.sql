-- Baseline: the same aggregate with an explicit WHERE tenant_id = $1.
\set t random(1, :tenants)
BEGIN;
SELECT set_config('bench.tenant', md5(:t::text)::uuid::text, true);
SELECT count(*), sum(amount) FROM bench.items_base WHERE tenant_id = md5(:t::text)::uuid;
END;
