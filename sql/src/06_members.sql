-- pg_tenancy: memberships. Platform admins manage every tenant; a tenant's
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
