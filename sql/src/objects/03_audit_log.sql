-- pg_tenancy: the audit trail. tenancy.audit_log is written by the C++
-- trigger tenancy.audit_trigger() (and by the access log writer for
-- platform admins entering a tenant); nobody edits it. It is partitioned by
-- month; tenancy.prune_audit() drops old months and creates coming ones.

CREATE SEQUENCE tenancy.audit_log_id_seq;
COMMENT ON SEQUENCE tenancy.audit_log_id_seq IS 'pg_tenancy: ids of tenancy.audit_log rows';

CREATE TABLE tenancy.audit_log (
    id             bigint NOT NULL DEFAULT pg_catalog.nextval('tenancy.audit_log_id_seq'),
    at             timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
    tenant_id      uuid,
    actor          text NOT NULL,
    db_role        text NOT NULL,
    table_name     text,
    relid          oid,
    operation      text NOT NULL,
    old_row        jsonb,
    new_row        jsonb,
    xid            xid8,
    support_access boolean NOT NULL DEFAULT false,
    CONSTRAINT audit_log_operation_check
        CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'ENTER', 'BACKFILL'))
) PARTITION BY RANGE (at);
COMMENT ON TABLE tenancy.audit_log IS
    'pg_tenancy: one row per change of a protected row (UPDATE: old row, and new values of changed columns), '
    'per TRUNCATE, per platform admin entering a tenant (ENTER), and per table backfilled by protect() (BACKFILL)';
COMMENT ON COLUMN tenancy.audit_log.tenant_id IS 'the tenant of the row itself (not of the session)';
COMMENT ON COLUMN tenancy.audit_log.actor IS 'tenancy.actor(): the login role, or the application user asserted by a service';
COMMENT ON COLUMN tenancy.audit_log.db_role IS 'the session''s outer database role';
COMMENT ON COLUMN tenancy.audit_log.old_row IS 'the row before the change (UPDATE, DELETE)';
COMMENT ON COLUMN tenancy.audit_log.new_row IS 'INSERT: the new row; UPDATE: the new values of the changed columns';
COMMENT ON COLUMN tenancy.audit_log.support_access IS 'a platform admin who is not a member of the tenant did it';

-- Rows land here until tenancy.prune_audit() has created their month.
CREATE TABLE tenancy.audit_log_default PARTITION OF tenancy.audit_log DEFAULT;
COMMENT ON TABLE tenancy.audit_log_default IS 'pg_tenancy: audit rows outside every monthly partition';
-- Each partition has its own index, and the parent none: pg_dump recreates
-- the monthly partitions (they are not part of the extension) with CREATE
-- TABLE, ATTACH PARTITION and CREATE INDEX, and an index on the parent, which
-- CREATE EXTENSION makes first, would already have given each attached
-- partition an index of that name.
CREATE INDEX audit_log_default_tenant_at_idx ON tenancy.audit_log_default (tenant_id, at);

CREATE TABLE tenancy.access_denials (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    at               timestamptz NOT NULL,
    actor            text NOT NULL,
    db_role          text NOT NULL,
    requested_tenant text NOT NULL,
    tenant_id        uuid,
    reason           text NOT NULL,
    message          text NOT NULL,
    last_at          timestamptz NOT NULL,
    attempts         bigint NOT NULL DEFAULT 1,
    CONSTRAINT access_denials_pkey PRIMARY KEY (id),
    CONSTRAINT access_denials_reason_check CHECK (reason IN
        ('unknown_tenant', 'not_member', 'inactive_membership', 'suspended', 'spoofed_actor', 'session_setting')),
    CONSTRAINT access_denials_attempts_check CHECK (attempts > 0)
);
CREATE INDEX access_denials_at_idx ON tenancy.access_denials (at);
CREATE INDEX access_denials_repeat_idx ON tenancy.access_denials (actor, reason, requested_tenant, at);
COMMENT ON TABLE tenancy.access_denials IS
    'pg_tenancy: refused attempts to use a tenant, recorded outside the transaction that caused them (so that '
    'they survive its rollback), repeated attempts aggregated per hour';
COMMENT ON COLUMN tenancy.access_denials.at IS 'when the first of these attempts was refused';
COMMENT ON COLUMN tenancy.access_denials.last_at IS 'when the last of these attempts was refused';
COMMENT ON COLUMN tenancy.access_denials.attempts IS 'how many identical attempts this row stands for';
COMMENT ON COLUMN tenancy.access_denials.requested_tenant IS 'tenancy.tenant as the caller set it';

REVOKE ALL ON tenancy.audit_log, tenancy.audit_log_default, tenancy.access_denials, tenancy.audit_log_id_seq
    FROM PUBLIC;
GRANT SELECT ON tenancy.audit_log TO PUBLIC;
ALTER TABLE tenancy.access_denials ENABLE ROW LEVEL SECURITY;

ALTER TABLE tenancy.audit_log ENABLE ROW LEVEL SECURITY;

SELECT pg_catalog.pg_extension_config_dump('tenancy.audit_log_default', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.access_denials', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.access_denials_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.audit_log_id_seq', '');
