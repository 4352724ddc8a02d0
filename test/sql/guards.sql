-- The owner of a protected table cannot switch its protection off.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'
SET ROLE app_owner;
ALTER TABLE app.invoices DISABLE ROW LEVEL SECURITY;
:sqlstate
ALTER TABLE app.invoices NO FORCE ROW LEVEL SECURITY;
:sqlstate
ALTER TABLE app.invoices DISABLE TRIGGER tenancy_audit;
:sqlstate
ALTER TABLE app.invoices DISABLE TRIGGER ALL;
:sqlstate
ALTER TABLE app.invoices DISABLE TRIGGER USER;
:sqlstate
ALTER TABLE app.invoices ENABLE REPLICA TRIGGER tenancy_audit;
:sqlstate
ALTER TABLE app.invoices DISABLE TRIGGER tenancy_truncate_guard;
:sqlstate
DROP TRIGGER tenancy_audit ON app.invoices;
:sqlstate
ALTER TRIGGER tenancy_audit ON app.invoices RENAME TO audit_was_here;
:sqlstate
DROP POLICY tenancy_select ON app.invoices;
:sqlstate
DROP POLICY IF EXISTS tenancy_delete ON app.invoices;
:sqlstate
ALTER POLICY tenancy_select ON app.invoices USING (true);
:sqlstate
ALTER POLICY tenancy_update ON app.invoices RENAME TO old_update;
:sqlstate
ALTER TABLE app.invoices DROP COLUMN tenant_id;
:sqlstate
ALTER TABLE app.invoices ALTER COLUMN tenant_id DROP NOT NULL;
:sqlstate
ALTER TABLE app.invoices ALTER COLUMN tenant_id DROP DEFAULT;
:sqlstate
ALTER TABLE app.invoices ALTER COLUMN tenant_id TYPE text;
:sqlstate
ALTER TABLE app.invoices RENAME COLUMN tenant_id TO owner_id;
:sqlstate
DROP TRIGGER tenancy_tenant_check ON app.invoices;
:sqlstate
ALTER TABLE app.invoices DISABLE TRIGGER tenancy_tenant_check;
:sqlstate
-- Several subcommands: the whole statement is refused.
ALTER TABLE app.invoices ADD COLUMN note text, DISABLE ROW LEVEL SECURITY;
:sqlstate
SELECT attname FROM pg_attribute WHERE attrelid = 'app.invoices'::regclass AND attname = 'note';

-- Harmless changes stay allowed.
ALTER TABLE app.invoices ADD COLUMN note text;
ALTER TABLE app.invoices DROP COLUMN note;
CREATE INDEX invoices_customer_idx ON app.invoices (customer);
DROP INDEX app.invoices_customer_idx;

-- The owner may not add a policy of her own (its expression would run on
-- other tenants' rows); a permissive one that a superuser adds cannot widen
-- access beyond the current tenant: the tenancy policies are restrictive.
CREATE POLICY everything ON app.invoices FOR SELECT USING (true);
:sqlstate
RESET ROLE;
CREATE POLICY everything ON app.invoices FOR SELECT USING (true);
SET ROLE alice;
SET tenancy.tenant = 'acme';
SELECT count(*) FILTER (WHERE tenant_id <> tenancy.current_tenant_id()) AS other_tenants_rows FROM app.invoices;
RESET ROLE;
DROP POLICY everything ON app.invoices;

-- Everything is still in place.
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'app.invoices'::regclass;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'app.invoices'::regclass AND NOT tgisinternal ORDER BY tgname;
SELECT count(*) AS tenancy_policies FROM pg_policy WHERE polrelid = 'app.invoices'::regclass;

-- A platform admin who may alter the table (here the superuser) may do it.
ALTER TABLE app.invoices DISABLE TRIGGER tenancy_audit;
ALTER TABLE app.invoices ENABLE TRIGGER tenancy_audit;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'app.invoices'::regclass AND tgname = 'tenancy_audit';
RESET tenancy.tenant;
