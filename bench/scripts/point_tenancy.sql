-- Point read by primary key, tenant chosen per transaction with set_config(..., true).
\set t random(1, :tenants)
\set k random(0, :rows - 1)
\set id :k * :tenants + :t
BEGIN;
SELECT set_config('tenancy.tenant', md5(:t::text)::uuid::text, true);
SELECT amount, note FROM bench.items WHERE id = :id;
END;
