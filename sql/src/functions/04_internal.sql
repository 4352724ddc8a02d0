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
    -- make fail, the new memberships and domains whose foreign keys hold FOR
    -- KEY SHARE on the row.
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

-- Returns the equality operator of a type's default btree operator class,
-- schema-qualified for OPERATOR(), or NULL when the type has none: an
-- operator named "=" that anyone created in some schema is never the one
-- pg_tenancy compares with.
CREATE OR REPLACE FUNCTION tenancy._equality_operator(type_oid oid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('OPERATOR(%I.%s)', n.nspname, o.oprname)
      FROM pg_opclass oc
      JOIN pg_am am ON am.oid = oc.opcmethod AND am.amname = 'btree'
      JOIN pg_amop ao ON ao.amopfamily = oc.opcfamily AND ao.amoplefttype = oc.opcintype
                     AND ao.amoprighttype = oc.opcintype AND ao.amopstrategy = 3
      JOIN pg_operator o ON o.oid = ao.amopopr
      JOIN pg_namespace n ON n.oid = o.oprnamespace
     WHERE oc.opcdefault AND oc.opcintype = type_oid
     LIMIT 1
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
            DETAIL = format('Only platform admins of database "%s" may %s; role "%s" is not one.',
                            current_database(), action, tenancy.db_role()),
            HINT = 'A platform admin of this database can run it, or make you one with tenancy.grant_platform_admin().';
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
-- a suspended tenant cannot be used, an archived or terminating one is
-- read-only; only platform admins change them.
CREATE OR REPLACE FUNCTION tenancy._require_active_for_change(target tenancy.tenants, for_change boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF for_change THEN
        -- The latest committed status, not the snapshot's (a REPEATABLE READ
        -- transaction may have begun before a suspension or termination),
        -- read without a lock a change of status would wait for.
        target.status := tenancy._latest_status(target.id);
    END IF;
    IF for_change AND target.status <> 'active' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is %s', target.slug, target.status),
            DETAIL = format('Only platform admins can change a %s tenant.', target.status),
            HINT = CASE WHEN target.status::text = 'terminating'
                        THEN format('A platform admin can restore it with tenancy.restore_tenant() until %s.',
                                    coalesce(tenancy._shown_time(target.purge_after), 'its grace period ends'))
                        ELSE 'A platform admin can make it active again with tenancy.activate_tenant().' END;
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

-- The latest committed status of a tenant, whatever the snapshot (C++).
CREATE OR REPLACE FUNCTION tenancy._latest_status(tenant uuid) RETURNS text
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_latest_status';

-- The number of a tenant's active members, latest committed (C++).
CREATE OR REPLACE FUNCTION tenancy._active_members(tenant uuid) RETURNS bigint
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_active_members';

-- Makes additions of members to a tenant take turns until commit (C++).
CREATE OR REPLACE FUNCTION tenancy._lock_member_seats(tenant uuid) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_lock_member_seats';

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
    tenancy._latest_status(uuid), tenancy._active_members(uuid), tenancy._lock_member_seats(uuid),
    tenancy._refuse_lookalike(uuid, text), tenancy._equality_operator(oid)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._shown(text) IS 'internal: user input escaped and cut to 64 bytes for messages';
COMMENT ON FUNCTION tenancy._lookup_tenant(text, boolean) IS 'internal: tenant by slug or uuid, or NULL';
COMMENT ON FUNCTION tenancy._equality_operator(oid) IS
    'internal: the equality operator of a type''s default btree operator class';
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
COMMENT ON FUNCTION tenancy._latest_status(uuid) IS 'internal: latest committed status of a tenant';
COMMENT ON FUNCTION tenancy._active_members(uuid) IS 'internal: latest committed number of active members';
COMMENT ON FUNCTION tenancy._lock_member_seats(uuid) IS 'internal: additions of members to a tenant take turns';
COMMENT ON FUNCTION tenancy._refuse_lookalike(uuid, text) IS
    'internal: error when a name looks like another member''s or a role''s';
