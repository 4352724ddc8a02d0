-- Single-row INSERT, UPDATE and DELETE on a protected table (audit: cpp).
\set t random(1, :tenants)
BEGIN;
SELECT set_config('tenancy.tenant', md5(:t::text)::uuid::text, true);
INSERT INTO bench.w_cpp (amount, note) VALUES (:t, 'new') RETURNING id \gset
UPDATE bench.w_cpp SET amount = amount + 1, note = 'changed' WHERE id = :id;
DELETE FROM bench.w_cpp WHERE id = :id;
END;
