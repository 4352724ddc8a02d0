-- pg_tenancy: schema-mode tenants, and one way into a tenant for every mode.
-- A schema-mode tenant's tables live in its own schema, tenant_<slug>, which
-- pg_tenancy opens only to statements whose validated tenant it is
-- (extension/tenant_schemas.cpp); tenancy.enter() selects the tenant and the
-- search path together, so that unqualified names find the tenant's tables.

-- Returns the schema name a schema-mode tenant with this slug gets.
CREATE OR REPLACE FUNCTION tenancy._schema_name_for(slug text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'tenant_' || replace(slug, '-', '_')
$$;
COMMENT ON FUNCTION tenancy._schema_name_for(text) IS
    'internal: the schema of a schema-mode tenant with this slug (tenant_<slug>, "-" turned into "_")';

CREATE OR REPLACE FUNCTION tenancy.tenant_schema(tenant text) RETURNS name
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (tenancy._tenant_for_caller(tenant, 'viewer', 'see the schema')).schema_name::name;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_schema(text) IS
    'the schema of a schema-mode tenant (tenant_<slug>), null in the other modes (its members and platform '
    'admins)';

CREATE OR REPLACE FUNCTION tenancy.tenant_database(tenant text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    target := tenancy._tenant_for_caller(tenant, 'viewer', 'see the database');
    RETURN CASE WHEN target.isolation = 'database' THEN tenancy._schema_name_for(target.slug) END;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_database(text) IS
    'the database of a database-mode tenant (tenant_<slug>), null in the other modes (its members and '
    'platform admins)';

-- Returns the shared schemas: the entries of the session's configured
-- search_path (its value at RESET) that are not a tenant's schema, in order,
-- each with the schema name it means ("$user" means none).
CREATE OR REPLACE FUNCTION tenancy._shared_schemas()
RETURNS TABLE (entry text, schema_name text, search_order bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.entry, p.schema_name, p.search_order
      FROM pg_settings s,
           regexp_split_to_table(s.reset_val, '\s*,\s*') WITH ORDINALITY AS e(entry, search_order),
           LATERAL (SELECT e.entry, e.search_order,
                           CASE WHEN e.entry LIKE '"%"' THEN replace(substr(e.entry, 2, length(e.entry) - 2), '""', '"')
                                ELSE lower(e.entry) END AS schema_name) p
     WHERE s.name = 'search_path' AND p.entry <> ''
       AND NOT EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.schema_name = p.schema_name)
$$;
REVOKE ALL ON FUNCTION tenancy._shared_schemas() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._shared_schemas() IS
    'internal: the shared schemas, the entries of the session''s configured search_path without tenant schemas';

-- Returns the shared schemas as a search path.
CREATE OR REPLACE FUNCTION tenancy._shared_search_path() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(string_agg(s.entry, ', ' ORDER BY s.search_order), '') FROM tenancy._shared_schemas() s
$$;
COMMENT ON FUNCTION tenancy._shared_search_path() IS
    'internal: the shared schemas, the session''s configured search_path without tenant schemas';

-- Says whether the session is inside a transaction block (BEGIN ... COMMIT).
CREATE OR REPLACE FUNCTION tenancy._in_transaction_block() RETURNS boolean
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'tenancy_in_transaction_block';
COMMENT ON FUNCTION tenancy._in_transaction_block() IS
    'internal: whether the session is inside a transaction block';

-- Returns the slug of a tenant the caller may enter and the search path that
-- finds its tables; raises when the caller may not enter it.
CREATE OR REPLACE FUNCTION tenancy._entry(tenant text, OUT slug text, OUT path text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    target := tenancy._tenant_for_caller(tenant, 'viewer', 'use the data');
    IF target.status = 'suspended' AND NOT tenancy.is_platform_admin() THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is suspended', target.slug),
            HINT = 'A platform admin can reactivate it with tenancy.activate_tenant().';
    END IF;
    IF target.isolation = 'database' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('tenant "%s" lives in its own database', target.slug),
            DETAIL = format('Database-mode tenants are entered by connecting to their database, not from '
                            'database "%s".', current_database()),
            HINT = format('Connect to database "%s" (tenantctl psql %s).',
                          tenancy._schema_name_for(target.slug), target.slug);
    END IF;
    slug := target.slug;
    path := tenancy._shared_search_path();
    IF target.isolation = 'schema' THEN
        path := concat_ws(', ', quote_ident(target.schema_name), nullif(path, ''));
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._entry(text) IS
    'internal: the slug and search path of a tenant the caller may enter';

-- Not SECURITY DEFINER, and without a search_path of its own, which would
-- be put back when it returns: every name is qualified.
CREATE OR REPLACE FUNCTION tenancy.enter(tenant text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    entry record;
    local boolean := tenancy._in_transaction_block();
BEGIN
    entry := tenancy._entry(tenant);
    PERFORM pg_catalog.set_config('tenancy.tenant', entry.slug, local);
    PERFORM pg_catalog.set_config('search_path', entry.path, local);
    RETURN entry.path;
END
$$;
COMMENT ON FUNCTION tenancy.enter(text) IS
    'selects a tenant and the search path that finds its tables (its schema first in schema mode), for the '
    'transaction inside a transaction block and for the session outside one; returns the search path';

-- Creates the schema of a new schema-mode tenant and applies to it every
-- tenant migration applied so far (tenancy.migration_scripts), each as the
-- role that first applied it, with the new tenant open.
CREATE OR REPLACE FUNCTION tenancy._create_tenant_schema(tenant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    script tenancy.migration_scripts;
    started timestamptz;
BEGIN
    SELECT * INTO STRICT target FROM tenancy.tenants t WHERE t.id = _create_tenant_schema.tenant;
    EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', target.schema_name,
                   (SELECT pg_get_userbyid(d.datdba) FROM pg_database d WHERE d.datname = current_database()));
    FOR script IN SELECT * FROM tenancy.migration_scripts ORDER BY version LOOP
        started := clock_timestamp();
        IF (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = script.run_as) THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('tenant migration %s would run as superuser %s', script.version, script.run_as),
                DETAIL = 'A new tenant''s schema replays tenant migrations as the role that applied them; a '
                         'superuser''s session would resolve names in schemas other roles may write to.',
                HINT = format('Make %s an ordinary role (the database''s owner), or delete the migration from '
                              'tenancy.migration_scripts.', script.run_as);
        END IF;
        BEGIN
            PERFORM tenancy._run_in_tenant(script.run_as, target.id,
                                              concat_ws(', ', quote_ident(target.schema_name),
                                                        nullif(script.shared_path, '')),
                                              script.body);
        EXCEPTION WHEN OTHERS THEN
            DECLARE
                message text;
                state text;
            BEGIN
                GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
                RAISE EXCEPTION USING ERRCODE = state,
                    MESSAGE = format('tenant migration %s failed in the new schema %s: %s',
                                     script.version, target.schema_name, message),
                    HINT = 'Fix the migration (tenantctl migrate refuses a changed file; add a new one), '
                           'then create the tenant again.';
            END;
        END;
        INSERT INTO tenancy.migrations (scope, tenant_id, version, checksum, duration, applied_by)
        VALUES ('tenant', target.id, script.version, script.checksum, clock_timestamp() - started,
                script.run_as::text);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._create_tenant_schema(uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._create_tenant_schema(uuid) IS
    'internal: creates a schema-mode tenant''s schema and applies every tenant migration to it';

CREATE OR REPLACE FUNCTION tenancy._run_in_tenant(run_as regrole, tenant uuid, path text, body text)
RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_run_in_tenant';
REVOKE ALL ON FUNCTION tenancy._run_in_tenant(regrole, uuid, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._run_in_tenant(regrole, uuid, text, text) IS
    'internal: runs a migration as a role, with the search path given and one tenant open';

-- The trigger that drops a schema-mode tenant's schema with the tenant.
CREATE OR REPLACE FUNCTION tenancy._drop_tenant_schema() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- Dropped with the tenant's schema open (nothing else may drop it), as
    -- the extension's owner.
    IF EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = OLD.schema_name) THEN
        PERFORM tenancy._run_in_tenant(current_user::regrole, OLD.id, 'pg_catalog, pg_temp',
                                       format('DROP SCHEMA %I CASCADE', OLD.schema_name));
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tenancy._drop_tenant_schema() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._drop_tenant_schema() IS
    'internal: drops the schema of a schema-mode tenant when the tenant is deleted';
