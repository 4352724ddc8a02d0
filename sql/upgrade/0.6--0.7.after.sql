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
