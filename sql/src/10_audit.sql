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
        CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'ENTER'))
) PARTITION BY RANGE (at);
COMMENT ON TABLE tenancy.audit_log IS
    'pg_tenancy: one row per change of a protected row (UPDATE: old row, and new values of changed columns), '
    'per TRUNCATE, and per platform admin entering a tenant (ENTER)';
COMMENT ON COLUMN tenancy.audit_log.tenant_id IS 'the tenant of the row itself (not of the session)';
COMMENT ON COLUMN tenancy.audit_log.actor IS 'tenancy.actor(): the login role, or the application user asserted by a service';
COMMENT ON COLUMN tenancy.audit_log.db_role IS 'the session''s outer database role';
COMMENT ON COLUMN tenancy.audit_log.old_row IS 'the row before the change (UPDATE, DELETE)';
COMMENT ON COLUMN tenancy.audit_log.new_row IS 'INSERT: the new row; UPDATE: the new values of the changed columns';
COMMENT ON COLUMN tenancy.audit_log.support_access IS 'a platform admin who is not a member of the tenant did it';

-- Rows land here until tenancy.prune_audit() has created their month.
CREATE TABLE tenancy.audit_log_default PARTITION OF tenancy.audit_log DEFAULT;
COMMENT ON TABLE tenancy.audit_log_default IS 'pg_tenancy: audit rows outside every monthly partition';
CREATE INDEX audit_log_tenant_at_idx ON tenancy.audit_log (tenant_id, at);

CREATE TABLE tenancy.access_denials (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    at               timestamptz NOT NULL,
    actor            text NOT NULL,
    db_role          text NOT NULL,
    requested_tenant text NOT NULL,
    tenant_id        uuid,
    reason           text NOT NULL,
    message          text NOT NULL,
    CONSTRAINT access_denials_pkey PRIMARY KEY (id),
    CONSTRAINT access_denials_reason_check CHECK (reason IN
        ('unknown_tenant', 'not_member', 'inactive_membership', 'suspended', 'spoofed_user'))
);
CREATE INDEX access_denials_at_idx ON tenancy.access_denials (at);
COMMENT ON TABLE tenancy.access_denials IS
    'pg_tenancy: refused attempts to use a tenant, written in their own transaction so that they survive '
    'the rollback of the statement that caused them';

REVOKE ALL ON tenancy.audit_log, tenancy.audit_log_default, tenancy.access_denials, tenancy.audit_log_id_seq
    FROM PUBLIC;
GRANT SELECT ON tenancy.audit_log TO PUBLIC;
GRANT SELECT ON tenancy.access_denials TO tenancy_admin;

CREATE FUNCTION tenancy.audit_visible(tenant uuid) RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_audit_visible';
COMMENT ON FUNCTION tenancy.audit_visible(uuid) IS
    'whether the caller may read audit rows of a tenant: platform admins always; owners and admins of the '
    'current tenant for that tenant';

ALTER TABLE tenancy.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON tenancy.audit_log FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));

CREATE FUNCTION tenancy.audit_trigger() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_audit_trigger';
COMMENT ON FUNCTION tenancy.audit_trigger() IS
    'AFTER ROW trigger installed by tenancy.protect(): writes one tenancy.audit_log row per change';

-- Membership and tenant changes are audited too: tenant admins see who added
-- whom; the tenant of a tenants row is its own id.
CREATE TRIGGER memberships_audit AFTER INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger();
CREATE TRIGGER tenants_audit AFTER INSERT OR UPDATE OR DELETE ON tenancy.tenants
    FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger('id');

-- Creates the monthly partitions from this month to months_ahead months on,
-- moving any rows of those months out of the default partition first.
CREATE FUNCTION tenancy._ensure_audit_partitions(months_ahead integer)
RETURNS TABLE (action text, partition_name text, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    month_start timestamptz;
    lower_bound timestamptz;
    upper_bound timestamptz;
    name text;
    moved bigint;
BEGIN
    month_start := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    FOR i IN 0 .. months_ahead LOOP
        lower_bound := (month_start AT TIME ZONE 'UTC' + make_interval(months => i)) AT TIME ZONE 'UTC';
        upper_bound := (month_start AT TIME ZONE 'UTC' + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
        name := 'audit_log_' || to_char(lower_bound AT TIME ZONE 'UTC', 'YYYY_MM');
        CONTINUE WHEN to_regclass('tenancy.' || name) IS NOT NULL;
        EXECUTE format('CREATE TABLE tenancy.%I (LIKE tenancy.audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
        EXECUTE format('WITH moved AS (DELETE FROM tenancy.audit_log_default WHERE at >= %L AND at < %L RETURNING *) '
                       'INSERT INTO tenancy.%I SELECT * FROM moved', lower_bound, upper_bound, name);
        GET DIAGNOSTICS moved = ROW_COUNT;
        EXECUTE format('ALTER TABLE tenancy.audit_log ATTACH PARTITION tenancy.%I FOR VALUES FROM (%L) TO (%L)',
                       name, lower_bound, upper_bound);
        EXECUTE format('REVOKE ALL ON tenancy.%I FROM PUBLIC', name);
        action := 'created'; partition_name := 'tenancy.' || name; rows := moved;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._ensure_audit_partitions(integer) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._ensure_audit_partitions(integer) IS
    'internal: creates the coming monthly partitions of tenancy.audit_log';

CREATE FUNCTION tenancy.prune_audit(older_than interval)
RETURNS TABLE (action text, partition_name text, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cutoff timestamptz;
    part record;
    removed bigint;
BEGIN
    PERFORM tenancy._require_platform_admin('prune the audit log');
    IF older_than IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'older_than must not be null';
    END IF;
    IF older_than <= interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('older_than must be a positive interval, not "%s"', older_than),
            HINT = 'Pass how long to keep audit rows, for example interval ''90 days''.';
    END IF;
    cutoff := now() - older_than;

    FOR part IN
        SELECT c.oid::regclass AS rel,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'tenancy.audit_log'::regclass
           AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
         ORDER BY 2
    LOOP
        CONTINUE WHEN part.upper_bound > cutoff;
        partition_name := part.rel::text;
        EXECUTE format('SELECT count(*) FROM %s', part.rel) INTO removed;
        EXECUTE format('DROP TABLE %s', part.rel);
        action := 'dropped'; rows := removed;
        RETURN NEXT;
    END LOOP;

    RETURN QUERY
        WITH stray AS (DELETE FROM tenancy.audit_log_default d WHERE d.at < cutoff RETURNING 1),
             denials AS (DELETE FROM tenancy.access_denials d WHERE d.at < cutoff RETURNING 1)
        SELECT 'deleted', 'tenancy.audit_log_default', count(*) FROM stray HAVING count(*) > 0
        UNION ALL
        SELECT 'deleted', 'tenancy.access_denials', count(*) FROM denials HAVING count(*) > 0;

    RETURN QUERY SELECT * FROM tenancy._ensure_audit_partitions(2);
END
$$;
COMMENT ON FUNCTION tenancy.prune_audit(interval) IS
    'retention: drops audit partitions (and denials) older than the interval and creates the coming months '
    '(platform admins only); run it daily, for example with pg_cron';

SELECT pg_catalog.pg_extension_config_dump('tenancy.audit_log_default', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.access_denials', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.audit_log_id_seq', '');
