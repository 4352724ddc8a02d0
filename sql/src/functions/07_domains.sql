-- pg_tenancy: domains, so that an application can route a request by its
-- host name: SET LOCAL tenancy.tenant = tenancy.resolve_domain('acme.example.com').

-- Returns a host name in canonical form (lowercase, no trailing dot) or raises.
CREATE OR REPLACE FUNCTION tenancy._canonical_host(host text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    canonical text := rtrim(lower(btrim(host)), '.');
BEGIN
    IF host IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'host must not be null';
    END IF;
    IF length(canonical) NOT BETWEEN 1 AND 253
       OR canonical !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid host name "%s"', tenancy._shown(host)),
            DETAIL = 'A host name is made of dot-separated labels of letters, digits and "-", '
                     'each 1 to 63 characters, 253 characters in all.';
    END IF;
    RETURN canonical;
END
$$;
REVOKE ALL ON FUNCTION tenancy._canonical_host(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._canonical_host(text) IS 'internal: canonical host name, or an error';

CREATE OR REPLACE FUNCTION tenancy.add_domain(tenant text, host text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'owner', 'change the domains', true);
    canonical text := tenancy._canonical_host(host);
BEGIN
    IF EXISTS (SELECT 1 FROM tenancy.domains d WHERE d.host = canonical) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('domain "%s" is already assigned to a tenant', canonical),
            HINT = 'Remove it from that tenant first with tenancy.remove_domain().';
    END IF;
    INSERT INTO tenancy.domains (host, tenant_id) VALUES (canonical, target.id);
    RETURN canonical;
END
$$;
COMMENT ON FUNCTION tenancy.add_domain(text, text) IS
    'assigns a host name to a tenant (tenant owners and platform admins); returns it in canonical form';

CREATE OR REPLACE FUNCTION tenancy.remove_domain(host text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    canonical text := tenancy._canonical_host(host);
    owning_tenant uuid;
BEGIN
    SELECT d.tenant_id INTO owning_tenant FROM tenancy.domains d WHERE d.host = canonical;
    -- Whether a host is assigned is told only to those who may remove it.
    IF NOT tenancy.is_platform_admin()
       AND (owning_tenant IS NULL OR coalesce(tenancy._caller_role(owning_tenant, true) < 'owner', true)) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to remove domain "%s"', canonical),
            DETAIL = 'Only owners of the domain''s tenant and platform admins may remove it.',
            HINT = 'Ask an owner of the tenant, or a platform admin.';
    END IF;
    IF owning_tenant IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('domain "%s" is not assigned to any tenant', canonical);
    END IF;
    IF NOT tenancy.is_platform_admin() THEN
        PERFORM tenancy._require_active_for_change(tenancy._lookup_tenant(owning_tenant::text), true);
    END IF;
    DELETE FROM tenancy.domains d WHERE d.host = canonical;
END
$$;
COMMENT ON FUNCTION tenancy.remove_domain(text) IS
    'removes a host name from its tenant (tenant owners and platform admins)';

-- Resolves a host name for request routing. The host may be a request's
-- Host header as sent: any case, a trailing dot, and a port (":8000"), which
-- is ignored. Answered to platform admins, services and the tenant's own
-- members; anyone else gets NULL, as for an unknown host.
CREATE OR REPLACE FUNCTION tenancy.resolve_domain(host text) RETURNS text
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.slug::text FROM tenancy.domains d JOIN tenancy.tenants t ON t.id = d.tenant_id
     WHERE d.host = rtrim(regexp_replace(lower(btrim(resolve_domain.host)), ':[0-9]*$', ''), '.')
       AND (tenancy.is_platform_admin() OR tenancy._holds_platform_right(tenancy.db_role()::regrole, 'service')
            OR tenancy._member_role(t.id, tenancy.actor()) IS NOT NULL)
$$;
COMMENT ON FUNCTION tenancy.resolve_domain(text) IS
    'the slug of the tenant a host name (or a Host header with a port) is assigned to, or null (answered to '
    'platform admins, services and the tenant''s members)';
