-- pg_tenancy 0.7 -> 0.8, after the functions.

-- Regions (new in 0.8): platform admins read them like the rest of the catalog.
CREATE POLICY platform_admins_read ON tenancy.regions FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
DO $grants$
DECLARE
    admin regrole;
BEGIN
    FOR admin IN SELECT DISTINCT g.role FROM tenancy.platform_grants g
                   JOIN pg_catalog.pg_roles r ON r.oid = g.role WHERE g.kind = 'platform_admin' LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON tenancy.regions TO %s', admin);
    END LOOP;
END
$grants$;

-- A change of plans or of setting definitions reaches every session's
-- statement_timeout, work_mem and TimeZone at its next statement.
CREATE TRIGGER plans_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.plans
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();
CREATE TRIGGER setting_definitions_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.setting_definitions
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();

-- Usage alerts: platform admins, and the owners and admins of the current
-- tenant for that tenant, read them (like the audit log); nobody edits them.
CREATE POLICY alerts_read ON tenancy.alerts FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));

-- Usage: read like the audit log; written only by the collector and
-- tenancy.collect_usage().
CREATE POLICY usage_daily_read ON tenancy.usage_daily FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));
CREATE POLICY usage_actors_read ON tenancy.usage_actors FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));
