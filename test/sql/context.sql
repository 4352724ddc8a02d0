-- The tenant context: selection, validation at every use, and its errors.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- CREATE EXTENSION made new sessions of this database load pg_tenancy at
-- start, so malformed values are refused when set. (A value that arrives
-- before the library loads is judged when it loads: connection_settings.)
SHOW session_preload_libraries;
SET tenancy.tenant = 'Acme';
:sqlstate
SET ROLE dave;
SELECT tenancy.current_tenant();
:sqlstate
RESET ROLE;
SET tenancy.tenant = 'acme; DROP TABLE app.invoices';
:sqlstate
SET tenancy.tenant = 'x'' OR ''1''=''1';
:sqlstate
SHOW tenancy.tenant;
-- The tenancy. prefix is reserved: a misspelt setting is an error, not a no-op.
SET tenancy.tennant = 'acme';
:sqlstate

SET ROLE dave;
-- No tenant selected: every context function refuses.
SELECT tenancy.current_tenant_id();
:sqlstate
SELECT tenancy.current_tenant();
:sqlstate
SELECT tenancy.has_role('viewer');
:sqlstate
-- actor() needs no tenant.
SELECT tenancy.actor(), tenancy.db_role(), tenancy.is_platform_admin();

SET tenancy.tenant = 'acme';
SELECT tenancy.current_tenant(), tenancy.current_role(),
       tenancy.current_tenant_id() = (SELECT tenant_id FROM tenancy.my_tenants() WHERE slug = 'acme') AS id_matches,
       tenancy.has_role('viewer') AS viewer, tenancy.has_role('member') AS member,
       tenancy.has_role('admin') AS admin;
-- The uuid names the same tenant.
RESET ROLE;
SELECT set_config('tenancy.tenant', id::text, false) IS NOT NULL AS set FROM tenancy.tenants WHERE slug = 'acme';
SET ROLE dave;
SELECT tenancy.current_tenant();

-- Unknown tenant; a tenant dave is not a member of.
SET tenancy.tenant = 'nope';
SELECT tenancy.current_tenant();
:sqlstate
SET tenancy.tenant = 'globex';
SELECT tenancy.current_tenant();
:sqlstate
RESET tenancy.tenant;
SELECT tenancy.current_tenant();
:sqlstate

-- SET LOCAL lasts until the end of the transaction, then nothing is selected.
BEGIN;
SET LOCAL tenancy.tenant = 'acme';
SELECT tenancy.current_tenant();
COMMIT;
SELECT tenancy.current_tenant();
:sqlstate
SHOW tenancy.tenant;
-- set_config(..., true) is the same as SET LOCAL.
BEGIN;
SELECT set_config('tenancy.tenant', 'acme', true);
SELECT tenancy.current_tenant();
ROLLBACK;
SELECT tenancy.current_tenant();
:sqlstate
RESET ROLE;

-- An inactive membership is refused.
SELECT tenancy.set_member_active('acme', 'dave', false);
SET ROLE dave;
SET tenancy.tenant = 'acme';
SELECT tenancy.current_tenant();
:sqlstate
RESET ROLE;
SELECT tenancy.set_member_active('acme', 'dave', true);
SET ROLE dave;
SELECT tenancy.current_tenant();
RESET ROLE;

-- A suspended tenant refuses its members, with the reason; platform admins
-- may still enter for support.
SELECT tenancy.suspend_tenant('acme', 'payment overdue');
SET ROLE dave;
SELECT tenancy.current_tenant();
:sqlstate
RESET ROLE;
SET ROLE ops;
SELECT tenancy.current_tenant(), tenancy.current_role();
RESET ROLE;
SELECT tenancy.activate_tenant('acme');

-- A role change is seen by the next statement of the same session.
SET ROLE dave;
SELECT tenancy.current_role();
RESET ROLE;
SELECT tenancy.set_member_role('acme', 'dave', 'admin');
SET ROLE dave;
SELECT tenancy.current_role();
RESET ROLE;
SELECT tenancy.set_member_role('acme', 'dave', 'member');
RESET tenancy.tenant;
