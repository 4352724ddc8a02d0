-- pg_tenancy: platform admins and trusted services of this database
-- (tenancy.platform_grants). Granting either is a platform admin's decision.

-- Says whether a role holds a platform right of this database, itself or
-- through the roles whose privileges it inherits. Unlike pg_has_role(), it
-- is true for a superuser only when the right was granted.
CREATE OR REPLACE FUNCTION tenancy._holds_platform_right(member oid, kind text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE inherited (role) AS (
        SELECT $1
        UNION
        SELECT m.roleid FROM inherited i JOIN pg_auth_members m ON m.member = i.role
                        JOIN pg_roles r ON r.oid = i.role AND r.rolinherit
    )
    SELECT EXISTS (SELECT 1 FROM tenancy.platform_grants g JOIN inherited i ON i.role = g.role
                    WHERE g.kind = $2)
$$;
REVOKE ALL ON FUNCTION tenancy._holds_platform_right(oid, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._holds_platform_right(oid, text) IS
    'internal: whether a role holds a platform right of this database (directly or through role membership)';

-- Grants or revokes a platform right of this database; the shared body of
-- the four functions below. A platform admin also gets the rights of
-- tenancy_table_owner, to change the schema of tables protected in strict
-- mode; that membership is cluster-wide, but the DDL guard accepts schema
-- changes of a strict table only from the platform admins of its database,
-- and revoking leaves the membership to the other databases that may need it.
CREATE OR REPLACE FUNCTION tenancy._set_platform_right(member regrole, kind text, granted boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin(
        format('%s %s rights', CASE WHEN granted THEN 'grant' ELSE 'revoke' END, replace(kind, '_', ' ')));
    IF member IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'role must not be null';
    END IF;
    IF granted AND kind = 'service'
       AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = member AND (r.rolsuper OR r.rolbypassrls)) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_grant_operation',
            MESSAGE = format('role "%s" bypasses row level security', member),
            DETAIL = 'A service role that is a superuser or has BYPASSRLS would see every tenant''s rows.',
            HINT = 'Use a dedicated role without SUPERUSER and BYPASSRLS for the application.';
    END IF;
    IF NOT granted THEN
        DELETE FROM tenancy.platform_grants g WHERE g.role = member AND g.kind = _set_platform_right.kind;
        RETURN;
    END IF;
    INSERT INTO tenancy.platform_grants (role, kind, granted_by)
    VALUES (member, kind, tenancy.actor())
    ON CONFLICT ON CONSTRAINT platform_grants_pkey DO NOTHING;
    IF kind = 'platform_admin' AND NOT pg_has_role(member, 'tenancy_table_owner', 'MEMBER') THEN
        EXECUTE format('GRANT tenancy_table_owner TO %I', member::text);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._set_platform_right(regrole, text, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._set_platform_right(regrole, text, boolean) IS
    'internal: grants or revokes a platform right of this database';

CREATE OR REPLACE FUNCTION tenancy.grant_platform_admin(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_platform_right(grant_platform_admin.role, 'platform_admin', true)
$$;
COMMENT ON FUNCTION tenancy.grant_platform_admin(regrole) IS
    'makes a role a platform admin of this database (no other database): manages tenants, may enter any';

CREATE OR REPLACE FUNCTION tenancy.revoke_platform_admin(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_platform_right(revoke_platform_admin.role, 'platform_admin', false)
$$;
COMMENT ON FUNCTION tenancy.revoke_platform_admin(regrole) IS 'removes a platform admin of this database';

CREATE OR REPLACE FUNCTION tenancy.grant_service(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_platform_right(grant_service.role, 'service', true)
$$;
COMMENT ON FUNCTION tenancy.grant_service(regrole) IS
    'trusts a role, in this database, to assert application users with SET LOCAL tenancy.actor';

CREATE OR REPLACE FUNCTION tenancy.revoke_service(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_platform_right(revoke_service.role, 'service', false)
$$;
COMMENT ON FUNCTION tenancy.revoke_service(regrole) IS 'withdraws a trusted service role of this database';

CREATE OR REPLACE FUNCTION tenancy.platform_roles()
RETURNS TABLE (role name, platform_admin boolean, service boolean, superuser boolean, bypassrls boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('list platform roles');
    RETURN QUERY
    SELECT r.rolname, r.rolsuper OR tenancy._holds_platform_right(r.oid, 'platform_admin'),
           r.rolsuper OR tenancy._holds_platform_right(r.oid, 'service'), r.rolsuper, r.rolbypassrls
      FROM pg_roles r
     WHERE tenancy._holds_platform_right(r.oid, 'platform_admin') OR tenancy._holds_platform_right(r.oid, 'service')
        OR (r.rolsuper AND r.rolcanlogin)
     ORDER BY r.rolname;
END
$$;
COMMENT ON FUNCTION tenancy.platform_roles() IS
    'roles with platform rights in this database: its platform admins and services (also through role '
    'membership), and login superusers (platform admins only)';
