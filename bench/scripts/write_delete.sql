-- Single-row DELETE of the tenant's newest row, in its own transaction.
\set t random(1, :tenants)
BEGIN;
SELECT set_config('tenancy.tenant', md5(:t::text)::uuid::text, true);
DELETE FROM bench.w_VARIANT WHERE id = (SELECT max(id) FROM bench.w_VARIANT);
END;
