-- Identity: the actor is the session's outer role, or the application user a
-- service role of this database asserts; nobody else may assert one.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- SET ROLE changes the actor; a SECURITY DEFINER function does not lend its
-- owner's identity to the caller.
CREATE FUNCTION public.whoami_definer() RETURNS text
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT tenancy.actor() $$;
CREATE FUNCTION public.is_admin_definer() RETURNS boolean
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT tenancy.is_platform_admin() $$;
SET ROLE dave;
SELECT tenancy.actor() AS actor, public.whoami_definer() AS in_definer,
       public.is_admin_definer() AS admin_in_definer, current_user;
RESET ROLE;

-- An ordinary role that sets tenancy.actor is refused, and the refusal is
-- recorded (see the denials test).
SET ROLE mallory;
SET tenancy.actor = 'alice';
SELECT tenancy.actor();
:sqlstate
SET tenancy.tenant = 'acme';
SELECT tenancy.current_tenant();
:sqlstate
RESET tenancy.actor;
RESET tenancy.tenant;
SELECT tenancy.actor();
RESET ROLE;
-- So is a member of a tenant, and so is a platform admin.
SET ROLE dave;
SET tenancy.actor = 'alice';
SELECT tenancy.current_tenant();
:sqlstate
RESET tenancy.actor;
RESET ROLE;
SET ROLE ops;
SET tenancy.actor = 'alice';
SELECT tenancy.actor();
:sqlstate
RESET tenancy.actor;
RESET ROLE;

-- The old name tenancy.user is gone, with no alias: the whole "tenancy."
-- prefix belongs to the extension.
SET tenancy.user = 'alice';
:sqlstate
SELECT set_config('tenancy.user', 'alice', true);
:sqlstate

-- The service role asserts application users per transaction.
SELECT tenancy.add_member('acme', 'alice@example.com', 'member');
SET ROLE app_server;
BEGIN;
SET LOCAL tenancy.actor = 'alice@example.com';
SET LOCAL tenancy.tenant = 'acme';
SELECT tenancy.actor(), tenancy.db_role(), tenancy.current_tenant(), tenancy.current_role(),
       tenancy.is_platform_admin();
COMMIT;
BEGIN;
SELECT set_config('tenancy.actor', 'alice@example.com', true), set_config('tenancy.tenant', 'acme', true);
SELECT tenancy.actor(), tenancy.current_role();
COMMIT;
-- Both are gone after the transaction.
SELECT current_setting('tenancy.actor') = '' AS actor_gone, current_setting('tenancy.tenant') = '' AS tenant_gone;
-- Without tenancy.actor the service acts as itself, which is no member.
BEGIN;
SET LOCAL tenancy.tenant = 'acme';
SELECT tenancy.actor();
SELECT tenancy.current_tenant();
:sqlstate
ROLLBACK;
-- An asserted user who is not a member is refused like anyone else.
BEGIN;
SET LOCAL tenancy.actor = 'eve@example.com';
SET LOCAL tenancy.tenant = 'acme';
SELECT tenancy.current_tenant();
:sqlstate
ROLLBACK;

-- A service role's settings count only for the transaction: a value set for
-- the session would stay on a pooled connection for its next client, so it
-- is refused when used, with a hint that says SET LOCAL.
SET tenancy.tenant = 'acme';
BEGIN;
SET LOCAL tenancy.actor = 'alice@example.com';
SELECT count(*) FROM app.invoices;
:sqlstate
ROLLBACK;
RESET tenancy.tenant;
SET tenancy.actor = 'alice@example.com';
BEGIN;
SET LOCAL tenancy.tenant = 'acme';
SELECT tenancy.actor();
:sqlstate
ROLLBACK;
-- A plain SET inside the transaction is a session-level value too...
BEGIN;
SET tenancy.actor = 'alice@example.com';
SET tenancy.tenant = 'acme';
SELECT tenancy.current_tenant();
:sqlstate
ROLLBACK;
-- ...but a SET LOCAL over a lingering session value is honoured.
BEGIN;
SET LOCAL tenancy.actor = 'alice@example.com';
SET LOCAL tenancy.tenant = 'acme';
SELECT tenancy.actor(), tenancy.current_tenant();
COMMIT;
RESET tenancy.actor;
RESET ROLE;

-- Actor names are checked and normalized when set: control and format
-- characters (a zero-width space) are refused, combining sequences are put in
-- normal form C, and a long value is cut in the message.
SET ROLE app_server;
SET tenancy.actor = E'bad\nname';
:sqlstate
SET tenancy.actor = ' padded';
:sqlstate
SET tenancy.actor = E'bob\u200b';
:sqlstate
SET tenancy.actor = E'bob\u00a0smith';
:sqlstate
SET tenancy.actor = E'\ue000private';
:sqlstate
SELECT set_config('tenancy.actor', repeat('long', 100000), false);
:sqlstate
BEGIN;
SET LOCAL tenancy.actor = E'Ame\u0301lie';
SELECT tenancy.actor() = E'Am\u00e9lie' AS composed, octet_length(current_setting('tenancy.actor')) AS bytes;
ROLLBACK;
RESET tenancy.actor;
RESET ROLE;

-- A service role that bypasses row level security cannot be made a service.
CREATE ROLE leaky_service BYPASSRLS;
SELECT tenancy.grant_service('leaky_service');
:sqlstate
SELECT tenancy.grant_service('no_such_role');
:sqlstate
SET ROLE alice;
SELECT tenancy.grant_service('alice');
:sqlstate
SELECT tenancy.grant_platform_admin('alice');
:sqlstate
RESET ROLE;
DROP ROLE leaky_service;
DROP FUNCTION public.whoami_definer(), public.is_admin_definer();
