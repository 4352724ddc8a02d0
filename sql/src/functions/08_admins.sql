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

-- The tables platform admins of this database may read.
CREATE OR REPLACE FUNCTION tenancy._platform_admin_tables() RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'tenancy.tenants, tenancy.memberships, tenancy.domains, tenancy.protected_tables, '
           'tenancy.platform_grants, tenancy.access_denials, tenancy.plans, tenancy.regions'
$$;
COMMENT ON FUNCTION tenancy._platform_admin_tables() IS 'internal: the tables platform admins may read';

-- Grants or revokes a platform right of this database; the shared body of
-- the four functions below. Besides the row of tenancy.platform_grants, the
-- right comes with privileges of this database: USAGE on schema tenancy,
-- which makes DROP ROLE refuse while a right is held (so that no grant is
-- left to a role's oid), and for platform admins SELECT on the catalog.
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
    IF granted THEN
        INSERT INTO tenancy.platform_grants (role, kind, granted_by)
        VALUES (member, kind, tenancy.actor())
        ON CONFLICT ON CONSTRAINT platform_grants_pkey DO NOTHING;
        EXECUTE format('GRANT USAGE ON SCHEMA tenancy TO %s', member);
        IF kind = 'platform_admin' THEN
            EXECUTE format('GRANT SELECT ON %s TO %s', tenancy._platform_admin_tables(), member);
        END IF;
        RETURN;
    END IF;
    DELETE FROM tenancy.platform_grants g WHERE g.role = member AND g.kind = _set_platform_right.kind;
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = member) THEN
        RETURN;  -- the grant of a dropped role (the health check lists them)
    END IF;
    IF kind = 'platform_admin' THEN
        EXECUTE format('REVOKE SELECT ON %s FROM %s', tenancy._platform_admin_tables(), member);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tenancy.platform_grants g WHERE g.role = member) THEN
        EXECUTE format('REVOKE USAGE ON SCHEMA tenancy FROM %s', member);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._set_platform_right(regrole, text, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._set_platform_right(regrole, text, boolean) IS
    'internal: grants or revokes a platform right of this database, with the privileges it comes with';

-- After DROP OWNED BY: a role whose USAGE on schema tenancy was revoked with
-- its other privileges of this database loses its platform rights too.
CREATE OR REPLACE FUNCTION tenancy.forget_dropped_grants() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM tenancy.platform_grants g
     WHERE NOT EXISTS (SELECT 1 FROM pg_namespace n, LATERAL aclexplode(n.nspacl) a
                        WHERE n.nspname = 'tenancy' AND a.grantee = g.role AND a.privilege_type = 'USAGE');
END
$$;
REVOKE ALL ON FUNCTION tenancy.forget_dropped_grants() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.forget_dropped_grants() IS
    'internal: after DROP OWNED, forgets the platform rights of roles whose privileges here were dropped';

-- Strict mode: runs a statement as tenancy_table_owner, the owner of tables
-- protected in strict mode, which no role is a member of (C++:
-- extension/table_owner.cpp); only tenancy.as_table_owner() calls it. While
-- it runs, the DDL guards judge tenancy_table_owner as the session's outer
-- role, a platform admin.
CREATE OR REPLACE FUNCTION tenancy._run_as_table_owner(statement text) RETURNS void
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'tenancy_run_as_table_owner';
REVOKE ALL ON FUNCTION tenancy._run_as_table_owner(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._run_as_table_owner(text) IS
    'internal: runs a statement as tenancy_table_owner (called by tenancy.as_table_owner())';

-- Strict mode: a platform admin of this database runs a schema change of a
-- table protected in strict mode as its owner. The DDL guards treat what it
-- runs as a platform admin's; what it must not do is leave a strict table
-- calling code (or typed by types) another role can replace - that code
-- would run as tenancy_table_owner, outside this function, whenever ANALYZE
-- or a rebuild evaluates it - so the statement is undone if it did.
CREATE OR REPLACE FUNCTION tenancy.as_table_owner(statement text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    before text[];
    weakness record;
BEGIN
    PERFORM tenancy._require_platform_admin('change tables protected in strict mode');
    IF statement IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'statement must not be null';
    END IF;
    SELECT array_agg(w.relid::oid || ' ' || w.problem) INTO before
      FROM tenancy._strict_weaknesses(ARRAY(SELECT p.relid::oid FROM tenancy.protected_tables p WHERE p."strict")) w;
    PERFORM tenancy._run_as_table_owner(statement);
    SELECT w.* INTO weakness
      FROM tenancy._strict_weaknesses(ARRAY(SELECT p.relid::oid FROM tenancy.protected_tables p WHERE p."strict")) w
     WHERE w.relid::oid || ' ' || w.problem <> ALL (coalesce(before, '{}'))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('cannot leave table %s protected in strict mode with code another role controls: %s',
                             weakness.relid, weakness.problem),
            DETAIL = 'That code would run as tenancy_table_owner whenever ANALYZE or a rebuild evaluates it.',
            HINT = weakness.hint;
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.as_table_owner(text) IS
    'runs a statement (schema-qualified names) as tenancy_table_owner, the owner of tables protected in strict '
    'mode (platform admins of this database only)';

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
