-- pg_tenancy 0.10 -> 0.11, after the functions: nothing to change.
COMMENT ON TYPE tenancy.isolation IS
    'how a tenant''s data is isolated: rows in shared tables, a schema of its own, or a database of its own';

-- A schema-mode tenant's schema goes with it (wiring/01_triggers.sql).
CREATE TRIGGER tenants_drop_schema AFTER DELETE ON tenancy.tenants
    FOR EACH ROW WHEN (OLD.schema_name IS NOT NULL) EXECUTE FUNCTION tenancy._drop_tenant_schema();
