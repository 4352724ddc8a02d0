-- The tenant context is fixed for a whole top-level statement: a change of
-- tenancy.tenant, tenancy.actor or the role made while a statement runs (a
-- set_config() in a subquery, in a function, in a DO block) takes effect from
-- the next statement. So no statement can read one tenant's rows and write
-- them into another, and its audit rows all carry the tenant it ran in.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- alice owns acme and is made a member of globex: she may write in both.
SELECT tenancy.add_member('globex', 'alice', 'member');
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
CREATE FUNCTION public.switch_tenant_then_current(target text) RETURNS uuid
    LANGUAGE sql AS $$ SELECT set_config('tenancy.tenant', target, false); SELECT tenancy.current_tenant_id() $$;
SET ROLE alice;
SET tenancy.tenant = 'acme';
INSERT INTO app.invoices (id, customer, amount) VALUES (500, 'Switch test', 5);

-- The attack of the issue: the new tenant_id is computed after switching the
-- setting in a subquery. The row stays in acme.
UPDATE app.invoices
   SET tenant_id = (SELECT tenancy.current_tenant_id() FROM (SELECT set_config('tenancy.tenant', 'globex', false)) s)
 WHERE id = 500;
-- The switch itself took effect, from this statement on.
SHOW tenancy.tenant;
SELECT tenancy.current_tenant(), count(*) AS rows_500_in_globex FROM app.invoices WHERE id = 500;
SET tenancy.tenant = 'acme';
SELECT tenancy.current_tenant(), count(*) AS rows_500_in_acme FROM app.invoices WHERE id = 500;

-- The same through a function whose second statement reads the context.
UPDATE app.invoices SET tenant_id = public.switch_tenant_then_current('globex') WHERE id = 500;
SET tenancy.tenant = 'acme';
SELECT count(*) AS rows_500_in_acme FROM app.invoices WHERE id = 500;

-- Inserted rows take the tenant of the statement, whatever the subquery set.
INSERT INTO app.invoices (id, customer, amount)
SELECT 501, 'Inserted while switching', 1 FROM (SELECT set_config('tenancy.tenant', 'globex', false)) s;
SET tenancy.tenant = 'acme';
SELECT id, customer FROM app.invoices WHERE id = 501;

-- A DO block is one statement too: its writes all go to the tenant it
-- started in; the switch counts from the next statement.
DO $$
BEGIN
    PERFORM set_config('tenancy.tenant', 'globex', false);
    INSERT INTO app.invoices (id, customer, amount) VALUES (502, 'Written by a DO block', 1);
END
$$;
SELECT tenancy.current_tenant();
SET tenancy.tenant = 'acme';
SELECT id, customer FROM app.invoices WHERE id = 502;

-- A query reads the context of its own statement, not the one it sets.
SELECT set_config('tenancy.tenant', 'globex', false) AS switched_to, tenancy.current_tenant() AS still_in;
SELECT tenancy.current_tenant() AS now_in;
SET tenancy.tenant = 'acme';


-- A function that switches the tenant while a statement is planned or starts
-- up (a STABLE function the planner evaluates for its estimates, partition
-- pruning) never makes the statement check one tenant and act in another:
-- the whole statement runs in one. Here that is globex, where row 500 does
-- not exist, so nothing changes, in acme or in globex.
CREATE FUNCTION pg_temp.switch_to(target text) RETURNS int
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM set_config('tenancy.tenant', target, false);
    PERFORM 1;
    RETURN 1;
END
$$;
CREATE TEMP TABLE parts (a int) PARTITION BY LIST (a);
CREATE TEMP TABLE parts_1 PARTITION OF parts FOR VALUES IN (1);
CREATE TEMP TABLE parts_2 PARTITION OF parts FOR VALUES IN (2);
INSERT INTO parts VALUES (1);
SET tenancy.tenant = 'acme';
UPDATE app.invoices i SET customer = 'Pruned switch'
  FROM parts WHERE parts.a = pg_temp.switch_to('globex') AND i.id = 500
RETURNING i.id, i.customer;
SELECT tenancy.current_tenant() AS now_in;
SELECT count(*) AS changed_in_globex FROM app.invoices WHERE customer = 'Pruned switch';
SET tenancy.tenant = 'acme';
SELECT id, customer FROM app.invoices WHERE id = 500;
RESET ROLE;

-- The role, too: SET ROLE inside a statement changes the actor from the next.
SELECT set_config('role', 'bob', false) AS switched_to, tenancy.actor() AS still_acting;
SELECT tenancy.actor() AS now_acting;
RESET ROLE;

-- And the actor a service asserts.
SET ROLE app_server;
BEGIN;
SET LOCAL tenancy.actor = 'alice@example.com';
SET LOCAL tenancy.tenant = 'acme';
SELECT set_config('tenancy.actor', 'eve@example.com', true) AS switched_to, tenancy.actor() AS still_acting;
COMMIT;
RESET ROLE;

-- Every audit row of these statements carries acme, the tenant they ran in.
SELECT a.operation, t.slug AS tenant, a.actor, a.old_row->>'id' AS old_id, a.new_row->>'id' AS new_id,
       CASE WHEN a.operation = 'UPDATE' THEN a.new_row ? 'tenant_id' END AS tenant_id_changed
  FROM tenancy.audit_log a JOIN tenancy.tenants t ON t.id = a.tenant_id
 WHERE a.id > :mark AND a.table_name = 'app.invoices' ORDER BY a.id;

DELETE FROM app.invoices WHERE id IN (500, 501, 502);
SELECT tenancy.remove_member('globex', 'alice');
DROP FUNCTION public.switch_tenant_then_current(text);
