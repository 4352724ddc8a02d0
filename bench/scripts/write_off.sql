-- Single-row INSERT, UPDATE and DELETE on a protected table (audit: off).
\set t random(1, :tenants)
BEGIN;
SELECT set_config('tenancy.tenant', md5(:t::text)::uuid::text, true);
INSERT INTO bench.w_off (amount, note) VALUES (:t, 'new') RETURNING id \gset
UPDATE bench.w_off SET amount = amount + 1, note = 'changed' WHERE id = :id;
DELETE FROM bench.w_off WHERE id = :id;
END;
