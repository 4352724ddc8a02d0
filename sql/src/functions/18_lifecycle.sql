-- pg_tenancy: termination with a grace period, restoration, purge, and the
-- history of each tenant (tenancy.tenant_events). Platform admins change;
-- the history is also read by the tenant's owners and admins.
--
-- 0.7 adds the status label 'terminating' in the same transaction that
-- creates these functions on an update: SQL functions are parsed when they
-- are created, so the label appears only in PL/pgSQL bodies (parsed when
-- they first run) or compared as text.

-- Shows a moment to the second, with its offset from UTC, for messages.
CREATE OR REPLACE FUNCTION tenancy._shown_time(at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
    SELECT to_char(at, 'YYYY-MM-DD HH24:MI:SSOF')
$$;
COMMENT ON FUNCTION tenancy._shown_time(timestamptz) IS 'internal: a moment to the second, for messages';

-- Returns the tenant when rows may be written into it, and raises when it is
-- archived or terminating (for everybody), or suspended (for all but
-- platform admins): the rule of protected tables' policies, for the paths
-- that place rows without them (backfill, online protection). NULL passes.
CREATE OR REPLACE FUNCTION tenancy._require_writable_tenant(tenant uuid) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    SELECT * INTO target FROM tenancy.tenants t WHERE t.id = _require_writable_tenant.tenant;
    IF target.status IN ('archived', 'terminating')
       OR (target.status = 'suspended' AND NOT tenancy.is_platform_admin()) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is %s', target.slug, target.status),
            DETAIL = format('No rows are written into a %s tenant.', target.status);
    END IF;
    RETURN tenant;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_writable_tenant(uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_writable_tenant(uuid) IS
    'internal: the tenant, or an error when it takes no writes (archived, terminating; suspended for members)';

-- Starts the termination of a tenant: it becomes read-only at once, stays
-- restorable for the grace period, and is deleted by the first
-- tenancy.purge_terminated() after it. Returns when the grace period ends.
CREATE OR REPLACE FUNCTION tenancy.terminate_tenant(tenant text, grace interval DEFAULT '30 days',
                                                    reason text DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    ends timestamptz;
BEGIN
    PERFORM tenancy._require_platform_admin('terminate tenants');
    IF grace IS NULL OR now() + grace < now() THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid grace period "%s"', coalesce(grace::text, 'null')),
            DETAIL = 'The grace period is how long the tenant can still be restored; it cannot be negative.',
            HINT = 'Give an interval such as ''30 days'', or ''0'' to let the next purge delete the tenant.';
    END IF;
    target := tenancy._find_tenant(tenant, true);
    IF target.status = 'terminating' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is already terminating', target.slug),
            DETAIL = format('Its grace period ends at %s.', tenancy._shown_time(target.purge_after)),
            HINT = 'Restore it with tenancy.restore_tenant() first to start another grace period.';
    END IF;
    ends := now() + grace;
    UPDATE tenancy.tenants
       SET status = 'terminating', status_reason = reason, purge_after = ends, updated_at = now()
     WHERE id = target.id;
    RETURN ends;
END
$$;
COMMENT ON FUNCTION tenancy.terminate_tenant(text, interval, text) IS
    'makes a tenant read-only and schedules its deletion after the grace period (platform admins only); '
    'returns when the grace period ends';

-- Takes a terminating tenant back to the status it had before (active,
-- suspended or archived, with that status's reason), within its grace period.
CREATE OR REPLACE FUNCTION tenancy.restore_tenant(tenant text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    termination tenancy.tenant_events;
BEGIN
    PERFORM tenancy._require_platform_admin('restore tenants');
    target := tenancy._find_tenant(tenant, true);
    IF target.status <> 'terminating' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is not terminating', target.slug),
            DETAIL = format('It is %s; only a terminating tenant is restored.', target.status),
            HINT = 'tenancy.activate_tenant() makes a suspended or archived tenant active.';
    END IF;
    -- The moment of the call, not of the transaction's start.
    IF target.purge_after <= clock_timestamp() THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the grace period of tenant "%s" has ended', target.slug),
            DETAIL = format('It ended at %s; a terminating tenant can be restored only until then.',
                            tenancy._shown_time(target.purge_after)),
            HINT = 'tenancy.purge_terminated() deletes it; nothing of it can be restored through pg_tenancy.';
    END IF;
    SELECT * INTO termination FROM tenancy.tenant_events e
     WHERE e.tenant_id = target.id AND e.event = 'status' AND e."to" = 'terminating'
     ORDER BY e.id DESC LIMIT 1;
    UPDATE tenancy.tenants
       SET status = coalesce(termination."from", 'active')::tenancy.tenant_status,
           status_reason = CASE WHEN termination."from" IN ('suspended', 'archived')
                                THEN termination.details->>'previous_reason' END,
           purge_after = NULL, updated_at = now()
     WHERE id = target.id;
END
$$;
COMMENT ON FUNCTION tenancy.restore_tenant(text) IS
    'takes a terminating tenant back to the status it had before, within its grace period (platform admins only)';

-- Deletes every terminating tenant whose grace period ended by "now", each
-- with every row it owns (the trigger tenants_remove_rows), and returns them.
-- Each tenant goes in a subtransaction of its own, waiting at most lock_wait
-- for its row and for the transactions still writing into it: a tenant that
-- cannot go now (busy, or a table owner's trigger keeping rows) is returned
-- with purged false and the reason, and the others go on; the next run tries
-- it again. Runs at the same time as another purge or a restore wait for them
-- and then find the tenant gone or active. "now" lets a test or a catch-up
-- name the moment.
CREATE OR REPLACE FUNCTION tenancy.purge_terminated(now timestamptz DEFAULT pg_catalog.now(),
                                                    lock_wait interval DEFAULT '5 seconds')
RETURNS TABLE (tenant_id uuid, slug text, purge_after timestamptz, purged boolean, problem text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '5s' AS $$
DECLARE
    candidate record;
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin('purge terminated tenants');
    IF purge_terminated.now IS NULL OR lock_wait IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = format('%s must not be null', CASE WHEN lock_wait IS NULL THEN 'lock_wait' ELSE 'now' END),
            HINT = 'Leave it out to purge the tenants whose grace period has ended, waiting at most 5 seconds for each.';
    END IF;
    IF lock_wait < interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid lock_wait "%s"', lock_wait),
            DETAIL = 'lock_wait is how long to wait for each tenant; it cannot be negative (0 waits without limit).';
    END IF;
    -- Local to this function (its SET clause): 0 waits without limit.
    PERFORM set_config('lock_timeout', (extract(epoch FROM lock_wait) * 1000)::bigint::text, true);
    FOR candidate IN
        SELECT t.id, t.slug, t.purge_after FROM tenancy.tenants t
         WHERE t.status = 'terminating' AND t.purge_after <= purge_terminated.now
         ORDER BY t.purge_after, t.slug
    LOOP
        tenant_id := candidate.id;
        slug := candidate.slug;
        purge_after := candidate.purge_after;
        BEGIN
            SELECT * INTO target FROM tenancy.tenants t
             WHERE t.id = candidate.id AND t.status = 'terminating' AND t.purge_after <= purge_terminated.now
               FOR UPDATE;
            CONTINUE WHEN NOT FOUND;
            DELETE FROM tenancy.tenants t WHERE t.id = target.id;
            purged := true;
            problem := NULL;
        EXCEPTION WHEN OTHERS THEN
            purged := false;
            problem := SQLERRM;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.purge_terminated(timestamptz, interval) IS
    'deletes the terminating tenants whose grace period ended by now, each with every row it owns, and returns '
    'them; a tenant that cannot go within lock_wait comes back with purged false and the problem (platform admins '
    'only; safe to run at any time, also concurrently)';

-- The history of one tenant, oldest first: its owners and admins, and
-- platform admins, who also get the history of deleted tenants by slug.
CREATE OR REPLACE FUNCTION tenancy.tenant_event_list(tenant text) RETURNS SETOF tenancy.tenant_events
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF tenancy.is_platform_admin() AND tenant IS NOT NULL THEN
        target := tenancy._lookup_tenant(tenant);
        IF target.id IS NULL THEN
            RETURN QUERY SELECT e.* FROM tenancy.tenant_events e
                          WHERE e.tenant = tenant_event_list.tenant OR e.tenant_id::text = lower(tenant_event_list.tenant)
                          ORDER BY e.at, e.id;
            IF NOT FOUND THEN
                PERFORM tenancy._find_tenant(tenant);
            END IF;
            RETURN;
        END IF;
    END IF;
    target := tenancy._tenant_for_caller(tenant, 'admin', 'read the events');
    RETURN QUERY SELECT e.* FROM tenancy.tenant_events e WHERE e.tenant_id = target.id ORDER BY e.at, e.id;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_event_list(text) IS
    'the events of a tenant, oldest first (its owners and admins; platform admins, also of deleted tenants)';

-- Says whether a COPY FROM (pg_restore, a plain dump) is loading a catalog
-- table: its rows' events come with the dump, so the triggers add none.
CREATE OR REPLACE FUNCTION tenancy._catalog_loading(relid oid) RETURNS boolean
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'tenancy_catalog_loading';
COMMENT ON FUNCTION tenancy._catalog_loading(oid) IS
    'internal: whether a COPY FROM is restoring this catalog table';

-- Trigger on tenancy.tenants: records creation, changes of status, plan,
-- isolation and region, and deletion.
CREATE OR REPLACE FUNCTION tenancy._record_tenant_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF tenancy._catalog_loading(TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "to", details)
        VALUES (NEW.id, NEW.slug, 'created', NEW.status::text,
                jsonb_build_object('name', NEW.name, 'plan', NEW.plan, 'isolation', NEW.isolation,
                                   'region', NEW.region));
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to", reason, details)
        VALUES (OLD.id, OLD.slug, 'deleted', OLD.status::text, 'deleted', OLD.status_reason,
                jsonb_strip_nulls(jsonb_build_object('name', OLD.name, 'purge_after', OLD.purge_after)));
    ELSE
        IF NEW.status IS DISTINCT FROM OLD.status OR NEW.purge_after IS DISTINCT FROM OLD.purge_after
           OR NEW.status_reason IS DISTINCT FROM OLD.status_reason THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to", reason, details)
            VALUES (NEW.id, NEW.slug, 'status', OLD.status::text, NEW.status::text, NEW.status_reason,
                    jsonb_strip_nulls(jsonb_build_object('purge_after', NEW.purge_after,
                                                         'previous_reason', OLD.status_reason)));
        END IF;
        IF NEW.plan IS DISTINCT FROM OLD.plan THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to")
            VALUES (NEW.id, NEW.slug, 'plan', OLD.plan, NEW.plan);
        END IF;
        IF NEW.isolation IS DISTINCT FROM OLD.isolation THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to")
            VALUES (NEW.id, NEW.slug, 'isolation', OLD.isolation::text, NEW.isolation::text);
        END IF;
        IF NEW.region IS DISTINCT FROM OLD.region THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to")
            VALUES (NEW.id, NEW.slug, 'region', OLD.region, NEW.region);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION tenancy._record_tenant_event() IS
    'internal: trigger on tenancy.tenants writing tenancy.tenant_events';

-- Trigger on tenancy.memberships: records an actor becoming or ceasing to be
-- an active owner (not when the tenant itself is being deleted).
CREATE OR REPLACE FUNCTION tenancy._record_owner_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    was_owner boolean := false;
    is_owner boolean := false;
    member tenancy.memberships;
    tenant_slug text;
BEGIN
    IF tenancy._catalog_loading(TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        was_owner := OLD.role = 'owner' AND OLD.is_active;
        member := OLD;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        is_owner := NEW.role = 'owner' AND NEW.is_active;
        member := NEW;
    END IF;
    IF was_owner = is_owner THEN
        RETURN NULL;
    END IF;
    SELECT t.slug INTO tenant_slug FROM tenancy.tenants t WHERE t.id = member.tenant_id;
    IF tenant_slug IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to", details)
    VALUES (member.tenant_id, tenant_slug, 'owner',
            CASE WHEN was_owner THEN member.actor END, CASE WHEN is_owner THEN member.actor END,
            CASE WHEN TG_OP = 'DELETE' THEN jsonb_build_object('membership', 'removed')
                 ELSE jsonb_build_object('role', NEW.role, 'is_active', NEW.is_active) END);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION tenancy._record_owner_event() IS
    'internal: trigger on tenancy.memberships writing owner events into tenancy.tenant_events';

-- The triggers only: the functions above check their callers' rights.
REVOKE ALL ON FUNCTION tenancy._record_tenant_event(), tenancy._record_owner_event(), tenancy._shown_time(timestamptz),
    tenancy._catalog_loading(oid) FROM PUBLIC;
