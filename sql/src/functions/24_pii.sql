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
-- open for one tenant with a role ($1: the tenant, $2: argument), and
-- returns the jsonb its rows return; see owner_execution.cpp.
CREATE OR REPLACE FUNCTION tenancy._rows_as_owner(target regclass, tenant uuid, role tenancy.role, query text,
                                                  argument jsonb)
RETURNS SETOF jsonb
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_rows_as_owner';
REVOKE ALL ON FUNCTION tenancy._rows_as_owner(regclass, uuid, tenancy.role, text, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._rows_as_owner(regclass, uuid, tenancy.role, text, jsonb) IS
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
-- alias is t): NULL where the column takes it and the policy says null, or
-- the column is of a domain (whose checks the marker may fail) or under a
-- unique index (NULLs never collide); else the marker '[erased]' in text
-- columns (with a random uuid appended under a unique index, so that no two
-- erased rows, and no value anyone wrote before, collide), the JSON string
-- "[erased]" in json and jsonb columns. Raises when a column can take
-- neither.
CREATE OR REPLACE FUNCTION tenancy._erasure_expression(target regclass, column_number smallint, policy text)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    col record;
    is_unique boolean;
BEGIN
    SELECT a.attname, a.attnotnull, format_type(a.atttypid, a.atttypmod) AS type_name, ty.typcategory,
           ty.typtype = 'd' AS is_domain, a.atttypid, a.atttypmod
      INTO col
      FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = target AND a.attnum = column_number AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_column',
            MESSAGE = format('column number %s of table %s does not exist', column_number, target);
    END IF;
    is_unique := EXISTS (SELECT 1 FROM pg_index i
                          WHERE i.indrelid = target AND i.indisunique AND column_number = ANY (i.indkey::int2[]));
    IF NOT col.attnotnull AND (policy = 'null' OR col.is_domain OR is_unique) THEN
        RETURN 'NULL';
    ELSIF policy = 'redact' AND NOT col.is_domain AND col.atttypid IN ('json'::regtype, 'jsonb'::regtype) THEN
        RETURN format('%L::%s', '"[erased]"', col.type_name);
    ELSIF policy = 'redact' AND NOT col.is_domain AND col.typcategory = 'S' AND NOT is_unique THEN
        RETURN format('%L::%s', '[erased]', col.type_name);
    ELSIF policy = 'redact' AND NOT col.is_domain AND col.atttypid IN ('text'::regtype, 'varchar'::regtype)
          AND (col.atttypmod < 0 OR col.atttypmod - 4 >= 45) THEN
        RETURN format('(%L || pg_catalog.gen_random_uuid()::pg_catalog.text || %L)::%s', '[erased ', ']',
                      col.type_name);
    ELSIF NOT col.attnotnull THEN
        RETURN 'NULL';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
        MESSAGE = format('column "%s" of table %s cannot be erased', col.attname, target),
        DETAIL = format('It is NOT NULL and of type %s%s, so under the table''s erasure policy "%s" it can take '
                        'neither a marker nor NULL.', col.type_name,
                        CASE WHEN is_unique THEN ' under a unique index' ELSE '' END, policy),
        HINT = format('Make the column nullable, or have the rows deleted: '
                      'SELECT tenancy.set_erasure_policy(%L, ''delete'').', target::text);
END
$$;

-- The expression that takes the subject out of an unmarked text column, or
-- NULL when the column can take no marker (it is then left as it is).
CREATE OR REPLACE FUNCTION tenancy._erasure_expression_or_null(target regclass, column_number smallint)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN tenancy._erasure_expression(target, column_number, 'redact');
EXCEPTION WHEN feature_not_supported THEN
    RETURN NULL;
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
        PERFORM tenancy._erasure_expression(target, column_number, tenancy._erasure_policy(target));
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
            MESSAGE = format('column "%s" of table %s is not marked as personal data', unmark_pii.column_name, target);
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
            PERFORM tenancy._erasure_expression(target, marked.column_number, policy);
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

-- Runs a statement that finds rows of a table as its owner, with protected
-- tables open for one tenant to read only (viewer), and adds the rows it
-- returns ({"id", "row"}) that were not seen yet to seen; returns those.
CREATE OR REPLACE FUNCTION tenancy._subject_step(target regclass, tenant uuid, query text, argument jsonb,
                                                 INOUT seen jsonb, OUT fresh jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    SELECT coalesce(jsonb_agg(r.found ORDER BY r.found->>'id'), '[]') INTO fresh
      FROM (SELECT DISTINCT ON (f->>'id') f AS found
              FROM tenancy._rows_as_owner(target, tenant, 'viewer', query, argument) f
             WHERE NOT seen ? (f->>'id')) r;
    seen := seen || coalesce((SELECT jsonb_object_agg(f->>'id', true) FROM jsonb_array_elements(fresh) f), '{}');
END
$$;

-- Raises when a table has code of its owner that planning a statement on
-- it would run (an index, a CHECK constraint or a generated column calling
-- the owner's functions, which the health check reports as an error): a
-- request about a person queries the table for one tenant, and that code
-- would run then.
CREATE OR REPLACE FUNCTION tenancy._refuse_owner_code(
    target regclass, operation text DEFAULT 'A request about a person queries the table for one tenant')
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    problem text;
BEGIN
    SELECT c.problem INTO problem FROM tenancy._planned_owner_code(target) c LIMIT 1;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s runs code of its owner when a statement on it is planned', target),
            DETAIL = format('The health check says: %s. %s, and that code would run then.', problem, operation),
            HINT = 'Replace it with one that calls only trusted functions (built in, or owned by a superuser), '
                   'then try again.';
    END IF;
END
$$;

-- The statement that finds rows of a table: {"id", "row"} for every row of
-- the tenant ($1) that meets a condition.
CREATE OR REPLACE FUNCTION tenancy._subject_query(target regclass, condition text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('SELECT pg_catalog.jsonb_build_object(''id'', t.tableoid::pg_catalog.oid::pg_catalog.text '
                  '|| ''/'' || t.ctid::pg_catalog.text, ''row'', pg_catalog.to_jsonb(t)) FROM ONLY %s t '
                  'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 AND (%s)', target, condition)
$$;

-- The condition that a subject column (alias t) equals the subject ($2->>0):
-- with the equality of the default btree operator class of its type (only
-- superusers make operator classes, so no operator anyone made under the
-- name "=" is ever called), else compared as text.
CREATE OR REPLACE FUNCTION tenancy._subject_condition(column_name name, type_oid oid, type_name text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN tenancy._equality_operator(type_oid) IS NOT NULL
                THEN format('t.%I %s ($2 OPERATOR(pg_catalog.->>) 0)::%s', column_name,
                            tenancy._equality_operator(type_oid), type_name)
                ELSE format('t.%I::pg_catalog.text OPERATOR(pg_catalog.=) ($2 OPERATOR(pg_catalog.->>) 0)', column_name)
           END
$$;

-- Every row of the request's tenant that refers to its subject: table, row
-- id (table oid/ctid) and the row as jsonb, in the order found (the
-- subject's rows, then the rows that refer to them, step by step).
CREATE OR REPLACE FUNCTION tenancy._subject_rows(request tenancy.subject_requests)
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
        PERFORM tenancy._refuse_owner_code(subject_column.relid);
        BEGIN
            SELECT s.seen, s.fresh INTO seen, fresh
              FROM tenancy._subject_step(subject_column.relid, request.tenant_id,
                       tenancy._subject_query(subject_column.relid,
                           tenancy._subject_condition(subject_column.column_name, subject_column.atttypid,
                                                      subject_column.type_name)),
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
                PERFORM tenancy._refuse_owner_code(reference.child);
                SELECT s.seen, s.fresh INTO seen, fresh
                  FROM tenancy._subject_step(reference.child, request.tenant_id,
                           tenancy._subject_query(reference.child,
                               format('EXISTS (SELECT FROM pg_catalog.jsonb_array_elements($2) x WHERE %s)',
                                      reference.matches)),
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
    FOR found IN SELECT r.relid::regclass::text AS table_name, r.row_data FROM tenancy._subject_rows(target) r
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
                                                     role tenancy.role, rows_found jsonb)
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
    which_rows :=
        'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 '
        'AND t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.split_part(i, ''/'', 2)::pg_catalog.tid '
        'FROM pg_catalog.jsonb_array_elements_text($2 OPERATOR(pg_catalog.->) ''ids'') i))';
    IF policy = 'delete' THEN
        SELECT coalesce(jsonb_agg(r), '[]') INTO changed
          FROM tenancy._rows_as_owner(target, request.tenant_id, role,
                   format('DELETE FROM ONLY %s t %s RETURNING pg_catalog.to_jsonb(t)', target, which_rows),
                   jsonb_build_object('ids', (SELECT jsonb_agg(f->'id') FROM jsonb_array_elements(rows_found) f))) r;
    ELSE
        SELECT array_agg(m.column_name::text),
               string_agg(format('%I = %s', m.column_name,
                                 tenancy._erasure_expression(target, m.column_number, policy)), ', ')
          INTO marked, assignments
          FROM tenancy._pii_marks(target) m;
        -- The subject's value itself goes wherever it is in these rows:
        -- the text columns that hold it in one of them.
        SELECT array_agg(a.attname::text),
               concat_ws(', ', assignments,
                         string_agg(format('%I = CASE WHEN t.%I::pg_catalog.text OPERATOR(pg_catalog.=) '
                                           '($2 OPERATOR(pg_catalog.->>) ''subject'') THEN %s ELSE t.%I END',
                                           a.attname, a.attname,
                                           tenancy._erasure_expression_or_null(target, a.attnum),
                                           a.attname), ', ' ORDER BY a.attnum))
          INTO holding_subject, assignments
          FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
         WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
           AND ty.typcategory = 'S' AND a.attname <> ALL (coalesce(marked, '{}'))
           AND tenancy._erasure_expression_or_null(target, a.attnum) IS NOT NULL
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
          FROM tenancy._rows_as_owner(target, request.tenant_id, role,
                   format('UPDATE ONLY %s t SET %s %s RETURNING pg_catalog.to_jsonb(t)', target, assignments,
                          which_rows),
                   jsonb_build_object('ids', (SELECT jsonb_agg(f->'id') FROM jsonb_array_elements(rows_found) f),
                                      'subject', request.subject)) r;
        -- A trigger of the owner may have put a value back: the subject, or
        -- what a marked column held (not a marker of an earlier erasure).
        IF EXISTS (SELECT FROM jsonb_array_elements(changed) c,
                               unnest(coalesce(marked, '{}') || coalesce(holding_subject, '{}')) k
                    WHERE c ->> k = request.subject
                       OR c ->> k IN (SELECT f -> 'row' ->> m FROM jsonb_array_elements(rows_found) f, unnest(marked) m
                                       WHERE f -> 'row' ->> m !~ '^"?\[erased( [^]]*)?\]"?$')) THEN
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
            DETAIL = 'A trigger or rule of the table kept them from being changed, or they changed meanwhile; an '
                     'erasure is all or nothing.',
            HINT = 'Erase again; if it fails again, change what keeps them (the table''s owner can).';
    END IF;
    RETURN jsonb_array_length(changed);
END
$$;

-- The key columns of a row of the audit log, as an object.
CREATE OR REPLACE FUNCTION tenancy._row_key(row_data jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT (SELECT pg_catalog.jsonb_object_agg(k, row_data -> k) FROM pg_catalog.unnest(keys) k)
$$;

-- Redacts the person in the tenant's audit rows:
--  * the history of each row found: the audit rows of its key since the key
--    was last inserted (so that an earlier row that had the same key keeps
--    its history), following changes of the key back, lose the marked
--    columns and those that held the subject (every column but the key for
--    tables whose rows are deleted);
--  * every audit row where a subject column holds exactly the subject (the
--    same person), and, unless the subject names a database role, the
--    subject as the actor of an audit row or the member of a membership.
-- Values are never looked for elsewhere: an admin cannot erase other
-- people's history by asking to erase a word they share. Each step is one
-- scan of the tenant's audit rows with constant conditions per row found.
-- Returns how many audit rows changed.
CREATE OR REPLACE FUNCTION tenancy._erase_from_audit(request tenancy.subject_requests, rows_found jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    table_key text;
    key_columns text[];
    redacted_columns text[];
    lifelines jsonb := '[]';  -- {relid, keys, columns, identity, until}
    pending jsonb;            -- lifelines whose audit rows are not read yet
    candidates jsonb := '[]'; -- audit rows whose first key column matches a lifeline's
    old_keys text;
    new_keys text;
    selected jsonb;
    conditions text;
    old_cases text;
    new_cases text;
    role_name boolean := EXISTS (SELECT FROM pg_roles r WHERE r.rolname = request.subject);
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
        SELECT lifelines || coalesce(jsonb_agg(jsonb_build_object(
                   'relid', table_key::oid, 'keys', key_columns, 'columns', redacted_columns,
                   'identity', tenancy._row_key(f -> 'row', key_columns), 'until', 9223372036854775807)), '[]')
          INTO lifelines FROM jsonb_array_elements(rows_found -> table_key) f;
    END LOOP;
    pending := lifelines;
    -- The audit rows of the lifelines' keys: one scan per round, joining each
    -- audit row by its first key column (before and after the change it
    -- records) to the lifelines, a hash join; a key that an UPDATE changed
    -- into a lifeline's key adds a lifeline for the key before, up to that
    -- UPDATE, read in the next round.
    WHILE jsonb_array_length(pending) > 0 LOOP
        SELECT string_agg(DISTINCT format('WHEN %s THEN a.old_row ->> %L', l->>'relid', l->'keys'->>0), ' '),
               string_agg(DISTINCT format('WHEN %s THEN a.new_row ->> %L', l->>'relid', l->'keys'->>0), ' ')
          INTO old_keys, new_keys FROM jsonb_array_elements(pending) l;
        EXECUTE format(
            'SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object(''id'', a.id, ''tid'', '
            'a.tableoid::pg_catalog.oid::pg_catalog.text || ''/'' || a.ctid::pg_catalog.text, ''relid'', a.relid, '
            '''operation'', a.operation, ''old'', a.old_row, ''new'', a.new_row)), ''[]'') '
            'FROM tenancy.audit_log a '
            'CROSS JOIN LATERAL (VALUES (CASE a.relid %s END), (CASE a.relid %s END)) k(value) '
            'JOIN (SELECT DISTINCT (l->>''relid'')::pg_catalog.oid AS relid, '
            '             l->''identity''->>(l->''keys''->>0) AS value '
            '        FROM pg_catalog.jsonb_array_elements($2) l) l ON l.relid = a.relid AND l.value = k.value '
            'WHERE a.tenant_id = $1 AND a.relid = ANY ($3)', old_keys, new_keys)
          INTO selected
          USING request.tenant_id, pending,
                ARRAY(SELECT DISTINCT (l->>'relid')::oid FROM jsonb_array_elements(pending) l);
        candidates := candidates || selected;
        -- Keys that an UPDATE changed into a lifeline's key, before it.
        SELECT coalesce(jsonb_agg(DISTINCT l || jsonb_build_object(
                   'identity', tenancy._row_key(c->'old', ARRAY(SELECT jsonb_array_elements_text(l->'keys'))),
                   'until', (c->>'id')::bigint)), '[]')
          INTO pending
          FROM jsonb_array_elements(pending) l JOIN jsonb_array_elements(selected) c
            ON (c->>'relid')::oid = (l->>'relid')::oid
         WHERE c->>'operation' = 'UPDATE' AND (c->>'id')::bigint < (l->>'until')::bigint
           AND tenancy._row_key(c->'new', ARRAY(SELECT jsonb_array_elements_text(l->'keys'))) = l->'identity'
           AND tenancy._row_key(c->'old', ARRAY(SELECT jsonb_array_elements_text(l->'keys'))) <> l->'identity';
        lifelines := lifelines || pending;
    END LOOP;
    -- Each lifeline: the audit rows of exactly its key, from the last INSERT
    -- of the key before its end (an earlier row that had the key keeps its
    -- history) to its end.
    SELECT coalesce(jsonb_agg(jsonb_build_object('tid', r.tid, 'relid', r.relid)), '[]')
      INTO selected
      FROM (SELECT DISTINCT c->>'tid' AS tid, (c->>'relid')::oid AS relid
              FROM jsonb_array_elements(lifelines) l
              CROSS JOIN LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(l->'keys')) AS keys) k
              JOIN jsonb_array_elements(candidates) c ON (c->>'relid')::oid = (l->>'relid')::oid
             WHERE (c->>'id')::bigint <= (l->>'until')::bigint
               AND (c->>'id')::bigint >= coalesce(
                       (SELECT max((i->>'id')::bigint) FROM jsonb_array_elements(candidates) i
                         WHERE i->>'operation' = 'INSERT' AND (i->>'relid')::oid = (l->>'relid')::oid
                           AND (i->>'id')::bigint <= (l->>'until')::bigint
                           AND tenancy._row_key(i->'new', k.keys) = l->'identity'), 0)
               AND (tenancy._row_key(c->'old', k.keys) = l->'identity'
                    OR tenancy._row_key(c->'new', k.keys) = l->'identity')) r;
    IF jsonb_array_length(selected) > 0 THEN
        SELECT string_agg(DISTINCT format('WHEN %s THEN tenancy._redact_keys(a.old_row, %L::text[])', l->>'relid',
                                          ARRAY(SELECT jsonb_array_elements_text(l->'columns'))), ' '),
               string_agg(DISTINCT format('WHEN %s THEN tenancy._redact_keys(a.new_row, %L::text[])', l->>'relid',
                                          ARRAY(SELECT jsonb_array_elements_text(l->'columns'))), ' ')
          INTO old_cases, new_cases FROM jsonb_array_elements(lifelines) l;
        EXECUTE format('UPDATE tenancy.audit_log a SET old_row = CASE a.relid %s ELSE a.old_row END, '
                       'new_row = CASE a.relid %s ELSE a.new_row END '
                       'WHERE a.tenant_id = $1 AND a.ctid = ANY ($2) AND a.tableoid::pg_catalog.oid::pg_catalog.text '
                       '|| ''/'' || a.ctid::pg_catalog.text = ANY ($3)', old_cases, new_cases)
          USING request.tenant_id,
                ARRAY(SELECT split_part(x->>'tid', '/', 2)::tid FROM jsonb_array_elements(selected) x),
                ARRAY(SELECT x->>'tid' FROM jsonb_array_elements(selected) x);
        GET DIAGNOSTICS n = ROW_COUNT;
        changed := changed + n;
    END IF;
    -- The subject itself: in the subject columns of every protected table
    -- (as text, or as a number when it is one), and, when it names no
    -- database role, as an actor and as a member.
    SELECT string_agg(format('(a.relid = %s AND (a.old_row @> ANY (%L::jsonb[]) OR a.new_row @> ANY (%L::jsonb[])))',
                             m.relid, m.probes, m.probes), ' OR '),
           string_agg(format('WHEN %s THEN tenancy._redact_subject(a.old_row, %L::text[], $2)', m.relid, m.columns), ' '),
           string_agg(format('WHEN %s THEN tenancy._redact_subject(a.new_row, %L::text[], $2)', m.relid, m.columns), ' ')
      INTO conditions, old_cases, new_cases
      FROM (SELECT c.relid, array_agg(DISTINCT c.column_name) AS columns,
                   array_agg(jsonb_build_object(c.column_name, v.value)) AS probes
              FROM (SELECT p.relid::oid AS relid, mk.column_name::text AS column_name
                      FROM tenancy.protected_tables p CROSS JOIN LATERAL tenancy._pii_marks(p.relid) mk
                     WHERE mk.subject
                    UNION ALL
                    SELECT 'tenancy.memberships'::regclass::oid, 'actor' WHERE NOT role_name) c
              CROSS JOIN LATERAL (SELECT to_jsonb(request.subject) AS value
                                  UNION ALL
                                  SELECT to_jsonb(CASE WHEN request.subject ~ '^-?[0-9]{1,30}(\.[0-9]{1,30})?$'
                                                       THEN request.subject::numeric END)
                                   WHERE request.subject ~ '^-?[0-9]{1,30}(\.[0-9]{1,30})?$') v
             GROUP BY c.relid) m;
    EXECUTE format('UPDATE tenancy.audit_log a SET old_row = CASE a.relid %s ELSE a.old_row END, '
                   'new_row = CASE a.relid %s ELSE a.new_row END, '
                   'actor = CASE WHEN a.actor = $2 AND NOT $3 THEN ''[erased]'' ELSE a.actor END '
                   'WHERE a.tenant_id = $1 AND ((a.actor = $2 AND NOT $3) OR %s)',
                   coalesce(old_cases, ''), coalesce(new_cases, ''), coalesce(conditions, 'false'))
      USING request.tenant_id, request.subject, role_name;
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
    -- A database role is an operator of the database, not a person of a
    -- tenant's data: its name stays where it acted.
    IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = request.subject) THEN
        UPDATE tenancy.access_denials d SET actor = '[erased]'
         WHERE d.tenant_id = request.tenant_id AND d.actor = request.subject;
        GET DIAGNOSTICS n = ROW_COUNT;
        changed := changed + n;
        UPDATE tenancy.usage_actors u SET actor = format('[erased %s]', request.id)
         WHERE u.tenant_id = request.tenant_id AND u.actor = request.subject;
        GET DIAGNOSTICS n = ROW_COUNT;
        changed := changed + n;
        UPDATE tenancy.tenant_events e
           SET actor = CASE WHEN e.actor = request.subject THEN '[erased]' ELSE e.actor END,
               "from" = CASE WHEN e.event = 'owner' AND e."from" = request.subject THEN '[erased]' ELSE e."from" END,
               "to" = CASE WHEN e.event = 'owner' AND e."to" = request.subject THEN '[erased]' ELSE e."to" END
         WHERE e.tenant_id = request.tenant_id
           AND (e.actor = request.subject OR (e.event = 'owner' AND request.subject IN (e."from", e."to")));
        GET DIAGNOSTICS n = ROW_COUNT;
        changed := changed + n;
    END IF;
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
    caller_role tenancy.role;
    blocking record;
    tables jsonb := '{}';
    audit_rows bigint := 0;
    records bigint := 0;
    outcome jsonb;
BEGIN
    target := tenancy._subject_request(request, 'erase the data', true);
    -- The owners' code that the erasure's statements run sees the tenant
    -- with the caller's role, as it would see a change the caller made.
    caller_role := CASE WHEN tenancy.is_platform_admin() THEN 'owner'
                        ELSE tenancy._caller_role(target.tenant_id, true) END;
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
    -- The rows, grouped by table in the order found.
    SELECT jsonb_object_agg(g.relid::text, g.found_rows), array_agg(g.relid ORDER BY g.first_found)
      INTO rows_found, tables_found
      FROM (SELECT r.relid, min(r.n) AS first_found,
                   jsonb_agg(jsonb_build_object('id', r.row_id, 'row', r.row_data) ORDER BY r.n) AS found_rows
              FROM (SELECT s.*, row_number() OVER () AS n FROM tenancy._subject_rows(target) s) r
             GROUP BY r.relid) g;
    rows_found := coalesce(rows_found, '{}');
    -- Rows deleted by their table's policy must not be referred to by rows
    -- that stay (a foreign key without an action would refuse the delete).
    SELECT c.conrelid::regclass AS child, c.confrelid::regclass AS parent INTO blocking
      FROM pg_constraint c
     WHERE c.contype = 'f' AND c.confdeltype IN ('a', 'r')
       AND rows_found ? c.confrelid::text AND rows_found ? c.conrelid::text AND c.conrelid <> c.confrelid
       AND tenancy._erasure_policy(c.confrelid) = 'delete' AND tenancy._erasure_policy(c.conrelid) <> 'delete'
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the erasure of request %s would delete rows of table %s that rows of table %s '
                             'refer to', target.id, blocking.parent, blocking.child),
            DETAIL = format('Table %s''s erasure policy is delete, and the foreign key from %s has no action on '
                            'delete; those rows stay.', blocking.parent, blocking.child),
            HINT = format('Delete the referring rows too (tenancy.set_erasure_policy(%L, ''delete'')), or give the '
                          'foreign key ON DELETE CASCADE or SET NULL.', blocking.child::text);
    END IF;
    -- Tables that refer to others first, so that deleted rows go before the
    -- rows they refer to: each round takes the tables no remaining table
    -- refers to (in a cycle, any).
    WHILE cardinality(tables_found) > 0 LOOP
        SELECT t INTO table_oid FROM unnest(tables_found) WITH ORDINALITY u(t, n)
         ORDER BY EXISTS (SELECT FROM pg_constraint c
                           WHERE c.contype = 'f' AND c.confrelid = u.t AND c.conrelid <> u.t
                             AND c.conrelid = ANY (tables_found)), u.n DESC
         LIMIT 1;
        tables_found := array_remove(tables_found, table_oid);
        tables := tables || jsonb_build_object(table_oid::regclass::text, jsonb_build_object(
            'action', tenancy._erasure_policy(table_oid),
            'found', jsonb_array_length(rows_found -> table_oid::text),
            'changed', tenancy._erase_table_rows(table_oid::regclass, target, caller_role,
                                                 rows_found -> table_oid::text)));
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
    tenancy._erasure_expression(regclass, smallint, text), tenancy._erasure_expression_or_null(regclass, smallint),
    tenancy._require_protected_for_pii(regclass),
    tenancy._require_primary_key_for_pii(regclass),
    tenancy._request_tenant(text, text), tenancy._request_subject(text, text, text),
    tenancy._subject_request(bigint, text, boolean),
    tenancy._subject_step(regclass, uuid, text, jsonb, jsonb), tenancy._subject_query(regclass, text),
    tenancy._refuse_owner_code(regclass, text),
    tenancy._subject_condition(name, oid, text), tenancy._subject_rows(tenancy.subject_requests),
    tenancy._require_subject(tenancy.subject_requests), tenancy._redact_subject(jsonb, text[], text),
    tenancy._row_key(jsonb, text[]),
    tenancy._redact_keys(jsonb, text[]),
    tenancy._erase_table_rows(regclass, tenancy.subject_requests, tenancy.role, jsonb),
    tenancy._erase_from_audit(tenancy.subject_requests, jsonb),
    tenancy._erase_from_records(tenancy.subject_requests)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._pii_label(oid, integer) IS 'internal: the pg_tenancy label of a table or column';
COMMENT ON FUNCTION tenancy._pii_marks(oid) IS 'internal: the columns of a table marked as personal data';
COMMENT ON FUNCTION tenancy._erasure_policy(oid) IS 'internal: a table''s erasure policy';
COMMENT ON FUNCTION tenancy._erasure_expression(regclass, smallint, text) IS
    'internal: what an erasure puts in a column, or an error when it can put nothing';
COMMENT ON FUNCTION tenancy._erasure_expression_or_null(regclass, smallint) IS
    'internal: what an erasure puts in an unmarked text column holding the subject, or NULL';
COMMENT ON FUNCTION tenancy._require_protected_for_pii(regclass) IS 'internal: error unless the table is protected';
COMMENT ON FUNCTION tenancy._require_primary_key_for_pii(regclass) IS 'internal: error unless the table has a primary key';
COMMENT ON FUNCTION tenancy._request_tenant(text, text) IS 'internal: the tenant a new request belongs to';
COMMENT ON FUNCTION tenancy._request_subject(text, text, text) IS 'internal: records a request about a person';
COMMENT ON FUNCTION tenancy._subject_request(bigint, text, boolean) IS
    'internal: a request the caller may act on, locked';
COMMENT ON FUNCTION tenancy._subject_step(regclass, uuid, text, jsonb, jsonb) IS
    'internal: runs one search for a person''s rows and keeps the new ones';
COMMENT ON FUNCTION tenancy._refuse_owner_code(regclass, text) IS
    'internal: error when planning a statement on the table would run its owner''s code';
COMMENT ON FUNCTION tenancy._subject_query(regclass, text) IS
    'internal: the statement that finds rows of a table for a request';
COMMENT ON FUNCTION tenancy._subject_condition(name, oid, text) IS
    'internal: the condition that a subject column equals the subject';
COMMENT ON FUNCTION tenancy._subject_rows(tenancy.subject_requests) IS
    'internal: every row of the request''s tenant that refers to its subject';
COMMENT ON FUNCTION tenancy._require_subject(tenancy.subject_requests) IS
    'internal: error when the request''s subject has been erased';
COMMENT ON FUNCTION tenancy._redact_subject(jsonb, text[], text) IS
    'internal: an audit row without the subject in the named columns';
COMMENT ON FUNCTION tenancy._row_key(jsonb, text[]) IS 'internal: the key columns of an audit row';
COMMENT ON FUNCTION tenancy._redact_keys(jsonb, text[]) IS 'internal: an audit row without the named columns';
COMMENT ON FUNCTION tenancy._erase_table_rows(regclass, tenancy.subject_requests, tenancy.role, jsonb) IS
    'internal: erases the rows found of one table as its owner';
COMMENT ON FUNCTION tenancy._erase_from_audit(tenancy.subject_requests, jsonb) IS
    'internal: redacts an erased person in the tenant''s audit rows';
COMMENT ON FUNCTION tenancy._erase_from_records(tenancy.subject_requests) IS
    'internal: forgets an erased person in pg_tenancy''s own records of the tenant';
