-- A service role names the application user and the tenant for each
-- transaction (set_config(..., true)), then reads one row by primary key.
\set t random(1, :tenants)
\set k random(0, :rows - 1)
\set id :k * :tenants + :t
BEGIN;
SELECT set_config('tenancy.actor', 'bench_user', true), set_config('tenancy.tenant', md5(:t::text)::uuid::text, true);
SELECT amount, note FROM bench.items WHERE id = :id;
END;
