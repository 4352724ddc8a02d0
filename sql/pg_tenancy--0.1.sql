-- pg_tenancy 0.1: group roles, types and schema privileges.
\echo Use "CREATE EXTENSION pg_tenancy" to load this file. \quit

-- Group roles are cluster-wide: create them only when missing, and leave them
-- in place on DROP EXTENSION (other databases may use them).
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_admin') THEN
        CREATE ROLE tenancy_admin NOLOGIN;
        COMMENT ON ROLE tenancy_admin IS
            'pg_tenancy platform admins: create, suspend and drop tenants; may enter any tenant (recorded)';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_service') THEN
        CREATE ROLE tenancy_service NOLOGIN;
        COMMENT ON ROLE tenancy_service IS
            'pg_tenancy trusted application servers: may assert an application user with SET LOCAL tenancy.user';
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA tenancy FROM PUBLIC;
GRANT USAGE ON SCHEMA tenancy TO PUBLIC;
COMMENT ON SCHEMA tenancy IS 'pg_tenancy: tenant catalog, tenant context, protection and audit';

CREATE TYPE tenancy.role AS ENUM ('viewer', 'member', 'admin', 'owner');
COMMENT ON TYPE tenancy.role IS 'membership role in a tenant, ordered viewer < member < admin < owner';

CREATE TYPE tenancy.tenant_status AS ENUM ('active', 'suspended', 'archived');
COMMENT ON TYPE tenancy.tenant_status IS
    'tenant lifecycle: active; suspended (members refused); archived (read-only)';

CREATE TYPE tenancy.isolation AS ENUM ('row', 'schema', 'database');
COMMENT ON TYPE tenancy.isolation IS 'how a tenant''s data is isolated; 0.1 implements row';
-- pg_tenancy 0.1: the catalog tables. Nobody but the extension owner writes
-- them directly; every change goes through the management functions.

CREATE TABLE tenancy.tenants (
    id            uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
    slug          text COLLATE "C" NOT NULL,
    name          text NOT NULL,
    status        tenancy.tenant_status NOT NULL DEFAULT 'active',
    status_reason text,
    isolation     tenancy.isolation NOT NULL DEFAULT 'row',
    plan          text NOT NULL DEFAULT 'basic',
    settings      jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT tenants_pkey PRIMARY KEY (id),
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_slug_check CHECK (slug ~ '^[a-z][a-z0-9_-]{0,62}$'),
    CONSTRAINT tenants_name_check CHECK (pg_catalog.length(pg_catalog.btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT tenants_plan_check CHECK (plan ~ '^[a-z][a-z0-9_-]{0,62}$'),
    CONSTRAINT tenants_settings_check CHECK (pg_catalog.jsonb_typeof(settings) = 'object')
);
COMMENT ON TABLE tenancy.tenants IS 'pg_tenancy: one row per tenant';

CREATE TABLE tenancy.memberships (
    tenant_id  uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    actor      text COLLATE "C" NOT NULL,
    role       tenancy.role NOT NULL,
    is_active  boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT memberships_pkey PRIMARY KEY (tenant_id, actor),
    CONSTRAINT memberships_actor_check CHECK (
        pg_catalog.octet_length(actor) BETWEEN 1 AND 256
        AND actor !~ '[[:cntrl:]]' AND actor = pg_catalog.btrim(actor))
);
CREATE INDEX memberships_actor_idx ON tenancy.memberships (actor);
COMMENT ON TABLE tenancy.memberships IS 'pg_tenancy: which actor has which role in which tenant';

CREATE TABLE tenancy.domains (
    host       text COLLATE "C" NOT NULL,
    tenant_id  uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT domains_pkey PRIMARY KEY (host)
);
CREATE INDEX domains_tenant_idx ON tenancy.domains (tenant_id);
COMMENT ON TABLE tenancy.domains IS 'pg_tenancy: host names that resolve to a tenant';

CREATE TABLE tenancy.protected_tables (
    relid          regclass NOT NULL,
    read_role      tenancy.role NOT NULL,
    write_role     tenancy.role NOT NULL,
    delete_role    tenancy.role NOT NULL,
    audit          boolean NOT NULL,
    rls_was_enabled boolean NOT NULL,
    rls_was_forced  boolean NOT NULL,
    protected_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    protected_by   text NOT NULL,
    CONSTRAINT protected_tables_pkey PRIMARY KEY (relid)
);
COMMENT ON TABLE tenancy.protected_tables IS
    'pg_tenancy: tables protected by tenancy.protect(), with their settings, for the health check';

-- Every change to tenants or memberships reaches every session's cache at
-- commit (see extension/catalog_changed.cpp).
CREATE FUNCTION tenancy.catalog_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_catalog_changed';
COMMENT ON FUNCTION tenancy.catalog_changed() IS
    'internal: tells every session that tenants or memberships changed';
REVOKE ALL ON FUNCTION tenancy.catalog_changed() FROM PUBLIC;

CREATE TRIGGER tenants_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.tenants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();
CREATE TRIGGER memberships_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.memberships
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();

REVOKE ALL ON tenancy.tenants, tenancy.memberships, tenancy.domains, tenancy.protected_tables FROM PUBLIC;
GRANT SELECT ON tenancy.tenants, tenancy.memberships, tenancy.domains, tenancy.protected_tables
    TO tenancy_admin;

SELECT pg_catalog.pg_extension_config_dump('tenancy.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.domains', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.protected_tables', '');
-- pg_tenancy 0.1: the tenant context, implemented in C++ (extension/context*.cpp).
-- PARALLEL RESTRICTED: evaluated by the leader only, so that a refusal is
-- recorded once and in the session that caused it.

-- Planner support function of the context functions: it simplifies nothing,
-- but planning a query on a protected table thereby loads the library, whose
-- statement check then runs before the executor reads any row.
CREATE FUNCTION tenancy.context_support(internal) RETURNS internal
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_context_support';
COMMENT ON FUNCTION tenancy.context_support(internal) IS
    'internal: planner support function that loads pg_tenancy when a protected table is planned';

CREATE FUNCTION tenancy.current_tenant_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED SUPPORT tenancy.context_support
    AS 'MODULE_PATHNAME', 'tenancy_current_tenant_id';
COMMENT ON FUNCTION tenancy.current_tenant_id() IS
    'uuid of the tenant selected with SET tenancy.tenant, validated against membership and status';

CREATE FUNCTION tenancy.current_tenant() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_current_tenant';
COMMENT ON FUNCTION tenancy.current_tenant() IS 'slug of the validated current tenant';

CREATE FUNCTION tenancy.actor() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_actor';
COMMENT ON FUNCTION tenancy.actor() IS
    'who is acting: the session''s role, or tenancy.user when set by a tenancy_service role';

CREATE FUNCTION tenancy.db_role() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_db_role';
COMMENT ON FUNCTION tenancy.db_role() IS
    'the session''s outer database role (SET ROLE counts, SECURITY DEFINER does not)';

CREATE FUNCTION tenancy.current_role() RETURNS tenancy.role
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_current_role';
COMMENT ON FUNCTION tenancy.current_role() IS
    'the actor''s role in the current tenant (platform admins act as owner)';

CREATE FUNCTION tenancy.has_role(tenancy.role) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_has_role';
COMMENT ON FUNCTION tenancy.has_role(tenancy.role) IS
    'whether the actor''s role in the current tenant is at least the given role';

CREATE FUNCTION tenancy.is_platform_admin() RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_is_platform_admin';
COMMENT ON FUNCTION tenancy.is_platform_admin() IS
    'whether the acting role is a superuser or a member of tenancy_admin (never while asserting tenancy.user)';

CREATE FUNCTION tenancy.tenant_for(tenancy.role, text, regclass) RETURNS uuid
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED SUPPORT tenancy.context_support
    AS 'MODULE_PATHNAME', 'tenancy_tenant_for';
COMMENT ON FUNCTION tenancy.tenant_for(tenancy.role, text, regclass) IS
    'used by the policies of protected tables: the current tenant if the actor''s role allows the action '
    '(select, insert, update, delete) on the table, else an error naming the role needed';
-- pg_tenancy 0.1: internal helpers of the management functions. Not callable
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
-- pg_tenancy 0.1: tenant lifecycle. Platform admins only.

CREATE FUNCTION tenancy.create_tenant(
    slug text,
    name text,
    owner text DEFAULT NULL,
    plan text DEFAULT 'basic',
    isolation tenancy.isolation DEFAULT 'row'
) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_id uuid;
    suggestion text;
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
            MESSAGE = format('invalid tenant slug "%s"', create_tenant.slug),
            DETAIL = 'A slug starts with a lowercase letter and has only lowercase letters, digits, "_" and "-", '
                     'at most 63 characters, and does not look like a uuid.',
            HINT = coalesce('Try "' || suggestion || '".', 'Start with a lowercase letter.');
    END IF;
    IF create_tenant.name IS NULL OR length(btrim(create_tenant.name)) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'tenant name must have 1 to 200 characters',
            DETAIL = format('The name given was %s.', coalesce(quote_literal(create_tenant.name), 'null'));
    END IF;
    plan := coalesce(create_tenant.plan, 'basic');
    isolation := coalesce(create_tenant.isolation, 'row');
    IF create_tenant.plan !~ '^[a-z][a-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid plan "%s"', create_tenant.plan),
            DETAIL = 'A plan name starts with a lowercase letter and has only lowercase letters, digits, "_" and "-".';
    END IF;
    IF create_tenant.isolation IS DISTINCT FROM 'row' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('isolation mode "%s" is not supported yet', create_tenant.isolation),
            DETAIL = 'pg_tenancy 0.1 implements row-level isolation only.',
            HINT = 'Create the tenant with isolation => ''row''.';
    END IF;
    IF create_tenant.owner IS NOT NULL THEN
        PERFORM tenancy._check_actor(create_tenant.owner);
    END IF;
    IF EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.slug = create_tenant.slug) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('tenant "%s" already exists', create_tenant.slug),
            HINT = 'Choose another slug.';
    END IF;

    INSERT INTO tenancy.tenants (slug, name, plan, isolation)
    VALUES (create_tenant.slug, btrim(create_tenant.name), create_tenant.plan, create_tenant.isolation)
    RETURNING id INTO new_id;
    IF create_tenant.owner IS NOT NULL THEN
        INSERT INTO tenancy.memberships (tenant_id, actor, role) VALUES (new_id, create_tenant.owner, 'owner');
    END IF;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION tenancy.create_tenant(text, text, text, text, tenancy.isolation) IS
    'creates a tenant (platform admins only) and, when given, makes owner its first owner; returns its id '
    '(a null plan or isolation means the default)';

-- Says what is wrong with a slug for a new tenant, or null when it is fine.
CREATE FUNCTION tenancy.slug_problem(slug text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN slug_problem.slug IS NULL OR slug_problem.slug !~ '^[a-z][a-z0-9_-]{0,62}$'
             OR slug_problem.slug ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            THEN 'a slug starts with a lowercase letter and has only lowercase letters, digits, "_" and "-" '
                 '(at most 63 characters, not a uuid)'
        WHEN EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.slug = slug_problem.slug)
            THEN format('tenant "%s" already exists', slug_problem.slug)
        END
$$;
COMMENT ON FUNCTION tenancy.slug_problem(text) IS
    'null when a slug is valid and free for a new tenant, else what is wrong with it';

-- Suggests a valid slug for a name: lowercase, common accents dropped, other
-- characters to "-"; null when no valid slug comes out.
CREATE FUNCTION tenancy.suggest_slug(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
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
CREATE FUNCTION tenancy._set_status(tenant text, new_status tenancy.tenant_status, reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin(
        CASE new_status WHEN 'active' THEN 'activate tenants'
                        WHEN 'suspended' THEN 'suspend tenants' ELSE 'archive tenants' END);
    target := tenancy._find_tenant(tenant, true);
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

CREATE FUNCTION tenancy.suspend_tenant(tenant text, reason text DEFAULT NULL) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_status(suspend_tenant.tenant, 'suspended', suspend_tenant.reason)
$$;
COMMENT ON FUNCTION tenancy.suspend_tenant(text, text) IS
    'suspends a tenant: its members are refused until it is activated (platform admins only)';

CREATE FUNCTION tenancy.activate_tenant(tenant text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_status(activate_tenant.tenant, 'active', NULL)
$$;
COMMENT ON FUNCTION tenancy.activate_tenant(text) IS
    'makes a suspended or archived tenant active again (platform admins only)';

CREATE FUNCTION tenancy.archive_tenant(tenant text, reason text DEFAULT NULL) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_status(archive_tenant.tenant, 'archived', archive_tenant.reason)
$$;
COMMENT ON FUNCTION tenancy.archive_tenant(text, text) IS
    'archives a tenant: its rows stay readable, every write is refused (platform admins only)';

CREATE FUNCTION tenancy.drop_tenant(tenant text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin('drop tenants');
    target := tenancy._find_tenant(tenant, true);
    -- The foreign keys that tenancy.protect() adds cascade: this removes the
    -- tenant's rows in every protected table, its memberships and domains.
    DELETE FROM tenancy.tenants WHERE id = target.id;
END
$$;
COMMENT ON FUNCTION tenancy.drop_tenant(text) IS
    'removes a tenant and every row it owns in protected tables (platform admins only)';

CREATE FUNCTION tenancy.my_tenants()
RETURNS TABLE (tenant_id uuid, slug text, name text, role tenancy.role, status tenancy.tenant_status)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.id, t.slug::text, t.name, m.role, t.status
      FROM tenancy.memberships m JOIN tenancy.tenants t ON t.id = m.tenant_id
     WHERE m.actor = tenancy.actor() AND m.is_active
     ORDER BY t.slug
$$;
COMMENT ON FUNCTION tenancy.my_tenants() IS 'the tenants the acting actor is an active member of';
-- pg_tenancy 0.1: memberships. Platform admins manage every tenant; a tenant's
-- owners and admins manage its members; only an owner grants, changes or
-- removes "owner"; the last active owner can be neither removed nor demoted.

-- Raises unless the caller may move subject from old_role to new_role
-- (NULL old_role: a new member; NULL new_role: removal).
CREATE FUNCTION tenancy._authorize_member_change(
    target tenancy.tenants, subject text, old_role tenancy.role, new_role tenancy.role)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    caller tenancy.role;
BEGIN
    IF tenancy.is_platform_admin() THEN
        RETURN;
    END IF;
    caller := tenancy._caller_role(target.id);
    IF new_role IS NULL AND subject = tenancy.actor() AND caller IS NOT NULL THEN
        RETURN; -- anyone may leave a tenant (the last-owner rule still applies)
    END IF;
    IF caller IS NULL OR caller < 'admin' THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to manage members of tenant "%s"', target.slug),
            DETAIL = format('Managing members requires the "admin" role or higher in the tenant; actor "%s" has %s.',
                            tenancy.actor(), CASE WHEN caller IS NULL THEN 'no role'
                                                  ELSE format('the "%s" role', caller) END),
            HINT = 'Ask an owner or admin of the tenant, or a platform admin.';
    END IF;
    IF target.status <> 'active' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is %s', target.slug, target.status),
            DETAIL = format('Only platform admins can change the members of a %s tenant.', target.status);
    END IF;
    IF (old_role = 'owner' OR new_role = 'owner') AND caller <> 'owner' THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'only an owner can grant, change or remove the "owner" role',
            DETAIL = format('Actor "%s" has the "%s" role in tenant "%s".', tenancy.actor(), caller, target.slug);
    END IF;
END
$$;

-- Raises when a change would leave a tenant that has an owner without one.
CREATE FUNCTION tenancy._keep_an_owner(target tenancy.tenants, subject text, what text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM tenancy.memberships m
                WHERE m.tenant_id = target.id AND m.actor = subject AND m.role = 'owner' AND m.is_active)
       AND (SELECT count(*) FROM tenancy.memberships m
             WHERE m.tenant_id = target.id AND m.role = 'owner' AND m.is_active) = 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('cannot %s the last owner of tenant "%s"', what, target.slug),
            DETAIL = format('Actor "%s" is the only active owner.', subject),
            HINT = 'Make another member owner first with tenancy.set_member_role().';
    END IF;
END
$$;

-- Returns the membership of subject in a tenant, or raises when there is none.
CREATE FUNCTION tenancy._membership(target tenancy.tenants, subject text) RETURNS tenancy.memberships
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_membership tenancy.memberships;
BEGIN
    SELECT * INTO found_membership FROM tenancy.memberships m
     WHERE m.tenant_id = target.id AND m.actor = subject;
    IF found_membership.actor IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('actor "%s" is not a member of tenant "%s"', subject, target.slug),
            HINT = 'Add the actor with tenancy.add_member().';
    END IF;
    RETURN found_membership;
END
$$;

REVOKE ALL ON FUNCTION tenancy._authorize_member_change(tenancy.tenants, text, tenancy.role, tenancy.role),
    tenancy._keep_an_owner(tenancy.tenants, text, text), tenancy._membership(tenancy.tenants, text)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._authorize_member_change(tenancy.tenants, text, tenancy.role, tenancy.role) IS
    'internal: error unless the caller may make this membership change';
COMMENT ON FUNCTION tenancy._keep_an_owner(tenancy.tenants, text, text) IS
    'internal: error when the change would remove the last active owner';
COMMENT ON FUNCTION tenancy._membership(tenancy.tenants, text) IS 'internal: a membership, or an error';

CREATE FUNCTION tenancy.add_member(tenant text, actor text, role tenancy.role DEFAULT 'member')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    target := tenancy._find_tenant(tenant, true);
    PERFORM tenancy._check_actor(add_member.actor);
    IF add_member.role IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'role must not be null';
    END IF;
    PERFORM tenancy._authorize_member_change(target, add_member.actor, NULL, add_member.role);
    IF EXISTS (SELECT 1 FROM tenancy.memberships m WHERE m.tenant_id = target.id AND m.actor = add_member.actor) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('actor "%s" is already a member of tenant "%s"', add_member.actor, target.slug),
            HINT = 'Change the role with tenancy.set_member_role().';
    END IF;
    INSERT INTO tenancy.memberships (tenant_id, actor, role) VALUES (target.id, add_member.actor, add_member.role);
END
$$;
COMMENT ON FUNCTION tenancy.add_member(text, text, tenancy.role) IS
    'adds an actor to a tenant with a role (tenant owners/admins and platform admins)';

-- Changes one existing membership: a new role, a new active flag, or its
-- removal; the shared body of set_member_role, set_member_active and
-- remove_member, with the rights and the last-owner rule checked first.
CREATE FUNCTION tenancy._change_membership(
    tenant text, subject text, new_role tenancy.role, new_active boolean, removing boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._find_tenant(tenant, true);
    current_membership tenancy.memberships;
BEGIN
    PERFORM tenancy._check_actor(subject);
    current_membership := tenancy._membership(target, subject);
    PERFORM tenancy._authorize_member_change(target, subject, current_membership.role,
        CASE WHEN removing THEN NULL ELSE coalesce(new_role, current_membership.role) END);
    IF removing THEN
        PERFORM tenancy._keep_an_owner(target, subject, 'remove');
        DELETE FROM tenancy.memberships m WHERE m.tenant_id = target.id AND m.actor = subject;
        RETURN;
    END IF;
    IF new_role IS NOT NULL AND new_role <> 'owner' THEN
        PERFORM tenancy._keep_an_owner(target, subject, 'demote');
    END IF;
    IF new_active IS FALSE THEN
        PERFORM tenancy._keep_an_owner(target, subject, 'deactivate');
    END IF;
    UPDATE tenancy.memberships m
       SET role = coalesce(new_role, m.role), is_active = coalesce(new_active, m.is_active), updated_at = now()
     WHERE m.tenant_id = target.id AND m.actor = subject;
END
$$;
REVOKE ALL ON FUNCTION tenancy._change_membership(text, text, tenancy.role, boolean, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._change_membership(text, text, tenancy.role, boolean, boolean) IS
    'internal: changes or removes a membership after checking the rules';

CREATE FUNCTION tenancy.set_member_role(tenant text, actor text, role tenancy.role) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF set_member_role.role IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'role must not be null';
    END IF;
    PERFORM tenancy._change_membership(tenant, set_member_role.actor, set_member_role.role, NULL, false);
END
$$;
COMMENT ON FUNCTION tenancy.set_member_role(text, text, tenancy.role) IS
    'changes a member''s role; only owners grant or change "owner"; the last owner cannot be demoted';

CREATE FUNCTION tenancy.set_member_active(tenant text, actor text, active boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF set_member_active.active IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'active must not be null';
    END IF;
    PERFORM tenancy._change_membership(tenant, set_member_active.actor, NULL, set_member_active.active, false);
END
$$;
COMMENT ON FUNCTION tenancy.set_member_active(text, text, boolean) IS
    'suspends (false) or restores (true) a membership without removing it';

CREATE FUNCTION tenancy.remove_member(tenant text, actor text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._change_membership(remove_member.tenant, remove_member.actor, NULL, NULL, true)
$$;
COMMENT ON FUNCTION tenancy.remove_member(text, text) IS
    'removes an actor from a tenant; the last owner cannot be removed';
-- pg_tenancy 0.1: domains, so that an application can route a request by its
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
-- pg_tenancy 0.1: platform admins (tenancy_admin) and trusted services
-- (tenancy_service). Granting either is a platform admin's decision.

-- Grants or revokes a group role; the shared body of the four functions below.
CREATE FUNCTION tenancy._set_group(member regrole, group_role name, granted boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin(
        format('%s %s', CASE WHEN granted THEN 'grant' ELSE 'revoke' END, group_role));
    IF member IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'role must not be null';
    END IF;
    IF granted AND group_role = 'tenancy_service'
       AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = member AND (r.rolsuper OR r.rolbypassrls)) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_grant_operation',
            MESSAGE = format('role "%s" bypasses row level security', member),
            DETAIL = 'A service role that is a superuser or has BYPASSRLS would see every tenant''s rows.',
            HINT = 'Use a dedicated role without SUPERUSER and BYPASSRLS for the application.';
    END IF;
    IF granted THEN
        EXECUTE format('GRANT %I TO %I', group_role, member::text);
    ELSIF pg_has_role(member, group_role, 'MEMBER') THEN
        EXECUTE format('REVOKE %I FROM %I', group_role, member::text);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._set_group(regrole, name, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._set_group(regrole, name, boolean) IS 'internal: grants or revokes a group role';

CREATE FUNCTION tenancy.grant_platform_admin(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_group(grant_platform_admin.role, 'tenancy_admin', true)
$$;
COMMENT ON FUNCTION tenancy.grant_platform_admin(regrole) IS 'makes a role a platform admin (tenancy_admin)';

CREATE FUNCTION tenancy.revoke_platform_admin(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_group(revoke_platform_admin.role, 'tenancy_admin', false)
$$;
COMMENT ON FUNCTION tenancy.revoke_platform_admin(regrole) IS 'removes a role from tenancy_admin';

CREATE FUNCTION tenancy.grant_service(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_group(grant_service.role, 'tenancy_service', true)
$$;
COMMENT ON FUNCTION tenancy.grant_service(regrole) IS
    'trusts a role to assert application users with tenancy.user (tenancy_service)';

CREATE FUNCTION tenancy.revoke_service(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_group(revoke_service.role, 'tenancy_service', false)
$$;
COMMENT ON FUNCTION tenancy.revoke_service(regrole) IS 'removes a role from tenancy_service';

CREATE FUNCTION tenancy.platform_roles()
RETURNS TABLE (role name, platform_admin boolean, service boolean, superuser boolean, bypassrls boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.rolname, pg_has_role(r.oid, 'tenancy_admin', 'MEMBER'), pg_has_role(r.oid, 'tenancy_service', 'MEMBER'),
           r.rolsuper, r.rolbypassrls
      FROM pg_roles r
     WHERE r.rolname NOT IN ('tenancy_admin', 'tenancy_service')
       AND (pg_has_role(r.oid, 'tenancy_admin', 'MEMBER') OR pg_has_role(r.oid, 'tenancy_service', 'MEMBER')
            OR (r.rolsuper AND r.rolcanlogin))
     ORDER BY r.rolname
$$;
COMMENT ON FUNCTION tenancy.platform_roles() IS
    'roles with platform rights: members of tenancy_admin or tenancy_service, and login superusers';
-- pg_tenancy 0.1: protection of a table. tenancy.protect() adds and adopts a
-- tenant_id column, enables and forces row level security, installs the
-- policies and triggers, and records the table for the health check.

-- The policies of a protected table, in exactly the form pg_get_expr() prints
-- them under search_path = pg_catalog, so that the health check can compare.
-- Every command has one RESTRICTIVE policy: tenant_id must equal the tenant
-- that tenancy.tenant_for() returns, which it does only when the actor's role
-- allows that command. Restrictive policies are ANDed with anything else, so
-- no permissive policy that someone adds can widen access; PostgreSQL wants
-- at least one permissive policy, hence tenancy_permit (true) for all
-- commands. The tenant is a scalar subquery: evaluated once per statement,
-- and usable as an index condition.
CREATE FUNCTION tenancy._policy_definitions(
    target regclass, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role)
RETURNS TABLE (policy_name name, command "char", permissive boolean, using_expression text, check_expression text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH rights (policy_name, command, role, action) AS (VALUES
             ('tenancy_select'::name, 'r'::"char", read_role, 'select'),
             ('tenancy_insert', 'a', write_role, 'insert'),
             ('tenancy_update', 'w', write_role, 'update'),
             ('tenancy_delete', 'd', delete_role, 'delete'))
    SELECT 'tenancy_permit'::name, '*'::"char", true, 'true', 'true'
    UNION ALL
    SELECT r.policy_name, r.command, false,
           CASE WHEN r.command <> 'a' THEN expr END,
           CASE WHEN r.command IN ('a', 'w') THEN expr END
      FROM rights r,
           LATERAL (SELECT format('(tenant_id = ( SELECT tenancy.tenant_for(%L::tenancy.role, %L::text, %L::regclass) AS tenant_for))',
                                  r.role, r.action, target::text) AS expr) e
$$;
REVOKE ALL ON FUNCTION tenancy._policy_definitions(regclass, tenancy.role, tenancy.role, tenancy.role) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._policy_definitions(regclass, tenancy.role, tenancy.role, tenancy.role) IS
    'internal: the policies tenancy.protect() installs on a table';

-- Raises unless the caller owns the table (or is a platform admin).
CREATE FUNCTION tenancy._require_table_owner(target regclass, action text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT tenancy.is_platform_admin()
       AND NOT pg_has_role(tenancy.db_role()::name, (SELECT relowner FROM pg_class WHERE oid = target), 'USAGE') THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('must be owner of table %s', target),
            DETAIL = format('Only the owner of a table or a platform admin may %s it.', action);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_table_owner(regclass, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_table_owner(regclass, text) IS
    'internal: error unless the caller owns the table or is a platform admin';

-- Raises unless the relation is an ordinary, permanent, user table.
CREATE FUNCTION tenancy._require_protectable(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel record;
BEGIN
    IF target IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'table must not be null';
    END IF;
    SELECT c.relkind, c.relpersistence, n.nspname INTO rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_table', MESSAGE = format('table with oid %s does not exist', target::oid);
    END IF;
    IF rel.relkind = 'p' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('cannot protect partitioned table %s', target),
            DETAIL = 'Row level security of a partitioned table does not apply when a partition is queried directly.',
            HINT = 'Protect each partition, or use an ordinary table.';
    END IF;
    IF rel.relkind <> 'r' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('%s is not an ordinary table', target),
            DETAIL = format('tenancy.protect() works on ordinary tables; %s is a %s.', target,
                            CASE rel.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                                 WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index'
                                 WHEN 'c' THEN 'composite type' ELSE 'relation of kind ' || rel.relkind::text END);
    END IF;
    IF rel.relpersistence = 't' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot protect temporary table %s', target);
    END IF;
    IF rel.nspname IN ('pg_catalog', 'information_schema', 'tenancy') OR rel.nspname LIKE 'pg\_toast%' THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('cannot protect %s', target),
            DETAIL = format('Tables in schema "%s" belong to the system or to pg_tenancy.', rel.nspname);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_protectable(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_protectable(regclass) IS
    'internal: error unless the relation is an ordinary permanent user table';

-- Adds or adopts the tenant_id column: uuid, NOT NULL, defaulting to the
-- current tenant, referencing tenancy.tenants with ON DELETE CASCADE, and led
-- by an index. Refuses rows without a tenant rather than guessing one.
CREATE FUNCTION tenancy._install_tenant_column(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    column_info record;
    orphaned boolean;
    unknown boolean;
BEGIN
    SELECT a.attnum, a.atttypid INTO column_info
      FROM pg_attribute a WHERE a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped;
    IF NOT FOUND THEN
        EXECUTE format('ALTER TABLE %s ADD COLUMN tenant_id uuid', target);
        SELECT a.attnum, a.atttypid INTO column_info
          FROM pg_attribute a WHERE a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped;
    ELSIF column_info.atttypid <> 'uuid'::regtype THEN
        RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
            MESSAGE = format('column "tenant_id" of table %s has type %s, not uuid', target,
                             format_type(column_info.atttypid, NULL)),
            HINT = 'Convert the column to uuid holding tenancy.tenants ids, or rename it, then protect again.';
    END IF;

    -- One pass answers both: rows without a tenant, rows of unknown tenants.
    EXECUTE format('SELECT coalesce(bool_or(r.tenant_id IS NULL), false), '
                   'coalesce(bool_or(r.tenant_id IS NOT NULL AND t.id IS NULL), false) '
                   'FROM %s r LEFT JOIN tenancy.tenants t ON t.id = r.tenant_id', target) INTO orphaned, unknown;
    IF orphaned THEN
        RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
            MESSAGE = format('table %s has rows without a tenant', target),
            DETAIL = 'Protecting a table must not guess which tenant owns existing rows.',
            HINT = 'Set tenant_id of every row to the id of its tenant (tenancy.tenants.id), then protect again.';
    END IF;
    IF unknown THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('table %s has rows of tenants that do not exist', target),
            DETAIL = 'Every tenant_id must be the id of a row of tenancy.tenants.',
            HINT = 'Create the missing tenants with tenancy.create_tenant(), or fix tenant_id, then protect again.';
    END IF;
    EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT tenancy.current_tenant_id(), '
                   'ALTER COLUMN tenant_id SET NOT NULL', target);

    IF NOT EXISTS (SELECT 1 FROM pg_constraint c
                    WHERE c.conrelid = target AND c.contype = 'f'
                      AND c.confrelid = 'tenancy.tenants'::regclass AND c.conkey = ARRAY[column_info.attnum]) THEN
        EXECUTE format('ALTER TABLE %s ADD FOREIGN KEY (tenant_id) REFERENCES tenancy.tenants (id) ON DELETE CASCADE',
                       target);
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_index i
                    WHERE i.indrelid = target AND i.indkey[0] = column_info.attnum
                      AND i.indpred IS NULL AND i.indisvalid) THEN
        EXECUTE format('CREATE INDEX ON %s (tenant_id)', target);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._install_tenant_column(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._install_tenant_column(regclass) IS
    'internal: adds or adopts tenant_id with default, NOT NULL, foreign key and index';

-- Drops the policies that tenancy.protect() installs on a table.
CREATE FUNCTION tenancy._drop_policies(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    policy record;
BEGIN
    FOR policy IN SELECT p.polname FROM pg_policy p
                   WHERE p.polrelid = target AND p.polname IN
                         ('tenancy_permit', 'tenancy_select', 'tenancy_insert', 'tenancy_update', 'tenancy_delete')
    LOOP
        EXECUTE format('DROP POLICY %I ON %s', policy.polname, target);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._drop_policies(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._drop_policies(regclass) IS 'internal: drops the tenancy policies of a table';

-- Creates (or re-creates) the policies of a protected table.
CREATE FUNCTION tenancy._install_policies(
    target regclass, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    policy record;
BEGIN
    PERFORM tenancy._drop_policies(target);
    FOR policy IN SELECT * FROM tenancy._policy_definitions(target, read_role, write_role, delete_role) LOOP
        EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s TO PUBLIC%s%s',
            policy.policy_name, target,
            CASE WHEN policy.permissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
            CASE policy.command WHEN '*' THEN 'ALL' WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                                WHEN 'w' THEN 'UPDATE' ELSE 'DELETE' END,
            CASE WHEN policy.using_expression IS NOT NULL THEN format(' USING (%s)', policy.using_expression) END,
            CASE WHEN policy.check_expression IS NOT NULL THEN format(' WITH CHECK (%s)', policy.check_expression) END);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._install_policies(regclass, tenancy.role, tenancy.role, tenancy.role) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._install_policies(regclass, tenancy.role, tenancy.role, tenancy.role) IS
    'internal: (re-)creates the row level security policies of a protected table';

-- Creates or drops the audit trigger of a table.
CREATE FUNCTION tenancy._install_audit_trigger(target regclass, enabled boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    present boolean := EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_audit');
BEGIN
    IF enabled AND NOT present THEN
        EXECUTE format('CREATE TRIGGER tenancy_audit AFTER INSERT OR UPDATE OR DELETE ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger()', target);
    ELSIF NOT enabled AND present THEN
        EXECUTE format('DROP TRIGGER tenancy_audit ON %s', target);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._install_audit_trigger(regclass, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._install_audit_trigger(regclass, boolean) IS
    'internal: creates or drops the audit trigger of a protected table';

CREATE FUNCTION tenancy.protect(
    target regclass,
    read_role tenancy.role DEFAULT 'viewer',
    write_role tenancy.role DEFAULT 'member',
    delete_role tenancy.role DEFAULT 'admin',
    audit boolean DEFAULT true
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rls record;
    previous tenancy.protected_tables;
BEGIN
    PERFORM tenancy._require_protectable(target);
    PERFORM tenancy._require_table_owner(target, 'protect');
    -- A null setting keeps the table's current one, or takes the default.
    SELECT * INTO previous FROM tenancy.protected_tables p WHERE p.relid = target;
    read_role := coalesce(read_role, previous.read_role, 'viewer');
    write_role := coalesce(write_role, previous.write_role, 'member');
    delete_role := coalesce(delete_role, previous.delete_role, 'admin');
    audit := coalesce(audit, previous.audit, true);
    IF NOT audit AND coalesce(previous.audit, true) AND NOT tenancy.is_platform_admin() THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to exempt %s from audit', target),
            DETAIL = 'Only platform admins may protect a table without its audit trigger.';
    END IF;

    SELECT c.relrowsecurity, c.relforcerowsecurity INTO rls FROM pg_class c WHERE c.oid = target;
    PERFORM tenancy._install_tenant_column(target);
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', target);
    PERFORM tenancy._install_policies(target, read_role, write_role, delete_role);
    PERFORM tenancy._install_audit_trigger(target, audit);
    IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_truncate_guard') THEN
        EXECUTE format('CREATE TRIGGER tenancy_truncate_guard BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.guard_truncate()', target);
    END IF;

    INSERT INTO tenancy.protected_tables AS p
           (relid, read_role, write_role, delete_role, audit, rls_was_enabled, rls_was_forced, protected_by)
    VALUES (target, read_role, write_role, delete_role, audit,
            coalesce(previous.rls_was_enabled, rls.relrowsecurity),
            coalesce(previous.rls_was_forced, rls.relforcerowsecurity), tenancy.actor())
    ON CONFLICT (relid) DO UPDATE
       SET read_role = excluded.read_role, write_role = excluded.write_role,
           delete_role = excluded.delete_role, audit = excluded.audit;
END
$$;
COMMENT ON FUNCTION tenancy.protect(regclass, tenancy.role, tenancy.role, tenancy.role, boolean) IS
    'protects a table: tenant_id column, forced row level security, per-tenant policies, audit (idempotent; '
    'a null setting keeps the current one)';

CREATE FUNCTION tenancy.unprotect(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    settings tenancy.protected_tables;
BEGIN
    PERFORM tenancy._require_platform_admin('unprotect tables');
    SELECT * INTO settings FROM tenancy.protected_tables p WHERE p.relid = target;
    IF settings.relid IS NULL THEN
        RAISE NOTICE 'table % is not protected, skipping', target;
        RETURN;
    END IF;
    PERFORM tenancy._drop_policies(target);
    EXECUTE format('DROP TRIGGER IF EXISTS tenancy_audit ON %s', target);
    EXECUTE format('DROP TRIGGER IF EXISTS tenancy_truncate_guard ON %s', target);
    EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id DROP DEFAULT', target);
    EXECUTE format('ALTER TABLE %s %s ROW LEVEL SECURITY, %s ROW LEVEL SECURITY', target,
                   CASE WHEN settings.rls_was_enabled THEN 'ENABLE' ELSE 'DISABLE' END,
                   CASE WHEN settings.rls_was_forced THEN 'FORCE' ELSE 'NO FORCE' END);
    DELETE FROM tenancy.protected_tables p WHERE p.relid = target;
END
$$;
COMMENT ON FUNCTION tenancy.unprotect(regclass) IS
    'removes the protection of a table, keeping its tenant_id column and data (platform admins only)';

CREATE FUNCTION tenancy.set_audit(target regclass, enabled boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF target IS NULL OR enabled IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'table and enabled must not be null';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not protected', target),
            HINT = 'Protect it with tenancy.protect(); its audit trigger is on by default.';
    END IF;
    IF enabled THEN
        PERFORM tenancy._require_table_owner(target, 'audit');
    ELSE
        PERFORM tenancy._require_platform_admin('switch off the audit of a table');
    END IF;
    PERFORM tenancy._install_audit_trigger(target, enabled);
    UPDATE tenancy.protected_tables p SET audit = enabled WHERE p.relid = target;
END
$$;
COMMENT ON FUNCTION tenancy.set_audit(regclass, boolean) IS
    'switches the audit trigger of a protected table on (owner) or off (platform admins only)';

-- Forgets protected tables that were dropped.
CREATE FUNCTION tenancy.forget_dropped_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM tenancy.protected_tables p
     WHERE p.relid::oid IN (SELECT d.objid FROM pg_event_trigger_dropped_objects() d
                             WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0);
END
$$;
COMMENT ON FUNCTION tenancy.forget_dropped_tables() IS 'internal: removes dropped tables from tenancy.protected_tables';
CREATE EVENT TRIGGER tenancy_forget_dropped_tables ON sql_drop
    EXECUTE FUNCTION tenancy.forget_dropped_tables();

CREATE TRIGGER protected_tables_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.protected_tables
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();
-- pg_tenancy 0.1: the audit trail. tenancy.audit_log is written by the C++
-- trigger tenancy.audit_trigger() (and by the access log writer for
-- platform admins entering a tenant); nobody edits it. It is partitioned by
-- month; tenancy.prune_audit() drops old months and creates coming ones.

CREATE SEQUENCE tenancy.audit_log_id_seq;
COMMENT ON SEQUENCE tenancy.audit_log_id_seq IS 'pg_tenancy: ids of tenancy.audit_log rows';

CREATE TABLE tenancy.audit_log (
    id             bigint NOT NULL DEFAULT pg_catalog.nextval('tenancy.audit_log_id_seq'),
    at             timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
    tenant_id      uuid,
    actor          text NOT NULL,
    db_role        text NOT NULL,
    table_name     text,
    relid          oid,
    operation      text NOT NULL,
    old_row        jsonb,
    new_row        jsonb,
    xid            xid8,
    support_access boolean NOT NULL DEFAULT false,
    CONSTRAINT audit_log_operation_check
        CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'ENTER'))
) PARTITION BY RANGE (at);
COMMENT ON TABLE tenancy.audit_log IS
    'pg_tenancy: one row per change of a protected row (UPDATE: old row, and new values of changed columns), '
    'per TRUNCATE, and per platform admin entering a tenant (ENTER)';
COMMENT ON COLUMN tenancy.audit_log.tenant_id IS 'the tenant of the row itself (not of the session)';
COMMENT ON COLUMN tenancy.audit_log.actor IS 'tenancy.actor(): the login role, or the application user asserted by a service';
COMMENT ON COLUMN tenancy.audit_log.db_role IS 'the session''s outer database role';
COMMENT ON COLUMN tenancy.audit_log.old_row IS 'the row before the change (UPDATE, DELETE)';
COMMENT ON COLUMN tenancy.audit_log.new_row IS 'INSERT: the new row; UPDATE: the new values of the changed columns';
COMMENT ON COLUMN tenancy.audit_log.support_access IS 'a platform admin who is not a member of the tenant did it';

-- Rows land here until tenancy.prune_audit() has created their month.
CREATE TABLE tenancy.audit_log_default PARTITION OF tenancy.audit_log DEFAULT;
COMMENT ON TABLE tenancy.audit_log_default IS 'pg_tenancy: audit rows outside every monthly partition';
CREATE INDEX audit_log_tenant_at_idx ON tenancy.audit_log (tenant_id, at);

CREATE TABLE tenancy.access_denials (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    at               timestamptz NOT NULL,
    actor            text NOT NULL,
    db_role          text NOT NULL,
    requested_tenant text NOT NULL,
    tenant_id        uuid,
    reason           text NOT NULL,
    message          text NOT NULL,
    CONSTRAINT access_denials_pkey PRIMARY KEY (id),
    CONSTRAINT access_denials_reason_check CHECK (reason IN
        ('unknown_tenant', 'not_member', 'inactive_membership', 'suspended', 'spoofed_user'))
);
CREATE INDEX access_denials_at_idx ON tenancy.access_denials (at);
COMMENT ON TABLE tenancy.access_denials IS
    'pg_tenancy: refused attempts to use a tenant, written in their own transaction so that they survive '
    'the rollback of the statement that caused them';

REVOKE ALL ON tenancy.audit_log, tenancy.audit_log_default, tenancy.access_denials, tenancy.audit_log_id_seq
    FROM PUBLIC;
GRANT SELECT ON tenancy.audit_log TO PUBLIC;
GRANT SELECT ON tenancy.access_denials TO tenancy_admin;

CREATE FUNCTION tenancy.audit_visible(tenant uuid) RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_audit_visible';
COMMENT ON FUNCTION tenancy.audit_visible(uuid) IS
    'whether the caller may read audit rows of a tenant: platform admins always; owners and admins of the '
    'current tenant for that tenant';

ALTER TABLE tenancy.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON tenancy.audit_log FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));

CREATE FUNCTION tenancy.audit_trigger() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_audit_trigger';
COMMENT ON FUNCTION tenancy.audit_trigger() IS
    'AFTER ROW trigger installed by tenancy.protect(): writes one tenancy.audit_log row per change';

-- Membership and tenant changes are audited too: tenant admins see who added
-- whom; the tenant of a tenants row is its own id.
CREATE TRIGGER memberships_audit AFTER INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger();
CREATE TRIGGER tenants_audit AFTER INSERT OR UPDATE OR DELETE ON tenancy.tenants
    FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger('id');

-- Creates the monthly partitions from this month to months_ahead months on,
-- moving any rows of those months out of the default partition first.
CREATE FUNCTION tenancy._ensure_audit_partitions(months_ahead integer)
RETURNS TABLE (action text, partition_name text, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    month_start timestamptz;
    lower_bound timestamptz;
    upper_bound timestamptz;
    name text;
    moved bigint;
BEGIN
    month_start := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    FOR i IN 0 .. months_ahead LOOP
        lower_bound := (month_start AT TIME ZONE 'UTC' + make_interval(months => i)) AT TIME ZONE 'UTC';
        upper_bound := (month_start AT TIME ZONE 'UTC' + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
        name := 'audit_log_' || to_char(lower_bound AT TIME ZONE 'UTC', 'YYYY_MM');
        CONTINUE WHEN to_regclass('tenancy.' || name) IS NOT NULL;
        EXECUTE format('CREATE TABLE tenancy.%I (LIKE tenancy.audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
        EXECUTE format('WITH moved AS (DELETE FROM tenancy.audit_log_default WHERE at >= %L AND at < %L RETURNING *) '
                       'INSERT INTO tenancy.%I SELECT * FROM moved', lower_bound, upper_bound, name);
        GET DIAGNOSTICS moved = ROW_COUNT;
        EXECUTE format('ALTER TABLE tenancy.audit_log ATTACH PARTITION tenancy.%I FOR VALUES FROM (%L) TO (%L)',
                       name, lower_bound, upper_bound);
        EXECUTE format('REVOKE ALL ON tenancy.%I FROM PUBLIC', name);
        action := 'created'; partition_name := 'tenancy.' || name; rows := moved;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._ensure_audit_partitions(integer) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._ensure_audit_partitions(integer) IS
    'internal: creates the coming monthly partitions of tenancy.audit_log';

CREATE FUNCTION tenancy.prune_audit(older_than interval)
RETURNS TABLE (action text, partition_name text, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cutoff timestamptz;
    part record;
    removed bigint;
BEGIN
    PERFORM tenancy._require_platform_admin('prune the audit log');
    IF older_than IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'older_than must not be null';
    END IF;
    IF older_than <= interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('older_than must be a positive interval, not "%s"', older_than),
            HINT = 'Pass how long to keep audit rows, for example interval ''90 days''.';
    END IF;
    cutoff := now() - older_than;

    FOR part IN
        SELECT c.oid::regclass AS rel,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'tenancy.audit_log'::regclass
           AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
         ORDER BY 2
    LOOP
        CONTINUE WHEN part.upper_bound > cutoff;
        partition_name := part.rel::text;
        EXECUTE format('SELECT count(*) FROM %s', part.rel) INTO removed;
        EXECUTE format('DROP TABLE %s', part.rel);
        action := 'dropped'; rows := removed;
        RETURN NEXT;
    END LOOP;

    RETURN QUERY
        WITH stray AS (DELETE FROM tenancy.audit_log_default d WHERE d.at < cutoff RETURNING 1),
             denials AS (DELETE FROM tenancy.access_denials d WHERE d.at < cutoff RETURNING 1)
        SELECT 'deleted', 'tenancy.audit_log_default', count(*) FROM stray HAVING count(*) > 0
        UNION ALL
        SELECT 'deleted', 'tenancy.access_denials', count(*) FROM denials HAVING count(*) > 0;

    RETURN QUERY SELECT * FROM tenancy._ensure_audit_partitions(2);
END
$$;
COMMENT ON FUNCTION tenancy.prune_audit(interval) IS
    'retention: drops audit partitions (and denials) older than the interval and creates the coming months '
    '(platform admins only); run it daily, for example with pg_cron';

SELECT pg_catalog.pg_extension_config_dump('tenancy.audit_log_default', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.access_denials', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.audit_log_id_seq', '');
-- pg_tenancy 0.1: guards. A protected table's owner may not switch off what
-- protects it: TRUNCATE (which ignores row level security and row triggers),
-- disabling row level security or the audit trigger, dropping or altering the
-- tenancy policies, or changing the tenant_id column. Platform admins may.

CREATE FUNCTION tenancy.guard_truncate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_truncate';
COMMENT ON FUNCTION tenancy.guard_truncate() IS
    'BEFORE TRUNCATE trigger of protected tables: only platform admins may truncate (it spans every tenant)';

CREATE FUNCTION tenancy.guard_ddl() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_ddl';
COMMENT ON FUNCTION tenancy.guard_ddl() IS
    'refuses DDL that would weaken a protected table unless run by a platform admin';

CREATE EVENT TRIGGER tenancy_guard_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TRIGGER', 'ALTER TRIGGER', 'DROP POLICY', 'ALTER POLICY')
    EXECUTE FUNCTION tenancy.guard_ddl();
-- pg_tenancy 0.1: the health check. One row per finding: what is wrong, where,
-- and how to fix it. Reads only the system catalogs and tenancy's own
-- catalog, never tenant data, so it is as fast with ten thousand tenants as
-- with ten.

-- Says whether a role bypasses row level security (superuser or BYPASSRLS).
CREATE FUNCTION tenancy._bypasses_rls(role oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.oid = role
$$;
REVOKE ALL ON FUNCTION tenancy._bypasses_rls(oid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._bypasses_rls(oid) IS 'internal: whether a role bypasses row level security';

-- Findings about each protected table itself: row level security, policies,
-- the tenant column, its foreign key and index, the triggers.
CREATE FUNCTION tenancy._health_protected_tables()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH protected AS (
        SELECT p.*, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT a.attnum FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_attnum,
               (SELECT a.attnotnull FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_not_null
          FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid
    ), expected AS (
        SELECT p.relid, d.* FROM protected p,
               LATERAL tenancy._policy_definitions(p.relid, p.read_role, p.write_role, p.delete_role) d
    ), actual AS (
        SELECT pol.polrelid AS relid, pol.polname, pol.polcmd, pol.polpermissive,
               pol.polroles = ARRAY[0::oid] AS to_public,
               pg_get_expr(pol.polqual, pol.polrelid) AS using_expression,
               pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expression
          FROM pg_policy pol JOIN protected p ON p.relid = pol.polrelid
    )
    SELECT 'error', p.relid::text, 'row level security is disabled',
           format('Run SELECT tenancy.protect(%L) again.', p.relid::text)
      FROM protected p WHERE NOT p.relrowsecurity
    UNION ALL
    SELECT 'error', p.relid::text, 'row level security is not forced: the table owner bypasses it',
           format('Run SELECT tenancy.protect(%L) again.', p.relid::text)
      FROM protected p WHERE NOT p.relforcerowsecurity
    UNION ALL
    SELECT 'error', e.relid::text, format('policy %s is missing', e.policy_name),
           format('Run SELECT tenancy.protect(%L) again.', e.relid::text)
      FROM expected e LEFT JOIN actual a ON a.relid = e.relid AND a.polname = e.policy_name
     WHERE a.polname IS NULL
    UNION ALL
    SELECT 'error', e.relid::text, format('policy %s was altered', e.policy_name),
           format('Run SELECT tenancy.protect(%L) again to restore it.', e.relid::text)
      FROM expected e JOIN actual a ON a.relid = e.relid AND a.polname = e.policy_name
     WHERE a.polcmd <> e.command OR a.polpermissive <> e.permissive OR NOT a.to_public
        OR a.using_expression IS DISTINCT FROM e.using_expression
        OR a.check_expression IS DISTINCT FROM e.check_expression
    UNION ALL
    SELECT 'error', p.relid::text, 'column tenant_id is missing',
           'Restore the column, or unprotect the table with tenancy.unprotect().'
      FROM protected p WHERE p.tenant_attnum IS NULL
    UNION ALL
    SELECT 'error', p.relid::text, 'column tenant_id is nullable: rows without a tenant can be written',
           format('ALTER TABLE %s ALTER COLUMN tenant_id SET NOT NULL', p.relid::text)
      FROM protected p WHERE p.tenant_attnum IS NOT NULL AND NOT p.tenant_not_null
    UNION ALL
    SELECT 'error', p.relid::text, 'column tenant_id has no foreign key to tenancy.tenants',
           format('Run SELECT tenancy.protect(%L) again.', p.relid::text)
      FROM protected p
     WHERE p.tenant_attnum IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM pg_constraint con
            WHERE con.conrelid = p.relid AND con.contype = 'f' AND con.confrelid = 'tenancy.tenants'::regclass
              AND con.conkey = ARRAY[p.tenant_attnum])
    UNION ALL
    SELECT 'warning', p.relid::text,
           format('foreign key %s to tenancy.tenants is not ON DELETE CASCADE: tenancy.drop_tenant() cannot '
                  'remove the tenant''s rows', con.conname),
           'Recreate the foreign key with ON DELETE CASCADE.'
      FROM protected p JOIN pg_constraint con
           ON con.conrelid = p.relid AND con.contype = 'f' AND con.confrelid = 'tenancy.tenants'::regclass
          AND con.conkey = ARRAY[p.tenant_attnum]
     WHERE con.confdeltype <> 'c'
    UNION ALL
    SELECT 'warning', p.relid::text, 'no index starts with tenant_id: every tenant''s queries scan the table',
           format('CREATE INDEX ON %s (tenant_id)', p.relid::text)
      FROM protected p
     WHERE p.tenant_attnum IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM pg_index i
            WHERE i.indrelid = p.relid AND i.indkey[0] = p.tenant_attnum AND i.indpred IS NULL AND i.indisvalid)
    UNION ALL
    SELECT 'error', p.relid::text,
           CASE WHEN t.oid IS NULL THEN format('trigger %s is missing', name)
                ELSE format('trigger %s is disabled', name) END,
           CASE WHEN name = 'tenancy_audit' THEN format('Run SELECT tenancy.set_audit(%L, true).', p.relid::text)
                ELSE format('Run SELECT tenancy.protect(%L) again.', p.relid::text) END
      FROM protected p
           CROSS JOIN LATERAL (VALUES ('tenancy_audit', p.audit), ('tenancy_truncate_guard', true)) AS wanted(name, wanted)
           LEFT JOIN pg_trigger t ON t.tgrelid = p.relid AND t.tgname = wanted.name
     WHERE wanted.wanted AND (t.oid IS NULL OR t.tgenabled NOT IN ('O', 'A'))
$$;
REVOKE ALL ON FUNCTION tenancy._health_protected_tables() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._health_protected_tables() IS 'internal: health findings about protected tables';

-- Findings about what surrounds protected tables: unprotected tables with a
-- tenant_id, unique keys and foreign keys without tenant_id, views and
-- materialized views, and roles that bypass row level security.
CREATE FUNCTION tenancy._health_surroundings()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH protected AS (
        SELECT p.relid,
               (SELECT a.attnum FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_attnum
          FROM tenancy.protected_tables p
    ), dependent_views AS (
        SELECT DISTINCT v.oid AS view_oid, v.relkind, v.relowner, v.reloptions, p.relid
          FROM pg_depend d
               JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
               JOIN pg_class v ON v.oid = r.ev_class
               JOIN protected p ON d.refclassid = 'pg_class'::regclass AND d.refobjid = p.relid
         WHERE v.oid <> p.relid AND v.relkind IN ('v', 'm')
    )
    SELECT 'warning', c.oid::regclass::text, 'table has a tenant_id column but is not protected',
           format('Run SELECT tenancy.protect(%L).', c.oid::regclass::text)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenancy') AND n.nspname NOT LIKE 'pg\_%'
       AND NOT EXISTS (SELECT 1 FROM protected p WHERE p.relid = c.oid)
    UNION ALL
    SELECT 'warning', i.indexrelid::regclass::text,
           format('unique index on %s does not include tenant_id: it reveals whether a value exists in another '
                  'tenant', p.relid::text),
           'Make the key unique per tenant, for example UNIQUE (tenant_id, ...) or PRIMARY KEY (tenant_id, id).'
      FROM protected p JOIN pg_index i ON i.indrelid = p.relid
     WHERE i.indisunique AND NOT (p.tenant_attnum = ANY (i.indkey::int2[]))
    UNION ALL
    SELECT 'warning', format('%s.%s', con.conrelid::regclass, quote_ident(con.conname)),
           format('foreign key from %s to protected table %s does not include tenant_id: a row can reference '
                  'another tenant''s row', con.conrelid::regclass, con.confrelid::regclass),
           'Reference (tenant_id, key) with a composite foreign key.'
      FROM pg_constraint con JOIN protected target ON target.relid = con.confrelid
     WHERE con.contype = 'f' AND con.confrelid <> 'tenancy.tenants'::regclass
       AND NOT (target.tenant_attnum = ANY (con.confkey))
    UNION ALL
    SELECT CASE WHEN tenancy._bypasses_rls(v.relowner) THEN 'error' ELSE 'warning' END,
           v.view_oid::regclass::text,
           CASE WHEN tenancy._bypasses_rls(v.relowner)
                THEN format('view over protected table %s runs as %s, who bypasses row level security: it shows '
                            'every tenant''s rows', v.relid::text, pg_get_userbyid(v.relowner))
                ELSE format('view over protected table %s runs with its owner''s rights (no security_invoker)',
                            v.relid::text) END,
           format('ALTER VIEW %s SET (security_invoker = true)', v.view_oid::regclass::text)
      FROM dependent_views v
     WHERE v.relkind = 'v'
       AND coalesce((SELECT lower(o.option_value) FROM pg_options_to_table(v.reloptions) o
                      WHERE o.option_name = 'security_invoker'), 'false') NOT IN ('true', 'on', 'yes', '1')
    UNION ALL
    SELECT 'error', v.view_oid::regclass::text,
           format('materialized view over protected table %s stores rows outside row level security',
                  v.relid::text),
           'Replace it with a view (security_invoker = true) or a protected table filled per tenant.'
      FROM dependent_views v WHERE v.relkind = 'm'
    UNION ALL
    SELECT 'error', r.rolname::text,
           format('role is a tenancy_service but %s: it sees every tenant''s rows',
                  CASE WHEN r.rolsuper THEN 'a superuser' ELSE 'has BYPASSRLS' END),
           format('REVOKE tenancy_service FROM %I, or ALTER ROLE %I NOSUPERUSER NOBYPASSRLS.', r.rolname, r.rolname)
      FROM pg_roles r
     WHERE (r.rolsuper OR r.rolbypassrls) AND r.rolname <> 'tenancy_service'
       AND r.oid IN (SELECT m.member FROM pg_auth_members m WHERE m.roleid = 'tenancy_service'::regrole)
    UNION ALL
    SELECT 'error', e.evtname::text, 'event trigger is disabled: protected tables lose their guard',
           format('ALTER EVENT TRIGGER %I ENABLE', e.evtname)
      FROM pg_event_trigger e
     WHERE e.evtname IN ('tenancy_guard_ddl', 'tenancy_forget_dropped_tables') AND e.evtenabled = 'D'
$$;
REVOKE ALL ON FUNCTION tenancy._health_surroundings() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._health_surroundings() IS 'internal: health findings around protected tables';

CREATE FUNCTION tenancy.health_check()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('run the health check');
    RETURN QUERY
        SELECT f.severity, f.object, f.problem, f.hint
          FROM (SELECT * FROM tenancy._health_protected_tables()
                UNION ALL
                SELECT * FROM tenancy._health_surroundings()) f
         ORDER BY f.severity = 'warning', f.object, f.problem;
END
$$;
COMMENT ON FUNCTION tenancy.health_check() IS
    'one row per problem found in how tables are protected: severity (error or warning), object, problem, '
    'hint (platform admins only)';
-- pg_tenancy 0.1: read functions for operators and tenantctl. Each checks
-- the caller's rights, so tenantctl needs no privilege on the catalog.

CREATE FUNCTION tenancy.tenant_list()
RETURNS TABLE (slug text, name text, status tenancy.tenant_status, isolation tenancy.isolation, plan text,
               members bigint, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.slug::text, t.name, t.status, t.isolation, t.plan,
           (SELECT count(*) FROM tenancy.memberships m WHERE m.tenant_id = t.id AND m.is_active),
           t.created_at
      FROM tenancy.tenants t
     WHERE tenancy.is_platform_admin()
        OR EXISTS (SELECT 1 FROM tenancy.memberships m
                    WHERE m.tenant_id = t.id AND m.actor = tenancy.actor() AND m.is_active)
     ORDER BY t.slug
$$;
COMMENT ON FUNCTION tenancy.tenant_list() IS
    'tenants with status, isolation, plan, active member count and creation time (all for platform admins, '
    'one''s own for others)';

CREATE FUNCTION tenancy.member_list(tenant text)
RETURNS TABLE (actor text, role tenancy.role, is_active boolean, created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._find_tenant(tenant);
BEGIN
    PERFORM tenancy._require_tenant_role(target, 'admin', 'list the members');
    RETURN QUERY
        SELECT m.actor::text, m.role, m.is_active, m.created_at, m.updated_at
          FROM tenancy.memberships m WHERE m.tenant_id = target.id
         ORDER BY m.role DESC, m.actor;
END
$$;
COMMENT ON FUNCTION tenancy.member_list(text) IS
    'members of a tenant with their roles (tenant owners/admins and platform admins)';

CREATE FUNCTION tenancy.domain_list(tenant text DEFAULT NULL)
RETURNS TABLE (host text, tenant_slug text, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF tenant IS NULL THEN
        PERFORM tenancy._require_platform_admin('list every domain');
    ELSE
        target := tenancy._find_tenant(tenant);
        PERFORM tenancy._require_tenant_role(target, 'admin', 'list the domains');
    END IF;
    RETURN QUERY
        SELECT d.host::text, t.slug::text, d.created_at
          FROM tenancy.domains d JOIN tenancy.tenants t ON t.id = d.tenant_id
         WHERE target.id IS NULL OR d.tenant_id = target.id
         ORDER BY d.host;
END
$$;
COMMENT ON FUNCTION tenancy.domain_list(text) IS
    'host names and their tenants: of one tenant (its owners/admins), or all (platform admins)';

CREATE FUNCTION tenancy.protected_list()
RETURNS TABLE (table_name text, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role,
               audit boolean, protected_at timestamptz, protected_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.relid::text, p.read_role, p.write_role, p.delete_role, p.audit, p.protected_at, p.protected_by
      FROM tenancy.protected_tables p
     ORDER BY p.relid::text
$$;
COMMENT ON FUNCTION tenancy.protected_list() IS 'protected tables with their roles and audit setting';

CREATE FUNCTION tenancy.tenant_details(tenant text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._find_tenant(tenant);
    table_rows jsonb := '[]';
    protected record;
    row_count bigint;
BEGIN
    PERFORM tenancy._require_tenant_role(target, 'admin', 'show the details');
    FOR protected IN SELECT p.relid FROM tenancy.protected_tables p ORDER BY p.relid::text LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE tenant_id = $1', protected.relid)
           INTO row_count USING target.id;
        table_rows := table_rows || jsonb_build_object('table', protected.relid::text, 'rows', row_count);
    END LOOP;
    RETURN to_jsonb(target) || jsonb_build_object(
        'members', (SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.role DESC, m.actor), '[]')
                      FROM tenancy.member_list(target.id::text) m),
        'domains', (SELECT coalesce(jsonb_agg(d.host ORDER BY d.host), '[]')
                      FROM tenancy.domains d WHERE d.tenant_id = target.id),
        'tables', table_rows);
END
$$;
COMMENT ON FUNCTION tenancy.tenant_details(text) IS
    'a tenant with its members, domains and row count per protected table, as jsonb '
    '(tenant owners/admins and platform admins)';
-- pg_tenancy 0.1: per-tenant settings, a jsonb object of the application's
-- own keys (feature flags, limits, branding...). Read by the tenant's owners
-- and admins and by platform admins; changed by owners and platform admins.

CREATE FUNCTION tenancy.tenant_settings(tenant text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._find_tenant(tenant);
BEGIN
    PERFORM tenancy._require_tenant_role(target, 'admin', 'read the settings');
    RETURN target.settings;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_settings(text) IS
    'the settings of a tenant (tenant owners/admins and platform admins)';

CREATE FUNCTION tenancy.set_tenant_setting(tenant text, key text, value jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._find_tenant(tenant, true);
    updated jsonb;
BEGIN
    PERFORM tenancy._require_tenant_role(target, 'owner', 'change the settings');
    IF key IS NULL OR key !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid setting name "%s"', key),
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
