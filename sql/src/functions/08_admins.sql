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
