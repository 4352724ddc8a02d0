-- pg_tenancy: row limits. A protected table that some plan's or tenant's
-- row limit names gets three triggers: tenancy_row_count (after each INSERT
-- or DELETE statement, with its transition table), tenancy_row_move (a row
-- a bypassing role moves to another tenant) and tenancy_row_count_reset
-- (TRUNCATE). They keep tenancy.row_counts, one row per tenant and table,
-- and refuse a statement that takes a tenant over its limit. Tables no limit
-- names have none of this: their writes pay nothing.

-- The canonical name of a table in row limits: schema.table, each part
-- quoted as an identifier only when it needs to be.
CREATE OR REPLACE FUNCTION tenancy._limit_table_name(target oid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target
$$;
COMMENT ON FUNCTION tenancy._limit_table_name(oid) IS 'internal: a table''s name as row limits write it';

-- Adds rows to a tenant's count of a table, starting the count from a direct
-- count of its other rows if there is none, and raises when the count goes
-- over the tenant's limit for the table. Concurrent writers of one tenant
-- take turns on its count (a row lock), so no two can pass the limit
-- together; under REPEATABLE READ the second is a serialization failure.
CREATE OR REPLACE FUNCTION tenancy._add_counted_rows(target oid, tenant uuid, added bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    counted bigint;
    owner_tenant tenancy.tenants;
    table_name text;
    allowed jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tenancy.row_counts r WHERE r.tenant_id = tenant AND r.relid = target) THEN
        -- The rows this statement added are visible here: they are not
        -- part of the starting count.
        INSERT INTO tenancy.row_counts (tenant_id, relid, rows)
        VALUES (tenant, target, tenancy._count_tenant_rows(target, tenant) - added)
        ON CONFLICT ON CONSTRAINT row_counts_pkey DO NOTHING;
    END IF;
    UPDATE tenancy.row_counts r SET rows = r.rows + added
     WHERE r.tenant_id = tenant AND r.relid = target
    RETURNING r.rows INTO counted;
    IF added <= 0 THEN
        RETURN;
    END IF;
    SELECT * INTO owner_tenant FROM tenancy.tenants t WHERE t.id = tenant;
    table_name := tenancy._limit_table_name(target);
    allowed := tenancy._effective_limits(owner_tenant)->'rows'->table_name;
    IF allowed IS NOT NULL AND counted > (allowed #>> '{}')::bigint THEN
        RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('tenant "%s" has reached its limit of %s rows in table %s', owner_tenant.slug, allowed,
                             table_name),
            DETAIL = format('Plan "%s" allows %s rows%s; the tenant has %s, and this statement adds %s.',
                            owner_tenant.plan, allowed,
                            CASE WHEN owner_tenant.limits->'rows' ? table_name
                                 THEN ' (a limit of the tenant''s own)' ELSE '' END,
                            counted - added, added),
            HINT = 'Delete rows first, or a platform admin can raise the limit (tenancy.set_plan(), tenancy.set_limit()).';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._add_counted_rows(oid, uuid, bigint) IS
    'internal: adds to a tenant''s row count of a table and checks its row limit';

-- The triggers' function: INSERT and DELETE statements (transition tables
-- tenancy_new and tenancy_old), a row moved to another tenant (row level),
-- TRUNCATE (every count of the table goes).
CREATE OR REPLACE FUNCTION tenancy.row_count_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    change record;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM tenancy.row_counts r WHERE r.relid = TG_RELID;
    ELSIF TG_LEVEL = 'ROW' THEN
        PERFORM tenancy._add_counted_rows(TG_RELID, OLD.tenant_id, -1) WHERE OLD.tenant_id IS NOT NULL;
        PERFORM tenancy._add_counted_rows(TG_RELID, NEW.tenant_id, 1) WHERE NEW.tenant_id IS NOT NULL;
    ELSIF TG_OP = 'INSERT' THEN
        FOR change IN SELECT n.tenant_id, count(*) AS added FROM tenancy_new n
                       WHERE n.tenant_id IS NOT NULL GROUP BY n.tenant_id ORDER BY n.tenant_id LOOP
            PERFORM tenancy._add_counted_rows(TG_RELID, change.tenant_id, change.added);
        END LOOP;
    ELSE
        FOR change IN SELECT o.tenant_id, count(*) AS removed FROM tenancy_old o
                       WHERE o.tenant_id IS NOT NULL GROUP BY o.tenant_id ORDER BY o.tenant_id LOOP
            UPDATE tenancy.row_counts r SET rows = r.rows - change.removed
             WHERE r.tenant_id = change.tenant_id AND r.relid = TG_RELID;
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION tenancy.row_count_trigger() IS
    'triggers tenancy_row_count* of tables a row limit names: keep tenancy.row_counts and check the limits';
REVOKE ALL ON FUNCTION tenancy.row_count_trigger() FROM PUBLIC;

-- Gives every protected table a row limit names its counting triggers, and
-- takes them (and the table's counts) from the others. Called whenever
-- plans, tenants' own limits or the protected tables change.
CREATE OR REPLACE FUNCTION tenancy._sync_row_limits() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    protected record;
    limited boolean;
    present boolean;
BEGIN
    FOR protected IN
        SELECT p.relid, tenancy._limit_table_name(p.relid) AS name FROM tenancy.protected_tables p ORDER BY p.relid
    LOOP
        limited := EXISTS (SELECT 1 FROM tenancy.plans pl WHERE pl.limits->'rows' ? protected.name)
                OR EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.limits->'rows' ? protected.name);
        present := EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = protected.relid
                                                        AND t.tgname = 'tenancy_row_count');
        IF limited AND NOT present THEN
            EXECUTE format('CREATE TRIGGER tenancy_row_count AFTER INSERT ON %s REFERENCING NEW TABLE AS tenancy_new '
                           'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.row_count_trigger()', protected.relid::regclass);
            EXECUTE format('CREATE TRIGGER tenancy_row_count_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS '
                           'tenancy_old FOR EACH STATEMENT EXECUTE FUNCTION tenancy.row_count_trigger()',
                           protected.relid::regclass);
            EXECUTE format('CREATE TRIGGER tenancy_row_move AFTER UPDATE OF tenant_id ON %s FOR EACH ROW '
                           'WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) '
                           'EXECUTE FUNCTION tenancy.row_count_trigger()', protected.relid::regclass);
            EXECUTE format('CREATE TRIGGER tenancy_row_count_reset AFTER TRUNCATE ON %s '
                           'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.row_count_trigger()', protected.relid::regclass);
        ELSIF present AND NOT limited THEN
            PERFORM tenancy._drop_row_count_triggers(protected.relid);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy._sync_row_limits() IS
    'internal: the counting triggers on exactly the protected tables a row limit names';

-- Drops a table's counting triggers and its counts.
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
END
$$;
COMMENT ON FUNCTION tenancy._drop_row_count_triggers(oid) IS 'internal: drops a table''s counting triggers and counts';

REVOKE ALL ON FUNCTION tenancy._limit_table_name(oid), tenancy._add_counted_rows(oid, uuid, bigint),
    tenancy._sync_row_limits(), tenancy._drop_row_count_triggers(oid) FROM PUBLIC;
