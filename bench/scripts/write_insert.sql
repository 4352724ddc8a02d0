-- Single-row INSERT in its own transaction (VARIANT is replaced per table).
\set t random(1, :tenants)
BEGIN;
SELECT set_config('tenancy.tenant', md5(:t::text)::uuid::text, true);
INSERT INTO bench.w_VARIANT (amount, note) VALUES (:t, 'new');
END;
