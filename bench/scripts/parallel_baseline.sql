-- Baseline: the same aggregate without row level security, with an explicit
-- WHERE tenant_id = $1.
BEGIN;
SELECT set_config('bench.tenant', md5('1')::uuid::text, true);
SELECT count(*), sum(amount) FROM bench.big_base WHERE tenant_id = md5('1')::uuid;
END;
