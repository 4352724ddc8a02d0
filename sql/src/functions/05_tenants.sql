-- pg_tenancy: tenant lifecycle. Platform admins only.

CREATE OR REPLACE FUNCTION tenancy.create_tenant(
    slug text,
    name text,
    owner text DEFAULT NULL,
    plan text DEFAULT 'basic',
    isolation tenancy.isolation DEFAULT 'row',
    id uuid DEFAULT NULL,
    region text DEFAULT NULL
) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_id uuid;
    suggestion text;
    isolation_refused text;
    schema text;
BEGIN
    PERFORM tenancy._require_platform_admin('create tenants');
    IF create_tenant.slug IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'slug must not be null';
    END IF;
    IF create_tenant.slug !~ '^[a-z][a-z0-9_-]{0,62}$'
       OR create_tenant.slug ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        suggestion := tenancy.suggest_slug(create_tenant.slug);
        IF suggestion IS NULL AND create_tenant.slug ~ '[[:alnum:]]' THEN
            suggestion := tenancy.suggest_slug('t-' || create_tenant.slug);
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid tenant slug "%s"', tenancy._shown(create_tenant.slug)),
            DETAIL = 'A slug starts with a lowercase letter and has only lowercase letters, digits, "_" and "-", '
                     'at most 63 characters, and does not look like a uuid.',
            HINT = coalesce('Try "' || suggestion || '".', 'Start with a lowercase letter.');
    END IF;
    IF create_tenant.name IS NULL OR length(btrim(create_tenant.name)) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'tenant name must have 1 to 200 characters',
            DETAIL = format('The name given was %s.', coalesce(quote_literal(tenancy._shown(create_tenant.name)), 'null'));
    END IF;
    -- Names are printed to operators' terminals (tenantctl, psql, logs): no
    -- line breaks, tabs or escape sequences (C0, DEL and C1 controls).
    IF create_tenant.name ~ ('[' || chr(1) || '-' || chr(31) || chr(127) || '-' || chr(159) || ']') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'tenant name must not contain control characters',
            DETAIL = format('The name given was "%s".', tenancy._shown(create_tenant.name)),
            HINT = 'Remove line breaks, tabs and terminal escape sequences from the name.';
    END IF;
    plan := coalesce(create_tenant.plan, 'basic');
    isolation := coalesce(create_tenant.isolation, 'row');
    IF create_tenant.plan !~ '^[a-z][a-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid plan "%s"', tenancy._shown(create_tenant.plan)),
            DETAIL = 'A plan name starts with a lowercase letter and has only lowercase letters, digits, "_" and "-".';
    END IF;
    -- The plan "basic" comes into being with the first tenant that takes it
    -- (no features, no limits); every other plan must exist.
    IF create_tenant.plan = 'basic' THEN
        INSERT INTO tenancy.plans (name, description) VALUES ('basic', 'the default plan')
            ON CONFLICT DO NOTHING;
    ELSIF NOT EXISTS (SELECT 1 FROM tenancy.plans p WHERE p.name = create_tenant.plan) THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('plan "%s" does not exist', create_tenant.plan),
            HINT = 'Create it first with tenancy.create_plan(), or leave the plan out for "basic".';
    END IF;
    region := tenancy._region_for_new_tenant(create_tenant.region);
    isolation_refused := tenancy.isolation_problem(create_tenant.isolation::text);
    IF isolation_refused IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = isolation_refused,
            DETAIL = 'This version of pg_tenancy implements row and schema isolation.',
            HINT = 'Create the tenant with isolation => ''row'' or ''schema''.';
    END IF;
    IF create_tenant.isolation = 'schema' THEN
        schema := tenancy._schema_name_for(create_tenant.slug);
        PERFORM tenancy._require_free_schema(create_tenant.slug, schema);
    END IF;
    IF create_tenant.owner IS NOT NULL THEN
        owner := tenancy._normalize_actor(create_tenant.owner);
    END IF;
    IF EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.slug = create_tenant.slug) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('tenant "%s" already exists', create_tenant.slug),
            HINT = 'Choose another slug.';
    END IF;
    IF EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.id = create_tenant.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('a tenant with id %s already exists', create_tenant.id),
            HINT = 'Give the id only to bring back a tenant whose rows outlived it (after DROP EXTENSION).';
    END IF;

    INSERT INTO tenancy.tenants (id, slug, name, plan, isolation, region, schema_name)
    VALUES (coalesce(create_tenant.id, gen_random_uuid()), create_tenant.slug, btrim(create_tenant.name),
            create_tenant.plan, create_tenant.isolation, create_tenant.region, schema)
    RETURNING tenants.id INTO new_id;
    IF schema IS NOT NULL THEN
        PERFORM tenancy._create_tenant_schema(new_id);
    END IF;
    IF create_tenant.owner IS NOT NULL THEN
        PERFORM tenancy._refuse_lookalike(new_id, create_tenant.owner);
        PERFORM tenancy._require_member_room((SELECT t FROM tenancy.tenants t WHERE t.id = new_id));
        INSERT INTO tenancy.memberships (tenant_id, actor, role) VALUES (new_id, create_tenant.owner, 'owner');
    END IF;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION tenancy.create_tenant(text, text, text, text, tenancy.isolation, uuid, text) IS
    'creates a tenant (platform admins only) and, when given, makes owner its first owner; returns its id; '
    'a schema-mode tenant gets its schema with every tenant migration applied so far '
    '(a null plan, isolation or region means the default: "basic", "row", tenancy.default_region; id brings '
    'back a tenant with the id its rows still carry)';

-- Says what is wrong with an isolation mode for a new tenant, or null when
-- this version supports it.
CREATE OR REPLACE FUNCTION tenancy.isolation_problem(isolation text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN isolation IS NULL OR isolation NOT IN ('row', 'schema', 'database')
        THEN format('unknown isolation mode "%s": the modes are row, schema and database',
                    tenancy._shown(coalesce(isolation, 'null')))
        WHEN isolation = 'database' THEN format('isolation mode "%s" is not supported yet', isolation)
    END
$$;
COMMENT ON FUNCTION tenancy.isolation_problem(text) IS
    'what is wrong with an isolation mode for a new tenant, or null when it is supported';

-- Raises unless a new schema-mode tenant with this slug can have its schema.
CREATE OR REPLACE FUNCTION tenancy._require_free_schema(slug text, schema text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF octet_length(schema) > 63 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('slug "%s" is too long for a schema-mode tenant', slug),
            DETAIL = format('Its schema would be "%s", longer than the 63 bytes a PostgreSQL name can have.', schema),
            HINT = 'A schema-mode tenant''s slug has at most 56 characters.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = schema) THEN
        RAISE EXCEPTION USING ERRCODE = 'duplicate_schema',
            MESSAGE = format('schema "%s" already exists', schema),
            DETAIL = coalesce('It is the schema of tenant "' ||
                              (SELECT t.slug FROM tenancy.tenants t WHERE t.schema_name = schema) || '".',
                              'A schema-mode tenant never takes over a schema that exists.'),
            HINT = 'Choose another slug ("-" and "_" give the same schema name), or drop or rename the schema.';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._require_free_schema(text, text) IS
    'internal: raises unless a new schema-mode tenant can create its schema';

-- Says what is wrong with a slug for a new tenant, or null when it is fine.
-- Platform admins only: whether a slug is taken says whether a tenant exists.
CREATE OR REPLACE FUNCTION tenancy.slug_problem(slug text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('check tenant slugs');
    RETURN CASE
        WHEN slug_problem.slug IS NULL OR slug_problem.slug !~ '^[a-z][a-z0-9_-]{0,62}$'
             OR slug_problem.slug ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            THEN 'a slug starts with a lowercase letter and has only lowercase letters, digits, "_" and "-" '
                 '(at most 63 characters, not a uuid)'
        WHEN EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.slug = slug_problem.slug)
            THEN format('tenant "%s" already exists', slug_problem.slug)
        END;
END
$$;
COMMENT ON FUNCTION tenancy.slug_problem(text) IS
    'null when a slug is valid and free for a new tenant, else what is wrong with it (platform admins only)';

-- Suggests a valid slug for a name: lowercase, common accents dropped, other
-- characters to "-"; null when no valid slug comes out.
CREATE OR REPLACE FUNCTION tenancy.suggest_slug(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN s ~ '^[a-z][a-z0-9_-]{0,62}$'
                 AND s !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN s END
      FROM (SELECT rtrim(left(btrim(regexp_replace(
                       translate(lower(suggest_slug.name),
                                 'àáâãäåāăąçćčďèéêëēėęěìíîïīįłñńňòóôõöøōőřśšşťùúûüūůűýÿžźż',
                                 'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorsssttuuuuuuuyyzzz'),
                       '[^a-z0-9_]+', '-', 'g'), '-'), 63), '-') AS s) suggestion
$$;
COMMENT ON FUNCTION tenancy.suggest_slug(text) IS
    'a valid slug derived from a name ("Acme Corp" gives "acme-corp"), or null when there is none';

-- Changes the status of a tenant; the shared body of suspend/activate/archive.
CREATE OR REPLACE FUNCTION tenancy._set_status(tenant text, new_status tenancy.tenant_status, reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin(
        CASE new_status WHEN 'active' THEN 'activate tenants'
                        WHEN 'suspended' THEN 'suspend tenants' ELSE 'archive tenants' END);
    target := tenancy._find_tenant(tenant, true);
    IF target.status::text = 'terminating' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is terminating', target.slug),
            DETAIL = format('It is read-only until its grace period ends at %s, then deleted.',
                            tenancy._shown_time(target.purge_after)),
            HINT = 'Restore it first with tenancy.restore_tenant().';
    END IF;
    IF new_status = 'suspended' AND target.status = 'archived' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is archived', target.slug),
            DETAIL = 'An archived tenant cannot be suspended.',
            HINT = 'Activate it first with tenancy.activate_tenant().';
    END IF;
    UPDATE tenancy.tenants
       SET status = new_status,
           status_reason = CASE WHEN new_status = 'active' THEN NULL ELSE reason END,
           updated_at = now()
     WHERE id = target.id;
END
$$;
REVOKE ALL ON FUNCTION tenancy._set_status(text, tenancy.tenant_status, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._set_status(text, tenancy.tenant_status, text) IS
    'internal: changes a tenant''s status';

CREATE OR REPLACE FUNCTION tenancy.suspend_tenant(tenant text, reason text DEFAULT NULL) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_status(suspend_tenant.tenant, 'suspended', suspend_tenant.reason)
$$;
COMMENT ON FUNCTION tenancy.suspend_tenant(text, text) IS
    'suspends a tenant: its members are refused until it is activated (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.activate_tenant(tenant text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_status(activate_tenant.tenant, 'active', NULL)
$$;
COMMENT ON FUNCTION tenancy.activate_tenant(text) IS
    'makes a suspended or archived tenant active again (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.archive_tenant(tenant text, reason text DEFAULT NULL) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_status(archive_tenant.tenant, 'archived', archive_tenant.reason)
$$;
COMMENT ON FUNCTION tenancy.archive_tenant(text, text) IS
    'archives a tenant: its rows stay readable, every write is refused (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.drop_tenant(tenant text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin('drop tenants');
    target := tenancy._find_tenant(tenant);
    -- The trigger tenants_remove_rows removes the tenant's rows in every
    -- protected table (after the transactions writing into it end); foreign
    -- keys remove its memberships and domains.
    DELETE FROM tenancy.tenants WHERE id = target.id;
END
$$;
COMMENT ON FUNCTION tenancy.drop_tenant(text) IS
    'removes a tenant and every row it owns in protected tables (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.my_tenants()
RETURNS TABLE (tenant_id uuid, slug text, name text, role tenancy.role, status tenancy.tenant_status)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.id, t.slug::text, t.name, m.role, t.status
      FROM tenancy.memberships m JOIN tenancy.tenants t ON t.id = m.tenant_id
     WHERE m.actor = tenancy.actor() AND m.is_active
     ORDER BY t.slug
$$;
COMMENT ON FUNCTION tenancy.my_tenants() IS 'the tenants the acting actor is an active member of';
