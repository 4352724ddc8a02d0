-- Isolation between tenants: reads, writes, and the known ways row level
-- security leaks (owner bypass, prepared plans, COPY, TRUNCATE, ON CONFLICT,
-- leaky functions, views).
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

SET ROLE alice;
SET tenancy.tenant = 'acme';
INSERT INTO app.invoices (id, customer, amount) VALUES (1, 'Wile E.', 100), (2, 'Road Runner', 200), (3, 'Coyote', 300);
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'globex';
INSERT INTO app.invoices (id, customer, amount) VALUES (101, 'Hank', 1000), (102, 'Homer', 2000);

-- Each tenant sees only its rows, whatever the WHERE clause asks for.
SELECT id, customer FROM app.invoices ORDER BY id;
SELECT id FROM app.invoices WHERE id = 1;
SELECT count(*) FROM app.invoices WHERE id IN (1, 2, 3);
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'acme';
SELECT id, customer FROM app.invoices ORDER BY id;

-- Writes cannot reach another tenant's rows.
UPDATE app.invoices SET amount = 0 WHERE id = 101;
DELETE FROM app.invoices WHERE id = 102;
RESET ROLE;
SELECT id AS globex_id FROM tenancy.tenants WHERE slug = 'globex' \gset
SET ROLE alice;
-- An UPDATE cannot move a row into another tenant.
UPDATE app.invoices SET tenant_id = :'globex_id' WHERE id = 1;
:sqlstate
-- An INSERT with another tenant's id is refused.
INSERT INTO app.invoices (id, customer, amount, tenant_id) VALUES (4, 'Sneaky', 1, :'globex_id');
:sqlstate
-- ON CONFLICT onto another tenant's key: DO UPDATE is refused, never applied.
INSERT INTO app.invoices (id, customer, amount) VALUES (101, 'Take over', 1)
    ON CONFLICT (id) DO UPDATE SET customer = excluded.customer;
:sqlstate
RESET ROLE;
SELECT id, customer, amount FROM app.invoices WHERE id >= 100 ORDER BY id;

-- The table owner has no BYPASSRLS: forced row level security applies to it.
SET ROLE app_owner;
SELECT count(*) FROM app.invoices;
:sqlstate
RESET ROLE;
SELECT tenancy.add_member('globex', 'app_owner', 'viewer');
SET ROLE app_owner;
SET tenancy.tenant = 'globex';
SELECT id FROM app.invoices ORDER BY id;
RESET ROLE;
SELECT tenancy.remove_member('globex', 'app_owner');

-- A leaky function in WHERE sees only the current tenant's rows: the policy
-- is applied before any user-supplied function.
CREATE FUNCTION public.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    RAISE NOTICE 'leak saw %', $1;
    RETURN true;
END $$;
SET ROLE alice;
SET tenancy.tenant = 'acme';
SELECT id FROM app.invoices WHERE public.leak(customer) ORDER BY id;
RESET ROLE;

-- Prepared statements and cached plans follow a tenant switch: the tenant is
-- a runtime value, not a planning constant.
SELECT tenancy.add_member('globex', 'alice', 'viewer');
SET ROLE alice;
SET tenancy.tenant = 'acme';
PREPARE all_invoices AS SELECT id FROM app.invoices ORDER BY id;
SET plan_cache_mode = force_generic_plan;
EXECUTE all_invoices;
SET tenancy.tenant = 'globex';
EXECUTE all_invoices;
SET tenancy.tenant = 'acme';
EXECUTE all_invoices;
RESET tenancy.tenant;
EXECUTE all_invoices;
:sqlstate
-- Same within one PL/pgSQL function, whose plans are cached per session.
CREATE FUNCTION pg_temp.count_invoices() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN RETURN (SELECT count(*) FROM app.invoices); END $$;
SET tenancy.tenant = 'acme';
SELECT pg_temp.count_invoices();
SET tenancy.tenant = 'globex';
SELECT pg_temp.count_invoices();
RESET plan_cache_mode;
DEALLOCATE all_invoices;
RESET ROLE;
SELECT tenancy.remove_member('globex', 'alice');

-- COPY out exports the current tenant's rows only; COPY in is refused by
-- PostgreSQL on tables with row level security (use INSERT).
SET ROLE alice;
SET tenancy.tenant = 'acme';
COPY app.invoices (id, customer) TO STDOUT;
COPY (SELECT id FROM app.invoices ORDER BY id) TO STDOUT;
COPY app.invoices (id, customer, amount) FROM STDIN;
:sqlstate
105	Smuggled	1
\.
:sqlstate
-- TRUNCATE ignores row level security, so it is refused on protected tables,
-- even to the table's owner, who holds the TRUNCATE privilege.
TRUNCATE app.invoices;
:sqlstate
RESET ROLE;
SET ROLE app_owner;
TRUNCATE app.invoices;
:sqlstate
RESET ROLE;
SELECT count(*) AS all_rows FROM app.invoices;

-- Views: a security_invoker view is subject to the caller's tenant; a view
-- owned by a role without BYPASSRLS is too, since the tenant is the session's.
SET ROLE app_owner;
CREATE VIEW app.invoice_totals WITH (security_invoker) AS SELECT sum(amount) AS total FROM app.invoices;
CREATE VIEW app.invoice_totals_owner AS SELECT sum(amount) AS total FROM app.invoices;
GRANT SELECT ON app.invoice_totals, app.invoice_totals_owner TO PUBLIC;
RESET ROLE;
SET ROLE alice;
SELECT total FROM app.invoice_totals;
SELECT total FROM app.invoice_totals_owner;
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'globex';
SELECT total FROM app.invoice_totals;
SELECT total FROM app.invoice_totals_owner;
RESET ROLE;
-- A view owned by a superuser bypasses row level security: the health check
-- reports it (see tenantctl's tests). Shown here so that the risk is explicit.
CREATE VIEW app.invoice_totals_superuser AS SELECT sum(amount) AS total FROM app.invoices;
GRANT SELECT ON app.invoice_totals_superuser TO PUBLIC;
SET ROLE alice;
SELECT total AS every_tenant FROM app.invoice_totals_superuser;
RESET ROLE;
DROP VIEW app.invoice_totals, app.invoice_totals_owner, app.invoice_totals_superuser;
DROP FUNCTION public.leak(text);
RESET tenancy.tenant;
