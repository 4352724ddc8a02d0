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
    -- The latest committed status (as in tenancy._require_active_for_change()).
    target.status := tenancy._latest_status(target.id);
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
    PERFORM tenancy._require_member_room(target);
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
    IF new_active AND NOT current_membership.is_active THEN
        PERFORM tenancy._require_member_room(target);
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
