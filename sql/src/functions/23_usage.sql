-- pg_tenancy: usage metering. tenancy.usage() and tenancy.usage_summary()
-- read it; tenancy.collect_usage() adds rows per table and storage.

CREATE OR REPLACE FUNCTION tenancy._flush_usage() RETURNS boolean
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_flush_usage';
COMMENT ON FUNCTION tenancy._flush_usage() IS
    'internal: queues this session''s committed usage counts now and starts the collector, once per transaction '
    '(false when done already)';

-- The name usage keeps a table by (schema.table as row limits write it; the
-- oid of a table dropped since).
CREATE OR REPLACE FUNCTION tenancy._usage_table_name(target oid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(tenancy._limit_table_name(target), target::text)
$$;
COMMENT ON FUNCTION tenancy._usage_table_name(oid) IS 'internal: a table''s name in tenancy.usage_daily';

-- Called by the collector: adds metered writes to tenancy.usage_daily.
CREATE OR REPLACE FUNCTION tenancy._record_usage(ats timestamptz[], tenants uuid[], relids oid[],
                                                 inserted bigint[], updated bigint[], deleted bigint[])
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO tenancy.usage_daily AS u (tenant_id, day, table_name, inserted, updated, deleted)
    SELECT r.tenant, (r.at AT TIME ZONE 'UTC')::date, tenancy._usage_table_name(r.relid),
           sum(r.inserted), sum(r.updated), sum(r.deleted)
      FROM unnest(ats, tenants, relids, inserted, updated, deleted) r(at, tenant, relid, inserted, updated, deleted)
      JOIN tenancy.tenants t ON t.id = r.tenant
     GROUP BY 1, 2, 3
    ON CONFLICT ON CONSTRAINT usage_daily_pkey DO UPDATE
       SET inserted = u.inserted + excluded.inserted, updated = u.updated + excluded.updated,
           deleted = u.deleted + excluded.deleted
$$;
COMMENT ON FUNCTION tenancy._record_usage(timestamptz[], uuid[], oid[], bigint[], bigint[], bigint[]) IS
    'internal: the collector adds metered writes to tenancy.usage_daily';

-- Called by the collector: records the actors who used tenants.
CREATE OR REPLACE FUNCTION tenancy._record_actors(ats timestamptz[], tenants uuid[], actors text[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO tenancy.usage_actors (tenant_id, day, actor)
    SELECT DISTINCT r.tenant, (r.at AT TIME ZONE 'UTC')::date, r.actor
      FROM unnest(ats, tenants, actors) r(at, tenant, actor)
      JOIN tenancy.tenants t ON t.id = r.tenant
    ON CONFLICT ON CONSTRAINT usage_actors_pkey DO NOTHING
$$;
COMMENT ON FUNCTION tenancy._record_actors(timestamptz[], uuid[], text[]) IS
    'internal: the collector records the actors who used tenants';

-- Makes the usage metered so far readable: this session's counts are queued
-- and the queue written, waiting at most timeout for the collector; once per
-- transaction (a report reading every tenant waits once).
CREATE OR REPLACE FUNCTION tenancy._settle_usage(timeout interval DEFAULT '2 seconds') RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
BEGIN
    IF NOT tenancy._flush_usage() THEN
        RETURN true;
    END IF;
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
COMMENT ON FUNCTION tenancy._settle_usage(interval) IS
    'internal: queues this session''s usage counts and waits for the collector to write the queue';

-- A tenant's storage estimate in MB at its latest collection (NULL: never
-- collected).
CREATE OR REPLACE FUNCTION tenancy._storage_mb(tenant uuid) RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT round(sum(u.bytes) / 1048576.0, 3) FROM tenancy.usage_daily u
     WHERE u.tenant_id = _storage_mb.tenant
       AND u.day = (SELECT max(l.day) FROM tenancy.usage_daily l WHERE l.tenant_id = _storage_mb.tenant
                                                                  AND l.bytes IS NOT NULL)
$$;
COMMENT ON FUNCTION tenancy._storage_mb(uuid) IS 'internal: a tenant''s storage estimate at its latest collection';
REVOKE ALL ON FUNCTION tenancy._storage_mb(uuid) FROM PUBLIC;

-- Counts, for one UTC day, each protected table's rows per tenant (direct
-- scans that run no code of the tables' owners) and estimates the bytes
-- they take; raises storage_mb alerts. For cron, once a day or more often.
CREATE OR REPLACE FUNCTION tenancy.collect_usage(day date DEFAULT (now() AT TIME ZONE 'UTC')::date)
RETURNS TABLE (tenants bigint, tables bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    protected record;
    storage record;
    storage_before jsonb;
BEGIN
    PERFORM tenancy._require_platform_admin('collect usage');
    IF collect_usage.day IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'day must not be null';
    END IF;
    SELECT jsonb_object_agg(b.tenant_id, b.mb) INTO storage_before
      FROM (SELECT u.tenant_id, round(sum(u.bytes) / 1048576.0, 3) AS mb FROM tenancy.usage_daily u
             WHERE u.day = collect_usage.day AND u.bytes IS NOT NULL GROUP BY u.tenant_id) b;
    tables := 0;
    FOR protected IN SELECT p.relid, tenancy._usage_table_name(p.relid) AS name,
                            pg_total_relation_size(p.relid) AS size
                       FROM tenancy.protected_tables p ORDER BY p.relid LOOP
        WITH counted AS (
            SELECT t.id AS tenant_id, tenancy._count_tenant_rows(protected.relid, t.id) AS rows
              FROM tenancy.tenants t),
        total AS (SELECT sum(c.rows) AS rows FROM counted c)
        INSERT INTO tenancy.usage_daily AS u (tenant_id, day, table_name, rows, bytes)
        SELECT c.tenant_id, collect_usage.day, protected.name, c.rows,
               CASE WHEN total.rows > 0 THEN (protected.size * c.rows / total.rows)::bigint ELSE 0 END
          FROM counted c CROSS JOIN total
         WHERE c.rows > 0 OR EXISTS (SELECT 1 FROM tenancy.usage_daily e
                                      WHERE e.tenant_id = c.tenant_id AND e.day = collect_usage.day
                                        AND e.table_name = protected.name)
        ON CONFLICT ON CONSTRAINT usage_daily_pkey DO UPDATE SET rows = excluded.rows, bytes = excluded.bytes;
        tables := tables + 1;
    END LOOP;
    -- Storage alerts: the estimate crossing 80 % or 100 % of storage_mb.
    FOR storage IN
        SELECT t.id, round(sum(u.bytes) / 1048576.0, 3) AS mb,
               (tenancy._effective_limits(t) ->> 'storage_mb')::numeric AS allowed
          FROM tenancy.tenants t JOIN tenancy.usage_daily u ON u.tenant_id = t.id AND u.day = collect_usage.day
         GROUP BY t.id LOOP
        CONTINUE WHEN storage.allowed IS NULL OR storage.mb IS NULL;
        PERFORM tenancy._raise_alerts(storage.id, 'storage_mb',
                                      coalesce((storage_before ->> storage.id::text)::numeric, 0), storage.mb,
                                      storage.allowed);
    END LOOP;
    tenants := (SELECT count(DISTINCT u.tenant_id) FROM tenancy.usage_daily u
                 WHERE u.day = collect_usage.day AND u.rows IS NOT NULL);
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION tenancy.collect_usage(date) IS
    'counts each protected table''s rows per tenant for a day, estimates their storage and raises storage_mb '
    'alerts (platform admins; for cron)';

-- A tenant's usage per UTC day from "from" to "to": rows written, rows held
-- and storage at the day's last collection, active actors, and per table.
CREATE OR REPLACE FUNCTION tenancy.usage(tenant text, "from" date DEFAULT NULL, "to" date DEFAULT NULL)
RETURNS TABLE (day date, inserted bigint, updated bigint, deleted bigint, rows bigint, storage_mb numeric,
               active_actors bigint, tables jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'read the usage');
    last_day date := coalesce(usage."to", (now() AT TIME ZONE 'UTC')::date);
    first_day date := coalesce(usage."from", last_day - 29);
BEGIN
    IF first_day > last_day THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('the usage period ends (%s) before it starts (%s)', to_char(last_day, 'YYYY-MM-DD'),
                             to_char(first_day, 'YYYY-MM-DD'));
    END IF;
    IF last_day - first_day >= 366 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('a usage period has at most 366 days, not %s', last_day - first_day + 1),
            HINT = 'Ask for one year at a time.';
    END IF;
    PERFORM tenancy._settle_usage();
    RETURN QUERY
    SELECT d.day::date,
           coalesce(sum(u.inserted), 0)::bigint, coalesce(sum(u.updated), 0)::bigint,
           coalesce(sum(u.deleted), 0)::bigint, sum(u.rows)::bigint,
           round(sum(u.bytes) / 1048576.0, 3),
           (SELECT count(*) FROM tenancy.usage_actors a WHERE a.tenant_id = target.id AND a.day = d.day),
           coalesce(jsonb_object_agg(u.table_name, jsonb_strip_nulls(jsonb_build_object(
               'inserted', u.inserted, 'updated', u.updated, 'deleted', u.deleted, 'rows', u.rows,
               'bytes', u.bytes))) FILTER (WHERE u.table_name IS NOT NULL), '{}')
      FROM generate_series(first_day, last_day, interval '1 day') d(day)
      LEFT JOIN tenancy.usage_daily u ON u.tenant_id = target.id AND u.day = d.day
     GROUP BY d.day ORDER BY d.day;
END
$$;
COMMENT ON FUNCTION tenancy.usage(text, date, date) IS
    'a tenant''s usage per UTC day (default: the last 30): rows written, rows and storage at the day''s '
    'collection, active actors, per table (its owners and admins, platform admins)';

-- Every tenant's usage on one UTC day, with its plan's storage limit.
CREATE OR REPLACE FUNCTION tenancy.usage_summary(day date DEFAULT NULL)
RETURNS TABLE (tenant text, plan text, inserted bigint, updated bigint, deleted bigint, rows bigint,
               storage_mb numeric, storage_limit_mb numeric, active_actors bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    chosen date := coalesce(usage_summary.day, (now() AT TIME ZONE 'UTC')::date);
BEGIN
    PERFORM tenancy._require_platform_admin('read the usage of every tenant');
    PERFORM tenancy._settle_usage();
    RETURN QUERY
    SELECT t.slug::text, t.plan,
           coalesce(sum(u.inserted), 0)::bigint, coalesce(sum(u.updated), 0)::bigint,
           coalesce(sum(u.deleted), 0)::bigint, sum(u.rows)::bigint, round(sum(u.bytes) / 1048576.0, 3),
           (tenancy._effective_limits(t) ->> 'storage_mb')::numeric,
           (SELECT count(*) FROM tenancy.usage_actors a WHERE a.tenant_id = t.id AND a.day = chosen)
      FROM tenancy.tenants t
      LEFT JOIN tenancy.usage_daily u ON u.tenant_id = t.id AND u.day = chosen
     GROUP BY t.id
     ORDER BY t.slug;
END
$$;
COMMENT ON FUNCTION tenancy.usage_summary(date) IS
    'every tenant''s usage on one UTC day (default: today): rows written, rows, storage and its limit, active '
    'actors (platform admins)';

REVOKE ALL ON FUNCTION tenancy._flush_usage(), tenancy._record_usage(timestamptz[], uuid[], oid[], bigint[], bigint[], bigint[]),
    tenancy._record_actors(timestamptz[], uuid[], text[]), tenancy._settle_usage(interval) FROM PUBLIC;
