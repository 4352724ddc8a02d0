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

-- The tenants that the values an expression yielded name (a uuid, or a
-- slug), for the owner of the table being backfilled or a platform admin:
-- asked once per batch of rows.
CREATE OR REPLACE FUNCTION tenancy._known_tenants(target regclass, refs text[])
RETURNS TABLE (ref text, id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_table_owner(target, 'backfill');
    RETURN QUERY SELECT r.ref, t.id FROM unnest(refs) AS r(ref), tenancy._lookup_tenant(r.ref) AS t
                  WHERE t.id IS NOT NULL;
END
$$;
COMMENT ON FUNCTION tenancy._known_tenants(regclass, text[]) IS
    'internal: the tenants these uuids or slugs name (owners of the table being backfilled, platform admins)';

-- Checks a backfill's settings and returns the uuid of its tenant (NULL with
-- backfill_from alone): the caller may protect the table, the tenant exists,
-- the expression is one expression over the row.
CREATE OR REPLACE FUNCTION tenancy._backfill_settings(target regclass, backfill text, backfill_from text)
RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_protectable(target);
    PERFORM tenancy._require_table_owner(target, 'protect');
    IF backfill_from IS NOT NULL THEN
        PERFORM tenancy._check_backfill_expression(backfill_from);
    END IF;
    IF backfill IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN (tenancy._find_tenant(backfill)).id;
END
$$;
COMMENT ON FUNCTION tenancy._backfill_settings(regclass, text, text) IS
    'internal: checks a backfill''s settings and returns its tenant''s uuid';

-- Before protect() backfills: checks the settings, adds tenant_id when
-- missing and holds every tenant until the table is protected (the rows
-- placed must not lose their tenant before its protection removes them with
-- it). Returns the backfill tenant's uuid, or NULL.
CREATE OR REPLACE FUNCTION tenancy._backfill_prepare(target regclass, backfill text, backfill_from text)
RETURNS uuid
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
    RETURN tenant;
END
$$;
COMMENT ON FUNCTION tenancy._backfill_prepare(regclass, text, text) IS
    'internal: checks a backfill, adds tenant_id and holds the tenants before protect() backfills';

-- Places the rows without a tenant, in blocks [first_block, end_block) of the
-- table (all blocks when both are NULL), and returns how many it placed: the
-- expression's tenant when it names one, else the backfill tenant, else the
-- row stays without one. SECURITY INVOKER: the UPDATE, the expression and the
-- table's own triggers run as the caller. A row the application changes
-- meanwhile is skipped (its new version has another ctid); the trigger of an
-- online protection places it.
CREATE OR REPLACE FUNCTION tenancy._backfill_rows(
    target regclass, tenant uuid, backfill_from text, first_block bigint, end_block bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    row_alias name := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) target);
    in_range text := '';
    placed bigint;
BEGIN
    IF first_block IS NOT NULL THEN
        in_range := pg_catalog.format(' AND %I.ctid OPERATOR(pg_catalog.>=) $2 AND %I.ctid OPERATOR(pg_catalog.<) $3',
                                      row_alias, row_alias);
    END IF;
    IF backfill_from IS NULL THEN
        EXECUTE pg_catalog.format('UPDATE ONLY %s AS %I SET tenant_id = $1 WHERE %I.tenant_id IS NULL%s',
                                  target, row_alias, row_alias, in_range)
          USING tenant, pg_catalog.format('(%s,0)', first_block)::pg_catalog.tid,
                pg_catalog.format('(%s,0)', end_block)::pg_catalog.tid;
    ELSE
        PERFORM tenancy._check_backfill_expression(backfill_from);
        EXECUTE pg_catalog.format(
            'WITH tenancy_placed AS MATERIALIZED ('
            '    SELECT %1$I.ctid AS row_ctid, (%2$s)::text AS tenant FROM ONLY %3$s AS %1$I'
            '     WHERE %1$I.tenant_id IS NULL%4$s), '
            'tenancy_known AS ('
            '    SELECT k.ref, k.id FROM tenancy._known_tenants(%5$L, ARRAY(SELECT DISTINCT p.tenant '
            '      FROM tenancy_placed p WHERE p.tenant IS NOT NULL)) AS k) '
            'UPDATE ONLY %3$s AS %1$I SET tenant_id = COALESCE(tenancy_known.id, $1) '
            '  FROM tenancy_placed LEFT JOIN tenancy_known '
            '       ON tenancy_known.ref OPERATOR(pg_catalog.=) tenancy_placed.tenant '
            ' WHERE %1$I.ctid OPERATOR(pg_catalog.=) tenancy_placed.row_ctid AND %1$I.tenant_id IS NULL'
            '   AND COALESCE(tenancy_known.id, $1) IS NOT NULL%4$s',
            row_alias, backfill_from, target, in_range, target::text)
          USING tenant, pg_catalog.format('(%s,0)', first_block)::pg_catalog.tid,
                pg_catalog.format('(%s,0)', end_block)::pg_catalog.tid;
    END IF;
    GET DIAGNOSTICS placed = ROW_COUNT;
    RETURN placed;
END
$$;
COMMENT ON FUNCTION tenancy._backfill_rows(regclass, uuid, text, bigint, bigint) IS
    'internal: gives the rows without a tenant in a range of blocks theirs, as the caller';

-- An SQL expression over the row alias r that shows its key: the primary
-- key's columns and values, like PostgreSQL's own key details, or its ctid.
CREATE OR REPLACE FUNCTION tenancy._row_key_expression(target regclass) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT format('format(%L, %s)',
                       '(' || string_agg(quote_ident(a.attname), ', ' ORDER BY k.position) || ')=(%s)',
                       'concat_ws('', '', ' || string_agg(format('r.%I::text', a.attname), ', ' ORDER BY k.position)
                       || ')')
           FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, position), pg_attribute a
          WHERE i.indrelid = target AND i.indisprimary AND a.attrelid = target AND a.attnum = k.attnum),
        '''(ctid)=('' || r.ctid::text || '')''')
$$;
REVOKE ALL ON FUNCTION tenancy._row_key_expression(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._row_key_expression(regclass) IS
    'internal: an expression showing the key of row r of a table, for error details';

-- Raises when rows of the table have no tenant, or a tenant that does not
-- exist: how many, and the keys of a few.
CREATE OR REPLACE FUNCTION tenancy._require_all_placed(target regclass, backfill_from text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    without_tenant bigint;
    unknown_tenant bigint;
    sample text;
BEGIN
    PERFORM tenancy._require_table_owner(target, 'backfill');
    EXECUTE format('SELECT count(*) FILTER (WHERE r.tenant_id IS NULL), count(*) FILTER (WHERE r.tenant_id IS NOT NULL '
                   'AND NOT EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.id = r.tenant_id)) FROM ONLY %s r', target)
      INTO without_tenant, unknown_tenant;
    IF without_tenant > 0 THEN
        EXECUTE format('SELECT string_agg(k, '', '') FROM (SELECT %s AS k FROM ONLY %s r WHERE r.tenant_id IS NULL '
                       'LIMIT 5) s', tenancy._row_key_expression(target), target) INTO sample;
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
        EXECUTE format('SELECT string_agg(k, '', '') FROM (SELECT %s AS k FROM ONLY %s r WHERE NOT EXISTS '
                       '(SELECT 1 FROM tenancy.tenants t WHERE t.id = r.tenant_id) LIMIT 5) s',
                       tenancy._row_key_expression(target), target) INTO sample;
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('table %s has %s %s of tenants that do not exist', target, unknown_tenant,
                             CASE WHEN unknown_tenant = 1 THEN 'row' ELSE 'rows' END),
            DETAIL = format('Every tenant_id must be the id of a row of tenancy.tenants; it is not for %s%s.',
                            sample, CASE WHEN unknown_tenant > 5 THEN format(' (5 of %s)', unknown_tenant) ELSE '' END),
            HINT = 'Create the missing tenants with tenancy.create_tenant(), or fix tenant_id, then protect again.';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._require_all_placed(regclass, text) IS
    'internal: error naming the rows of a table without a tenant, or of tenants that do not exist';

-- Records a backfill in the audit log: one row for the table (not one per
-- row), in the tenant's log when the rows all went to one tenant.
CREATE OR REPLACE FUNCTION tenancy._audit_backfill(target regclass, backfilled jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO tenancy.audit_log (tenant_id, actor, db_role, table_name, relid, operation, new_row, xid)
    VALUES (CASE WHEN backfilled ->> 'backfill_from' IS NULL THEN (tenancy._lookup_tenant(backfilled ->> 'tenant')).id END,
            tenancy.actor(), tenancy.db_role(), target::text, target, 'BACKFILL', backfilled, pg_current_xact_id())
$$;
REVOKE ALL ON FUNCTION tenancy._audit_backfill(regclass, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._audit_backfill(regclass, jsonb) IS
    'internal: the audit row of a backfill, one per table';
