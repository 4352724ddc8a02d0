-- Baseline: the same transaction on a table without row level security,
-- filtered by an explicit WHERE tenant_id = $1; the application's own tenant
-- setting stands in for tenancy.tenant.
\set t random(1, :tenants)
\set k random(0, :rows - 1)
\set id :k * :tenants + :t
BEGIN;
SELECT set_config('bench.tenant', md5(:t::text)::uuid::text, true);
SELECT amount, note FROM bench.items_base WHERE tenant_id = md5(:t::text)::uuid AND id = :id;
END;
