-- A write-heavy transaction: INSERT, UPDATE and DELETE of one row.
\set t random(1, :tenants)
BEGIN;
SELECT set_config('tenancy.tenant', md5(:t::text)::uuid::text, true);
INSERT INTO bench.w_VARIANT (amount, note) VALUES (:t, 'new') RETURNING id \gset
UPDATE bench.w_VARIANT SET amount = amount + 1, note = 'changed' WHERE id = :id;
DELETE FROM bench.w_VARIANT WHERE id = :id;
END;
