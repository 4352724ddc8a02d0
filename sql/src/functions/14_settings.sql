-- pg_tenancy 0.1: per-tenant settings, a jsonb object of the application's
-- own keys (feature flags, limits, branding...). Read by the tenant's owners
-- and admins and by platform admins; changed by owners and platform admins.

CREATE OR REPLACE FUNCTION tenancy.tenant_settings(tenant text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'read the settings');
BEGIN
    RETURN target.settings;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_settings(text) IS
    'the settings of a tenant (tenant owners/admins and platform admins)';

CREATE OR REPLACE FUNCTION tenancy.set_tenant_setting(tenant text, key text, value jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'owner', 'change the settings', true, true);
    updated jsonb;
BEGIN
    IF key IS NULL OR key !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid setting name "%s"', tenancy._shown(key)),
            DETAIL = 'A setting name starts with a lowercase letter and has only lowercase letters, digits, '
                     '"_", "." and "-", at most 63 characters.';
    END IF;
    updated := CASE WHEN value IS NULL OR value = 'null'::jsonb THEN target.settings - key
                    ELSE target.settings || jsonb_build_object(key, value) END;
    UPDATE tenancy.tenants t SET settings = updated, updated_at = now() WHERE t.id = target.id;
    RETURN updated;
END
$$;
COMMENT ON FUNCTION tenancy.set_tenant_setting(text, text, jsonb) IS
    'sets one setting of a tenant (a null value removes it) and returns all of them (tenant owners and '
    'platform admins)';
