-- pg_tenancy: personal data. The registry marks the columns of protected
-- tables that hold personal data (security labels of provider "pg_tenancy",
-- extension/pii_labels.cpp); requests (tenancy.subject_requests) ask for
-- everything a tenant holds about a person, or for its erasure.
--
-- A person's rows: the rows of the tenant whose subject column equals the
-- subject, then, following foreign keys, every row of a protected table
-- without a subject column that refers to a row found (orders of a
-- customer, items of those orders ...). Tables with a subject column hold
-- other people: no foreign key leads into them. Every statement on a table
-- runs as the table's owner with protected tables open for the request's
-- tenant only (tenancy._rows_as_owner()), so that no other tenant's row is
-- read or touched, and the owner's code never runs with the caller's rights.

-- Runs a statement on a table's rows as its owner, with protected tables
-- open for one tenant ($1: the tenant, $2: argument), and returns the jsonb
-- its rows return; see owner_execution.cpp.
CREATE OR REPLACE FUNCTION tenancy._rows_as_owner(target regclass, tenant uuid, query text, argument jsonb)
RETURNS SETOF jsonb
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_rows_as_owner';
REVOKE ALL ON FUNCTION tenancy._rows_as_owner(regclass, uuid, text, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._rows_as_owner(regclass, uuid, text, jsonb) IS
    'internal: the jsonb rows of a statement on a table''s rows, run as its owner for one tenant';

-- The pg_tenancy label of a column or table (objsubid 0), or NULL.
CREATE OR REPLACE FUNCTION tenancy._pii_label(target oid, column_number integer) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.label FROM pg_seclabel s
     WHERE s.classoid = 'pg_class'::regclass AND s.objoid = target AND s.objsubid = column_number
       AND s.provider = 'pg_tenancy'
$$;

-- The marked columns of a table: number, name, kind, whether it names the
-- subject.
CREATE OR REPLACE FUNCTION tenancy._pii_marks(target oid)
RETURNS TABLE (column_number smallint, column_name name, kind text, subject boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.attnum, a.attname, split_part(s.label, ':', 2), s.label LIKE '%:subject'
      FROM pg_seclabel s
      JOIN pg_attribute a ON a.attrelid = s.objoid AND a.attnum = s.objsubid AND NOT a.attisdropped
     WHERE s.classoid = 'pg_class'::regclass AND s.objoid = target AND s.objsubid > 0
       AND s.provider = 'pg_tenancy' AND s.label LIKE 'pii:%'
     ORDER BY a.attnum
$$;

-- A table's erasure policy: redact (the default), null or delete.
CREATE OR REPLACE FUNCTION tenancy._erasure_policy(target oid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(substr(tenancy._pii_label(target, 0), 9), 'redact')
$$;

-- The expression that replaces a column's value in an erasure (the table's
-- alias is t): the marker '[erased]' in text columns (where a unique index
-- holds the column: NULL, or for a NOT NULL column the marker with the
-- request and the row's place appended, so that two erased rows never
-- collide), the JSON string "[erased]" in json and jsonb columns, NULL
-- elsewhere or when the policy says null; raises when a column can take
-- neither. request NULL: only checks.
CREATE OR REPLACE FUNCTION tenancy._erasure_expression(target regclass, column_number smallint, policy text,
                                                       request bigint)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    col record;
BEGIN
    SELECT a.attname, a.attnotnull, format_type(a.atttypid, a.atttypmod) AS type_name, ty.typcategory,
           CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END AS base_type
      INTO col
      FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = target AND a.attnum = column_number AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_column',
            MESSAGE = format('column number %s of table %s does not exist', column_number, target);
    END IF;
    IF policy = 'redact' AND col.base_type IN ('json'::regtype, 'jsonb'::regtype) THEN
        RETURN format('%L::%s', '"[erased]"', col.type_name);
    ELSIF policy = 'redact' AND col.typcategory = 'S' THEN
        IF EXISTS (SELECT 1 FROM pg_index i
                    WHERE i.indrelid = target AND i.indisunique AND column_number = ANY (i.indkey::int2[])) THEN
            IF NOT col.attnotnull THEN
                RETURN 'NULL';  -- NULLs never collide in a unique index
            END IF;
            RETURN format('(%L || t.tableoid::pg_catalog.oid::pg_catalog.text || %L || t.ctid::pg_catalog.text '
                          '|| %L)::%s', format('[erased %s ', coalesce(request, 0)), ' ', ']', col.type_name);
        END IF;
        RETURN format('%L::%s', '[erased]', col.type_name);
    ELSIF NOT col.attnotnull THEN
        RETURN 'NULL';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
        MESSAGE = format('column %I of table %s cannot be erased', col.attname, target),
        DETAIL = format('It is NOT NULL and of type %s, so under the table''s erasure policy "%s" it can '
                        'take neither the marker [erased] nor NULL.', col.type_name, policy),
        HINT = format('Make the column nullable, or have the rows deleted: '
                      'SELECT tenancy.set_erasure_policy(%L, ''delete'').', target::text);
END
$$;

-- Raises unless a table is protected (the registry marks protected tables).
CREATE OR REPLACE FUNCTION tenancy._require_protected_for_pii(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not protected', target),
            DETAIL = 'Personal data is marked in protected tables only: requests find a person''s rows per tenant.',
            HINT = format('Protect it first: SELECT tenancy.protect(%L).', target::text);
    END IF;
END
$$;

-- Raises unless a table has a primary key: an erasure finds the audit rows
-- of a person's rows by it.
CREATE OR REPLACE FUNCTION tenancy._require_primary_key_for_pii(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = target AND i.indisprimary) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has no primary key', target),
            DETAIL = 'An erasure finds the audit rows of a person''s rows by their primary key, so that no earlier '
                     'value of them stays in the audit log.',
            HINT = format('Add one: ALTER TABLE %s ADD PRIMARY KEY (...).', target);
    END IF;
END
$$;

-- Marks a column of a protected table as personal data of a kind; subject
-- marks the column that identifies the person (customers.email). Run again
-- to change the kind or the subject flag.
CREATE OR REPLACE FUNCTION tenancy.mark_pii(target regclass, column_name name, kind text,
                                            subject boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    column_number smallint;
BEGIN
    IF target IS NULL OR column_name IS NULL OR kind IS NULL OR subject IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'table, column, kind and subject must not be null';
    END IF;
    PERFORM tenancy._require_table_owner(target, 'mark personal data in');
    PERFORM tenancy._require_protected_for_pii(target);
    PERFORM tenancy._require_primary_key_for_pii(target);
    IF kind !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid kind of personal data "%s"', tenancy._shown(kind)),
            DETAIL = 'A kind is a lowercase letter, then at most 62 lowercase letters, digits or underscores.',
            HINT = 'Use a kind such as email, name, phone, address, birth_date or free_text.';
    END IF;
    SELECT a.attnum INTO column_number FROM pg_attribute a
     WHERE a.attrelid = target AND a.attname = mark_pii.column_name AND a.attnum > 0 AND NOT a.attisdropped;
    IF column_number IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_column',
            MESSAGE = format('column "%s" of table %s does not exist', tenancy._shown(column_name), target);
    END IF;
    IF mark_pii.column_name = 'tenant_id' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'column "tenant_id" cannot be marked as personal data',
            DETAIL = 'It names the tenant, which pg_tenancy keeps in every protected row.';
    END IF;
    IF tenancy._erasure_policy(target) <> 'delete' THEN
        PERFORM tenancy._erasure_expression(target, column_number, tenancy._erasure_policy(target), NULL);
    END IF;
    EXECUTE format('SECURITY LABEL FOR pg_tenancy ON COLUMN %s.%I IS %L', target, mark_pii.column_name,
                   'pii:' || kind || CASE WHEN subject THEN ':subject' ELSE '' END);
END
$$;
COMMENT ON FUNCTION tenancy.mark_pii(regclass, name, text, boolean) IS
    'marks a column of a protected table as personal data of a kind; subject => true for the column that '
    'identifies the person (the table''s owner or platform admins)';

-- Removes a column's mark.
CREATE OR REPLACE FUNCTION tenancy.unmark_pii(target regclass, column_name name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    column_number smallint;
BEGIN
    IF target IS NULL OR column_name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'table and column must not be null';
    END IF;
    PERFORM tenancy._require_table_owner(target, 'unmark personal data in');
    SELECT a.attnum INTO column_number FROM pg_attribute a
     WHERE a.attrelid = target AND a.attname = unmark_pii.column_name AND a.attnum > 0 AND NOT a.attisdropped;
    IF column_number IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_column',
            MESSAGE = format('column "%s" of table %s does not exist', tenancy._shown(column_name), target);
    END IF;
    IF tenancy._pii_label(target, column_number) IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('column %I of table %s is not marked as personal data', unmark_pii.column_name, target);
    END IF;
    EXECUTE format('SECURITY LABEL FOR pg_tenancy ON COLUMN %s.%I IS NULL', target, unmark_pii.column_name);
END
$$;
COMMENT ON FUNCTION tenancy.unmark_pii(regclass, name) IS
    'removes the personal data mark of a column (the table''s owner or platform admins)';

-- Sets what an erasure does to a table's rows: redact (the marker [erased]
-- in text and JSON columns, NULL elsewhere), null (NULL in every marked
-- column) or delete (the rows go).
CREATE OR REPLACE FUNCTION tenancy.set_erasure_policy(target regclass, policy text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    marked record;
BEGIN
    IF target IS NULL OR policy IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'table and policy must not be null';
    END IF;
    PERFORM tenancy._require_table_owner(target, 'set the erasure policy of');
    PERFORM tenancy._require_protected_for_pii(target);
    IF policy NOT IN ('redact', 'null', 'delete') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid erasure policy "%s"', tenancy._shown(policy)),
            HINT = 'Use redact, null or delete.';
    END IF;
    IF policy = 'delete' THEN
        PERFORM tenancy._require_primary_key_for_pii(target);
    ELSE
        FOR marked IN SELECT * FROM tenancy._pii_marks(target) LOOP
            PERFORM tenancy._erasure_expression(target, marked.column_number, policy, NULL);
        END LOOP;
    END IF;
    EXECUTE format('SECURITY LABEL FOR pg_tenancy ON TABLE %s IS %L', target,
                   CASE WHEN policy = 'redact' THEN NULL ELSE 'erasure:' || policy END);
END
$$;
COMMENT ON FUNCTION tenancy.set_erasure_policy(regclass, text) IS
    'what erasing a person does to a table''s rows: redact (default), null or delete (the table''s owner or '
    'platform admins)';

CREATE OR REPLACE FUNCTION tenancy.pii_columns()
RETURNS TABLE (table_name regclass, column_name name, kind text, subject boolean, erasure text,
               protected boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass, m.column_name, m.kind, m.subject, tenancy._erasure_policy(c.oid),
           EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = c.oid)
      FROM pg_class c CROSS JOIN LATERAL tenancy._pii_marks(c.oid) m
     WHERE c.oid IN (SELECT s.objoid FROM pg_seclabel s
                      WHERE s.classoid = 'pg_class'::regclass AND s.provider = 'pg_tenancy')
     ORDER BY c.oid::regclass::text, m.column_number
$$;
COMMENT ON FUNCTION tenancy.pii_columns() IS
    'the columns marked as personal data: table, column, kind, whether it identifies the subject, the table''s '
    'erasure policy, and whether the table is protected';

-- The tenant of a new request: the named one, or the current tenant; the
-- caller must be one of its owners or admins, or a platform admin.
CREATE OR REPLACE FUNCTION tenancy._request_tenant(tenant text, action text) RETURNS tenancy.tenants
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ref text := coalesce(tenant, tenancy.current_tenant());
BEGIN
    IF ref IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('cannot %s without a tenant', action),
            DETAIL = 'A request about a person belongs to one tenant.',
            HINT = 'Select the tenant first: SET tenancy.tenant = ''acme''.';
    END IF;
    RETURN tenancy._tenant_for_caller(ref, 'admin', action);
END
$$;

-- Records a request about a person in a tenant (the current one unless
-- named): kind export or erasure.
CREATE OR REPLACE FUNCTION tenancy._request_subject(kind text, subject text, tenant text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    request_id bigint;
BEGIN
    target := tenancy._request_tenant(tenant, CASE kind WHEN 'export' THEN 'request the export of a person''s data'
                                                        ELSE 'request the erasure of a person''s data' END);
    IF subject IS NULL OR btrim(subject) = '' OR length(subject) > 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'subject must be a value of 1 to 1000 characters',
            DETAIL = 'The subject is the value of the person''s subject columns, such as an email address.';
    END IF;
    INSERT INTO tenancy.subject_requests (tenant_id, tenant, kind, subject, requested_by)
    VALUES (target.id, target.slug, kind, subject, tenancy.actor())
    RETURNING id INTO request_id;
    RETURN request_id;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.request_subject_export(subject text, tenant text DEFAULT NULL) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._request_subject('export', subject, tenant)
$$;
COMMENT ON FUNCTION tenancy.request_subject_export(text, text) IS
    'records a request for everything the tenant (the current one unless named) holds about a person; returns '
    'its id (owners and admins of the tenant, platform admins)';

CREATE OR REPLACE FUNCTION tenancy.request_erasure(subject text, tenant text DEFAULT NULL) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._request_subject('erasure', subject, tenant)
$$;
COMMENT ON FUNCTION tenancy.request_erasure(text, text) IS
    'records a request to erase what the tenant (the current one unless named) holds about a person; returns '
    'its id (owners and admins of the tenant, platform admins)';

-- A request the caller may act on, locked for the rest of the transaction.
CREATE OR REPLACE FUNCTION tenancy._subject_request(request bigint, action text, for_change boolean)
RETURNS tenancy.subject_requests
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found tenancy.subject_requests;
BEGIN
    IF request IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'request must not be null';
    END IF;
    SELECT * INTO found FROM tenancy.subject_requests r WHERE r.id = request;
    -- The same refusal whether the request does not exist or belongs to a
    -- tenant the caller has no rights in.
    IF found.id IS NULL OR (NOT tenancy.is_platform_admin()
                            AND coalesce(tenancy._caller_role(found.tenant_id, for_change) < 'admin', true)) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to %s of request %s', action, request),
            DETAIL = 'Only owners and admins of the request''s tenant and platform admins act on its requests.';
    END IF;
    PERFORM tenancy._tenant_for_caller(found.tenant_id::text, 'admin', action, for_change);
    SELECT * INTO found FROM tenancy.subject_requests r WHERE r.id = request FOR UPDATE;
    RETURN found;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.subject_request(request bigint) RETURNS tenancy.subject_requests
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM tenancy._subject_request(request, 'read the data', false)
$$;
COMMENT ON FUNCTION tenancy.subject_request(bigint) IS
    'one request about a person (owners and admins of its tenant, platform admins)';

-- Runs a statement on a table's rows as its owner with protected tables
-- open for one tenant, and adds the rows it returns ({"id", "row"}) that were
-- not seen yet to seen; returns those.
CREATE OR REPLACE FUNCTION tenancy._subject_step(target regclass, tenant uuid, query text, argument jsonb,
                                                 INOUT seen jsonb, OUT fresh jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    SELECT coalesce(jsonb_agg(r.found ORDER BY r.found->>'id'), '[]') INTO fresh
      FROM (SELECT DISTINCT ON (f->>'id') f AS found
              FROM tenancy._rows_as_owner(target, tenant, query, argument) f
             WHERE NOT seen ? (f->>'id')) r;
    seen := seen || coalesce((SELECT jsonb_object_agg(f->>'id', true) FROM jsonb_array_elements(fresh) f), '{}');
END
$$;

-- The statement that finds rows of a table: {"id", "row"} for every row of
-- the tenant ($1) that meets a condition, locked when for_update.
CREATE OR REPLACE FUNCTION tenancy._subject_query(target regclass, condition text, for_update boolean)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('SELECT pg_catalog.jsonb_build_object(''id'', t.tableoid::pg_catalog.oid::pg_catalog.text '
                  '|| ''/'' || t.ctid::pg_catalog.text, ''row'', pg_catalog.to_jsonb(t)) FROM %s %s t '
                  'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 AND (%s)%s',
                  CASE WHEN c.relkind = 'p' THEN '' ELSE 'ONLY' END, target, condition,
                  CASE WHEN for_update THEN ' FOR UPDATE OF t' ELSE '' END)
      FROM pg_class c WHERE c.oid = target
$$;

-- The condition that a subject column (alias t) equals the subject ($2->>0):
-- with the equality of the default btree operator class of its type (only
-- superusers make operator classes, so no operator anyone made under the
-- name "=" is ever called), else compared as text.
CREATE OR REPLACE FUNCTION tenancy._subject_condition(column_name name, type_oid oid, type_name text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT format('t.%I OPERATOR(%I.%s) ($2 OPERATOR(pg_catalog.->>) 0)::%s', column_name, n.nspname, o.oprname,
                       type_name)
           FROM pg_opclass oc
           JOIN pg_am am ON am.oid = oc.opcmethod AND am.amname = 'btree'
           JOIN pg_amop ao ON ao.amopfamily = oc.opcfamily AND ao.amoplefttype = oc.opcintype
                          AND ao.amoprighttype = oc.opcintype AND ao.amopstrategy = 3
           JOIN pg_operator o ON o.oid = ao.amopopr
           JOIN pg_namespace n ON n.oid = o.oprnamespace
          WHERE oc.opcdefault AND oc.opcintype = type_oid),
        format('t.%I::pg_catalog.text OPERATOR(pg_catalog.=) ($2 OPERATOR(pg_catalog.->>) 0)', column_name))
$$;

-- Every row of the request's tenant that refers to its subject: table, row
-- id (table oid/ctid) and the row as jsonb, in the order found (the
-- subject's rows, then the rows that refer to them, step by step). Locks
-- them when for_update.
CREATE OR REPLACE FUNCTION tenancy._subject_rows(request tenancy.subject_requests, for_update boolean)
RETURNS TABLE (relid oid, row_id text, row_data jsonb, step integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    seen jsonb := '{}';
    frontier jsonb := '{}';
    next_frontier jsonb;
    fresh jsonb;
    subject_column record;
    reference record;
    parent text;
    steps integer := 0;
BEGIN
    -- The subject's own rows, one subject column at a time: a subject that
    -- is no value of a column's type is not in that column.
    FOR subject_column IN
        SELECT p.relid, m.column_name, a.atttypid, format_type(a.atttypid, a.atttypmod) AS type_name
          FROM tenancy.protected_tables p CROSS JOIN LATERAL tenancy._pii_marks(p.relid) m
          JOIN pg_attribute a ON a.attrelid = p.relid AND a.attnum = m.column_number
         WHERE m.subject ORDER BY p.relid::text, m.column_number
    LOOP
        BEGIN
            SELECT s.seen, s.fresh INTO seen, fresh
              FROM tenancy._subject_step(subject_column.relid, request.tenant_id,
                       tenancy._subject_query(subject_column.relid,
                           tenancy._subject_condition(subject_column.column_name, subject_column.atttypid,
                                                      subject_column.type_name),
                           for_update),
                       jsonb_build_array(request.subject), seen) s;
        EXCEPTION WHEN data_exception THEN
            fresh := '[]';
        END;
        IF jsonb_array_length(fresh) > 0 THEN
            frontier := jsonb_set(frontier, ARRAY[subject_column.relid::oid::text],
                                  coalesce(frontier -> subject_column.relid::oid::text, '[]') || fresh);
            RETURN QUERY SELECT subject_column.relid::oid, f->>'id', f->'row', 0 FROM jsonb_array_elements(fresh) f;
        END IF;
    END LOOP;
    -- Then the rows of protected tables without a subject column that refer
    -- to rows found, through their foreign keys, until no new row turns up.
    WHILE frontier <> '{}' LOOP
        steps := steps + 1;
        next_frontier := '{}';
        FOR parent IN SELECT jsonb_object_keys(frontier) LOOP
            FOR reference IN
                SELECT c.conrelid::regclass AS child,
                       string_agg(format('((x OPERATOR(pg_catalog.->) ''row'' OPERATOR(pg_catalog.->>) %L)::%s) '
                                         'OPERATOR(%I.%s) t.%I', pa.attname, format_type(pa.atttypid, pa.atttypmod),
                                         opn.nspname, op.oprname, ca.attname), ' AND ') AS matches
                  FROM pg_constraint c
                  CROSS JOIN LATERAL unnest(c.conkey, c.confkey, c.conpfeqop) AS k(child_column, parent_column, eq)
                  JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child_column
                  JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent_column
                  JOIN pg_operator op ON op.oid = k.eq
                  JOIN pg_namespace opn ON opn.oid = op.oprnamespace
                 WHERE c.contype = 'f' AND c.confrelid = parent::oid
                   AND c.conrelid IN (SELECT p.relid FROM tenancy.protected_tables p)
                   AND NOT EXISTS (SELECT 1 FROM tenancy._pii_marks(c.conrelid) m WHERE m.subject)
                 GROUP BY c.oid, c.conrelid ORDER BY c.conrelid::regclass::text, c.oid
            LOOP
                SELECT s.seen, s.fresh INTO seen, fresh
                  FROM tenancy._subject_step(reference.child, request.tenant_id,
                           tenancy._subject_query(reference.child,
                               format('EXISTS (SELECT FROM pg_catalog.jsonb_array_elements($2) x WHERE %s)',
                                      reference.matches), for_update),
                           frontier -> parent, seen) s;
                IF jsonb_array_length(fresh) > 0 THEN
                    next_frontier := jsonb_set(next_frontier, ARRAY[reference.child::oid::text],
                                               coalesce(next_frontier -> reference.child::oid::text, '[]') || fresh);
                    RETURN QUERY SELECT reference.child::oid, f->>'id', f->'row', steps
                                   FROM jsonb_array_elements(fresh) f;
                END IF;
            END LOOP;
        END LOOP;
        frontier := next_frontier;
    END LOOP;
END
$$;

-- Raises when an erasure has taken the request's subject away.
CREATE OR REPLACE FUNCTION tenancy._require_subject(request tenancy.subject_requests) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF request.subject IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the subject of request %s has been erased', request.id),
            DETAIL = 'An erasure in this tenant removed the value it names, and this request with it.',
            HINT = 'Nothing about the person is left to export.';
    END IF;
END
$$;

-- Every row of the tenant that refers to the request's subject, table by
-- table, without the tenant_id column; a client reads them through a cursor
-- (tenantctl pii export). Completes an export request (its result: the rows
-- per table).
CREATE OR REPLACE FUNCTION tenancy.subject_rows(request bigint)
RETURNS TABLE (table_name text, row_data jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.subject_requests;
    found record;
    counts jsonb := '{}';
BEGIN
    target := tenancy._subject_request(request, 'export the data', false);
    PERFORM tenancy._require_subject(target);
    FOR found IN SELECT r.relid::regclass::text AS table_name, r.row_data FROM tenancy._subject_rows(target, false) r
    LOOP
        table_name := found.table_name;
        row_data := found.row_data - 'tenant_id';
        counts := jsonb_set(counts, ARRAY[found.table_name],
                            to_jsonb(coalesce((counts ->> found.table_name)::bigint, 0) + 1));
        RETURN NEXT;
    END LOOP;
    IF target.kind = 'export' THEN
        UPDATE tenancy.subject_requests r
           SET status = 'completed', completed_by = tenancy.actor(), completed_at = now(),
               result = jsonb_build_object('tables', counts)
         WHERE r.id = target.id;
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.subject_rows(bigint) IS
    'every row of the request''s tenant that refers to its subject, as (table, row), for a cursor; completes an '
    'export request (owners and admins of the tenant, platform admins)';

CREATE OR REPLACE FUNCTION tenancy.export_subject(request bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.subject_requests;
    tables jsonb;
BEGIN
    target := tenancy._subject_request(request, 'export the data', false);
    SELECT coalesce(jsonb_object_agg(t.table_name, t.rows), '{}') INTO tables
      FROM (SELECT f.table_name, jsonb_agg(f.row_data ORDER BY f.n) AS rows
              FROM (SELECT s.table_name, s.row_data, row_number() OVER () AS n
                      FROM tenancy.subject_rows(request) s) f
             GROUP BY f.table_name) t;
    RETURN jsonb_build_object('request', target.id, 'tenant', target.tenant, 'subject', target.subject,
                              'exported_at', now(), 'tables', tables);
END
$$;
COMMENT ON FUNCTION tenancy.export_subject(bigint) IS
    'everything the request''s tenant holds about its subject: the rows of every protected table that refer to '
    'it, grouped by table (owners and admins of the tenant, platform admins)';

-- A row of the audit log with the named columns that hold exactly the
-- subject replaced by "[erased]". (No SET clause, so that it is inlined:
-- its callers set search_path.)
CREATE OR REPLACE FUNCTION tenancy._redact_subject(row_data jsonb, keys text[], subject text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN row_data IS NULL OR pg_catalog.jsonb_typeof(row_data) <> 'object'
                     OR NOT row_data ?| keys THEN row_data
                ELSE coalesce((SELECT pg_catalog.jsonb_object_agg(e.key,
                                   CASE WHEN e.key = ANY (keys) AND e.value #>> '{}' = subject
                                        THEN '"[erased]"'::jsonb ELSE e.value END)
                                 FROM pg_catalog.jsonb_each(row_data) e), '{}') END
$$;

-- A row of the audit log with the named columns replaced by "[erased]".
CREATE OR REPLACE FUNCTION tenancy._redact_keys(row_data jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN row_data IS NULL OR pg_catalog.jsonb_typeof(row_data) <> 'object' THEN row_data
                ELSE coalesce((SELECT pg_catalog.jsonb_object_agg(e.key, CASE WHEN e.key = ANY (keys) AND e.value <> 'null'
                                                                    THEN '"[erased]"'::jsonb ELSE e.value END)
                                 FROM pg_catalog.jsonb_each(row_data) e), '{}') END
$$;

-- Erases the rows found of one table as its owner (policy delete: deletes
-- them; otherwise sets each marked column to its erasure expression and
-- any other text column equal to the subject to the marker); returns how
-- many. Raises when a trigger or rule of the owner kept a row or a value.
CREATE OR REPLACE FUNCTION tenancy._erase_table_rows(target regclass, request tenancy.subject_requests,
                                                     rows_found jsonb, erased text[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    policy text := tenancy._erasure_policy(target);
    marked text[];
    holding_subject text[];
    assignments text;
    which_rows text;
    changed jsonb;
BEGIN
    which_rows := format(
        'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 '
        'AND t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.split_part(i, ''/'', 2)::pg_catalog.tid '
        'FROM pg_catalog.jsonb_array_elements_text($2 OPERATOR(pg_catalog.->) ''ids'') i)) '
        'AND (t.tableoid::pg_catalog.oid::pg_catalog.text OPERATOR(pg_catalog.||) ''/'' '
        'OPERATOR(pg_catalog.||) t.ctid::pg_catalog.text) IN '
        '(SELECT pg_catalog.jsonb_array_elements_text($2 OPERATOR(pg_catalog.->) ''ids''))');
    IF policy = 'delete' THEN
        SELECT coalesce(jsonb_agg(r), '[]') INTO changed
          FROM tenancy._rows_as_owner(target, request.tenant_id,
                   format('DELETE FROM %s %s t %s RETURNING pg_catalog.to_jsonb(t)',
                          (SELECT CASE WHEN c.relkind = 'p' THEN '' ELSE 'ONLY' END FROM pg_class c
                            WHERE c.oid = target), target, which_rows),
                   jsonb_build_object('ids', (SELECT jsonb_agg(f->'id') FROM jsonb_array_elements(rows_found) f))) r;
    ELSE
        SELECT array_agg(m.column_name::text),
               string_agg(format('%I = %s', m.column_name,
                                 tenancy._erasure_expression(target, m.column_number, policy, request.id)), ', ')
          INTO marked, assignments
          FROM tenancy._pii_marks(target) m;
        -- The subject's value itself goes wherever it is in these rows:
        -- the text columns that hold it in one of them.
        SELECT array_agg(a.attname::text),
               concat_ws(', ', assignments,
                         string_agg(format('%I = CASE WHEN t.%I::pg_catalog.text OPERATOR(pg_catalog.=) '
                                           '($2 OPERATOR(pg_catalog.->>) ''subject'') THEN %s ELSE t.%I END',
                                           a.attname, a.attname,
                                           tenancy._erasure_expression(target, a.attnum, 'redact', request.id),
                                           a.attname), ', ' ORDER BY a.attnum))
          INTO holding_subject, assignments
          FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
         WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
           AND ty.typcategory = 'S' AND a.attname <> ALL (coalesce(marked, '{}'))
           AND EXISTS (SELECT FROM jsonb_array_elements(rows_found) f
                        WHERE f -> 'row' ->> a.attname::text = request.subject);
        IF marked IS NULL THEN
            IF holding_subject IS NULL THEN
                RETURN 0;  -- nothing personal in this table's rows
            END IF;
            -- Only the rows that hold the subject change.
            SELECT coalesce(jsonb_agg(f), '[]') INTO rows_found FROM jsonb_array_elements(rows_found) f
             WHERE EXISTS (SELECT FROM unnest(holding_subject) k WHERE f -> 'row' ->> k = request.subject);
        END IF;
        SELECT coalesce(jsonb_agg(r), '[]') INTO changed
          FROM tenancy._rows_as_owner(target, request.tenant_id,
                   format('UPDATE %s %s t SET %s %s RETURNING pg_catalog.to_jsonb(t)',
                          (SELECT CASE WHEN c.relkind = 'p' THEN '' ELSE 'ONLY' END FROM pg_class c
                            WHERE c.oid = target), target, assignments, which_rows),
                   jsonb_build_object('ids', (SELECT jsonb_agg(f->'id') FROM jsonb_array_elements(rows_found) f),
                                      'subject', request.subject)) r;
        -- A trigger of the owner may have put a value back.
        IF EXISTS (SELECT FROM jsonb_array_elements(changed) c,
                               unnest(coalesce(marked, '{}') || coalesce(holding_subject, '{}')) k
                    WHERE c ->> k = ANY (erased)) THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('the erasure of request %s left personal data in table %s', request.id, target),
                DETAIL = 'A trigger or rule of the table wrote the erased values back.',
                HINT = 'Change what writes them back (the table''s owner can), then erase again.';
        END IF;
    END IF;
    IF jsonb_array_length(changed) < jsonb_array_length(rows_found) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the erasure of request %s left %s of %s rows of table %s', request.id,
                             jsonb_array_length(rows_found) - jsonb_array_length(changed),
                             jsonb_array_length(rows_found), target),
            DETAIL = 'A trigger or rule of the table kept them from being changed; an erasure is all or nothing.',
            HINT = 'Change what keeps them (the table''s owner can), then erase again.';
    END IF;
    RETURN jsonb_array_length(changed);
END
$$;

-- Redacts the person in the tenant's audit rows, in three passes over them:
-- the audit rows of the rows found (by primary key, following changes of
-- the key back) lose their marked columns and those that held the subject
-- (for tables whose rows are deleted, every column but the key); then, in
-- every audit row of the tenant, a marked column (or a membership's actor)
-- that holds exactly the subject, and the actor where the subject acted.
-- Values are never looked for elsewhere: an admin cannot erase a tenant's
-- history by asking for a common word. Each pass is one scan of the
-- tenant's audit rows with constant conditions (jsonb containment) per
-- table. Returns how many audit rows changed.
CREATE OR REPLACE FUNCTION tenancy._erase_from_audit(request tenancy.subject_requests, rows_found jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    table_key text;
    key_columns text[];
    redacted_columns text[];
    targets jsonb := '[]';
    target jsonb;
    earlier record;
    conditions text;
    old_cases text;
    new_cases text;
    probes jsonb[];
    changed bigint := 0;
    n bigint;
BEGIN
    FOR table_key IN SELECT jsonb_object_keys(rows_found) LOOP
        SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO key_columns
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
         WHERE i.indrelid = table_key::oid AND i.indisprimary;
        CONTINUE WHEN key_columns IS NULL;
        IF tenancy._erasure_policy(table_key::oid) = 'delete' THEN
            SELECT array_agg(a.attname::text) INTO redacted_columns FROM pg_attribute a
             WHERE a.attrelid = table_key::oid AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attname <> ALL (key_columns || ARRAY['tenant_id']);
        ELSE
            -- The marked columns, and those that held the subject itself.
            SELECT array_agg(DISTINCT c) INTO redacted_columns
              FROM (SELECT m.column_name::text AS c FROM tenancy._pii_marks(table_key::oid) m
                    UNION ALL
                    SELECT e.key FROM jsonb_array_elements(rows_found -> table_key) f,
                                      jsonb_each_text(f -> 'row') e
                     WHERE e.value = request.subject) columns;
        END IF;
        CONTINUE WHEN redacted_columns IS NULL;
        targets := targets || jsonb_build_object(
            'relid', table_key::oid, 'columns', to_jsonb(redacted_columns), 'keys', to_jsonb(key_columns),
            'identities', (SELECT jsonb_agg((SELECT jsonb_object_agg(k, f->'row'->k) FROM unnest(key_columns) k))
                             FROM jsonb_array_elements(rows_found -> table_key) f));
    END LOOP;
    IF jsonb_array_length(targets) > 0 THEN
        -- A row whose key changed had another key before: its older audit
        -- rows name that one.
        LOOP
            SELECT string_agg(format('(a.relid = %s AND a.new_row ?| %L::text[] AND a.new_row @> ANY (%L::jsonb[]) '
                                     'AND NOT a.old_row @> ANY (%L::jsonb[]))',
                                     x->>'relid', ARRAY(SELECT jsonb_array_elements_text(x->'keys')),
                                     ARRAY(SELECT jsonb_array_elements(x->'identities')),
                                     ARRAY(SELECT jsonb_array_elements(x->'identities'))), ' OR ')
              INTO conditions FROM jsonb_array_elements(targets) x;
            n := 0;
            FOR earlier IN EXECUTE format('SELECT a.relid, a.old_row FROM tenancy.audit_log a '
                                          'WHERE a.tenant_id = $1 AND a.operation = ''UPDATE'' AND (%s)', conditions)
                           USING request.tenant_id LOOP
                SELECT jsonb_agg(CASE WHEN (x->>'relid')::oid = earlier.relid
                                      THEN jsonb_set(x, '{identities}', (x->'identities') || jsonb_build_array(
                                               (SELECT jsonb_object_agg(k, earlier.old_row -> k)
                                                  FROM jsonb_array_elements_text(x->'keys') k)))
                                      ELSE x END)
                  INTO targets FROM jsonb_array_elements(targets) x;
                n := n + 1;
            END LOOP;
            EXIT WHEN n = 0;
        END LOOP;
        SELECT string_agg(format('(a.relid = %s AND (a.old_row @> ANY (%L::jsonb[]) OR a.new_row @> ANY (%L::jsonb[])))',
                                 x->>'relid', ARRAY(SELECT jsonb_array_elements(x->'identities')),
                                 ARRAY(SELECT jsonb_array_elements(x->'identities'))), ' OR '),
               string_agg(format('WHEN %s THEN tenancy._redact_keys(a.old_row, %L::text[])', x->>'relid',
                                 ARRAY(SELECT jsonb_array_elements_text(x->'columns'))), ' '),
               string_agg(format('WHEN %s THEN tenancy._redact_keys(a.new_row, %L::text[])', x->>'relid',
                                 ARRAY(SELECT jsonb_array_elements_text(x->'columns'))), ' ')
          INTO conditions, old_cases, new_cases FROM jsonb_array_elements(targets) x;
        EXECUTE format('UPDATE tenancy.audit_log a SET old_row = CASE a.relid %s ELSE a.old_row END, '
                       'new_row = CASE a.relid %s ELSE a.new_row END WHERE a.tenant_id = $1 AND (%s)',
                       old_cases, new_cases, conditions)
          USING request.tenant_id;
        GET DIAGNOSTICS n = ROW_COUNT;
        changed := changed + n;
    END IF;
    -- The subject itself, in the marked columns of every protected table
    -- and in memberships, wherever the tenant's audit rows hold it (as text,
    -- or as a number when it is one).
    SELECT string_agg(format('(a.relid = %s AND (a.old_row @> ANY (%L::jsonb[]) OR a.new_row @> ANY (%L::jsonb[])))',
                             m.relid, m.probes, m.probes), ' OR '),
           string_agg(format('WHEN %s THEN tenancy._redact_subject(a.old_row, %L::text[], $2)', m.relid, m.columns), ' '),
           string_agg(format('WHEN %s THEN tenancy._redact_subject(a.new_row, %L::text[], $2)', m.relid, m.columns), ' ')
      INTO conditions, old_cases, new_cases
      FROM (SELECT c.relid, array_agg(DISTINCT c.column_name) AS columns,
                   array_agg(jsonb_build_object(c.column_name, v.value)) AS probes
              FROM (SELECT p.relid::oid AS relid, mk.column_name::text AS column_name
                      FROM tenancy.protected_tables p CROSS JOIN LATERAL tenancy._pii_marks(p.relid) mk
                    UNION ALL
                    SELECT 'tenancy.memberships'::regclass::oid, 'actor') c
              CROSS JOIN LATERAL (SELECT to_jsonb(request.subject) AS value
                                  UNION ALL
                                  SELECT to_jsonb(CASE WHEN request.subject ~ '^-?[0-9]{1,30}(\.[0-9]{1,30})?$'
                                                       THEN request.subject::numeric END)
                                   WHERE request.subject ~ '^-?[0-9]{1,30}(\.[0-9]{1,30})?$') v
             GROUP BY c.relid) m;
    EXECUTE format('UPDATE tenancy.audit_log a SET old_row = CASE a.relid %s ELSE a.old_row END, '
                   'new_row = CASE a.relid %s ELSE a.new_row END, '
                   'actor = CASE WHEN a.actor = $2 THEN ''[erased]'' ELSE a.actor END '
                   'WHERE a.tenant_id = $1 AND (a.actor = $2 OR %s)', old_cases, new_cases, conditions)
      USING request.tenant_id, request.subject;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN changed + n;
END
$$;

-- Replaces the subject where pg_tenancy's own records of the tenant name it
-- as an actor (denials, usage, events), and forgets it in the tenant's
-- requests; returns how many records changed.
CREATE OR REPLACE FUNCTION tenancy._erase_from_records(request tenancy.subject_requests) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed bigint := 0;
    n bigint;
BEGIN
    UPDATE tenancy.access_denials d SET actor = '[erased]'
     WHERE d.tenant_id = request.tenant_id AND d.actor = request.subject;
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;
    UPDATE tenancy.usage_actors u SET actor = format('[erased %s]', request.id)
     WHERE u.tenant_id = request.tenant_id AND u.actor = request.subject;
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;
    UPDATE tenancy.tenant_events e SET actor = '[erased]'
     WHERE e.tenant_id = request.tenant_id AND e.actor = request.subject;
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;
    UPDATE tenancy.subject_requests r SET subject = NULL
     WHERE r.tenant_id = request.tenant_id AND r.subject = request.subject AND r.id <> request.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN changed + n;
END
$$;

-- Erases what the request's tenant holds about its subject, in one
-- transaction: the marked columns of its rows (or the rows, per table
-- policy), the same values in the tenant's audit log, and the subject in
-- pg_tenancy's own records, this request's included. Records who erased,
-- when and how many rows, never the values. Run again, it returns what it
-- did the first time.
CREATE OR REPLACE FUNCTION tenancy.erase_subject(request bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.subject_requests;
    rows_found jsonb;
    tables_found oid[];
    table_oid oid;
    erased text[];
    tables jsonb := '{}';
    audit_rows bigint := 0;
    records bigint := 0;
    outcome jsonb;
BEGIN
    target := tenancy._subject_request(request, 'erase the data', true);
    IF target.kind <> 'erasure' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('request %s asks for an export, not an erasure', target.id),
            HINT = 'Record an erasure request with tenancy.request_erasure().';
    END IF;
    IF target.status = 'completed' THEN
        RETURN target.result;
    END IF;
    PERFORM tenancy._require_subject(target);
    IF EXISTS (SELECT FROM tenancy.memberships m WHERE m.tenant_id = target.tenant_id AND m.actor = target.subject) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the subject of request %s is a member of tenant "%s"', target.id, target.tenant),
            DETAIL = 'An erasure leaves no trace of the value, and the membership needs it.',
            HINT = 'Remove the member first with tenancy.remove_member(), then erase.';
    END IF;
    -- The rows, locked, grouped by table in the order found.
    SELECT jsonb_object_agg(g.relid::text, g.found_rows), array_agg(g.relid ORDER BY g.first_found)
      INTO rows_found, tables_found
      FROM (SELECT r.relid, min(r.n) AS first_found,
                   jsonb_agg(jsonb_build_object('id', r.row_id, 'row', r.row_data) ORDER BY r.n) AS found_rows
              FROM (SELECT s.*, row_number() OVER () AS n FROM tenancy._subject_rows(target, true) s) r
             GROUP BY r.relid) g;
    rows_found := coalesce(rows_found, '{}');
    -- The values erased, to check that no trigger of an owner wrote one back:
    -- the subject, and what the marked columns held.
    SELECT array_agg(DISTINCT v) INTO erased
      FROM (SELECT target.subject AS v
            UNION ALL
            SELECT f->'row'->>m.column_name::text
              FROM jsonb_each(rows_found) t CROSS JOIN LATERAL tenancy._pii_marks(t.key::oid) m
              CROSS JOIN LATERAL jsonb_array_elements(t.value) f) values_found
     WHERE v IS NOT NULL;
    -- Tables that refer to others first, so that deleted rows go before the
    -- rows they refer to.
    FOR i IN REVERSE coalesce(array_length(tables_found, 1), 0) .. 1 LOOP
        table_oid := tables_found[i];
        tables := tables || jsonb_build_object(table_oid::regclass::text, jsonb_build_object(
            'action', tenancy._erasure_policy(table_oid),
            'found', jsonb_array_length(rows_found -> table_oid::text),
            'changed', tenancy._erase_table_rows(table_oid::regclass, target, rows_found -> table_oid::text, erased)));
    END LOOP;
    -- A subject found in no row is no person of this tenant: its audit
    -- rows and records stay as they are.
    IF rows_found <> '{}' THEN
        audit_rows := tenancy._erase_from_audit(target, rows_found);
        records := tenancy._erase_from_records(target);
    END IF;
    outcome := jsonb_build_object('tables', tables, 'audit_rows', audit_rows, 'records', records);
    UPDATE tenancy.subject_requests r
       SET status = 'completed', subject = NULL, completed_by = tenancy.actor(), completed_at = now(),
           result = outcome
     WHERE r.id = target.id;
    RETURN outcome;
END
$$;
COMMENT ON FUNCTION tenancy.erase_subject(bigint) IS
    'erases what the request''s tenant holds about its subject (marked columns redacted or rows deleted, per '
    'table policy) and the same values in its audit log, in one transaction; returns what it did (owners and '
    'admins of the tenant, platform admins)';

CREATE OR REPLACE FUNCTION tenancy.subject_request_list(tenant text DEFAULT NULL)
RETURNS SETOF tenancy.subject_requests
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF subject_request_list.tenant IS NULL THEN
        PERFORM tenancy._require_platform_admin('list the requests of every tenant');
        RETURN QUERY SELECT r.* FROM tenancy.subject_requests r ORDER BY r.id;
        RETURN;
    END IF;
    target := tenancy._tenant_for_caller(subject_request_list.tenant, 'admin', 'read the requests about persons');
    RETURN QUERY SELECT r.* FROM tenancy.subject_requests r WHERE r.tenant_id = target.id ORDER BY r.id;
END
$$;
COMMENT ON FUNCTION tenancy.subject_request_list(text) IS
    'requests about persons, oldest first: of every tenant (platform admins), or of one (its owners and admins '
    'too)';

-- Only the public functions are PUBLIC's; the internal ones are called by
-- them.
REVOKE ALL ON FUNCTION tenancy._pii_label(oid, integer), tenancy._pii_marks(oid), tenancy._erasure_policy(oid),
    tenancy._erasure_expression(regclass, smallint, text, bigint), tenancy._require_protected_for_pii(regclass),
    tenancy._require_primary_key_for_pii(regclass),
    tenancy._request_tenant(text, text), tenancy._request_subject(text, text, text),
    tenancy._subject_request(bigint, text, boolean),
    tenancy._subject_step(regclass, uuid, text, jsonb, jsonb), tenancy._subject_query(regclass, text, boolean),
    tenancy._subject_condition(name, oid, text), tenancy._subject_rows(tenancy.subject_requests, boolean),
    tenancy._require_subject(tenancy.subject_requests), tenancy._redact_subject(jsonb, text[], text),
    tenancy._redact_keys(jsonb, text[]),
    tenancy._erase_table_rows(regclass, tenancy.subject_requests, jsonb, text[]),
    tenancy._erase_from_audit(tenancy.subject_requests, jsonb),
    tenancy._erase_from_records(tenancy.subject_requests)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._pii_label(oid, integer) IS 'internal: the pg_tenancy label of a table or column';
COMMENT ON FUNCTION tenancy._pii_marks(oid) IS 'internal: the columns of a table marked as personal data';
COMMENT ON FUNCTION tenancy._erasure_policy(oid) IS 'internal: a table''s erasure policy';
COMMENT ON FUNCTION tenancy._erasure_expression(regclass, smallint, text, bigint) IS
    'internal: what an erasure puts in a column, or an error when it can put nothing';
COMMENT ON FUNCTION tenancy._require_protected_for_pii(regclass) IS 'internal: error unless the table is protected';
COMMENT ON FUNCTION tenancy._require_primary_key_for_pii(regclass) IS 'internal: error unless the table has a primary key';
COMMENT ON FUNCTION tenancy._request_tenant(text, text) IS 'internal: the tenant a new request belongs to';
COMMENT ON FUNCTION tenancy._request_subject(text, text, text) IS 'internal: records a request about a person';
COMMENT ON FUNCTION tenancy._subject_request(bigint, text, boolean) IS
    'internal: a request the caller may act on, locked';
COMMENT ON FUNCTION tenancy._subject_step(regclass, uuid, text, jsonb, jsonb) IS
    'internal: runs one search for a person''s rows and keeps the new ones';
COMMENT ON FUNCTION tenancy._subject_query(regclass, text, boolean) IS
    'internal: the statement that finds rows of a table for a request';
COMMENT ON FUNCTION tenancy._subject_condition(name, oid, text) IS
    'internal: the condition that a subject column equals the subject';
COMMENT ON FUNCTION tenancy._subject_rows(tenancy.subject_requests, boolean) IS
    'internal: every row of the request''s tenant that refers to its subject';
COMMENT ON FUNCTION tenancy._require_subject(tenancy.subject_requests) IS
    'internal: error when the request''s subject has been erased';
COMMENT ON FUNCTION tenancy._redact_subject(jsonb, text[], text) IS
    'internal: an audit row without the subject in the named columns';
COMMENT ON FUNCTION tenancy._redact_keys(jsonb, text[]) IS 'internal: an audit row without the named columns';
COMMENT ON FUNCTION tenancy._erase_table_rows(regclass, tenancy.subject_requests, jsonb, text[]) IS
    'internal: erases the rows found of one table as its owner';
COMMENT ON FUNCTION tenancy._erase_from_audit(tenancy.subject_requests, jsonb) IS
    'internal: redacts an erased person in the tenant''s audit rows';
COMMENT ON FUNCTION tenancy._erase_from_records(tenancy.subject_requests) IS
    'internal: forgets an erased person in pg_tenancy''s own records of the tenant';
