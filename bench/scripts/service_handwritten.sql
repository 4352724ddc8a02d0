-- Hand-written row level security: the same transaction against a policy
-- USING (tenant_id = current_setting('app.tenant')::uuid), no membership check.
\set t random(1, :tenants)
\set k random(0, :rows - 1)
\set id :k * :tenants + :t
BEGIN;
SELECT set_config('app.actor', 'bench_user', true), set_config('app.tenant', md5(:t::text)::uuid::text, true);
SELECT amount, note FROM bench.items_rls WHERE id = :id;
END;
