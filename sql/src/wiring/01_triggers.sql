-- pg_tenancy: the triggers, policies and event triggers that connect the
-- functions to the tables. Created at install; an upgrade script creates
-- the ones a version adds.

CREATE TRIGGER tenants_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.tenants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();
CREATE TRIGGER memberships_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.memberships
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();

-- A tenant's rows go with it, and nothing else removes a tenant.
CREATE TRIGGER tenants_remove_rows AFTER DELETE ON tenancy.tenants
    FOR EACH ROW EXECUTE FUNCTION tenancy.remove_tenant_rows();
-- A schema-mode tenant's schema goes with it.
CREATE TRIGGER tenants_drop_schema AFTER DELETE ON tenancy.tenants
    FOR EACH ROW WHEN (OLD.schema_name IS NOT NULL) EXECUTE FUNCTION tenancy._drop_tenant_schema();
CREATE TRIGGER tenants_refuse_truncate BEFORE TRUNCATE ON tenancy.tenants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._refuse_tenant_rows_loss();
CREATE TRIGGER tenants_refuse_new_id BEFORE UPDATE OF id ON tenancy.tenants
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION tenancy._refuse_tenant_rows_loss();

CREATE EVENT TRIGGER tenancy_forget_dropped_tables ON sql_drop
    EXECUTE FUNCTION tenancy.forget_dropped_tables();

CREATE TRIGGER protected_tables_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.protected_tables
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();

CREATE POLICY audit_log_read ON tenancy.audit_log FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));

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
CREATE POLICY platform_admins_read ON tenancy.plans FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));

-- A change of platform rights reaches every session at its next statement.
CREATE TRIGGER platform_grants_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.platform_grants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();
-- DROP OWNED BY a role revokes the privileges that came with its rights here;
-- the rights go with them.
CREATE EVENT TRIGGER tenancy_forget_dropped_grants ON ddl_command_end
    WHEN TAG IN ('DROP OWNED')
    EXECUTE FUNCTION tenancy.forget_dropped_grants();

-- Membership and tenant changes are audited too: tenant admins see who added
-- whom; the tenant of a tenants row is its own id.
CREATE TRIGGER memberships_audit AFTER INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger();
CREATE TRIGGER tenants_audit AFTER INSERT OR UPDATE OR DELETE ON tenancy.tenants
    FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger('id');

-- Before DDL: refuses what weakens a protected table, and loads the library
-- so that its object access hook checks the code new indexes, constraints
-- and generated columns would run on every tenant's rows.
CREATE EVENT TRIGGER tenancy_guard_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'CREATE TRIGGER', 'DROP TRIGGER', 'ALTER TRIGGER', 'DROP POLICY', 'ALTER POLICY',
                 'CREATE INDEX', 'ALTER DOMAIN')
    EXECUTE FUNCTION tenancy.guard_ddl();

-- After DDL: judges what it left, on the tables it changed, by oid.
CREATE EVENT TRIGGER tenancy_guard_ddl_outcome ON ddl_command_end
    EXECUTE FUNCTION tenancy.guard_ddl_outcome();
CREATE EVENT TRIGGER tenancy_guard_ddl_drops ON sql_drop
    EXECUTE FUNCTION tenancy.guard_ddl_outcome();

CREATE EVENT TRIGGER tenancy_guard_grants ON ddl_command_end
    WHEN TAG IN ('GRANT')
    EXECUTE FUNCTION tenancy.guard_grants();

-- Tables in tenant schemas get row level security (functions/30_tenant_tables.sql).
CREATE EVENT TRIGGER tenancy_seal_tenant_tables ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE', 'CREATE MATERIALIZED VIEW',
                 'ALTER MATERIALIZED VIEW', 'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE')
    EXECUTE FUNCTION tenancy.seal_tenant_tables();

-- Finds actors whose names look alike (tenancy._refuse_lookalike).
CREATE INDEX memberships_actor_skeleton_idx ON tenancy.memberships (tenant_id, tenancy._actor_skeleton(actor));

-- New sessions load pg_tenancy at start, for its guards.
SELECT tenancy._preload_in_database();

-- The history of each tenant (tenancy.tenant_events): its creation, changes
-- of status, plan, isolation and owners, and its deletion, however made.
CREATE TRIGGER tenants_events AFTER INSERT OR UPDATE OR DELETE ON tenancy.tenants
    FOR EACH ROW EXECUTE FUNCTION tenancy._record_tenant_event();
CREATE TRIGGER memberships_owner_events AFTER INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy._record_owner_event();
CREATE POLICY tenant_events_read ON tenancy.tenant_events FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));
ALTER TABLE tenancy.tenant_events ALTER COLUMN actor SET DEFAULT tenancy.actor(),
    ALTER COLUMN db_role SET DEFAULT tenancy.db_role();

-- Regions: platform admins read them like the rest of the catalog.
CREATE POLICY platform_admins_read ON tenancy.regions FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));

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

-- Requests about persons: read like the audit log; written only by the
-- functions of personal data.
CREATE POLICY subject_requests_read ON tenancy.subject_requests FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));
