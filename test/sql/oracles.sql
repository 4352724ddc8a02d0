-- A caller without rights learns nothing about other tenants: the refusal is
-- the same whether or not the tenant, the member or the domain exists.
-- Platform admins get precise answers.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- The refusal a statement meets: SQLSTATE, message, detail and hint.
CREATE FUNCTION public.refusal(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    message text;
    detail text;
    hint text;
    state text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT,
                            state = RETURNED_SQLSTATE;
    RETURN state || ': ' || message || ' | ' || detail || ' | ' || hint;
END
$$;
SELECT tenancy.add_domain('acme', 'acme.example.net');

SET ROLE mallory;
-- Removing a member: existing member, unknown actor, unknown tenant.
SELECT public.refusal($$SELECT tenancy.remove_member('acme', 'dave')$$);
SELECT public.refusal($$SELECT tenancy.remove_member('acme', 'dave')$$)
     = public.refusal($$SELECT tenancy.remove_member('acme', 'nobody-at-all')$$) AS same_for_unknown_actor,
       replace(public.refusal($$SELECT tenancy.remove_member('acme', 'dave')$$), 'acme', 'T')
     = replace(public.refusal($$SELECT tenancy.remove_member('no-such-tenant', 'dave')$$), 'no-such-tenant', 'T')
       AS same_for_unknown_tenant;
-- Adding, changing, listing, reading details and settings.
SELECT stmt, replace(public.refusal(format(stmt, 'acme')), 'acme', 'T')
           = replace(public.refusal(format(stmt, 'no-such-tenant')), 'no-such-tenant', 'T') AS same_refusal
  FROM (VALUES ($$SELECT tenancy.add_member(%L, 'mallory', 'owner')$$),
               ($$SELECT tenancy.set_member_role(%L, 'dave', 'owner')$$),
               ($$SELECT tenancy.set_member_active(%L, 'dave', false)$$),
               ($$SELECT * FROM tenancy.member_list(%L)$$),
               ($$SELECT tenancy.tenant_details(%L)$$),
               ($$SELECT tenancy.tenant_settings(%L)$$),
               ($$SELECT tenancy.set_tenant_setting(%L, 'x', '1')$$),
               ($$SELECT * FROM tenancy.domain_list(%L)$$),
               ($$SELECT tenancy.add_domain(%L, 'mallory.example.com')$$)) AS statements(stmt);
-- Removing a domain: assigned or not, the same refusal.
SELECT public.refusal($$SELECT tenancy.remove_domain('acme.example.net')$$);
SELECT replace(public.refusal($$SELECT tenancy.remove_domain('acme.example.net')$$), 'acme.example.net', 'H')
     = replace(public.refusal($$SELECT tenancy.remove_domain('unknown.example.net')$$), 'unknown.example.net', 'H')
       AS same_for_unknown_domain;
-- Selecting a tenant: existing or not, the same refusal.
SET tenancy.tenant = 'globex';
SELECT public.refusal($$SELECT tenancy.current_tenant()$$) AS globex_refusal \gset
\echo :globex_refusal
SET tenancy.tenant = 'no-such-tenant';
SELECT replace(public.refusal($$SELECT tenancy.current_tenant()$$), 'no-such-tenant', 'globex') = :'globex_refusal'
       AS same_for_unknown_tenant;
RESET tenancy.tenant;
-- Slugs, platform roles, protected tables and domains are not told.
SELECT tenancy.slug_problem('acme');
:sqlstate
SELECT * FROM tenancy.platform_roles();
:sqlstate
SELECT count(*) AS protected_tables_seen FROM tenancy.protected_list();
SELECT tenancy.resolve_domain('acme.example.net') AS resolved_for_mallory;
RESET ROLE;

-- Those with rights get their answers: a member resolves her tenant's
-- domain, a service resolves any, a table owner sees her protected tables.
SET ROLE dave;
SELECT tenancy.resolve_domain('acme.example.net') AS resolved_for_dave;
RESET ROLE;
SET ROLE app_server;
SELECT tenancy.resolve_domain('ACME.example.net.') AS resolved_for_a_service;
RESET ROLE;
SET ROLE app_owner;
SELECT table_name FROM tenancy.protected_list();
RESET ROLE;

-- A tenant admin gets the precise answers about her own tenant...
SET ROLE carol;
SELECT tenancy.remove_member('acme', 'nobody-at-all');
:sqlstate
RESET ROLE;
-- ...and a platform admin about every tenant.
SET ROLE ops;
SELECT tenancy.remove_member('no-such-tenant', 'dave');
:sqlstate
SELECT tenancy.slug_problem('acme');
SET tenancy.tenant = 'no-such-tenant';
SELECT tenancy.current_tenant();
:sqlstate
RESET tenancy.tenant;
RESET ROLE;

SELECT tenancy.remove_domain('acme.example.net');
DROP FUNCTION public.refusal(text);
