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
    PERFORM tenancy._require_setting_type(key, value);
    updated := CASE WHEN value IS NULL OR value = 'null'::jsonb THEN target.settings - key
                    ELSE target.settings || jsonb_build_object(key, value) END;
    UPDATE tenancy.tenants t SET settings = updated, updated_at = now() WHERE t.id = target.id;
    RETURN updated;
END
$$;
COMMENT ON FUNCTION tenancy.set_tenant_setting(text, text, jsonb) IS
    'sets one setting of a tenant (a null value removes it; a defined key takes only values of its type) and '
    'returns all of them (tenant owners and platform admins)';

-- What is wrong with a value for a setting type, or NULL when it fits.
CREATE OR REPLACE FUNCTION tenancy._setting_problem(type text, value jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    scalar text := CASE WHEN jsonb_typeof(value) = 'string' THEN value #>> '{}' END;
BEGIN
    RETURN CASE type
        WHEN 'jsonb' THEN NULL
        WHEN 'text' THEN CASE WHEN scalar IS NULL THEN 'a JSON string' END
        WHEN 'integer' THEN CASE WHEN jsonb_typeof(value) <> 'number' OR value::text::numeric <> trunc(value::text::numeric)
                                      OR value::text::numeric NOT BETWEEN -9223372036854775808 AND 9223372036854775807
                                 THEN 'a whole number' END
        WHEN 'numeric' THEN CASE WHEN jsonb_typeof(value) <> 'number' THEN 'a number' END
        WHEN 'boolean' THEN CASE WHEN jsonb_typeof(value) <> 'boolean' THEN 'true or false' END
        WHEN 'timezone' THEN CASE WHEN scalar IS NULL OR NOT EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = scalar)
                                  THEN 'a time zone name of pg_timezone_names, as "Europe/Paris"' END
        WHEN 'locale' THEN CASE WHEN scalar IS NULL OR scalar !~ '^[a-z]{2,3}([-_][A-Z][a-z]{3})?([-_]([A-Z]{2}|[0-9]{3}))?$'
                                THEN 'a language tag, as "fr", "fr-CA" or "zh-Hant-TW"' END
        WHEN 'email' THEN CASE WHEN scalar IS NULL OR scalar !~ '^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:].]+(\.[^@[:space:][:cntrl:].]+)+$'
                                    OR length(scalar) > 254
                               THEN 'an e-mail address, as "billing@acme.example"' END
        WHEN 'url' THEN CASE WHEN scalar IS NULL OR scalar !~ '^https?://[^[:space:][:cntrl:]/?#]+([/?#][^[:space:][:cntrl:]]*)?$'
                             THEN 'an http or https URL, as "https://acme.example/logo.png"' END
        WHEN 'color' THEN CASE WHEN scalar IS NULL OR scalar !~ '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$'
                               THEN 'a color as "#rgb" or "#rrggbb"' END
        END;
END
$$;
COMMENT ON FUNCTION tenancy._setting_problem(text, jsonb) IS 'internal: what a value lacks for a setting type';

-- Raises unless a value fits the type of its key (keys without a definition
-- take any value; NULL removes a setting).
CREATE OR REPLACE FUNCTION tenancy._require_setting_type(key text, value jsonb) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    definition tenancy.setting_definitions;
    problem text;
BEGIN
    SELECT * INTO definition FROM tenancy.setting_definitions d WHERE d.key = _require_setting_type.key;
    IF definition.key IS NULL OR value IS NULL OR value = 'null'::jsonb THEN
        RETURN;
    END IF;
    problem := tenancy._setting_problem(definition.type, value);
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid value for setting "%s": %s', key, tenancy._shown(value::text)),
            DETAIL = format('Setting "%s" is of type %s: its value is %s.', key, definition.type, problem);
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._require_setting_type(text, jsonb) IS
    'internal: error unless a value fits the type of its setting key';

-- Gives a setting key a type, a default and a description, or changes them
-- (every tenant's value of the key must fit the new type).
CREATE OR REPLACE FUNCTION tenancy.define_setting(key text, type text, "default" jsonb DEFAULT NULL,
                                                  description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    misfit record;
BEGIN
    PERFORM tenancy._require_platform_admin('define settings');
    IF key IS NULL OR key !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid setting name "%s"', tenancy._shown(coalesce(key, 'null'))),
            DETAIL = 'A setting name starts with a lowercase letter and has only lowercase letters, digits, '
                     '"_", "." and "-", at most 63 characters.';
    END IF;
    IF type IS NULL OR type NOT IN ('text', 'integer', 'numeric', 'boolean', 'timezone', 'locale', 'email', 'url',
                                    'color', 'jsonb') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unknown setting type "%s"', tenancy._shown(coalesce(type, 'null'))),
            DETAIL = 'The types are text, integer, numeric, boolean, timezone, locale, email, url, color and jsonb.';
    END IF;
    IF "default" IS NOT NULL AND "default" <> 'null'::jsonb AND tenancy._setting_problem(type, "default") IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid default for setting "%s": %s', key, tenancy._shown("default"::text)),
            DETAIL = format('A %s setting''s value is %s.', type, tenancy._setting_problem(type, "default"));
    END IF;
    SELECT t.slug, t.settings -> define_setting.key AS value INTO misfit
      FROM tenancy.tenants t
     WHERE t.settings ? define_setting.key AND tenancy._setting_problem(type, t.settings -> define_setting.key) IS NOT NULL
     ORDER BY t.slug LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('tenant "%s" has a value of setting "%s" that is not of type %s', misfit.slug, key, type),
            DETAIL = format('Its value is %s.', tenancy._shown(misfit.value::text)),
            HINT = 'Change or remove that value first with tenancy.set_tenant_setting().';
    END IF;
    INSERT INTO tenancy.setting_definitions (key, type, default_value, description)
    VALUES (key, type, nullif("default", 'null'::jsonb), description)
    ON CONFLICT ON CONSTRAINT setting_definitions_pkey DO UPDATE
       SET type = excluded.type, default_value = excluded.default_value, description = excluded.description,
           defined_at = now();
END
$$;
COMMENT ON FUNCTION tenancy.define_setting(text, text, jsonb, text) IS
    'gives a tenant setting key a type (text, integer, numeric, boolean, timezone, locale, email, url, color, '
    'jsonb), a default and a description (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.undefine_setting(key text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('define settings');
    DELETE FROM tenancy.setting_definitions d WHERE d.key = undefine_setting.key;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('setting "%s" is not defined', tenancy._shown(coalesce(key, 'null')));
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.undefine_setting(text) IS
    'removes the definition of a setting key; tenants keep their values, untyped (platform admins only)';

-- The current tenant's value of a setting, or its default: any member of the
-- tenant reads it. setting() gives it as text (a JSON string unquoted, other
-- values as JSON), setting_value() as jsonb; NULL when there is neither.
CREATE OR REPLACE FUNCTION tenancy.setting_value(key text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT t.settings -> setting_value.key FROM tenancy.tenants t
                      WHERE t.id = tenancy.current_tenant_id()),
                    (SELECT d.default_value FROM tenancy.setting_definitions d WHERE d.key = setting_value.key))
$$;
COMMENT ON FUNCTION tenancy.setting_value(text) IS
    'the current tenant''s value of a setting, or its default, as jsonb (any member of the tenant)';

CREATE OR REPLACE FUNCTION tenancy.setting(key text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.setting_value(setting.key) #>> '{}'
$$;
COMMENT ON FUNCTION tenancy.setting(text) IS
    'the current tenant''s value of a setting, or its default, as text (any member of the tenant)';

REVOKE ALL ON FUNCTION tenancy._setting_problem(text, jsonb), tenancy._require_setting_type(text, jsonb) FROM PUBLIC;
