-- pg_tenancy 0.4 -> 0.5, after the functions: the audit log takes one
-- BACKFILL row per backfilled table.
ALTER TABLE tenancy.audit_log DROP CONSTRAINT audit_log_operation_check;
ALTER TABLE tenancy.audit_log ADD CONSTRAINT audit_log_operation_check
    CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'ENTER', 'BACKFILL'));
COMMENT ON TABLE tenancy.audit_log IS
    'pg_tenancy: one row per change of a protected row (UPDATE: old row, and new values of changed columns), '
    'per TRUNCATE, per platform admin entering a tenant (ENTER), and per table backfilled by protect() (BACKFILL)';
