-- pg_tenancy: regions, for data residency. Platform admins define regions
-- and place tenants in them; every change of a tenant's region is an event
-- (tenancy.tenant_events).

-- Says what is wrong with a region name, or null when it is fine.
CREATE OR REPLACE FUNCTION tenancy._region_name_problem(name text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN name IS NULL THEN 'A region name must not be null.'
                WHEN name !~ '^[a-z][a-z0-9_-]{0,62}$'
                     OR name ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN 'A region name starts with a lowercase letter and has only lowercase letters, digits, "_" and "-", '
                     'at most 63 characters, and does not look like a uuid.' END
$$;
COMMENT ON FUNCTION tenancy._region_name_problem(text) IS 'internal: what is wrong with a region name, or null';

-- Returns a region by name (locked against removal when asked), or raises
-- the error that names the regions there are.
CREATE OR REPLACE FUNCTION tenancy._find_region(region text, lock_row boolean DEFAULT false) RETURNS tenancy.regions
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_region tenancy.regions;
BEGIN
    IF lock_row THEN
        SELECT * INTO found_region FROM tenancy.regions r WHERE r.name = region FOR KEY SHARE;
    ELSE
        SELECT * INTO found_region FROM tenancy.regions r WHERE r.name = region;
    END IF;
    IF found_region.name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('region "%s" does not exist', tenancy._shown(coalesce(region, 'null'))),
            DETAIL = coalesce('The regions are ' || (SELECT string_agg('"' || r.name || '"', ', ' ORDER BY r.name)
                                                       FROM tenancy.regions r) || '.', 'No region is defined yet.'),
            HINT = 'A platform admin defines regions with tenancy.define_region().';
    END IF;
    RETURN found_region;
END
$$;
COMMENT ON FUNCTION tenancy._find_region(text, boolean) IS 'internal: a region by name, or an error';

-- Returns the region a new tenant goes to: the one named, or else the
-- setting tenancy.default_region ("default" when unset). The region
-- "default" comes into being with the first tenant that takes it; every
-- other region must have been defined.
CREATE OR REPLACE FUNCTION tenancy._region_for_new_tenant(region text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    chosen text := coalesce(region, nullif(current_setting('tenancy.default_region', true), ''), 'default');
BEGIN
    IF tenancy._region_name_problem(chosen) IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid region "%s"', tenancy._shown(chosen)),
            DETAIL = tenancy._region_name_problem(chosen);
    END IF;
    IF chosen = 'default' THEN
        INSERT INTO tenancy.regions (name, description) VALUES ('default', 'this server') ON CONFLICT DO NOTHING;
    END IF;
    RETURN (tenancy._find_region(chosen, true)).name;
END
$$;
COMMENT ON FUNCTION tenancy._region_for_new_tenant(text) IS
    'internal: the region a new tenant goes to (the one given, or tenancy.default_region)';

CREATE OR REPLACE FUNCTION tenancy.define_region(name text, description text DEFAULT NULL, server text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('define regions');
    IF tenancy._region_name_problem(define_region.name) IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid region name "%s"', tenancy._shown(coalesce(define_region.name, 'null'))),
            DETAIL = tenancy._region_name_problem(define_region.name);
    END IF;
    IF define_region.server IS NOT NULL AND (btrim(define_region.server) = '' OR length(define_region.server) > 1000
       OR define_region.server ~ ('[' || chr(1) || '-' || chr(31) || chr(127) || '-' || chr(159) || ']')) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid server for region "%s"', define_region.name),
            DETAIL = 'The server is a libpq connection string, such as ''host=db-eu.internal port=5432'', '
                     'of at most 1000 characters, without line breaks or control characters.',
            HINT = 'Leave the server out (null) for a region whose tenants live on this server.';
    END IF;
    IF define_region.description ~ ('[' || chr(1) || '-' || chr(31) || chr(127) || '-' || chr(159) || ']') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'region description must not contain control characters',
            HINT = 'Remove line breaks, tabs and terminal escape sequences from the description.';
    END IF;
    IF length(define_region.description) > 500 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'region description must have at most 500 characters',
            DETAIL = format('The description given has %s.', length(define_region.description));
    END IF;
    INSERT INTO tenancy.regions AS r (name, description, server)
    VALUES (define_region.name, define_region.description, define_region.server)
    ON CONFLICT ON CONSTRAINT regions_pkey DO UPDATE
       SET description = excluded.description, server = excluded.server, updated_at = now();
END
$$;
COMMENT ON FUNCTION tenancy.define_region(text, text, text) IS
    'defines a region, or changes its description and server (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.drop_region(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    region tenancy.regions;
    tenants bigint;
BEGIN
    PERFORM tenancy._require_platform_admin('drop regions');
    SELECT * INTO region FROM tenancy.regions r WHERE r.name = drop_region.name FOR UPDATE;
    IF region.name IS NULL THEN
        PERFORM tenancy._find_region(drop_region.name);
    END IF;
    SELECT count(*) INTO tenants FROM tenancy.tenants t WHERE t.region = region.name;
    IF tenants > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
            MESSAGE = format('region "%s" still has tenants', region.name),
            DETAIL = format('%s tenant(s) live in region "%s".', tenants, region.name),
            HINT = 'Move them to another region with tenancy.set_region() first.';
    END IF;
    DELETE FROM tenancy.regions r WHERE r.name = region.name;
END
$$;
COMMENT ON FUNCTION tenancy.drop_region(text) IS 'removes a region that no tenant lives in (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.set_region(tenant text, region text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    destination tenancy.regions;
    origin tenancy.regions;
BEGIN
    PERFORM tenancy._require_platform_admin('change the region of tenants');
    target := tenancy._find_tenant(tenant, true);
    destination := tenancy._find_region(set_region.region, true);
    IF destination.name = target.region THEN
        RETURN;
    END IF;
    SELECT * INTO origin FROM tenancy.regions r WHERE r.name = target.region;
    -- A database-mode tenant's data lives on its region's server: changing
    -- the region would move it, which only export and import do.
    IF target.isolation::text = 'database' AND origin.server IS DISTINCT FROM destination.server THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('tenant "%s" lives on the server of region "%s"', target.slug, origin.name),
            DETAIL = format('Region "%s" has another server; changing the region would have to move the tenant''s database.',
                            destination.name),
            HINT = 'Export the tenant, import it on the other region''s server, then change its region.';
    END IF;
    UPDATE tenancy.tenants t SET region = destination.name, updated_at = now() WHERE t.id = target.id;
END
$$;
COMMENT ON FUNCTION tenancy.set_region(text, text) IS
    'moves a tenant to another region (platform admins only); recorded as a "region" event';

CREATE OR REPLACE FUNCTION tenancy.region_list()
RETURNS TABLE (name text, description text, server text, tenants bigint, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('list regions');
    RETURN QUERY
        SELECT r.name::text, r.description, r.server,
               (SELECT count(*) FROM tenancy.tenants t WHERE t.region = r.name), r.created_at
          FROM tenancy.regions r ORDER BY r.name;
END
$$;
COMMENT ON FUNCTION tenancy.region_list() IS
    'the regions with their description, server and number of tenants (platform admins only)';

REVOKE ALL ON FUNCTION tenancy._find_region(text, boolean), tenancy._region_for_new_tenant(text) FROM PUBLIC;
