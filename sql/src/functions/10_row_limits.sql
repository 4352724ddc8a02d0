-- pg_tenancy: row limits. A protected table that some plan's or tenant's
-- row limit names gets four triggers: tenancy_row_count (after each INSERT
-- statement, with its transition table), tenancy_row_count_delete (after
-- each DELETE statement), tenancy_row_move (a row a bypassing role moves to
-- another tenant) and tenancy_row_count_reset (TRUNCATE). When they are
-- installed, the table's rows are counted per tenant in full (the trigger
-- creation's lock keeps writers out meanwhile); from then on the counts in
-- tenancy.row_counts move with each statement, and a statement that takes a
-- tenant over its limit is refused. Tables no limit names have none of
-- this: their writes pay nothing.

-- The canonical name of a table in row limits: schema.table, each part
-- quoted as an identifier only when it needs to be.
CREATE OR REPLACE FUNCTION tenancy._limit_table_name(target oid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target
$$;
COMMENT ON FUNCTION tenancy._limit_table_name(oid) IS 'internal: a table''s name as row limits write it';

-- The row limit of a tenant for a table, by the name its limits use (NULL:
-- none).
CREATE OR REPLACE FUNCTION tenancy._row_limit_of(tenant uuid, target oid) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (SELECT (tenancy._effective_limits(t)->'rows'->>coalesce(
                       (SELECT c.limit_name FROM tenancy.row_count_tables c WHERE c.relid = target),
                       tenancy._limit_table_name(target)))::bigint
              FROM tenancy.tenants t WHERE t.id = tenant);
END
$$;
COMMENT ON FUNCTION tenancy._row_limit_of(uuid, oid) IS 'internal: a tenant''s row limit for a table';

-- Starts a tenant's count of a table, at the first rows it writes there. A
-- tenant without a count had no rows when the table was counted in full; on
-- a table not counted in full (restored, before tenancy.recount_rows()) the
-- count starts from a direct count of its other rows.
CREATE OR REPLACE FUNCTION tenancy._start_count(target oid, tenant uuid, added bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO tenancy.row_counts (tenant_id, relid, rows, row_limit, limits_version)
    VALUES (tenant, target,
            CASE WHEN EXISTS (SELECT 1 FROM tenancy.row_count_tables c WHERE c.relid = target) THEN 0
                 ELSE greatest(tenancy._count_tenant_rows(target, tenant) - added, 0) END,
            tenancy._row_limit_of(tenant, target), (SELECT v.version FROM tenancy.row_limits_version v))
    ON CONFLICT ON CONSTRAINT row_counts_pkey DO NOTHING;
END
$$;
COMMENT ON FUNCTION tenancy._start_count(oid, uuid, bigint) IS 'internal: starts a tenant''s count of a table';

-- Raises the refusal of a statement that takes a tenant over its row limit.
CREATE OR REPLACE FUNCTION tenancy._refuse_rows(target oid, tenant uuid, counted bigint, added bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner_tenant tenancy.tenants;
    table_name text;
    allowed bigint := tenancy._row_limit_of(tenant, target);
BEGIN
    SELECT * INTO owner_tenant FROM tenancy.tenants t WHERE t.id = tenant;
    SELECT c.limit_name INTO table_name FROM tenancy.row_count_tables c WHERE c.relid = target;
    table_name := coalesce(table_name, tenancy._limit_table_name(target));
    RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
        MESSAGE = format('tenant "%s" has reached its limit of %s rows in table %s', owner_tenant.slug, allowed,
                         table_name),
        DETAIL = format('%s %s rows; the tenant has %s, and this statement adds %s.',
                        CASE WHEN owner_tenant.limits->'rows' ? table_name
                             THEN format('The tenant''s own limit (over plan "%s") is', owner_tenant.plan)
                             ELSE format('Plan "%s" allows', owner_tenant.plan) END,
                        allowed, counted - added, added),
        HINT = 'Delete rows first, or a platform admin can raise the limit (tenancy.set_plan(), tenancy.set_limit()).';
END
$$;
COMMENT ON FUNCTION tenancy._refuse_rows(oid, uuid, bigint, bigint) IS 'internal: the refusal of a row limit';

-- The triggers' function: INSERT and DELETE statements (transition tables
-- tenancy_new and tenancy_old), a row moved to another tenant (row level),
-- TRUNCATE (every count of the table is 0 again). A write reads and updates
-- one count per tenant, which carries the limit; concurrent writers of one
-- tenant take turns on it (a row lock), so no two can pass the limit
-- together, and under REPEATABLE READ the second is a serialization failure.
-- A count that crosses 80 % or 100 % of its limit raises an alert.
CREATE OR REPLACE FUNCTION tenancy.row_count_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenants uuid[];
    changes bigint[];
    counted bigint;
    allowed bigint;
    current_version bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM tenancy.row_counts r WHERE r.relid = TG_RELID;
        RETURN NULL;
    ELSIF TG_LEVEL = 'ROW' THEN
        tenants := ARRAY[OLD.tenant_id, NEW.tenant_id];
        changes := ARRAY[-1, 1];
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.tenant_id ORDER BY n.tenant_id), array_agg(n.added ORDER BY n.tenant_id)
          INTO tenants, changes
          FROM (SELECT i.tenant_id, count(*) AS added FROM tenancy_new i GROUP BY i.tenant_id) n;
    ELSE
        SELECT array_agg(o.tenant_id ORDER BY o.tenant_id), array_agg(-o.removed ORDER BY o.tenant_id)
          INTO tenants, changes
          FROM (SELECT d.tenant_id, count(*) AS removed FROM tenancy_old d GROUP BY d.tenant_id) o;
    END IF;
    SELECT v.version INTO current_version FROM tenancy.row_limits_version v;
    FOR i IN 1 .. coalesce(cardinality(tenants), 0) LOOP
        CONTINUE WHEN tenants[i] IS NULL;
        -- The copied limit is read again when the limits changed since.
        UPDATE tenancy.row_counts r
           SET rows = greatest(r.rows + changes[i], 0),
               row_limit = CASE WHEN r.limits_version = current_version THEN r.row_limit
                                ELSE tenancy._row_limit_of(r.tenant_id, r.relid) END,
               limits_version = current_version
         WHERE r.tenant_id = tenants[i] AND r.relid = TG_RELID
        RETURNING r.rows, r.row_limit INTO counted, allowed;
        IF NOT FOUND AND changes[i] > 0 THEN
            -- A tenant without a count starts one (a removed tenant's rows
            -- that go have no count to be taken from).
            PERFORM tenancy._start_count(TG_RELID, tenants[i], changes[i]);
            UPDATE tenancy.row_counts r SET rows = r.rows + changes[i]
             WHERE r.tenant_id = tenants[i] AND r.relid = TG_RELID
            RETURNING r.rows, r.row_limit INTO counted, allowed;
        END IF;
        IF changes[i] > 0 AND counted > allowed THEN
            PERFORM tenancy._refuse_rows(TG_RELID, tenants[i], counted, changes[i]);
        END IF;
        -- Usage alerts at 80 % and 100 % of the limit, when this crosses one.
        IF changes[i] > 0 AND allowed > 0
           AND ((counted - changes[i]) * 100 < allowed * 80 AND counted * 100 >= allowed * 80
                OR counted - changes[i] < allowed AND counted >= allowed) THEN
            PERFORM tenancy._raise_alerts(tenants[i], 'rows.' || coalesce(
                        (SELECT c.limit_name FROM tenancy.row_count_tables c WHERE c.relid = TG_RELID),
                        tenancy._limit_table_name(TG_RELID)), counted - changes[i], counted, allowed);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION tenancy.row_count_trigger() IS
    'triggers tenancy_row_count* of tables a row limit names: keep tenancy.row_counts and check the limits';
REVOKE ALL ON FUNCTION tenancy.row_count_trigger() FROM PUBLIC;

-- Says whether all four counting triggers are on a table, each calling
-- tenancy.row_count_trigger().
CREATE OR REPLACE FUNCTION tenancy._has_row_count_triggers(target oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) = 4 FROM pg_trigger t
     WHERE t.tgrelid = target AND t.tgfoid = 'tenancy.row_count_trigger'::regproc
       AND t.tgname IN ('tenancy_row_count', 'tenancy_row_count_delete', 'tenancy_row_move', 'tenancy_row_count_reset')
$$;
COMMENT ON FUNCTION tenancy._has_row_count_triggers(oid) IS 'internal: whether a table has its counting triggers';

-- Installs a table's counting triggers (replacing any trigger that took
-- their names) and counts its rows per tenant in full: creating a trigger
-- locks the table against writers until commit, so the counts are exact.
CREATE OR REPLACE FUNCTION tenancy._install_row_counting(target oid, limit_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_inherits h WHERE target IN (h.inhrelid, h.inhparent)) THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot count the rows of table %s for its row limit', target::regclass),
            DETAIL = 'It takes part in inheritance: its statements would count the rows of the other tables too.';
    END IF;
    PERFORM tenancy._drop_row_count_triggers(target);
    EXECUTE format('CREATE TRIGGER tenancy_row_count AFTER INSERT ON %s REFERENCING NEW TABLE AS tenancy_new '
                   'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.row_count_trigger()', target::regclass);
    EXECUTE format('CREATE TRIGGER tenancy_row_count_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS tenancy_old '
                   'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.row_count_trigger()', target::regclass);
    EXECUTE format('CREATE TRIGGER tenancy_row_move AFTER UPDATE OF tenant_id ON %s FOR EACH ROW '
                   'WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) '
                   'EXECUTE FUNCTION tenancy.row_count_trigger()', target::regclass);
    EXECUTE format('CREATE TRIGGER tenancy_row_count_reset AFTER TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.row_count_trigger()', target::regclass);
    PERFORM tenancy._count_rows_in_full(target, limit_name);
END
$$;
COMMENT ON FUNCTION tenancy._install_row_counting(oid, text) IS
    'internal: installs a table''s counting triggers and counts its rows per tenant';

-- Counts a table's rows per tenant in full (a direct scan per tenant: no
-- code of the table's owner runs) and records the name its limits use.
CREATE OR REPLACE FUNCTION tenancy._count_rows_in_full(target oid, limit_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- Counted with a snapshot taken after the lock: only READ COMMITTED takes
    -- one per statement.
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_state',
            MESSAGE = format('cannot count the rows of table %s for its row limit in a %s transaction',
                             target::regclass, upper(current_setting('transaction_isolation'))),
            DETAIL = 'The rows are counted after the table is locked against writers, with a snapshot taken then.',
            HINT = 'Make the change that adds the row limit in a READ COMMITTED transaction.';
    END IF;
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', target::regclass);
    DELETE FROM tenancy.row_counts r WHERE r.relid = target;
    INSERT INTO tenancy.row_count_tables (relid, limit_name) VALUES (target, limit_name)
    ON CONFLICT ON CONSTRAINT row_count_tables_pkey DO UPDATE SET limit_name = excluded.limit_name, counted_at = now();
    INSERT INTO tenancy.row_counts (tenant_id, relid, rows, row_limit, limits_version)
    SELECT t.id, target, c.rows, tenancy._row_limit_of(t.id, target),
           (SELECT v.version FROM tenancy.row_limits_version v)
      FROM tenancy.tenants t CROSS JOIN LATERAL (SELECT tenancy._count_tenant_rows(target, t.id) AS rows) c
     WHERE c.rows > 0;
END
$$;
COMMENT ON FUNCTION tenancy._count_rows_in_full(oid, text) IS 'internal: counts a table''s rows per tenant in full';

-- Gives every protected table a row limit names its counting triggers, and
-- takes them (and the table's counts) from the others. A table keeps the
-- name its limits used when it was counted, so renaming it does not lift
-- its limit; when the limits take its new name, its counts stay. A table
-- that cannot be counted (inheritance, a transaction that is not READ
-- COMMITTED) makes the change fail. Called whenever plans, tenants' plans or
-- own limits, or the protected tables change.
CREATE OR REPLACE FUNCTION tenancy._sync_row_limits() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    protected record;
    named_now boolean;
    named_before boolean;
BEGIN
    -- Changes of limits take turns; each count reads its limit again at its
    -- tenant's next write.
    UPDATE tenancy.row_limits_version SET version = version + 1;
    FOR protected IN
        SELECT p.relid, tenancy._limit_table_name(p.relid) AS name, c.limit_name AS counted_as
          FROM tenancy.protected_tables p LEFT JOIN tenancy.row_count_tables c ON c.relid = p.relid
         ORDER BY p.relid
    LOOP
        named_now := EXISTS (SELECT 1 FROM tenancy.plans pl WHERE pl.limits->'rows' ? protected.name)
                  OR EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.limits->'rows' ? protected.name);
        named_before := protected.counted_as IS NOT NULL AND protected.counted_as <> protected.name
                    AND (EXISTS (SELECT 1 FROM tenancy.plans pl WHERE pl.limits->'rows' ? protected.counted_as)
                         OR EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.limits->'rows' ? protected.counted_as));
        IF (named_now OR named_before) AND NOT (protected.counted_as IS NOT NULL
                                                AND tenancy._has_row_count_triggers(protected.relid)) THEN
            PERFORM tenancy._install_row_counting(protected.relid, protected.name);
        ELSIF named_now AND protected.counted_as <> protected.name THEN
            -- Renamed, and renamed in the limits too: the counts stay.
            UPDATE tenancy.row_count_tables c SET limit_name = protected.name WHERE c.relid = protected.relid;
        ELSIF NOT named_now AND NOT named_before THEN
            PERFORM tenancy._drop_row_count_triggers(protected.relid);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy._sync_row_limits() IS
    'internal: the counting triggers on exactly the protected tables a row limit names';

-- Counts the rows of every table a row limit names again, in full (after a
-- restore, which does not carry the counts), and installs what is missing.
CREATE OR REPLACE FUNCTION tenancy.recount_rows() RETURNS TABLE (table_name text, tenants bigint, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    counted record;
BEGIN
    PERFORM tenancy._require_platform_admin('count rows for the row limits');
    PERFORM tenancy._sync_row_limits();
    FOR counted IN SELECT c.relid, c.limit_name FROM tenancy.row_count_tables c ORDER BY c.limit_name LOOP
        PERFORM tenancy._count_rows_in_full(counted.relid, counted.limit_name);
        table_name := counted.limit_name;
        SELECT count(*), coalesce(sum(r.rows), 0) INTO tenants, rows
          FROM tenancy.row_counts r WHERE r.relid = counted.relid;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.recount_rows() IS
    'counts the rows per tenant of every table a row limit names again (platform admins; after a restore)';

-- Drops a table's counting triggers (and any trigger that took their names),
-- its counts and its record.
CREATE OR REPLACE FUNCTION tenancy._drop_row_count_triggers(target oid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    trigger_name name;
BEGIN
    FOR trigger_name IN SELECT t.tgname FROM pg_trigger t
                         WHERE t.tgrelid = target AND t.tgname IN ('tenancy_row_count', 'tenancy_row_count_delete',
                                                                   'tenancy_row_move', 'tenancy_row_count_reset')
                         ORDER BY t.tgname LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', trigger_name, target::regclass);
    END LOOP;
    DELETE FROM tenancy.row_counts r WHERE r.relid = target;
    DELETE FROM tenancy.row_count_tables c WHERE c.relid = target;
END
$$;
COMMENT ON FUNCTION tenancy._drop_row_count_triggers(oid) IS 'internal: drops a table''s counting triggers and counts';

REVOKE ALL ON FUNCTION tenancy._limit_table_name(oid), tenancy._row_limit_of(uuid, oid),
    tenancy._start_count(oid, uuid, bigint), tenancy._refuse_rows(oid, uuid, bigint, bigint),
    tenancy._has_row_count_triggers(oid), tenancy._install_row_counting(oid, text),
    tenancy._count_rows_in_full(oid, text), tenancy._sync_row_limits(), tenancy._drop_row_count_triggers(oid)
    FROM PUBLIC;
