-- Identity: the actor is the session's outer role, or the application user a
-- tenancy_service role asserts; nobody else may assert one.
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

-- An ordinary role that sets tenancy.user is refused, and the refusal is
-- recorded (see the denials test).
SET ROLE mallory;
SET tenancy."user" = 'alice';
SELECT tenancy.actor();
:sqlstate
SET tenancy.tenant = 'acme';
SELECT tenancy.current_tenant();
:sqlstate
RESET tenancy."user";
SELECT tenancy.actor();
RESET ROLE;
-- So is a member of a tenant, and so is a platform admin.
SET ROLE dave;
SET tenancy."user" = 'alice';
SELECT tenancy.current_tenant();
:sqlstate
RESET tenancy."user";
RESET ROLE;
SET ROLE ops;
SET tenancy."user" = 'alice';
SELECT tenancy.actor();
:sqlstate
RESET tenancy."user";
RESET ROLE;

-- USER is a reserved word in SQL: the setting tenancy.user is written
-- tenancy."user" in SET, or set with set_config('tenancy.user', ...).
SET tenancy.user = 'alice';
:sqlstate

-- The service role asserts application users per transaction.
SELECT tenancy.add_member('acme', 'alice@example.com', 'member');
SET ROLE app_server;
BEGIN;
SET LOCAL tenancy."user" = 'alice@example.com';
SET LOCAL tenancy.tenant = 'acme';
SELECT tenancy.actor(), tenancy.db_role(), tenancy.current_tenant(), tenancy.current_role(),
       tenancy.is_platform_admin();
COMMIT;
BEGIN;
SELECT set_config('tenancy.user', 'alice@example.com', true), set_config('tenancy.tenant', 'acme', true);
SELECT tenancy.actor(), tenancy.current_role();
COMMIT;
-- Without tenancy.user the service acts as itself, which is no member.
SELECT tenancy.actor();
SET tenancy.tenant = 'acme';
SELECT tenancy.current_tenant();
:sqlstate
-- An asserted user who is not a member is refused like anyone else.
SET tenancy."user" = 'eve@example.com';
SELECT tenancy.current_tenant();
:sqlstate
-- Malformed asserted users are refused when set.
SET tenancy."user" = E'bad\nname';
:sqlstate
SET tenancy."user" = ' padded';
:sqlstate
RESET tenancy."user";
RESET tenancy.tenant;
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
