-- pg_tenancy: the triggers of database-mode tenants (functions/33_tenant_databases.sql).

-- In the control database: changes of what a tenant's database keeps a
-- copy of reach it before the transaction commits.
CREATE CONSTRAINT TRIGGER memberships_reach_tenant_database
    AFTER INSERT OR UPDATE OR DELETE ON tenancy.memberships
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tenancy._tenant_database_changed();
CREATE CONSTRAINT TRIGGER tenants_reach_tenant_database
    AFTER UPDATE ON tenancy.tenants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tenancy._tenant_database_changed();
CREATE CONSTRAINT TRIGGER plans_reach_tenant_databases
    AFTER UPDATE ON tenancy.plans
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tenancy._tenant_database_changed();
CREATE CONSTRAINT TRIGGER platform_grants_reach_tenant_databases
    AFTER INSERT OR UPDATE OR DELETE ON tenancy.platform_grants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tenancy._tenant_database_changed();
-- A tenant's database goes once the transaction that removed the tenant commits.
CREATE TRIGGER tenant_databases_drop AFTER DELETE ON tenancy.tenant_databases
    FOR EACH ROW EXECUTE FUNCTION tenancy._drop_tenant_database();

-- In a tenant's own database: its catalog is a copy that only pg_tenancy's
-- worker writes.
CREATE TRIGGER tenants_managed_elsewhere BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.tenants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._refuse_bound_catalog_change();
CREATE TRIGGER memberships_managed_elsewhere BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.memberships
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._refuse_bound_catalog_change();
CREATE TRIGGER plans_managed_elsewhere BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.plans
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._refuse_bound_catalog_change();
CREATE TRIGGER regions_managed_elsewhere BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.regions
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._refuse_bound_catalog_change();
CREATE TRIGGER platform_grants_managed_elsewhere
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.platform_grants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._refuse_bound_catalog_change();
CREATE TRIGGER database_binding_managed_elsewhere
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.database_binding
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._refuse_bound_catalog_change();
