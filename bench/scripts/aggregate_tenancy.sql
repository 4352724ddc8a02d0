-- Per-tenant aggregate over every row of the current tenant.
\set t random(1, :tenants)
BEGIN;
SELECT set_config('tenancy.tenant', md5(:t::text)::uuid::text, true);
SELECT count(*), sum(amount) FROM bench.items;
END;
