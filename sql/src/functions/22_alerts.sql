-- pg_tenancy: usage alerts (tenancy.alerts, NOTIFY tenancy_alerts).

-- Records the thresholds (80 %, 100 %) of a tenant's limit that a change of
-- its usage from before to after crosses, once per limit, threshold and
-- month, and notifies tenancy_alerts of each new one. Any role may LISTEN,
-- so the payload names only the alert ({"id": ...}), which listeners read
-- from tenancy.alerts under its row security. Called by the members and rows
-- limits.
CREATE OR REPLACE FUNCTION tenancy._raise_alerts(tenant uuid, limit_key text, before numeric, after numeric,
                                                 allowed numeric)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    threshold integer;
    target tenancy.tenants;
    alert tenancy.alerts;
BEGIN
    IF allowed IS NULL OR allowed <= 0 OR after <= before THEN
        RETURN;
    END IF;
    FOREACH threshold IN ARRAY ARRAY[80, 100] LOOP
        CONTINUE WHEN NOT (before * 100 < allowed * threshold AND after * 100 >= allowed * threshold);
        IF target.id IS NULL THEN
            SELECT * INTO target FROM tenancy.tenants t WHERE t.id = _raise_alerts.tenant;
            IF target.id IS NULL THEN
                RETURN;  -- no such tenant: nothing to alert about
            END IF;
        END IF;
        -- The month is UTC's, whatever the session's TimeZone. Under
        -- REPEATABLE READ, an alert committed after this transaction's
        -- snapshot makes the insert a serialization failure: it exists, and
        -- the change that crossed again goes on without one.
        BEGIN
            INSERT INTO tenancy.alerts AS a (tenant_id, tenant, limit_key, threshold, period, usage, "limit", plan)
            VALUES (target.id, target.slug, _raise_alerts.limit_key, threshold,
                    date_trunc('month', now() AT TIME ZONE 'UTC')::date, after, allowed, target.plan)
            ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
            RETURNING a.* INTO alert;
        EXCEPTION WHEN serialization_failure THEN
            alert := NULL;
        END;
        IF alert.id IS NOT NULL THEN
            PERFORM pg_notify('tenancy_alerts', jsonb_build_object('id', alert.id)::text);
            alert := NULL;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy._raise_alerts(uuid, text, numeric, numeric, numeric) IS
    'internal: records and notifies the alert thresholds a change of usage crosses';
REVOKE ALL ON FUNCTION tenancy._raise_alerts(uuid, text, numeric, numeric, numeric) FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.alert_list(tenant text DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS SETOF tenancy.alerts
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF alert_list.tenant IS NULL THEN
        PERFORM tenancy._require_platform_admin('list the alerts of every tenant');
        RETURN QUERY SELECT a.* FROM tenancy.alerts a
                      WHERE a.at >= coalesce(alert_list.since, '-infinity') ORDER BY a.at, a.id;
        RETURN;
    END IF;
    target := tenancy._tenant_for_caller(alert_list.tenant, 'admin', 'read the alerts');
    RETURN QUERY SELECT a.* FROM tenancy.alerts a
                  WHERE a.tenant_id = target.id AND a.at >= coalesce(alert_list.since, '-infinity')
                  ORDER BY a.at, a.id;
END
$$;
COMMENT ON FUNCTION tenancy.alert_list(text, timestamptz) IS
    'usage alerts, oldest first: of every tenant (platform admins), or of one (its owners and admins too)';
