-- The write path through pg_tenancy: a service role names the user and the
-- tenant for the transaction (set_config(..., true)), inserts one row and
-- updates another by primary key. With -D hot=1 every transaction writes
-- into the first tenant (the hot-tenant case); with hot=0 into a random one.
\set t random(1, :wp_tenants)
\if :hot
\set t 1
\endif
\set k random(0, :wp_rows - 1)
\set id :k * :wp_tenants + :t
BEGIN;
SELECT set_config('tenancy.actor', 'writer', true), set_config('tenancy.tenant', md5('wp' || :t)::uuid::text, true);
INSERT INTO bench.wp_VARIANT (amount, note) VALUES (:t, 'new');
UPDATE bench.wp_VARIANT SET amount = amount + 1, note = 'changed' WHERE id = :id;
END;
