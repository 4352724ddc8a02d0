-- Single-row UPDATE of a random row of a random tenant, in its own transaction.
\set t random(1, :tenants)
\set k random(0, :rows - 1)
\set id :k * :tenants + :t
BEGIN;
SELECT set_config('tenancy.tenant', md5(:t::text)::uuid::text, true);
UPDATE bench.w_VARIANT SET amount = amount + 1, note = 'changed' WHERE id = :id;
END;
