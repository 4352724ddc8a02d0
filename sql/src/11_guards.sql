-- pg_tenancy: guards. A protected table's owner may not switch off what
-- protects it: TRUNCATE (which ignores row level security and row triggers),
-- disabling row level security or the audit trigger, dropping or altering the
-- tenancy policies, or changing the tenant_id column. Platform admins may.

CREATE FUNCTION tenancy.guard_truncate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_truncate';
COMMENT ON FUNCTION tenancy.guard_truncate() IS
    'BEFORE TRUNCATE trigger of protected tables: only platform admins may truncate (it spans every tenant)';

CREATE FUNCTION tenancy.guard_ddl() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_ddl';
COMMENT ON FUNCTION tenancy.guard_ddl() IS
    'refuses DDL that would weaken a protected table unless run by a platform admin';

CREATE EVENT TRIGGER tenancy_guard_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TRIGGER', 'ALTER TRIGGER', 'DROP POLICY', 'ALTER POLICY')
    EXECUTE FUNCTION tenancy.guard_ddl();
