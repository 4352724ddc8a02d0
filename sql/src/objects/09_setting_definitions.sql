-- pg_tenancy: typed tenant settings. tenancy.define_setting() gives a key a
-- type and a default; tenancy.set_tenant_setting() then refuses values of
-- another type, and tenancy.setting() answers the current tenant's value or
-- the default. Keys without a definition stay free-form.

CREATE TABLE tenancy.setting_definitions (
    key           text COLLATE "C" NOT NULL,
    type          text NOT NULL,
    default_value jsonb,
    description   text,
    defined_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT setting_definitions_pkey PRIMARY KEY (key),
    CONSTRAINT setting_definitions_key_check CHECK (key ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    CONSTRAINT setting_definitions_type_check CHECK (type IN ('text', 'integer', 'numeric', 'boolean', 'timezone',
                                                              'locale', 'email', 'url', 'color', 'jsonb'))
);
COMMENT ON TABLE tenancy.setting_definitions IS
    'pg_tenancy: the type, default and description of tenant setting keys (tenancy.define_setting())';

REVOKE ALL ON tenancy.setting_definitions FROM PUBLIC;
GRANT SELECT ON tenancy.setting_definitions TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('tenancy.setting_definitions', '');
