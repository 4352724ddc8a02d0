-- pg_tenancy: internal helpers of the management functions. Not callable
-- by PUBLIC; the SECURITY DEFINER management functions call them as owner.

-- Finds a tenant by slug or uuid, optionally locking it; raises when absent.
CREATE FUNCTION tenancy._find_tenant(ref text, lock_row boolean DEFAULT false)
RETURNS tenancy.tenants
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_tenant tenancy.tenants;
BEGIN
    IF ref IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'tenant must not be null';
    END IF;
    IF ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        IF lock_row THEN
            SELECT * INTO found_tenant FROM tenancy.tenants WHERE id = ref::uuid FOR UPDATE;
        ELSE
            SELECT * INTO found_tenant FROM tenancy.tenants WHERE id = ref::uuid;
        END IF;
    ELSIF lock_row THEN
        SELECT * INTO found_tenant FROM tenancy.tenants WHERE slug = ref FOR UPDATE;
    ELSE
        SELECT * INTO found_tenant FROM tenancy.tenants WHERE slug = ref;
    END IF;
    IF found_tenant.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('tenant "%s" does not exist', ref),
            HINT = 'A tenant is named by its slug or its uuid; tenancy.my_tenants() lists yours.';
    END IF;
    RETURN found_tenant;
END
$$;

-- Raises unless the caller is a platform admin.
CREATE FUNCTION tenancy._require_platform_admin(action text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT tenancy.is_platform_admin() THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to %s', action),
            DETAIL = format('Only platform admins (superusers and members of tenancy_admin) may %s; '
                            'role "%s" is not one.', action, tenancy.db_role()),
            HINT = 'A platform admin can run it, or grant you tenancy_admin with tenancy.grant_platform_admin().';
    END IF;
END
$$;

-- Returns the caller's active role in a tenant, or NULL.
CREATE FUNCTION tenancy._caller_role(tenant uuid) RETURNS tenancy.role
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT m.role FROM tenancy.memberships m
     WHERE m.tenant_id = _caller_role.tenant AND m.actor = tenancy.actor() AND m.is_active
$$;

-- Raises unless the value is a valid actor name.
CREATE FUNCTION tenancy._check_actor(actor text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF actor IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'actor must not be null';
    END IF;
    IF octet_length(actor) NOT BETWEEN 1 AND 256 OR actor ~ '[[:cntrl:]]' OR actor <> btrim(actor) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid actor "%s"', actor),
            DETAIL = 'An actor name has 1 to 256 bytes, no control characters and no leading or trailing spaces.';
    END IF;
END
$$;

REVOKE ALL ON FUNCTION tenancy._find_tenant(text, boolean), tenancy._require_platform_admin(text),
    tenancy._caller_role(uuid), tenancy._check_actor(text)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._find_tenant(text, boolean) IS 'internal: tenant by slug or uuid, or an error';
COMMENT ON FUNCTION tenancy._require_platform_admin(text) IS 'internal: error unless a platform admin';
COMMENT ON FUNCTION tenancy._caller_role(uuid) IS 'internal: the caller''s active role in a tenant';
COMMENT ON FUNCTION tenancy._check_actor(text) IS 'internal: error unless a valid actor name';
