-- pg_tenancy 0.11 -> 0.12, after the functions.

-- Tables in tenant schemas get row level security (wiring/01_triggers.sql),
-- those of 0.11 at once.
CREATE EVENT TRIGGER tenancy_seal_tenant_tables ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE', 'CREATE MATERIALIZED VIEW',
                 'ALTER MATERIALIZED VIEW', 'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE')
    EXECUTE FUNCTION tenancy.seal_tenant_tables();
SELECT tenancy._seal_tenant_table(u.relid) FROM tenancy._unsealed_tenant_tables() u;
