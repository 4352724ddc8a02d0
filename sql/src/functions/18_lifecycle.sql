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

-- Makes a terminating tenant active again, within its grace period.
CREATE OR REPLACE FUNCTION tenancy.restore_tenant(tenant text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin('restore tenants');
    target := tenancy._find_tenant(tenant, true);
    IF target.status <> 'terminating' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is not terminating', target.slug),
            DETAIL = format('It is %s; only a terminating tenant is restored.', target.status),
            HINT = 'tenancy.activate_tenant() makes a suspended or archived tenant active.';
    END IF;
    IF target.purge_after <= now() THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the grace period of tenant "%s" has ended', target.slug),
            DETAIL = format('It ended at %s; a terminating tenant can be restored only until then.',
                            tenancy._shown_time(target.purge_after)),
            HINT = 'tenancy.purge_terminated() deletes it; nothing of it can be restored through pg_tenancy.';
    END IF;
    UPDATE tenancy.tenants
       SET status = 'active', status_reason = NULL, purge_after = NULL, updated_at = now()
     WHERE id = target.id;
END
$$;
COMMENT ON FUNCTION tenancy.restore_tenant(text) IS
    'makes a terminating tenant active again, within its grace period (platform admins only)';

-- Deletes every terminating tenant whose grace period ended by "now", with
-- every row it owns (the trigger tenants_remove_rows), and returns them.
-- Concurrent runs skip the tenants another run is deleting, so it can run
-- from cron at any time; "now" lets a test or a catch-up name the moment.
CREATE OR REPLACE FUNCTION tenancy.purge_terminated(now timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (tenant_id uuid, slug text, purge_after timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin('purge terminated tenants');
    IF purge_terminated.now IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'now must not be null',
            HINT = 'Leave it out to purge the tenants whose grace period has ended.';
    END IF;
    FOR target IN
        SELECT * FROM tenancy.tenants t
         WHERE t.status = 'terminating' AND t.purge_after <= purge_terminated.now
         ORDER BY t.purge_after, t.slug
           FOR UPDATE SKIP LOCKED
    LOOP
        DELETE FROM tenancy.tenants t WHERE t.id = target.id;
        tenant_id := target.id;
        slug := target.slug;
        purge_after := target.purge_after;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.purge_terminated(timestamptz) IS
    'deletes the terminating tenants whose grace period ended by now, with every row they own, and returns '
    'them (platform admins only; safe to run at any time, also concurrently)';

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

-- Trigger on tenancy.tenants: records creation, changes of status, plan and
-- isolation, and deletion.
CREATE OR REPLACE FUNCTION tenancy._record_tenant_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    who text;
BEGIN
    IF tenancy._catalog_loading(TG_RELID) THEN
        RETURN NULL;
    END IF;
    who := tenancy.actor();
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tenancy.tenant_events (tenant_id, tenant, actor, event, "to", details)
        VALUES (NEW.id, NEW.slug, who, 'created', NEW.status::text,
                jsonb_build_object('name', NEW.name, 'plan', NEW.plan, 'isolation', NEW.isolation));
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO tenancy.tenant_events (tenant_id, tenant, actor, event, "from", "to", reason, details)
        VALUES (OLD.id, OLD.slug, who, 'deleted', OLD.status::text, 'deleted', OLD.status_reason,
                jsonb_strip_nulls(jsonb_build_object('name', OLD.name, 'purge_after', OLD.purge_after)));
    ELSE
        IF NEW.status IS DISTINCT FROM OLD.status OR NEW.purge_after IS DISTINCT FROM OLD.purge_after THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, actor, event, "from", "to", reason, details)
            VALUES (NEW.id, NEW.slug, who, 'status', OLD.status::text, NEW.status::text, NEW.status_reason,
                    jsonb_strip_nulls(jsonb_build_object('purge_after', NEW.purge_after)));
        END IF;
        IF NEW.plan IS DISTINCT FROM OLD.plan THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, actor, event, "from", "to")
            VALUES (NEW.id, NEW.slug, who, 'plan', OLD.plan, NEW.plan);
        END IF;
        IF NEW.isolation IS DISTINCT FROM OLD.isolation THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, actor, event, "from", "to")
            VALUES (NEW.id, NEW.slug, who, 'isolation', OLD.isolation::text, NEW.isolation::text);
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
    INSERT INTO tenancy.tenant_events (tenant_id, tenant, actor, event, "from", "to", details)
    VALUES (member.tenant_id, tenant_slug, tenancy.actor(), 'owner',
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
