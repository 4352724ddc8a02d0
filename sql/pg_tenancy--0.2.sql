-- pg_tenancy: group roles, types and schema privileges.
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
            'pg_tenancy trusted application servers: may assert an application user with SET LOCAL tenancy.actor';
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
-- pg_tenancy: the catalog tables. Nobody but the extension owner writes
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

REVOKE ALL ON tenancy.tenants, tenancy.memberships, tenancy.domains, tenancy.protected_tables FROM PUBLIC;
GRANT SELECT ON tenancy.tenants, tenancy.memberships, tenancy.domains, tenancy.protected_tables
    TO tenancy_admin;

SELECT pg_catalog.pg_extension_config_dump('tenancy.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.domains', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.protected_tables', '');
-- pg_tenancy: the audit trail. tenancy.audit_log is written by the C++
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
    last_at          timestamptz NOT NULL,
    attempts         bigint NOT NULL DEFAULT 1,
    CONSTRAINT access_denials_pkey PRIMARY KEY (id),
    CONSTRAINT access_denials_reason_check CHECK (reason IN
        ('unknown_tenant', 'not_member', 'inactive_membership', 'suspended', 'spoofed_actor', 'session_setting')),
    CONSTRAINT access_denials_attempts_check CHECK (attempts > 0)
);
CREATE INDEX access_denials_at_idx ON tenancy.access_denials (at);
CREATE INDEX access_denials_repeat_idx ON tenancy.access_denials (actor, reason, requested_tenant, at);
COMMENT ON TABLE tenancy.access_denials IS
    'pg_tenancy: refused attempts to use a tenant, recorded outside the transaction that caused them (so that '
    'they survive its rollback), repeated attempts aggregated per hour';
COMMENT ON COLUMN tenancy.access_denials.at IS 'when the first of these attempts was refused';
COMMENT ON COLUMN tenancy.access_denials.last_at IS 'when the last of these attempts was refused';
COMMENT ON COLUMN tenancy.access_denials.attempts IS 'how many identical attempts this row stands for';
COMMENT ON COLUMN tenancy.access_denials.requested_tenant IS 'tenancy.tenant as the caller set it';

REVOKE ALL ON tenancy.audit_log, tenancy.audit_log_default, tenancy.access_denials, tenancy.audit_log_id_seq
    FROM PUBLIC;
GRANT SELECT ON tenancy.audit_log TO PUBLIC;
GRANT SELECT ON tenancy.access_denials TO tenancy_admin;

ALTER TABLE tenancy.audit_log ENABLE ROW LEVEL SECURITY;

SELECT pg_catalog.pg_extension_config_dump('tenancy.audit_log_default', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.access_denials', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.audit_log_id_seq', '');
-- pg_tenancy: the trigger function that makes catalog changes reach every session.

-- Every change to tenants or memberships reaches every session's cache at
-- commit (see extension/catalog_changed.cpp).
CREATE OR REPLACE FUNCTION tenancy.catalog_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_catalog_changed';
COMMENT ON FUNCTION tenancy.catalog_changed() IS
    'internal: tells every session that tenants or memberships changed';
REVOKE ALL ON FUNCTION tenancy.catalog_changed() FROM PUBLIC;
-- pg_tenancy: the tenant context, implemented in C++ (extension/context*.cpp).
-- PARALLEL RESTRICTED: evaluated by the leader only, so that a refusal is
-- recorded once and in the session that caused it.

-- Planner support function of the context functions: it simplifies nothing,
-- but planning a query on a protected table thereby loads the library, whose
-- statement check then runs before the executor reads any row.
CREATE OR REPLACE FUNCTION tenancy.context_support(internal) RETURNS internal
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_context_support';
COMMENT ON FUNCTION tenancy.context_support(internal) IS
    'internal: planner support function that loads pg_tenancy when a protected table is planned';

CREATE OR REPLACE FUNCTION tenancy.current_tenant_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED SUPPORT tenancy.context_support
    AS 'MODULE_PATHNAME', 'tenancy_current_tenant_id';
COMMENT ON FUNCTION tenancy.current_tenant_id() IS
    'uuid of the tenant selected with SET tenancy.tenant, validated against membership and status';

CREATE OR REPLACE FUNCTION tenancy.current_tenant() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_current_tenant';
COMMENT ON FUNCTION tenancy.current_tenant() IS 'slug of the validated current tenant';

CREATE OR REPLACE FUNCTION tenancy.actor() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_actor';
COMMENT ON FUNCTION tenancy.actor() IS
    'who is acting: the session''s role, or tenancy.actor when set for the transaction by a tenancy_service role';

CREATE OR REPLACE FUNCTION tenancy.db_role() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_db_role';
COMMENT ON FUNCTION tenancy.db_role() IS
    'the session''s outer database role (SET ROLE counts, SECURITY DEFINER does not)';

CREATE OR REPLACE FUNCTION tenancy.current_role() RETURNS tenancy.role
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_current_role';
COMMENT ON FUNCTION tenancy.current_role() IS
    'the actor''s role in the current tenant (platform admins act as owner)';

CREATE OR REPLACE FUNCTION tenancy.has_role(tenancy.role) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_has_role';
COMMENT ON FUNCTION tenancy.has_role(tenancy.role) IS
    'whether the actor''s role in the current tenant is at least the given role';

CREATE OR REPLACE FUNCTION tenancy.is_platform_admin() RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_is_platform_admin';
COMMENT ON FUNCTION tenancy.is_platform_admin() IS
    'whether the acting role is a superuser or a member of tenancy_admin (never while asserting tenancy.actor)';

CREATE OR REPLACE FUNCTION tenancy.tenant_for(tenancy.role, text, regclass) RETURNS uuid
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED SUPPORT tenancy.context_support
    AS 'MODULE_PATHNAME', 'tenancy_tenant_for';
COMMENT ON FUNCTION tenancy.tenant_for(tenancy.role, text, regclass) IS
    'used by the policies of protected tables: the current tenant if the actor''s role allows the action '
    '(select, insert, update, delete) on the table, else an error naming the role needed';
-- pg_tenancy: internal helpers of the management functions. Not callable
-- by PUBLIC; the SECURITY DEFINER management functions call them as owner.
--
-- Rights are always checked before anything about a tenant or an actor is
-- revealed: a caller without rights gets the same refusal whether or not the
-- tenant or actor exists (platform admins get precise answers). Rights that a
-- change depends on are read with row locks, so that they hold until the
-- change commits; under REPEATABLE READ and SERIALIZABLE a right that changed
-- since the transaction's snapshot is a serialization failure, never trusted.

-- Returns user input fit to be echoed in a message: characters that are not
-- printable escaped (\u200b), at most 64 bytes (extension/actor_names.hpp).
CREATE OR REPLACE FUNCTION tenancy._shown(value text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'tenancy_shown';

-- Returns the tenant named by slug or uuid text, or NULL; never raises.
CREATE OR REPLACE FUNCTION tenancy._lookup_tenant(ref text, lock_row boolean DEFAULT false)
RETURNS tenancy.tenants
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_tenant tenancy.tenants;
    by_id uuid;
BEGIN
    IF ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        by_id := ref::uuid;
    END IF;
    -- FOR NO KEY UPDATE: a change of status or settings must not wait for, nor
    -- make fail, the writers whose foreign keys hold FOR KEY SHARE on the row.
    IF by_id IS NOT NULL AND lock_row THEN
        SELECT * INTO found_tenant FROM tenancy.tenants t WHERE t.id = by_id FOR NO KEY UPDATE;
    ELSIF by_id IS NOT NULL THEN
        SELECT * INTO found_tenant FROM tenancy.tenants t WHERE t.id = by_id;
    ELSIF lock_row THEN
        SELECT * INTO found_tenant FROM tenancy.tenants t WHERE t.slug = ref FOR NO KEY UPDATE;
    ELSE
        SELECT * INTO found_tenant FROM tenancy.tenants t WHERE t.slug = ref;
    END IF;
    RETURN found_tenant;
END
$$;

-- Finds a tenant by slug or uuid, optionally locking it; raises when absent.
-- For platform admins, and for callers whose rights are already checked.
CREATE OR REPLACE FUNCTION tenancy._find_tenant(ref text, lock_row boolean DEFAULT false)
RETURNS tenancy.tenants
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_tenant tenancy.tenants;
BEGIN
    IF ref IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'tenant must not be null';
    END IF;
    found_tenant := tenancy._lookup_tenant(ref, lock_row);
    IF found_tenant.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('tenant "%s" does not exist', tenancy._shown(ref)),
            HINT = 'A tenant is named by its slug or its uuid; tenancy.tenant_list() lists them.';
    END IF;
    RETURN found_tenant;
END
$$;

-- Raises unless the caller is a platform admin.
CREATE OR REPLACE FUNCTION tenancy._require_platform_admin(action text) RETURNS void
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

-- Returns the caller's active role in a tenant, or NULL. With for_change,
-- the membership row is locked (FOR SHARE) until the transaction ends, so
-- that the right cannot be revoked under a change that relies on it; under
-- REPEATABLE READ a membership changed since the snapshot is a serialization
-- failure. Without, it is the latest committed role, read without a lock.
CREATE OR REPLACE FUNCTION tenancy._caller_role(tenant uuid, for_change boolean DEFAULT false)
RETURNS tenancy.role
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_role tenancy.role;
BEGIN
    IF NOT for_change THEN
        RETURN tenancy._member_role(tenant, tenancy.actor());
    END IF;
    SELECT m.role INTO found_role FROM tenancy.memberships m
     WHERE m.tenant_id = _caller_role.tenant AND m.actor = tenancy.actor() AND m.is_active
       FOR SHARE;
    RETURN found_role;
END
$$;

-- Returns the tenant named ref when the caller is a platform admin or has at
-- least the minimum role in it; otherwise raises a refusal that is the same
-- whether or not the tenant exists.
CREATE OR REPLACE FUNCTION tenancy._tenant_for_caller(
    ref text, minimum tenancy.role, action text, for_change boolean DEFAULT false, lock_row boolean DEFAULT false)
RETURNS tenancy.tenants
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF tenancy.is_platform_admin() THEN
        RETURN tenancy._find_tenant(ref, lock_row);
    END IF;
    IF ref IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'tenant must not be null';
    END IF;
    target := tenancy._lookup_tenant(ref);
    IF target.id IS NULL OR coalesce(tenancy._caller_role(target.id, for_change) < minimum, true) THEN
        PERFORM tenancy._refuse_tenant_action(ref, minimum, action);
    END IF;
    IF lock_row THEN
        target := tenancy._lookup_tenant(ref, true);
    END IF;
    PERFORM tenancy._require_active_for_change(target, for_change);
    RETURN target;
END
$$;

-- Raises unless a tenant whose members want to change something is active:
-- a suspended tenant cannot be used, an archived one is read-only; only
-- platform admins change them.
CREATE OR REPLACE FUNCTION tenancy._require_active_for_change(target tenancy.tenants, for_change boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF for_change AND target.status <> 'active' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is %s', target.slug, target.status),
            DETAIL = format('Only platform admins can change a %s tenant.', target.status),
            HINT = 'A platform admin can make it active again with tenancy.activate_tenant().';
    END IF;
END
$$;

-- Raises the refusal a caller without rights in a tenant gets.
CREATE OR REPLACE FUNCTION tenancy._refuse_tenant_action(ref text, minimum tenancy.role, action text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = format('permission denied to %s of tenant "%s"', action, tenancy._shown(ref)),
        DETAIL = format('Only %s of the tenant and platform admins may %s.',
                        CASE minimum WHEN 'owner' THEN 'owners' WHEN 'admin' THEN 'owners and admins'
                                     ELSE 'members' END, action),
        HINT = CASE minimum WHEN 'owner' THEN 'Ask an owner of the tenant, or a platform admin.'
                            ELSE 'Ask an owner or admin of the tenant, or a platform admin.' END;
END
$$;

-- Returns an actor name in its normalized form (Unicode NFC), or raises
-- when it is not a valid actor name (see extension/actor_names.hpp).
CREATE OR REPLACE FUNCTION tenancy._normalize_actor(actor text) RETURNS text
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'tenancy_normalize_actor';

-- Returns the confusable skeleton of a name (Unicode UTS #39): names that
-- look alike have the same skeleton.
CREATE OR REPLACE FUNCTION tenancy._actor_skeleton(actor text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'tenancy_actor_skeleton';

-- Returns the latest committed active role of an actor in a tenant, or NULL.
CREATE OR REPLACE FUNCTION tenancy._member_role(tenant uuid, actor text) RETURNS tenancy.role
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_member_role';

-- Raises when a new actor name looks like, but is not, a member of the tenant
-- or a database role: "bob" and "b\u043eb" (a Cyrillic o) are not both let in.
CREATE OR REPLACE FUNCTION tenancy._refuse_lookalike(tenant uuid, actor text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    skeleton text := tenancy._actor_skeleton(actor);
    lookalike text;
BEGIN
    SELECT m.actor INTO lookalike FROM tenancy.memberships m
     WHERE m.tenant_id = _refuse_lookalike.tenant AND tenancy._actor_skeleton(m.actor) = skeleton
       AND m.actor <> _refuse_lookalike.actor
     LIMIT 1;
    IF lookalike IS NULL THEN
        SELECT r.rolname INTO lookalike FROM pg_roles r
         WHERE tenancy._actor_skeleton(r.rolname) = skeleton AND r.rolname <> _refuse_lookalike.actor
         LIMIT 1;
    END IF;
    IF lookalike IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('actor "%s" looks like "%s"', tenancy._shown(actor), tenancy._shown(lookalike)),
            DETAIL = 'Two actors whose names can be mistaken for each other are refused.',
            HINT = 'Use the existing name, or a name that is clearly different.';
    END IF;
END
$$;

REVOKE ALL ON FUNCTION tenancy._shown(text), tenancy._lookup_tenant(text, boolean),
    tenancy._find_tenant(text, boolean), tenancy._require_platform_admin(text),
    tenancy._caller_role(uuid, boolean),
    tenancy._tenant_for_caller(text, tenancy.role, text, boolean, boolean),
    tenancy._refuse_tenant_action(text, tenancy.role, text), tenancy._require_active_for_change(tenancy.tenants, boolean),
    tenancy._normalize_actor(text), tenancy._actor_skeleton(text), tenancy._member_role(uuid, text),
    tenancy._refuse_lookalike(uuid, text)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._shown(text) IS 'internal: user input escaped and cut to 64 bytes for messages';
COMMENT ON FUNCTION tenancy._lookup_tenant(text, boolean) IS 'internal: tenant by slug or uuid, or NULL';
COMMENT ON FUNCTION tenancy._find_tenant(text, boolean) IS 'internal: tenant by slug or uuid, or an error';
COMMENT ON FUNCTION tenancy._require_platform_admin(text) IS 'internal: error unless a platform admin';
COMMENT ON FUNCTION tenancy._caller_role(uuid, boolean) IS
    'internal: the caller''s active role in a tenant (locked for a change, else latest committed)';
COMMENT ON FUNCTION tenancy._tenant_for_caller(text, tenancy.role, text, boolean, boolean) IS
    'internal: a tenant the caller has rights in, or the same refusal whether or not it exists';
COMMENT ON FUNCTION tenancy._require_active_for_change(tenancy.tenants, boolean) IS
    'internal: error when members change a tenant that is not active';
COMMENT ON FUNCTION tenancy._refuse_tenant_action(text, tenancy.role, text) IS
    'internal: the refusal of a caller without rights in a tenant';
COMMENT ON FUNCTION tenancy._normalize_actor(text) IS 'internal: an actor name in normal form, or an error';
COMMENT ON FUNCTION tenancy._actor_skeleton(text) IS 'internal: the confusable skeleton of a name (UTS #39)';
COMMENT ON FUNCTION tenancy._member_role(uuid, text) IS 'internal: latest committed active role of an actor';
COMMENT ON FUNCTION tenancy._refuse_lookalike(uuid, text) IS
    'internal: error when a name looks like another member''s or a role''s';
-- pg_tenancy: tenant lifecycle. Platform admins only.

CREATE OR REPLACE FUNCTION tenancy.create_tenant(
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
    plan := coalesce(create_tenant.plan, 'basic');
    isolation := coalesce(create_tenant.isolation, 'row');
    IF create_tenant.plan !~ '^[a-z][a-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid plan "%s"', tenancy._shown(create_tenant.plan)),
            DETAIL = 'A plan name starts with a lowercase letter and has only lowercase letters, digits, "_" and "-".';
    END IF;
    IF create_tenant.isolation IS DISTINCT FROM 'row' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('isolation mode "%s" is not supported yet', create_tenant.isolation),
            DETAIL = 'pg_tenancy 0.1 implements row-level isolation only.',
            HINT = 'Create the tenant with isolation => ''row''.';
    END IF;
    IF create_tenant.owner IS NOT NULL THEN
        owner := tenancy._normalize_actor(create_tenant.owner);
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
        PERFORM tenancy._refuse_lookalike(new_id, create_tenant.owner);
        INSERT INTO tenancy.memberships (tenant_id, actor, role) VALUES (new_id, create_tenant.owner, 'owner');
    END IF;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION tenancy.create_tenant(text, text, text, text, tenancy.isolation) IS
    'creates a tenant (platform admins only) and, when given, makes owner its first owner; returns its id '
    '(a null plan or isolation means the default)';

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
    -- The foreign keys that tenancy.protect() adds cascade: this removes the
    -- tenant's rows in every protected table, its memberships and domains.
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
-- pg_tenancy: memberships. Platform admins manage every tenant; a tenant's
-- owners and admins manage its members; only an owner grants, changes or
-- removes "owner"; the last active owner can be neither removed nor demoted.
--
-- Concurrency. A change first checks the caller's rights without any lock,
-- so that a refused caller never holds one. It then locks the rows it relies
-- on and checks again: every active owner's row (FOR UPDATE, in actor order)
-- when an owner is concerned, the subject's row (FOR UPDATE), and the
-- caller's own row (FOR SHARE). So the rights and the last-owner rule hold
-- until the change commits; under REPEATABLE READ or SERIALIZABLE a row that
-- changed since the snapshot is a serialization failure, never trusted.
-- Nothing else is locked: not the tenant's row (writers and status changes
-- never wait for a member), and no other member's row (a member who keeps a
-- transaction open holds up only changes of her own membership).

-- Checks, before anything about the tenant or the subject is revealed and
-- without taking any lock, that the caller may change members of a tenant;
-- returns the tenant and the caller's latest role (owner for platform
-- admins). Anyone may remove themselves.
CREATE OR REPLACE FUNCTION tenancy._authorize_member_change(ref text, subject text, removing boolean,
                                                            OUT target tenancy.tenants, OUT caller tenancy.role)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF ref IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'tenant must not be null';
    END IF;
    IF tenancy.is_platform_admin() THEN
        target := tenancy._find_tenant(ref);
        caller := 'owner';
        RETURN;
    END IF;
    target := tenancy._lookup_tenant(ref);
    IF target.id IS NOT NULL THEN
        caller := tenancy._caller_role(target.id);
    END IF;
    PERFORM tenancy._require_member_manager(ref, caller, removing AND subject = tenancy.actor());
    IF target.status <> 'active' AND NOT (removing AND subject = tenancy.actor()) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is %s', target.slug, target.status),
            DETAIL = format('Only platform admins can change the members of a %s tenant.', target.status);
    END IF;
END
$$;

-- Raises the refusal of a caller who may not change the members of a tenant
-- (anyone may leave one she is a member of).
CREATE OR REPLACE FUNCTION tenancy._require_member_manager(ref text, caller tenancy.role, leaving boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF caller IS NULL OR (caller < 'admin' AND NOT leaving) THEN
        PERFORM tenancy._refuse_tenant_action(ref, 'admin', 'manage the members');
    END IF;
END
$$;

-- Locks every active owner's row of a tenant, in actor order.
CREATE OR REPLACE FUNCTION tenancy._lock_owners(target tenancy.tenants) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT NULL::void FROM (SELECT 1 FROM tenancy.memberships m
                             WHERE m.tenant_id = target.id AND m.role = 'owner' AND m.is_active
                             ORDER BY m.actor FOR UPDATE) owners
     LIMIT 1
$$;

-- Locks the rows a change relies on, in an order every change follows, and
-- checks the caller's rights again under the locks; returns the caller's
-- role. Owners' rows first when an owner is concerned, then the subject's,
-- then the caller's.
CREATE OR REPLACE FUNCTION tenancy._lock_for_change(ref text, target tenancy.tenants, subject text, removing boolean,
                                                    owners_concerned boolean)
RETURNS tenancy.role
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    caller tenancy.role;
BEGIN
    IF owners_concerned THEN
        PERFORM tenancy._lock_owners(target);
    END IF;
    PERFORM 1 FROM tenancy.memberships m WHERE m.tenant_id = target.id AND m.actor = subject FOR UPDATE;
    IF tenancy.is_platform_admin() THEN
        RETURN 'owner';
    END IF;
    caller := tenancy._caller_role(target.id, true);
    PERFORM tenancy._require_member_manager(ref, caller, removing AND subject = tenancy.actor());
    RETURN caller;
END
$$;

-- Raises unless the caller's role may grant, change or remove the role.
CREATE OR REPLACE FUNCTION tenancy._require_owner_for(target tenancy.tenants, caller tenancy.role,
                                                     old_role tenancy.role, new_role tenancy.role)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (old_role = 'owner' OR new_role = 'owner') AND caller <> 'owner' THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'only an owner can grant, change or remove the "owner" role',
            DETAIL = format('Actor "%s" has the "%s" role in tenant "%s".', tenancy._shown(tenancy.actor()), caller,
                            target.slug);
    END IF;
END
$$;

-- Raises when a change would leave a tenant that has an owner without one.
-- The owners' rows are locked already (_lock_for_change).
CREATE OR REPLACE FUNCTION tenancy._keep_an_owner(target tenancy.tenants, subject text, what text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF ARRAY(SELECT m.actor FROM tenancy.memberships m
              WHERE m.tenant_id = target.id AND m.role = 'owner' AND m.is_active) = ARRAY[subject] THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('cannot %s the last owner of tenant "%s"', what, target.slug),
            DETAIL = format('Actor "%s" is the only active owner.', tenancy._shown(subject)),
            HINT = 'Make another member owner first with tenancy.set_member_role().';
    END IF;
END
$$;

-- Returns the membership of subject in a tenant, or raises when there is
-- none (the caller's rights are checked already).
CREATE OR REPLACE FUNCTION tenancy._membership(target tenancy.tenants, subject text) RETURNS tenancy.memberships
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_membership tenancy.memberships;
BEGIN
    SELECT * INTO found_membership FROM tenancy.memberships m WHERE m.tenant_id = target.id AND m.actor = subject;
    IF found_membership.actor IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('actor "%s" is not a member of tenant "%s"', tenancy._shown(subject), target.slug),
            HINT = 'Add the actor with tenancy.add_member().';
    END IF;
    RETURN found_membership;
END
$$;

REVOKE ALL ON FUNCTION tenancy._authorize_member_change(text, text, boolean), tenancy._lock_owners(tenancy.tenants),
    tenancy._require_member_manager(text, tenancy.role, boolean),
    tenancy._lock_for_change(text, tenancy.tenants, text, boolean, boolean),
    tenancy._require_owner_for(tenancy.tenants, tenancy.role, tenancy.role, tenancy.role),
    tenancy._keep_an_owner(tenancy.tenants, text, text), tenancy._membership(tenancy.tenants, text)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._authorize_member_change(text, text, boolean) IS
    'internal: the tenant and the caller''s role, or the refusal of a caller who may not change its members';
COMMENT ON FUNCTION tenancy._require_member_manager(text, tenancy.role, boolean) IS
    'internal: error unless the role may manage members (or the caller is leaving)';
COMMENT ON FUNCTION tenancy._lock_owners(tenancy.tenants) IS 'internal: locks the rows of a tenant''s active owners';
COMMENT ON FUNCTION tenancy._lock_for_change(text, tenancy.tenants, text, boolean, boolean) IS
    'internal: locks the rows a membership change relies on and checks the caller again';
COMMENT ON FUNCTION tenancy._require_owner_for(tenancy.tenants, tenancy.role, tenancy.role, tenancy.role) IS
    'internal: error unless the caller may grant, change or remove the owner role';
COMMENT ON FUNCTION tenancy._keep_an_owner(tenancy.tenants, text, text) IS
    'internal: error when the change would remove the last active owner';
COMMENT ON FUNCTION tenancy._membership(tenancy.tenants, text) IS 'internal: a membership, or an error';

CREATE OR REPLACE FUNCTION tenancy.add_member(tenant text, actor text, role tenancy.role DEFAULT 'member')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    subject text := tenancy._normalize_actor(add_member.actor);
    authorized record;
    target tenancy.tenants;
    caller tenancy.role;
BEGIN
    IF add_member.role IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'role must not be null';
    END IF;
    authorized := tenancy._authorize_member_change(tenant, subject, false);
    target := authorized.target;
    caller := tenancy._lock_for_change(tenant, target, subject, false, false);
    PERFORM tenancy._require_owner_for(target, caller, NULL, add_member.role);
    IF EXISTS (SELECT 1 FROM tenancy.memberships m WHERE m.tenant_id = target.id AND m.actor = subject) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('actor "%s" is already a member of tenant "%s"', tenancy._shown(subject), target.slug),
            HINT = 'Change the role with tenancy.set_member_role().';
    END IF;
    PERFORM tenancy._refuse_lookalike(target.id, subject);
    INSERT INTO tenancy.memberships (tenant_id, actor, role) VALUES (target.id, subject, add_member.role);
END
$$;
COMMENT ON FUNCTION tenancy.add_member(text, text, tenancy.role) IS
    'adds an actor to a tenant with a role (tenant owners/admins and platform admins)';

-- Changes one existing membership: a new role, a new active flag, or its
-- removal; the shared body of set_member_role, set_member_active and
-- remove_member, with the rights and the last-owner rule checked first.
CREATE OR REPLACE FUNCTION tenancy._change_membership(
    tenant text, subject text, new_role tenancy.role, new_active boolean, removing boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    normalized text := tenancy._normalize_actor(subject);
    authorized record;
    target tenancy.tenants;
    caller tenancy.role;
    current_membership tenancy.memberships;
    owners_locked boolean;
BEGIN
    authorized := tenancy._authorize_member_change(tenant, normalized, removing);
    target := authorized.target;
    current_membership := tenancy._membership(target, normalized);
    owners_locked := current_membership.role = 'owner' OR new_role = 'owner';
    caller := tenancy._lock_for_change(tenant, target, normalized, removing, owners_locked);
    current_membership := tenancy._membership(target, normalized); -- as locked
    IF current_membership.role = 'owner' AND NOT owners_locked THEN
        PERFORM tenancy._lock_owners(target); -- made owner meanwhile
    END IF;
    PERFORM tenancy._require_owner_for(target, caller, current_membership.role,
        CASE WHEN removing THEN NULL ELSE coalesce(new_role, current_membership.role) END);
    IF current_membership.role = 'owner' AND (removing OR new_role <> 'owner' OR new_active IS FALSE) THEN
        PERFORM tenancy._keep_an_owner(target, normalized,
            CASE WHEN removing THEN 'remove' WHEN new_role <> 'owner' THEN 'demote' ELSE 'deactivate' END);
    END IF;
    IF removing THEN
        DELETE FROM tenancy.memberships m WHERE m.tenant_id = target.id AND m.actor = normalized;
        RETURN;
    END IF;
    UPDATE tenancy.memberships m
       SET role = coalesce(new_role, m.role), is_active = coalesce(new_active, m.is_active), updated_at = now()
     WHERE m.tenant_id = target.id AND m.actor = normalized;
END
$$;
REVOKE ALL ON FUNCTION tenancy._change_membership(text, text, tenancy.role, boolean, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._change_membership(text, text, tenancy.role, boolean, boolean) IS
    'internal: changes or removes a membership after checking the rules';

CREATE OR REPLACE FUNCTION tenancy.set_member_role(tenant text, actor text, role tenancy.role) RETURNS void
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

CREATE OR REPLACE FUNCTION tenancy.set_member_active(tenant text, actor text, active boolean) RETURNS void
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

CREATE OR REPLACE FUNCTION tenancy.remove_member(tenant text, actor text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._change_membership(remove_member.tenant, remove_member.actor, NULL, NULL, true)
$$;
COMMENT ON FUNCTION tenancy.remove_member(text, text) IS
    'removes an actor from a tenant; the last owner cannot be removed; anyone may leave';
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

-- Resolves a host name for request routing. Answered to platform admins,
-- services and the tenant's own members; anyone else gets NULL, as for an
-- unknown host.
CREATE OR REPLACE FUNCTION tenancy.resolve_domain(host text) RETURNS text
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.slug::text FROM tenancy.domains d JOIN tenancy.tenants t ON t.id = d.tenant_id
     WHERE d.host = rtrim(lower(btrim(resolve_domain.host)), '.')
       AND (tenancy.is_platform_admin() OR pg_has_role(tenancy.db_role()::name, 'tenancy_service', 'USAGE')
            OR tenancy._member_role(t.id, tenancy.actor()) IS NOT NULL)
$$;
COMMENT ON FUNCTION tenancy.resolve_domain(text) IS
    'the slug of the tenant a host name is assigned to, or null (answered to platform admins, services and '
    'the tenant''s members)';
-- pg_tenancy: platform admins (tenancy_admin) and trusted services
-- (tenancy_service). Granting either is a platform admin's decision.

-- Grants or revokes a group role; the shared body of the four functions below.
CREATE OR REPLACE FUNCTION tenancy._set_group(member regrole, group_role name, granted boolean) RETURNS void
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

CREATE OR REPLACE FUNCTION tenancy.grant_platform_admin(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_group(grant_platform_admin.role, 'tenancy_admin', true)
$$;
COMMENT ON FUNCTION tenancy.grant_platform_admin(regrole) IS 'makes a role a platform admin (tenancy_admin)';

CREATE OR REPLACE FUNCTION tenancy.revoke_platform_admin(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_group(revoke_platform_admin.role, 'tenancy_admin', false)
$$;
COMMENT ON FUNCTION tenancy.revoke_platform_admin(regrole) IS 'removes a role from tenancy_admin';

CREATE OR REPLACE FUNCTION tenancy.grant_service(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_group(grant_service.role, 'tenancy_service', true)
$$;
COMMENT ON FUNCTION tenancy.grant_service(regrole) IS
    'trusts a role to assert application users with SET LOCAL tenancy.actor (tenancy_service)';

CREATE OR REPLACE FUNCTION tenancy.revoke_service(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_group(revoke_service.role, 'tenancy_service', false)
$$;
COMMENT ON FUNCTION tenancy.revoke_service(regrole) IS 'removes a role from tenancy_service';

CREATE OR REPLACE FUNCTION tenancy.platform_roles()
RETURNS TABLE (role name, platform_admin boolean, service boolean, superuser boolean, bypassrls boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('list platform roles');
    RETURN QUERY
    SELECT r.rolname, pg_has_role(r.oid, 'tenancy_admin', 'MEMBER'), pg_has_role(r.oid, 'tenancy_service', 'MEMBER'),
           r.rolsuper, r.rolbypassrls
      FROM pg_roles r
     WHERE r.rolname NOT IN ('tenancy_admin', 'tenancy_service')
       AND (pg_has_role(r.oid, 'tenancy_admin', 'MEMBER') OR pg_has_role(r.oid, 'tenancy_service', 'MEMBER')
            OR (r.rolsuper AND r.rolcanlogin))
     ORDER BY r.rolname;
END
$$;
COMMENT ON FUNCTION tenancy.platform_roles() IS
    'roles with platform rights: members of tenancy_admin or tenancy_service, and login superusers '
    '(platform admins only)';
-- pg_tenancy: protection of a table. tenancy.protect() adds and adopts a
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
CREATE OR REPLACE FUNCTION tenancy._policy_definitions(
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
CREATE OR REPLACE FUNCTION tenancy._require_table_owner(target regclass, action text) RETURNS void
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
CREATE OR REPLACE FUNCTION tenancy._require_protectable(target regclass) RETURNS void
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
CREATE OR REPLACE FUNCTION tenancy._install_tenant_column(target regclass) RETURNS void
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
CREATE OR REPLACE FUNCTION tenancy._drop_policies(target regclass) RETURNS void
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
CREATE OR REPLACE FUNCTION tenancy._install_policies(
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
CREATE OR REPLACE FUNCTION tenancy._install_audit_trigger(target regclass, enabled boolean) RETURNS void
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

-- Revokes TRIGGER and REFERENCES on a table from everyone but its owner: a
-- trigger runs its creator's code on every tenant's rows, and a foreign key's
-- checks bypass row level security (telling whether a key exists).
CREATE OR REPLACE FUNCTION tenancy._revoke_trigger_grants(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    grant_row record;
BEGIN
    FOR grant_row IN SELECT * FROM tenancy._trigger_grants() g WHERE g.relid = target LOOP
        EXECUTE format('REVOKE %s%s ON %s FROM %s', grant_row.privilege,
                       CASE WHEN grant_row.column_name IS NOT NULL THEN format(' (%I)', grant_row.column_name) END,
                       target, grant_row.grantee);
        RAISE NOTICE 'revoked % on % from %', grant_row.privilege,
            target || coalesce('.' || quote_ident(grant_row.column_name), ''), grant_row.grantee
            USING DETAIL = 'Only the owner of a protected table may create triggers on it or reference it.';
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._revoke_trigger_grants(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._revoke_trigger_grants(regclass) IS
    'internal: revokes TRIGGER and REFERENCES on a table from everyone but its owner';

CREATE OR REPLACE FUNCTION tenancy.protect(
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
    PERFORM tenancy._revoke_trigger_grants(target);
END
$$;
COMMENT ON FUNCTION tenancy.protect(regclass, tenancy.role, tenancy.role, tenancy.role, boolean) IS
    'protects a table: tenant_id column, forced row level security, per-tenant policies, audit (idempotent; '
    'a null setting keeps the current one)';

CREATE OR REPLACE FUNCTION tenancy.unprotect(target regclass) RETURNS void
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

CREATE OR REPLACE FUNCTION tenancy.set_audit(target regclass, enabled boolean) RETURNS void
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
CREATE OR REPLACE FUNCTION tenancy.forget_dropped_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM tenancy.protected_tables p
     WHERE p.relid::oid IN (SELECT d.objid FROM pg_event_trigger_dropped_objects() d
                             WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0);
END
$$;
COMMENT ON FUNCTION tenancy.forget_dropped_tables() IS 'internal: removes dropped tables from tenancy.protected_tables';
REVOKE ALL ON FUNCTION tenancy.forget_dropped_tables() FROM PUBLIC;
-- pg_tenancy: the functions of the audit trail (see objects/03_audit_log.sql).

CREATE OR REPLACE FUNCTION tenancy.audit_visible(tenant uuid) RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_audit_visible';
COMMENT ON FUNCTION tenancy.audit_visible(uuid) IS
    'whether the caller may read audit rows of a tenant: platform admins always; owners and admins of the '
    'current tenant for that tenant';

CREATE OR REPLACE FUNCTION tenancy.audit_trigger() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_audit_trigger';
COMMENT ON FUNCTION tenancy.audit_trigger() IS
    'AFTER ROW trigger installed by tenancy.protect(): writes one tenancy.audit_log row per change';
-- Only the extension attaches it (creating a trigger needs EXECUTE), and it
-- refuses to run on any table but a protected one or its own catalog.
REVOKE ALL ON FUNCTION tenancy.audit_trigger() FROM PUBLIC;

-- Creates the monthly partitions from this month to months_ahead months on,
-- moving any rows of those months out of the default partition first.
CREATE OR REPLACE FUNCTION tenancy._ensure_audit_partitions(months_ahead integer)
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

CREATE OR REPLACE FUNCTION tenancy.prune_audit(older_than interval)
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
             denials AS (DELETE FROM tenancy.access_denials d WHERE d.last_at < cutoff RETURNING 1)
        SELECT 'deleted', 'tenancy.audit_log_default', count(*) FROM stray HAVING count(*) > 0
        UNION ALL
        SELECT 'deleted', 'tenancy.access_denials', count(*) FROM denials HAVING count(*) > 0;

    RETURN QUERY SELECT * FROM tenancy._ensure_audit_partitions(2);
END
$$;
COMMENT ON FUNCTION tenancy.prune_audit(interval) IS
    'retention: drops audit partitions (and denials) older than the interval and creates the coming months '
    '(platform admins only); run it daily, for example with pg_cron';

-- Writes a batch of queued denials; called by the collector worker
-- (extension/denial_collector.cpp). Attempts of the same actor and role, for
-- the same requested tenant and reason, within an hour of a row's first
-- attempt, add to that row: a storm of refusals stays a few rows.
CREATE OR REPLACE FUNCTION tenancy._record_denials(
    attempted_at timestamptz[], actors text[], db_roles text[], requested_tenants text[], tenant_ids uuid[],
    reasons text[], messages text[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    attempt record;
BEGIN
    FOR attempt IN
        SELECT e.actor, e.db_role, e.requested_tenant, e.reason, min(e.at) AS first_at, max(e.at) AS last_at,
               count(*) AS attempts, (array_agg(e.tenant_id ORDER BY e.at))[1] AS tenant_id,
               (array_agg(e.message ORDER BY e.at))[1] AS message
          FROM unnest(attempted_at, actors, db_roles, requested_tenants, tenant_ids, reasons, messages)
               AS e(at, actor, db_role, requested_tenant, tenant_id, reason, message)
         GROUP BY e.actor, e.db_role, e.requested_tenant, e.reason
    LOOP
        UPDATE tenancy.access_denials d
           SET last_at = greatest(d.last_at, attempt.last_at), attempts = d.attempts + attempt.attempts
         WHERE d.id = (SELECT max(r.id) FROM tenancy.access_denials r
                        WHERE r.actor = attempt.actor AND r.reason = attempt.reason
                          AND r.requested_tenant = attempt.requested_tenant AND r.db_role = attempt.db_role
                          AND r.at > attempt.first_at - interval '1 hour');
        IF NOT FOUND THEN
            INSERT INTO tenancy.access_denials
                   (at, actor, db_role, requested_tenant, tenant_id, reason, message, last_at, attempts)
            VALUES (attempt.first_at, attempt.actor, attempt.db_role, attempt.requested_tenant, attempt.tenant_id,
                    attempt.reason, attempt.message, attempt.last_at, attempt.attempts);
        END IF;
    END LOOP;
END
$$;

-- Writes a batch of queued platform admin entries into the audit log;
-- called by the collector worker.
CREATE OR REPLACE FUNCTION tenancy._record_entries(
    entered_at timestamptz[], tenant_ids uuid[], actors text[], db_roles text[], xids xid8[])
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO tenancy.audit_log (at, tenant_id, actor, db_role, operation, support_access, xid)
    SELECT e.at, e.tenant_id, e.actor, e.db_role, 'ENTER', true, e.xid
      FROM unnest(entered_at, tenant_ids, actors, db_roles, xids) AS e(at, tenant_id, actor, db_role, xid)
$$;

REVOKE ALL ON FUNCTION tenancy._record_denials(timestamptz[], text[], text[], text[], uuid[], text[], text[]),
    tenancy._record_entries(timestamptz[], uuid[], text[], text[], xid8[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._record_denials(timestamptz[], text[], text[], text[], uuid[], text[], text[]) IS
    'internal: writes queued denials into tenancy.access_denials, aggregating repeated attempts';
COMMENT ON FUNCTION tenancy._record_entries(timestamptz[], uuid[], text[], text[], xid8[]) IS
    'internal: writes queued platform admin entries into tenancy.audit_log';

-- Returns how many access events are queued and not yet written.
CREATE OR REPLACE FUNCTION tenancy._access_log_pending() RETURNS bigint
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'tenancy_access_log_pending';
REVOKE ALL ON FUNCTION tenancy._access_log_pending() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._access_log_pending() IS 'internal: number of queued access events';

CREATE OR REPLACE FUNCTION tenancy.access_log_pending() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('read the queue of access events');
    RETURN tenancy._access_log_pending();
END
$$;
COMMENT ON FUNCTION tenancy.access_log_pending() IS
    'how many denials and platform admin entries are queued and not yet written into tenancy.access_denials '
    'and tenancy.audit_log (platform admins only; normally 0 within a fraction of a second)';

-- Waits until every queued access event is written, for at most timeout;
-- returns whether the queue is empty. For tests and maintenance scripts.
CREATE OR REPLACE FUNCTION tenancy.wait_for_access_log(timeout interval DEFAULT '10 seconds') RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + coalesce(timeout, interval '10 seconds');
BEGIN
    PERFORM tenancy._require_platform_admin('wait for the queue of access events');
    LOOP
        IF tenancy._access_log_pending() = 0 THEN
            RETURN true;
        END IF;
        EXIT WHEN clock_timestamp() >= deadline;
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN false;
END
$$;
COMMENT ON FUNCTION tenancy.wait_for_access_log(interval) IS
    'waits until queued denials and platform admin entries are written (platform admins only); returns '
    'whether they all were within the timeout';
-- pg_tenancy: guards. A protected table's owner may not switch off what
-- protects it: TRUNCATE (which ignores row level security and row triggers),
-- disabling row level security or the audit trigger, dropping or altering the
-- tenancy policies, or changing the tenant_id column. Platform admins may.
-- Nobody grants TRIGGER or REFERENCES on a protected table.

CREATE OR REPLACE FUNCTION tenancy.guard_truncate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_truncate';
COMMENT ON FUNCTION tenancy.guard_truncate() IS
    'BEFORE TRUNCATE trigger of protected tables: only platform admins may truncate (it spans every tenant)';

CREATE OR REPLACE FUNCTION tenancy.guard_ddl() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_ddl';
COMMENT ON FUNCTION tenancy.guard_ddl() IS
    'refuses DDL that would weaken a protected table unless run by a platform admin';

-- The TRIGGER and REFERENCES privileges on protected tables held by anyone
-- but the table's owner, table-wide or on a column.
CREATE OR REPLACE FUNCTION tenancy._trigger_grants()
RETURNS TABLE (relid regclass, grantee text, privilege text, column_name name)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
           a.privilege_type, NULL::name
      FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid,
           LATERAL aclexplode(c.relacl) a
     WHERE a.privilege_type IN ('TRIGGER', 'REFERENCES') AND a.grantee <> c.relowner
    UNION ALL
    SELECT c.oid::regclass,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
           a.privilege_type, att.attname
      FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid
           JOIN pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped
                                AND att.attacl IS NOT NULL,
           LATERAL aclexplode(att.attacl) a
     WHERE a.privilege_type = 'REFERENCES' AND a.grantee <> c.relowner
$$;
REVOKE ALL ON FUNCTION tenancy._trigger_grants() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._trigger_grants() IS
    'internal: TRIGGER and REFERENCES privileges on protected tables held by others than the owner';

-- Refuses, at the end of a GRANT, any TRIGGER or REFERENCES privilege on a
-- protected table held by someone other than its owner: the outcome is
-- judged, whatever the statement's form (GRANT ALL, ON ALL TABLES IN SCHEMA,
-- column privileges).
CREATE OR REPLACE FUNCTION tenancy.guard_grants() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    offending record;
BEGIN
    SELECT * INTO offending FROM tenancy._trigger_grants() LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('cannot grant %s on protected table %s to %s', offending.privilege,
                             offending.relid, offending.grantee),
            DETAIL = 'A trigger on a protected table runs its creator''s code on every tenant''s rows, and a '
                     'foreign key''s checks bypass row level security; only the table''s owner may do either.',
            HINT = format('Grant only what tenants need, for example GRANT SELECT, INSERT, UPDATE, DELETE ON %s '
                          'TO %s.', offending.relid, offending.grantee);
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.guard_grants() IS
    'refuses TRIGGER and REFERENCES privileges on protected tables for anyone but the owner';

REVOKE ALL ON FUNCTION tenancy.guard_truncate(), tenancy.guard_ddl(), tenancy.guard_grants() FROM PUBLIC;

-- Makes every new session of this database load pg_tenancy at start
-- (session_preload_libraries), keeping the libraries already listed: the
-- guards against locks, TRUNCATE and DDL that would block every tenant must
-- be in place before a session's first statement, not from its first use
-- of pg_tenancy on. Called when the extension is created or updated.
CREATE OR REPLACE FUNCTION tenancy._preload_in_database() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    listed text;
BEGIN
    SELECT substr(c.setting, length('session_preload_libraries=') + 1) INTO listed
      FROM pg_db_role_setting s, unnest(s.setconfig) AS c(setting)
     WHERE s.setdatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND s.setrole = 0 AND c.setting LIKE 'session_preload_libraries=%';
    IF coalesce(listed, '') ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)'
       OR current_setting('shared_preload_libraries') ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)' THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER DATABASE %I SET session_preload_libraries = %L', current_database(),
                   CASE WHEN coalesce(listed, '') = '' THEN 'pg_tenancy' ELSE listed || ', pg_tenancy' END);
    RAISE NOTICE 'new sessions of database "%" load pg_tenancy at start', current_database()
        USING DETAIL = 'session_preload_libraries now includes pg_tenancy, so that its guards are in place '
                       'before a session''s first statement.';
END
$$;
REVOKE ALL ON FUNCTION tenancy._preload_in_database() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._preload_in_database() IS
    'internal: adds pg_tenancy to this database''s session_preload_libraries';

-- Says whether new sessions of this database load pg_tenancy at start.
CREATE OR REPLACE FUNCTION tenancy._preloaded() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT current_setting('shared_preload_libraries') ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)'
        OR EXISTS (SELECT 1 FROM pg_db_role_setting s, unnest(s.setconfig) AS c(setting)
                    WHERE s.setdatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                      AND s.setrole = 0 AND c.setting ~ '^session_preload_libraries=.*pg_tenancy')
        OR EXISTS (SELECT 1 FROM pg_settings p
                    WHERE p.name = 'session_preload_libraries' AND p.source = 'configuration file'
                      AND p.setting ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)')
$$;
REVOKE ALL ON FUNCTION tenancy._preloaded() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._preloaded() IS 'internal: whether new sessions of this database load pg_tenancy';
-- pg_tenancy: the health check. One row per finding: what is wrong, where,
-- and how to fix it. Reads only the system catalogs and tenancy's own
-- catalog, never tenant data, so it is as fast with ten thousand tenants as
-- with ten.

-- Says whether a role bypasses row level security (superuser or BYPASSRLS).
CREATE OR REPLACE FUNCTION tenancy._bypasses_rls(role oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.oid = role
$$;
REVOKE ALL ON FUNCTION tenancy._bypasses_rls(oid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._bypasses_rls(oid) IS 'internal: whether a role bypasses row level security';

-- Findings about each protected table itself: row level security, policies,
-- the tenant column, its foreign key and index, the triggers.
CREATE OR REPLACE FUNCTION tenancy._health_protected_tables()
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
CREATE OR REPLACE FUNCTION tenancy._health_surroundings()
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
    SELECT 'error', g.relid::text || coalesce('.' || quote_ident(g.column_name), ''),
           format('%s is granted %s: it can run its own code on every tenant''s rows or probe them through a '
                  'foreign key', g.grantee, g.privilege),
           format('REVOKE %s%s ON %s FROM %s', g.privilege,
                  CASE WHEN g.column_name IS NOT NULL THEN format(' (%I)', g.column_name) END, g.relid, g.grantee)
      FROM tenancy._trigger_grants() g
    UNION ALL
    SELECT 'warning', i.indexrelid::regclass::text,
           format('index on %s is not led by tenant_id: a condition on its columns is checked against every '
                  'tenant''s rows before row level security filters them, and EXPLAIN ANALYZE or the statistics '
                  'counters then tell whether another tenant has a matching value', p.relid::text),
           'Lead the index with tenant_id, for example CREATE INDEX ON table (tenant_id, column).'
      FROM protected p JOIN pg_index i ON i.indrelid = p.relid
     WHERE i.indkey[0] <> p.tenant_attnum
       AND NOT (i.indisunique AND NOT (p.tenant_attnum = ANY (i.indkey::int2[])))
    UNION ALL
    SELECT 'error', current_database()::text,
           'pg_tenancy is not preloaded: a session that has not used it yet is not guarded against LOCK, TRUNCATE '
           'and DDL that would block every tenant',
           format('ALTER DATABASE %I SET session_preload_libraries = ''pg_tenancy'' (keeping the libraries already '
                  'listed)', current_database())
     WHERE NOT tenancy._preloaded()
    UNION ALL
    SELECT 'error', e.evtname::text, 'event trigger is disabled: protected tables lose their guard',
           format('ALTER EVENT TRIGGER %I ENABLE', e.evtname)
      FROM pg_event_trigger e
     WHERE e.evtname IN ('tenancy_guard_ddl', 'tenancy_forget_dropped_tables', 'tenancy_guard_grants')
       AND e.evtenabled = 'D'
$$;
REVOKE ALL ON FUNCTION tenancy._health_surroundings() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._health_surroundings() IS 'internal: health findings around protected tables';

CREATE OR REPLACE FUNCTION tenancy.health_check()
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
-- pg_tenancy: read functions for operators and tenantctl. Each checks
-- the caller's rights, so tenantctl needs no privilege on the catalog.

CREATE OR REPLACE FUNCTION tenancy.tenant_list()
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

CREATE OR REPLACE FUNCTION tenancy.member_list(tenant text)
RETURNS TABLE (actor text, role tenancy.role, is_active boolean, created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'list the members');
BEGIN
    RETURN QUERY
        SELECT m.actor::text, m.role, m.is_active, m.created_at, m.updated_at
          FROM tenancy.memberships m WHERE m.tenant_id = target.id
         ORDER BY m.role DESC, m.actor;
END
$$;
COMMENT ON FUNCTION tenancy.member_list(text) IS
    'members of a tenant with their roles (tenant owners/admins and platform admins)';

CREATE OR REPLACE FUNCTION tenancy.domain_list(tenant text DEFAULT NULL)
RETURNS TABLE (host text, tenant_slug text, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF tenant IS NULL THEN
        PERFORM tenancy._require_platform_admin('list every domain');
    ELSE
        target := tenancy._tenant_for_caller(tenant, 'admin', 'list the domains');
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

CREATE OR REPLACE FUNCTION tenancy.protected_list()
RETURNS TABLE (table_name text, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role,
               audit boolean, protected_at timestamptz, protected_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.relid::text, p.read_role, p.write_role, p.delete_role, p.audit, p.protected_at, p.protected_by
      FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid
     WHERE tenancy.is_platform_admin() OR pg_has_role(tenancy.db_role()::name, c.relowner, 'USAGE')
     ORDER BY p.relid::text
$$;
COMMENT ON FUNCTION tenancy.protected_list() IS
    'protected tables with their roles and audit setting (all for platform admins, one''s own tables for others)';

CREATE OR REPLACE FUNCTION tenancy.tenant_details(tenant text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'show the details');
    table_rows jsonb := '[]';
    protected record;
    row_count bigint;
BEGIN
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
-- pg_tenancy: the triggers, policies and event triggers that connect the
-- functions to the tables. Created at install; an upgrade script creates
-- the ones a version adds.

CREATE TRIGGER tenants_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.tenants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();
CREATE TRIGGER memberships_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.memberships
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();

CREATE EVENT TRIGGER tenancy_forget_dropped_tables ON sql_drop
    EXECUTE FUNCTION tenancy.forget_dropped_tables();

CREATE TRIGGER protected_tables_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.protected_tables
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();

CREATE POLICY audit_log_read ON tenancy.audit_log FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));

-- Membership and tenant changes are audited too: tenant admins see who added
-- whom; the tenant of a tenants row is its own id.
CREATE TRIGGER memberships_audit AFTER INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger();
CREATE TRIGGER tenants_audit AFTER INSERT OR UPDATE OR DELETE ON tenancy.tenants
    FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger('id');

CREATE EVENT TRIGGER tenancy_guard_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TRIGGER', 'ALTER TRIGGER', 'DROP POLICY', 'ALTER POLICY')
    EXECUTE FUNCTION tenancy.guard_ddl();

CREATE EVENT TRIGGER tenancy_guard_grants ON ddl_command_end
    WHEN TAG IN ('GRANT')
    EXECUTE FUNCTION tenancy.guard_grants();

-- Finds actors whose names look alike (tenancy._refuse_lookalike).
CREATE INDEX memberships_actor_skeleton_idx ON tenancy.memberships (tenant_id, tenancy._actor_skeleton(actor));

-- New sessions load pg_tenancy at start, for its guards.
SELECT tenancy._preload_in_database();
