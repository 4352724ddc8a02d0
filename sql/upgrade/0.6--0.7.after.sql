-- pg_tenancy 0.6 -> 0.7, after the functions: the triggers that record
-- tenancy.tenant_events (new in 0.7) and who reads it.
CREATE TRIGGER tenants_events AFTER INSERT OR UPDATE OR DELETE ON tenancy.tenants
    FOR EACH ROW EXECUTE FUNCTION tenancy._record_tenant_event();
CREATE TRIGGER memberships_owner_events AFTER INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy._record_owner_event();
CREATE POLICY tenant_events_read ON tenancy.tenant_events FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));
ALTER TABLE tenancy.tenant_events ALTER COLUMN actor SET DEFAULT tenancy.actor(),
    ALTER COLUMN db_role SET DEFAULT tenancy.db_role();

-- Plans (new in 0.7): platform admins read them like the rest of the catalog.
CREATE POLICY platform_admins_read ON tenancy.plans FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
DO $grants$
DECLARE
    admin regrole;
BEGIN
    FOR admin IN SELECT DISTINCT g.role FROM tenancy.platform_grants g
                   JOIN pg_catalog.pg_roles r ON r.oid = g.role WHERE g.kind = 'platform_admin' LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON tenancy.plans TO %s', admin);
    END LOOP;
END
$grants$;

-- The DDL guard also sees CREATE TRIGGER: the names of pg_tenancy's triggers
-- (tenancy_*) are refused to other triggers on protected tables.
DROP EVENT TRIGGER tenancy_guard_ddl;
CREATE EVENT TRIGGER tenancy_guard_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'CREATE TRIGGER', 'DROP TRIGGER', 'ALTER TRIGGER', 'DROP POLICY', 'ALTER POLICY',
                 'CREATE INDEX', 'ALTER DOMAIN')
    EXECUTE FUNCTION tenancy.guard_ddl();
