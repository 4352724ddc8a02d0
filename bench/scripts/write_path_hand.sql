-- The same transaction against the hand-written recipe: the application
-- sets app.actor and app.tenant, and a policy compares tenant_id with
-- current_setting('app.tenant')::uuid (no membership check, no foreign key).
\set t random(1, :wp_tenants)
\if :hot
\set t 1
\endif
\set k random(0, :wp_rows - 1)
\set id :k * :wp_tenants + :t
BEGIN;
SELECT set_config('app.actor', 'writer', true), set_config('app.tenant', md5('wp' || :t)::uuid::text, true);
INSERT INTO bench.wp_VARIANT (amount, note) VALUES (:t, 'new');
UPDATE bench.wp_VARIANT SET amount = amount + 1, note = 'changed' WHERE id = :id;
END;
