-- pg_tenancy: backfill, giving the rows of a table that have no tenant
-- theirs before the table is protected: one tenant for all of them
-- (backfill => 'acme'), or an SQL expression over the row that derives it,
-- yielding the tenant's uuid or its slug (backfill_from => '...'), or both (the tenant takes the rows the expression
-- leaves without one). Rows that nothing places are reported, never guessed.
--
-- The expression is the caller's SQL: it is evaluated by SECURITY INVOKER
-- functions, with the caller's rights and search_path, and pasted only after
-- tenancy._check_backfill_expression() has parsed it as one value expression.
-- Whether the tenants it names exist is asked once per batch of rows
-- (tenancy._known_tenants()).

-- Raises unless the text is exactly one SQL value expression (parsed, never run).
CREATE OR REPLACE FUNCTION tenancy._check_backfill_expression(expression text) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_check_backfill_expression';
COMMENT ON FUNCTION tenancy._check_backfill_expression(text) IS
    'internal: error unless backfill_from is one SQL value expression';

-- Runs a backfill statement as the table's owner (see owner_execution.cpp).
CREATE OR REPLACE FUNCTION tenancy._execute_as_owner(
    target regclass, search_path text, query text, tenant uuid, first_ctid tid, end_ctid tid)
RETURNS bigint LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_execute_as_owner';
REVOKE ALL ON FUNCTION tenancy._execute_as_owner(regclass, text, text, uuid, tid, tid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._execute_as_owner(regclass, text, text, uuid, tid, tid) IS
    'internal: runs a backfill statement as the owner of the table';

-- Returns the first value of a query on a table's rows, run as its owner
-- ($1: a uuid[]), see owner_execution.cpp.
CREATE OR REPLACE FUNCTION tenancy._scan_as_owner(target regclass, query text, ids uuid[]) RETURNS text
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_scan_as_owner';
REVOKE ALL ON FUNCTION tenancy._scan_as_owner(regclass, text, uuid[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._scan_as_owner(regclass, text, uuid[]) IS
    'internal: the first value of a query on a table''s rows, run as the table''s owner';

-- The table whose statement pg_tenancy runs as its owner now (owner_scope.hpp),
-- or NULL.
CREATE OR REPLACE FUNCTION tenancy._owner_scope_target() RETURNS oid
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_owner_scope_target';
REVOKE ALL ON FUNCTION tenancy._owner_scope_target() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._owner_scope_target() IS
    'internal: the table whose statement pg_tenancy runs as its owner now, or null';

-- Counts one tenant's rows of a protected table by a direct scan, running no
-- code of the table's owner (owner_execution.cpp): for tenant_details().
CREATE OR REPLACE FUNCTION tenancy._count_tenant_rows(target regclass, tenant uuid) RETURNS bigint
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_count_tenant_rows';
REVOKE ALL ON FUNCTION tenancy._count_tenant_rows(regclass, uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._count_tenant_rows(regclass, uuid) IS
    'internal: the rows of one tenant in a protected table, counted by a direct scan';

-- The tenants that the values a backfill expression yielded name (a uuid, or
-- a slug) and that the caller may fill, given by _backfill_rows() as it
-- judged the caller before running as the owner (fillable: NULL for every
-- tenant, to a platform admin; else those the caller is an admin or owner
-- of; any other value places nothing, as an unknown one): asked once per
-- batch by the statement _backfill_rows() runs as the table's owner, and only
-- while the table has a backfill in progress.
CREATE OR REPLACE FUNCTION tenancy._known_tenants(target regclass, refs text[], fillable uuid[])
RETURNS TABLE (ref text, id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tenancy.protect_jobs j WHERE j.relid = target AND j.backfill_from IS NOT NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has no backfill in progress', target);
    END IF;
    -- fillable comes from the statement _backfill_rows() runs as the owner:
    -- anywhere else it would be whatever the caller says.
    IF tenancy._owner_scope_target() IS DISTINCT FROM target THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'tenancy._known_tenants() is for the backfill statement only';
    END IF;
    PERFORM tenancy._require_table_owner(target, 'backfill');
    RETURN QUERY SELECT r.ref, t.id FROM unnest(refs) AS r(ref), tenancy._lookup_tenant(r.ref) AS t
                  WHERE t.id IS NOT NULL AND (fillable IS NULL OR t.id = ANY (fillable));
END
$$;
COMMENT ON FUNCTION tenancy._known_tenants(regclass, text[], uuid[]) IS
    'internal: the tenants these uuids or slugs name, during a backfill of the table';

-- Checks a backfill's settings and returns the uuid of its tenant (NULL with
-- backfill_from alone): the caller may protect the table, the tenant exists,
-- the expression is one expression.
CREATE OR REPLACE FUNCTION tenancy._backfill_settings(target regclass, backfill text, backfill_from text)
RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner_role regrole := (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = target);
BEGIN
    PERFORM tenancy._require_protectable(target);
    PERFORM tenancy._require_table_owner(target, 'protect');
    IF backfill_from IS NOT NULL THEN
        PERFORM tenancy._check_backfill_expression(backfill_from);
        -- The expression runs as the table's owner: only who may act as the
        -- owner anyway may write it.
        IF NOT pg_has_role(tenancy.db_role()::name, owner_role, 'MEMBER') THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('must be a member of role %s to backfill table %s from an expression',
                                 owner_role, target),
                DETAIL = 'backfill_from runs as the table''s owner.',
                HINT = 'Let the table''s owner run it, or give the tenant with backfill alone.';
        END IF;
    END IF;
    IF backfill IS NULL THEN
        RETURN NULL;
    END IF;
    -- Rows go into a tenant only from its admins (or a platform admin); the
    -- refusal is the same whether the tenant exists or not. An archived or
    -- terminating tenant takes no rows.
    RETURN tenancy._require_writable_tenant(
        (tenancy._tenant_for_caller(backfill, 'admin', 'place rows in the tables')).id);
END
$$;
REVOKE ALL ON FUNCTION tenancy._backfill_settings(regclass, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._backfill_settings(regclass, text, text) IS
    'internal: checks a backfill''s settings and returns its tenant''s uuid';

-- Before protect() backfills: checks the settings, adds tenant_id when
-- missing, records the backfill (a job of this transaction only) and holds
-- every tenant until the table is protected (the rows placed must not lose
-- their tenant before the protection removes them with it).
CREATE OR REPLACE FUNCTION tenancy._backfill_prepare(target regclass, backfill text, backfill_from text,
                                                     caller_search_path text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant uuid := tenancy._backfill_settings(target, backfill, backfill_from);
BEGIN
    IF EXISTS (SELECT 1 FROM tenancy.protect_jobs j WHERE j.relid = target) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('an online protection of table %s is in progress', target),
            HINT = 'Resume it (tenantctl protect --online) or cancel it with tenancy.protect_online_cancel().';
    END IF;
    PERFORM tenancy._add_tenant_column(target);
    LOCK TABLE tenancy.tenants IN SHARE MODE;
    INSERT INTO tenancy.protect_jobs (relid, backfill_tenant, backfill_from, search_path, unassigned, batch_rows,
                                      online, step, started_by)
    VALUES (target, tenant, backfill_from, coalesce(caller_search_path, ''), 'refuse', 1, false, 'backfill',
            tenancy.actor());
END
$$;
COMMENT ON FUNCTION tenancy._backfill_prepare(regclass, text, text, text) IS
    'internal: checks and records a backfill, adds tenant_id and holds the tenants before protect() backfills';

-- Places the rows of the table's backfill job that have no tenant, in
-- blocks [first_block, end_block) (all blocks when both are NULL), and adds
-- them to the job's count: the expression's tenant when it names one, else
-- the backfill tenant, else the row stays without one. The statement is made
-- from the job's rule and runs as the table's owner (_execute_as_owner), so
-- that neither the expression nor the table's triggers run with anyone
-- else's rights. A row the application changes meanwhile is skipped (its new
-- version has another ctid); the trigger of an online protection places it.
CREATE OR REPLACE FUNCTION tenancy._backfill_rows(target regclass, first_block bigint, end_block bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job tenancy.protect_jobs;
    row_alias name := (SELECT c.relname FROM pg_class c WHERE c.oid = target);
    in_range text := '';
    statement text;
    placed bigint;
BEGIN
    PERFORM tenancy._require_table_owner(target, 'backfill');
    SELECT * INTO job FROM tenancy.protect_jobs j WHERE j.relid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has no backfill in progress', target);
    END IF;
    IF (first_block IS NULL) <> (end_block IS NULL) OR first_block < 0 OR end_block < first_block THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid block range [%s, %s)', first_block, end_block);
    END IF;
    IF first_block IS NOT NULL THEN
        in_range := format(' AND %I.ctid OPERATOR(pg_catalog.>=) $2 AND %I.ctid OPERATOR(pg_catalog.<) $3',
                           row_alias, row_alias);
    END IF;
    IF job.backfill_from IS NULL THEN
        statement := format('UPDATE ONLY %s AS %I SET tenant_id = $1 WHERE %I.tenant_id IS NULL%s',
                            target, row_alias, row_alias, in_range);
    ELSE
        PERFORM tenancy._check_backfill_expression(job.backfill_from);
        statement := format(
            'WITH tenancy_placed AS MATERIALIZED ('
            '    SELECT %1$I.ctid AS row_ctid, (%2$s)::text AS tenant FROM ONLY %3$s AS %1$I'
            '     WHERE %1$I.tenant_id IS NULL%4$s), '
            'tenancy_known AS ('
            '    SELECT k.ref, k.id FROM tenancy._known_tenants(%5$L, ARRAY(SELECT DISTINCT p.tenant '
            '      FROM tenancy_placed p WHERE p.tenant IS NOT NULL), %6$L::uuid[]) AS k) '
            'UPDATE ONLY %3$s AS %1$I SET tenant_id = COALESCE(tenancy_known.id, $1) '
            '  FROM tenancy_placed LEFT JOIN tenancy_known '
            '       ON tenancy_known.ref OPERATOR(pg_catalog.=) tenancy_placed.tenant '
            ' WHERE %1$I.ctid OPERATOR(pg_catalog.=) tenancy_placed.row_ctid AND %1$I.tenant_id IS NULL'
            '   AND COALESCE(tenancy_known.id, $1) IS NOT NULL%4$s',
            row_alias, job.backfill_from, target, in_range, target::text,
            -- The caller's rights, judged here: as the owner runs the
            -- statement, pg_tenancy judges the owner (owner_scope.hpp).
            CASE WHEN tenancy.is_platform_admin() THEN NULL
                 ELSE ARRAY(SELECT t.id FROM tenancy.tenants t WHERE tenancy._caller_role(t.id) >= 'admin') END);
    END IF;
    placed := tenancy._execute_as_owner(target, concat_ws(', ', nullif(job.search_path, ''), 'pg_temp'), statement,
                                        job.backfill_tenant, format('(%s,0)', first_block)::tid,
                                        format('(%s,0)', end_block)::tid);
    UPDATE tenancy.protect_jobs j
       SET rows_done = j.rows_done + placed, updated_at = clock_timestamp(),
           next_block = CASE WHEN end_block IS NULL THEN j.next_block ELSE end_block END
     WHERE j.relid = target;
    RETURN placed;
END
$$;
COMMENT ON FUNCTION tenancy._backfill_rows(regclass, bigint, bigint) IS
    'internal: gives the rows without a tenant in a range of blocks theirs, as the table''s owner';

-- An SQL expression over the row alias r that shows its key: the primary
-- key's columns and values, like PostgreSQL's own key details, or its ctid.
-- Values are shown by their types' output functions (concat_ws), never by
-- casts a type's owner could have defined.
CREATE OR REPLACE FUNCTION tenancy._row_key_expression(target regclass) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT format('format(%L, concat_ws('', '', %s))',
                       '(' || string_agg(quote_ident(a.attname), ', ' ORDER BY k.position) || ')=(%s)',
                       string_agg(format('r.%I', a.attname), ', ' ORDER BY k.position))
           FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, position), pg_attribute a
          WHERE i.indrelid = target AND i.indisprimary AND a.attrelid = target AND a.attnum = k.attnum
         HAVING count(*) > 0),
        '''(ctid)=('' || r.ctid || '')''')
$$;
REVOKE ALL ON FUNCTION tenancy._row_key_expression(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._row_key_expression(regclass) IS
    'internal: an expression showing the key of row r of a table, for error details';

-- Raises when rows of the table have no tenant, or a tenant that does not
-- exist: how many, and the keys of a few.
CREATE OR REPLACE FUNCTION tenancy._require_all_placed(target regclass, backfill_from text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant_ids uuid[] := ARRAY(SELECT t.id FROM tenancy.tenants t);
    counts text[];
    without_tenant bigint;
    unknown_tenant bigint;
    sample text;
BEGIN
    PERFORM tenancy._require_protectable(target);
    PERFORM tenancy._require_table_owner(target, 'backfill');
    PERFORM tenancy._add_tenant_column(target);
    counts := string_to_array(tenancy._scan_as_owner(target, format(
        'SELECT count(*) FILTER (WHERE r.tenant_id IS NULL) || '','' || '
        'count(*) FILTER (WHERE r.tenant_id IS NOT NULL AND NOT (r.tenant_id = ANY ($1))) FROM ONLY %s r', target),
        tenant_ids), ',');
    without_tenant := counts[1]::bigint;
    unknown_tenant := counts[2]::bigint;
    IF without_tenant > 0 THEN
        sample := tenancy._scan_as_owner(target, format(
            'SELECT string_agg(k, '', '') FROM (SELECT %s AS k FROM ONLY %s r WHERE r.tenant_id IS NULL LIMIT 5) s',
            tenancy._row_key_expression(target), target), NULL);
        RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
            MESSAGE = format('cannot place %s %s of table %s in a tenant', without_tenant,
                             CASE WHEN without_tenant = 1 THEN 'row' ELSE 'rows' END, target),
            DETAIL = format('%s no existing tenant for %s: %s%s.',
                            CASE WHEN backfill_from IS NULL THEN 'Nothing gives' ELSE 'backfill_from yields' END,
                            CASE WHEN without_tenant = 1 THEN 'this row' ELSE 'these rows' END, sample,
                            CASE WHEN without_tenant > 5 THEN format(' (5 of %s)', without_tenant) ELSE '' END),
            HINT = 'Fix those rows or the expression, or name a tenant for the rest with backfill; nothing was '
                   'guessed.';
    END IF;
    IF unknown_tenant > 0 THEN
        sample := tenancy._scan_as_owner(target, format(
            'SELECT string_agg(k, '', '') FROM (SELECT %s AS k FROM ONLY %s r '
            'WHERE NOT (r.tenant_id = ANY ($1)) LIMIT 5) s', tenancy._row_key_expression(target), target), tenant_ids);
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('table %s has %s %s of tenants that do not exist', target, unknown_tenant,
                             CASE WHEN unknown_tenant = 1 THEN 'row' ELSE 'rows' END),
            DETAIL = format('Every tenant_id must be the id of a row of tenancy.tenants; it is not for %s%s.',
                            sample, CASE WHEN unknown_tenant > 5 THEN format(' (5 of %s)', unknown_tenant) ELSE '' END),
            HINT = 'Create the missing tenants with tenancy.create_tenant(), or fix tenant_id, then protect again.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_all_placed(regclass, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_all_placed(regclass, text) IS
    'internal: error naming the rows of a table without a tenant, or of tenants that do not exist';

-- Records a table's backfill in the audit log from its job, which only
-- pg_tenancy's own functions write: one row for the table (not one per row),
-- in the tenant's log when the rows all went to one tenant.
CREATE OR REPLACE FUNCTION tenancy._audit_backfill(job tenancy.protect_jobs) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO tenancy.audit_log (tenant_id, actor, db_role, table_name, relid, operation, new_row, xid)
    VALUES (CASE WHEN job.backfill_from IS NULL THEN job.backfill_tenant END, tenancy.actor(), tenancy.db_role(),
            job.relid::text, job.relid, 'BACKFILL',
            jsonb_strip_nulls(jsonb_build_object(
                'rows', job.rows_done,
                'tenant', (SELECT t.slug FROM tenancy.tenants t WHERE t.id = job.backfill_tenant),
                'backfill_from', job.backfill_from, 'online', job.online,
                'unassigned', CASE WHEN job.online THEN job.unassigned END,
                'started_at', CASE WHEN job.online THEN job.started_at END,
                'started_by', job.started_by)),
            pg_current_xact_id())
$$;
REVOKE ALL ON FUNCTION tenancy._audit_backfill(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._audit_backfill(tenancy.protect_jobs) IS
    'internal: the audit row of a table''s backfill, one per table';
