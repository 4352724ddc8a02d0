-- pg_tenancy: domains, so that an application can route a request by its
-- host name: SET LOCAL tenancy.tenant = tenancy.resolve_domain('acme.example.com').

-- Returns a host name in canonical form (lowercase, no trailing dot) or raises.
CREATE FUNCTION tenancy._canonical_host(host text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    canonical text := rtrim(lower(btrim(host)), '.');
BEGIN
    IF host IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'host must not be null';
    END IF;
    IF length(canonical) NOT BETWEEN 1 AND 253
       OR canonical !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid host name "%s"', host),
            DETAIL = 'A host name is made of dot-separated labels of letters, digits and "-", '
                     'each 1 to 63 characters, 253 characters in all.';
    END IF;
    RETURN canonical;
END
$$;
REVOKE ALL ON FUNCTION tenancy._canonical_host(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._canonical_host(text) IS 'internal: canonical host name, or an error';

-- Raises unless the caller is a platform admin or has at least the given
-- role in the tenant (owner: owners only; admin: owners and admins).
CREATE FUNCTION tenancy._require_tenant_role(target tenancy.tenants, minimum tenancy.role, action text)
RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT tenancy.is_platform_admin() AND coalesce(tenancy._caller_role(target.id) < minimum, true) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to %s of tenant "%s"', action, target.slug),
            DETAIL = format('Only %s of the tenant and platform admins may %s; actor "%s" is not one.',
                            CASE WHEN minimum = 'owner' THEN 'owners' ELSE 'owners and admins' END,
                            action, tenancy.actor());
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_tenant_role(tenancy.tenants, tenancy.role, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_tenant_role(tenancy.tenants, tenancy.role, text) IS
    'internal: error unless a platform admin or at least the given role in the tenant';

CREATE FUNCTION tenancy.add_domain(tenant text, host text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._find_tenant(tenant);
    canonical text := tenancy._canonical_host(host);
BEGIN
    PERFORM tenancy._require_tenant_role(target, 'owner', 'change the domains');
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

CREATE FUNCTION tenancy.remove_domain(host text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    canonical text := tenancy._canonical_host(host);
    owning_tenant uuid;
BEGIN
    SELECT d.tenant_id INTO owning_tenant FROM tenancy.domains d WHERE d.host = canonical;
    IF owning_tenant IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('domain "%s" is not assigned to any tenant', canonical);
    END IF;
    PERFORM tenancy._require_tenant_role(tenancy._find_tenant(owning_tenant::text), 'owner', 'change the domains');
    DELETE FROM tenancy.domains d WHERE d.host = canonical;
END
$$;
COMMENT ON FUNCTION tenancy.remove_domain(text) IS
    'removes a host name from its tenant (tenant owners and platform admins)';

CREATE FUNCTION tenancy.resolve_domain(host text) RETURNS text
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.slug::text FROM tenancy.domains d JOIN tenancy.tenants t ON t.id = d.tenant_id
     WHERE d.host = rtrim(lower(btrim(resolve_domain.host)), '.')
$$;
COMMENT ON FUNCTION tenancy.resolve_domain(text) IS
    'the slug of the tenant a host name is assigned to, or null';
