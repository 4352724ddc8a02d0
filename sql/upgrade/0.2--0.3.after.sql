-- pg_tenancy 0.2 -> 0.3, after the functions: the triggers, policies and
-- event triggers 0.3 adds or changes, and data changes that need the new
-- functions (see 0.2--0.3.before.sql for how the scripts are assembled).

-- Before DDL, the guard also loads the library for CREATE INDEX and ALTER
-- DOMAIN (its object access hook checks the code they would run); after DDL,
-- the outcome is judged by oid.
DROP EVENT TRIGGER IF EXISTS tenancy_guard_ddl;
DROP EVENT TRIGGER IF EXISTS tenancy_guard_ddl_outcome;
DROP EVENT TRIGGER IF EXISTS tenancy_guard_ddl_drops;
CREATE EVENT TRIGGER tenancy_guard_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TRIGGER', 'ALTER TRIGGER', 'DROP POLICY', 'ALTER POLICY', 'CREATE INDEX',
                 'ALTER DOMAIN')
    EXECUTE FUNCTION tenancy.guard_ddl();
CREATE EVENT TRIGGER tenancy_guard_ddl_outcome ON ddl_command_end
    EXECUTE FUNCTION tenancy.guard_ddl_outcome();
CREATE EVENT TRIGGER tenancy_guard_ddl_drops ON sql_drop
    EXECUTE FUNCTION tenancy.guard_ddl_outcome();

-- The permissive policy is now tenancy.installed() (protected tables fail
-- closed after DROP EXTENSION), and policies are re-created as 0.3 makes them.
DO $policies$
DECLARE
    p tenancy.protected_tables;
BEGIN
    FOR p IN SELECT * FROM tenancy.protected_tables LOOP
        PERFORM tenancy._install_policies(p.relid, p.read_role, p.write_role, p.delete_role);
    END LOOP;
END
$policies$;

-- The catalog, the denials and the platform grants: platform admins of this
-- database read them (with the SELECT grant_platform_admin() gives them);
-- these policies keep out pg_read_all_data.
CREATE POLICY platform_admins_read ON tenancy.tenants FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
CREATE POLICY platform_admins_read ON tenancy.memberships FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
CREATE POLICY platform_admins_read ON tenancy.domains FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
CREATE POLICY platform_admins_read ON tenancy.protected_tables FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
CREATE POLICY platform_admins_read ON tenancy.access_denials FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
CREATE POLICY platform_admins_read ON tenancy.platform_grants FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));

-- Platform rights per database: whoever was a member of the group roles of
-- 0.1 and 0.2 keeps the right in this database; superusers need none.
CREATE TRIGGER platform_grants_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.platform_grants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();
DO $convert$
DECLARE
    holder record;
BEGIN
    FOR holder IN
        SELECT m.member::regrole AS role, g.kind
          FROM (VALUES ('tenancy_admin', 'platform_admin'), ('tenancy_service', 'service')) AS g (group_name, kind)
          JOIN pg_catalog.pg_roles r ON r.rolname = g.group_name
          JOIN pg_catalog.pg_auth_members m ON m.roleid = r.oid
          JOIN pg_catalog.pg_roles grantee ON grantee.oid = m.member
         WHERE NOT grantee.rolsuper AND grantee.rolname NOT LIKE 'tenancy\_%'
    LOOP
        PERFORM tenancy._set_platform_right(holder.role, holder.kind, true);
    END LOOP;
END
$convert$;
CREATE EVENT TRIGGER tenancy_forget_dropped_grants ON ddl_command_end
    WHEN TAG IN ('DROP OWNED')
    EXECUTE FUNCTION tenancy.forget_dropped_grants();
