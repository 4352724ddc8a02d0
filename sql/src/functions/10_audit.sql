-- pg_tenancy: the functions of the audit trail (see objects/03_audit_log.sql).

CREATE OR REPLACE FUNCTION tenancy.audit_visible(tenant uuid) RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_audit_visible';
COMMENT ON FUNCTION tenancy.audit_visible(uuid) IS
    'whether the caller may read audit rows of a tenant: platform admins always; owners and admins of the '
    'current tenant for that tenant';

CREATE OR REPLACE FUNCTION tenancy.audit_trigger() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_audit_trigger';
COMMENT ON FUNCTION tenancy.audit_trigger() IS
    'AFTER ROW trigger installed by tenancy.protect(): writes one tenancy.audit_log row per change';
-- Only the extension attaches it (creating a trigger needs EXECUTE), and it
-- refuses to run on any table but a protected one or its own catalog.
REVOKE ALL ON FUNCTION tenancy.audit_trigger() FROM PUBLIC;

-- Creates the monthly partitions from this month to months_ahead months on,
-- each with its index (see objects/03_audit_log.sql), moving any rows of
-- those months out of the default partition first.
CREATE OR REPLACE FUNCTION tenancy._ensure_audit_partitions(months_ahead integer)
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
        EXECUTE format('CREATE INDEX %I ON tenancy.%I (tenant_id, at)', name || '_tenant_at_idx', name);
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

CREATE OR REPLACE FUNCTION tenancy.prune_audit(older_than interval)
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
             denials AS (DELETE FROM tenancy.access_denials d WHERE d.last_at < cutoff RETURNING 1)
        SELECT 'deleted', 'tenancy.audit_log_default', count(*) FROM stray HAVING count(*) > 0
        UNION ALL
        SELECT 'deleted', 'tenancy.access_denials', count(*) FROM denials HAVING count(*) > 0;

    RETURN QUERY SELECT * FROM tenancy._ensure_audit_partitions(2);
END
$$;
COMMENT ON FUNCTION tenancy.prune_audit(interval) IS
    'retention: drops audit partitions (and denials) older than the interval and creates the coming months '
    '(platform admins only); run it daily, for example with pg_cron';

-- Writes a batch of queued denials; called by the collector worker
-- (extension/denial_collector.cpp). Attempts of the same actor and role, for
-- the same requested tenant and reason, within an hour of a row's first
-- attempt, add to that row: a storm of refusals stays a few rows.
CREATE OR REPLACE FUNCTION tenancy._record_denials(
    attempted_at timestamptz[], actors text[], db_roles text[], requested_tenants text[], tenant_ids uuid[],
    reasons text[], messages text[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    attempt record;
BEGIN
    FOR attempt IN
        SELECT e.actor, e.db_role, e.requested_tenant, e.reason, min(e.at) AS first_at, max(e.at) AS last_at,
               count(*) AS attempts, (array_agg(e.tenant_id ORDER BY e.at))[1] AS tenant_id,
               (array_agg(e.message ORDER BY e.at))[1] AS message
          FROM unnest(attempted_at, actors, db_roles, requested_tenants, tenant_ids, reasons, messages)
               AS e(at, actor, db_role, requested_tenant, tenant_id, reason, message)
         GROUP BY e.actor, e.db_role, e.requested_tenant, e.reason
    LOOP
        UPDATE tenancy.access_denials d
           SET last_at = greatest(d.last_at, attempt.last_at), attempts = d.attempts + attempt.attempts
         WHERE d.id = (SELECT max(r.id) FROM tenancy.access_denials r
                        WHERE r.actor = attempt.actor AND r.reason = attempt.reason
                          AND r.requested_tenant = attempt.requested_tenant AND r.db_role = attempt.db_role
                          AND r.at > attempt.first_at - interval '1 hour');
        IF NOT FOUND THEN
            INSERT INTO tenancy.access_denials
                   (at, actor, db_role, requested_tenant, tenant_id, reason, message, last_at, attempts)
            VALUES (attempt.first_at, attempt.actor, attempt.db_role, attempt.requested_tenant, attempt.tenant_id,
                    attempt.reason, attempt.message, attempt.last_at, attempt.attempts);
        END IF;
    END LOOP;
END
$$;

-- Writes a batch of queued platform admin entries into the audit log;
-- called by the collector worker.
CREATE OR REPLACE FUNCTION tenancy._record_entries(
    entered_at timestamptz[], tenant_ids uuid[], actors text[], db_roles text[], xids xid8[])
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO tenancy.audit_log (at, tenant_id, actor, db_role, operation, support_access, xid)
    SELECT e.at, e.tenant_id, e.actor, e.db_role, 'ENTER', true, e.xid
      FROM unnest(entered_at, tenant_ids, actors, db_roles, xids) AS e(at, tenant_id, actor, db_role, xid)
$$;

REVOKE ALL ON FUNCTION tenancy._record_denials(timestamptz[], text[], text[], text[], uuid[], text[], text[]),
    tenancy._record_entries(timestamptz[], uuid[], text[], text[], xid8[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._record_denials(timestamptz[], text[], text[], text[], uuid[], text[], text[]) IS
    'internal: writes queued denials into tenancy.access_denials, aggregating repeated attempts';
COMMENT ON FUNCTION tenancy._record_entries(timestamptz[], uuid[], text[], text[], xid8[]) IS
    'internal: writes queued platform admin entries into tenancy.audit_log';

-- Returns how many access events are queued and not yet written.
CREATE OR REPLACE FUNCTION tenancy._access_log_pending() RETURNS bigint
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'tenancy_access_log_pending';
REVOKE ALL ON FUNCTION tenancy._access_log_pending() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._access_log_pending() IS 'internal: number of queued access events';

CREATE OR REPLACE FUNCTION tenancy.access_log_pending() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('read the queue of access events');
    RETURN tenancy._access_log_pending();
END
$$;
COMMENT ON FUNCTION tenancy.access_log_pending() IS
    'how many denials and platform admin entries are queued and not yet written into tenancy.access_denials '
    'and tenancy.audit_log (platform admins only; normally 0 within a fraction of a second)';

-- Waits until every queued access event is written, for at most timeout;
-- returns whether the queue is empty. For tests and maintenance scripts.
CREATE OR REPLACE FUNCTION tenancy.wait_for_access_log(timeout interval DEFAULT '10 seconds') RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + coalesce(timeout, interval '10 seconds');
BEGIN
    PERFORM tenancy._require_platform_admin('wait for the queue of access events');
    LOOP
        IF tenancy._access_log_pending() = 0 THEN
            RETURN true;
        END IF;
        EXIT WHEN clock_timestamp() >= deadline;
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN false;
END
$$;
COMMENT ON FUNCTION tenancy.wait_for_access_log(interval) IS
    'waits until queued denials and platform admin entries are written (platform admins only); returns '
    'whether they all were within the timeout';
