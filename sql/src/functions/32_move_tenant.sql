-- pg_tenancy: moving a tenant between row and schema mode. move_tenant()
-- does everything in the caller's transaction, so that a move that fails or
-- is interrupted leaves the tenant as it was, in its old mode:
--
--   1. it waits for the transactions writing into the tenant and keeps new
--      ones out until it ends (the tenant's lock, and in schema mode a lock
--      on every table of its schema that lets readers through);
--   2. it copies the tenant's rows, table by table, into temporary tables,
--      each read as the table's owner (in row mode deleted and returned by
--      one statement, which also waits for writers that bypass the
--      policies), and takes their count and checksum;
--   3. it removes the old copy (the schema, in schema mode), switches the
--      tenant's mode and loads the rows into their new tables as those
--      tables' owners, in foreign key order, keeping every value (keys
--      included) and moving sequences past the keys loaded;
--   4. it counts and checksums every new table and raises unless each equals
--      its source.
--
-- A row-mode table and a schema-mode table correspond by name: public.todo
-- and tenant_acme.todo, as the tenant migrations make them.

-- The columns a move copies from source to target: every column of the
-- source but tenant_id, dropped and generated ones, which the target must
-- have with the same type (a value left behind would be lost).
CREATE OR REPLACE FUNCTION tenancy._move_columns(source regclass, target regclass) RETURNS name[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    source_column record;
    target_type oid;
    columns name[] := '{}';
BEGIN
    FOR source_column IN SELECT * FROM tenancy._portable_columns(source) LOOP
        SELECT a.atttypid INTO target_type
          FROM pg_attribute a
         WHERE a.attrelid = target AND a.attname = source_column.column_name AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '';
        IF target_type IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('column %I of %s has no column in %s to go to', source_column.column_name, source,
                                 target),
                DETAIL = 'A move copies every column of the tenant''s tables; the values of this one would be lost.',
                HINT = 'Add the column with a migration (tenantctl migrate), or drop it, before the move.';
        ELSIF target_type <> source_column.type_oid THEN
            RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
                MESSAGE = format('column %I is of type %s in %s and of type %s in %s', source_column.column_name,
                                 source_column.type_oid::regtype, source, target_type::regtype, target),
                DETAIL = 'A move copies values without casting them.',
                HINT = 'Give both tables the same type with a migration before the move.';
        END IF;
        columns := columns || source_column.column_name;
    END LOOP;
    RETURN columns;
END
$$;

-- The rows of a table in a FROM clause: ONLY for a plain table (never its
-- inheritance children), the table itself for a partitioned one.
CREATE OR REPLACE FUNCTION tenancy._move_rows_of(target regclass) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN c.relkind = 'p' THEN format('%s t', target) ELSE format('ONLY %s t', target) END
      FROM pg_class c WHERE c.oid = target
$$;

-- The expression of a table's count and checksum, "rows/sum": the sum of a
-- 64-bit hash of the text of each row's columns (in the order given), which
-- does not depend on the order the rows are read in.
CREATE OR REPLACE FUNCTION tenancy._move_checksum(columns name[]) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('pg_catalog.count(*)::pg_catalog.text OPERATOR(pg_catalog.||) ''/'' OPERATOR(pg_catalog.||) '
                  'coalesce(pg_catalog.sum(pg_catalog.hashtextextended(ROW(0%s)::pg_catalog.text, 0)'
                  '::pg_catalog.numeric), 0)::pg_catalog.text',
                  (SELECT coalesce(string_agg(format(', t.%I', c), '' ORDER BY n), '')
                     FROM unnest(columns) WITH ORDINALITY u(c, n)))
$$;

-- The sequences that fill columns of a table (serial and identity columns),
-- with the column.
CREATE OR REPLACE FUNCTION tenancy._move_sequences(target regclass)
RETURNS TABLE (column_name name, sequence regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.attname, d.objid::regclass
      FROM pg_depend d
      JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
      JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.refobjid = target AND d.deptype IN ('a', 'i')
$$;

-- Returns a table's owner.
CREATE OR REPLACE FUNCTION tenancy._owner_of(target regclass) RETURNS regrole
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = target
$$;

-- Runs a statement on a table of a tenant's schema as the table's owner,
-- with that tenant open; the statement names everything with its schema.
CREATE OR REPLACE FUNCTION tenancy._in_tenant_table(target regclass, tenant uuid, statement text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._run_in_tenant(tenancy._owner_of(target), tenant, 'pg_catalog, pg_temp', statement);
END
$$;

-- Takes back a privilege on a temporary table of the session from a
-- table's owner (see _grant_to_owner()).
CREATE OR REPLACE FUNCTION tenancy._revoke_from_owner(temporary regclass, target regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('REVOKE ALL ON TABLE %s FROM %I', temporary, tenancy._owner_of(target)::text);
END
$$;

-- Returns the one value a query gives, run as a table's owner (whose code
-- it may run) with one tenant open (its schema, and its rows of protected
-- tables). The value goes through a temporary table that only that one
-- statement may write to: exactly one row, or the owner's code wrote there
-- too.
CREATE OR REPLACE FUNCTION tenancy._value_as_owner(target regclass, tenant uuid, query text) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    result_table regclass := tenancy._new_temporary_table('pg_temp.tenancy_move_value', 'value text');
    taken text[];
BEGIN
    PERFORM tenancy._grant_to_owner(result_table, 'INSERT', target);
    PERFORM tenancy._in_tenant_table(target, tenant, format('INSERT INTO %s %s', result_table, query));
    PERFORM tenancy._revoke_from_owner(result_table, target);
    taken := ARRAY(SELECT k.value FROM pg_temp.tenancy_move_value k);
    EXECUTE format('DROP TABLE %s', result_table);
    IF cardinality(taken) <> 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'data_exception',
            MESSAGE = format('a query on %s as its owner could not be answered', target),
            DETAIL = 'Code of the table''s owner wrote into the table the answer goes through.',
            HINT = 'Nothing was moved.';
    END IF;
    RETURN taken[1];
END
$$;

-- Returns the count and checksum ("rows/sum") of the columns of a table of
-- a tenant's schema, computed as the table's owner (whose types' output
-- functions run) with that tenant open.
CREATE OR REPLACE FUNCTION tenancy._checksum_in_tenant(target regclass, tenant uuid, columns name[]) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._value_as_owner(target, tenant, format('SELECT %s FROM %s', tenancy._move_checksum(columns),
                                                          tenancy._move_rows_of(target)))
$$;

-- Raises unless a copy has the count and checksum ("rows/sum") of its
-- source.
CREATE OR REPLACE FUNCTION tenancy._require_same_copy(source text, target regclass, expected text, copied text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF copied IS DISTINCT FROM expected THEN
        RAISE EXCEPTION USING ERRCODE = 'data_exception',
            MESSAGE = format('the copy of %s in %s differs from it', source, target),
            DETAIL = format('The source has %s row(s) with checksum %s; the copy has %s.', split_part(expected, '/', 1),
                            split_part(expected, '/', 2),
                            coalesce(replace(copied, '/', ' row(s) with checksum '), 'nothing')),
            HINT = 'Nothing was moved. A trigger or rule of the new table changed or kept out rows, or a '
                   'column''s type rounds its values: change it, then move the tenant again.';
    END IF;
END
$$;

-- Raises when a table of a tenant's schema has a column tenant_id: in row
-- mode that column holds the tenant, so its values would be lost.
CREATE OR REPLACE FUNCTION tenancy._refuse_tenant_id_column(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = target AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('table %s has a column tenant_id', target),
            DETAIL = 'In row mode the column tenant_id of a protected table holds the tenant; the values of this '
                     'table''s own column would be lost.',
            HINT = 'Rename the column with a tenant migration before the move.';
    END IF;
END
$$;

-- Raises when a row outside the tenant refers, through a foreign key, to a
-- row of the tenant in a protected table: deleting the tenant's rows would
-- fire the key's action (CASCADE, SET NULL, SET DEFAULT) on it, in another
-- tenant or in a table that is not protected. The tenant's referenced rows
-- are locked first (FOR UPDATE), so that no reference to them can be added
-- until the move ends. A protected referencing table is read by the
-- extension's owner (no policy hides another tenant's row; its planned code
-- is refused first, and the key's operators must be trusted); any other
-- table by its own owner, whose code it is.
CREATE OR REPLACE FUNCTION tenancy._refuse_outside_references(target tenancy.tenants) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    reference record;
    parent regclass;
    outside bigint;
BEGIN
    FOR parent IN SELECT DISTINCT con.confrelid::regclass FROM pg_constraint con
                   WHERE con.contype = 'f' AND con.confrelid IN (SELECT p.relid FROM tenancy.protected_tables p) LOOP
        PERFORM tenancy._rows_as_owner(parent, target.id, 'owner', format(
            'SELECT pg_catalog.to_jsonb(pg_catalog.count(*)) FROM (SELECT 1 FROM ONLY %s t '
            'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 FOR UPDATE) l', parent), NULL);
    END LOOP;
    FOR reference IN
        SELECT con.conname, con.conrelid::regclass AS child, con.confrelid::regclass AS parent,
               EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = con.conrelid) AS child_protected,
               keys.matches, keys.trusted, keys.exact_types
          FROM pg_constraint con
          CROSS JOIN LATERAL (
              SELECT string_agg(format('t.%I OPERATOR(%I.%s) p.%I', ca.attname, n.nspname, o.oprname, pa.attname),
                                ' AND ') AS matches,
                     bool_and(tenancy._trusted_function(o.oprcode)) AS trusted,
                     bool_and(ca.atttypid = o.oprleft AND pa.atttypid = o.oprright) AS exact_types
                FROM unnest(con.conkey, con.confkey, con.conpfeqop) k(child_attnum, parent_attnum, op)
                JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = k.child_attnum
                JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.parent_attnum
                JOIN pg_operator o ON o.oid = k.op
                JOIN pg_namespace n ON n.oid = o.oprnamespace) keys
         WHERE con.contype = 'f' AND con.confrelid IN (SELECT p.relid FROM tenancy.protected_tables p)
           AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = con.conrelid AND c.relispartition)
         ORDER BY con.conrelid::regclass::text, con.conname LOOP
        IF reference.child_protected THEN
            -- Columns of exactly the operator's types: no cast (which could
            -- be an ordinary role's function) comes into the comparison.
            IF NOT reference.exact_types THEN
                RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                    MESSAGE = format('foreign key %I of %s compares columns of other types than its operator''s',
                                     reference.conname, reference.child),
                    DETAIL = 'A move looks for rows of other tenants that refer to the tenant''s rows as the '
                             'extension''s owner, and a comparison needing a cast could run code of an ordinary role.',
                    HINT = 'Give the referring columns the types of the columns they refer to.';
            END IF;
            IF NOT reference.trusted THEN
                RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                    MESSAGE = format('foreign key %I of %s compares with an operator of an ordinary role',
                                     reference.conname, reference.child),
                    DETAIL = 'A move looks for rows of other tenants that refer to the tenant''s rows as the '
                             'extension''s owner, which runs no code of ordinary roles.';
            END IF;
            PERFORM tenancy._refuse_owner_code(reference.child,
                                               'A move looks for rows of other tenants that refer to the tenant''s rows');
            PERFORM tenancy._refuse_owner_code(reference.parent,
                                               'A move looks for rows of other tenants that refer to the tenant''s rows');
            EXECUTE format('SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.tenant_id IS DISTINCT FROM $1 '
                           'AND EXISTS (SELECT 1 FROM ONLY %s p WHERE p.tenant_id OPERATOR(pg_catalog.=) $1 AND %s)',
                           reference.child, reference.parent, reference.matches)
               INTO outside USING target.id;
        ELSE
            outside := tenancy._value_as_owner(reference.child, target.id, format(
                'SELECT pg_catalog.count(*)::pg_catalog.text FROM %s WHERE EXISTS (SELECT 1 FROM ONLY %s p '
                'WHERE p.tenant_id OPERATOR(pg_catalog.=) %L::pg_catalog.uuid AND %s)',
                tenancy._move_rows_of(reference.child), reference.parent, target.id, reference.matches))::bigint;
        END IF;
        IF outside > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('%s row(s) of %s outside tenant "%s" refer to its rows in %s', outside, reference.child,
                                 target.slug, reference.parent),
                DETAIL = format('When the tenant''s rows leave %s, foreign key %I would change or delete them, or '
                                'fail.', reference.parent, reference.conname),
                HINT = 'Change those rows first, and make the foreign key include tenant_id, so that no row refers '
                       'across tenants.';
        END IF;
    END LOOP;
END
$$;

-- Returns the schema of an object of the kinds that live in a schema or on a
-- table, null for others.
CREATE OR REPLACE FUNCTION tenancy._object_schema(classid oid, objid oid) RETURNS oid
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE classid
        WHEN 'pg_class'::regclass THEN (SELECT c.relnamespace FROM pg_class c WHERE c.oid = objid)
        WHEN 'pg_type'::regclass THEN (SELECT t.typnamespace FROM pg_type t WHERE t.oid = objid)
        WHEN 'pg_proc'::regclass THEN (SELECT f.pronamespace FROM pg_proc f WHERE f.oid = objid)
        WHEN 'pg_constraint'::regclass THEN (SELECT c.connamespace FROM pg_constraint c WHERE c.oid = objid)
        WHEN 'pg_collation'::regclass THEN (SELECT c.collnamespace FROM pg_collation c WHERE c.oid = objid)
        WHEN 'pg_operator'::regclass THEN (SELECT o.oprnamespace FROM pg_operator o WHERE o.oid = objid)
        WHEN 'pg_opclass'::regclass THEN (SELECT o.opcnamespace FROM pg_opclass o WHERE o.oid = objid)
        WHEN 'pg_opfamily'::regclass THEN (SELECT o.opfnamespace FROM pg_opfamily o WHERE o.oid = objid)
        WHEN 'pg_conversion'::regclass THEN (SELECT c.connamespace FROM pg_conversion c WHERE c.oid = objid)
        WHEN 'pg_statistic_ext'::regclass THEN (SELECT x.stxnamespace FROM pg_statistic_ext x WHERE x.oid = objid)
        WHEN 'pg_ts_config'::regclass THEN (SELECT c.cfgnamespace FROM pg_ts_config c WHERE c.oid = objid)
        WHEN 'pg_ts_dict'::regclass THEN (SELECT d.dictnamespace FROM pg_ts_dict d WHERE d.oid = objid)
        WHEN 'pg_ts_parser'::regclass THEN (SELECT p.prsnamespace FROM pg_ts_parser p WHERE p.oid = objid)
        WHEN 'pg_ts_template'::regclass THEN (SELECT t.tmplnamespace FROM pg_ts_template t WHERE t.oid = objid)
        WHEN 'pg_default_acl'::regclass THEN (SELECT a.defaclnamespace FROM pg_default_acl a WHERE a.oid = objid)
        WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
                                           WHERE r.oid = objid)
        WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                                           WHERE g.oid = objid)
        WHEN 'pg_policy'::regclass THEN (SELECT c.relnamespace FROM pg_policy y JOIN pg_class c ON c.oid = y.polrelid
                                          WHERE y.oid = objid)
        WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid
                                           WHERE a.oid = objid)
    END
$$;

-- Raises when objects outside a tenant's schema depend on objects in it (a
-- view, a foreign key, a column of its row type), or a table in it belongs
-- to a table outside it (a partition, an inheritance child): dropping the
-- schema would drop them, or the outside table's rows in it, too.
CREATE OR REPLACE FUNCTION tenancy._refuse_outside_dependents(schema_name text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    schema_oid oid := (SELECT n.oid FROM pg_namespace n WHERE n.nspname = schema_name);
    dependents text;
BEGIN
    SELECT string_agg(DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid), ', ') INTO dependents
      FROM (SELECT 'pg_namespace'::regclass::oid, schema_oid
            UNION ALL SELECT 'pg_class'::regclass, c.oid FROM pg_class c WHERE c.relnamespace = schema_oid
            UNION ALL SELECT 'pg_type'::regclass, t.oid FROM pg_type t WHERE t.typnamespace = schema_oid
            UNION ALL SELECT 'pg_proc'::regclass, f.oid FROM pg_proc f WHERE f.pronamespace = schema_oid
            UNION ALL SELECT 'pg_collation'::regclass, c.oid FROM pg_collation c WHERE c.collnamespace = schema_oid
            UNION ALL SELECT 'pg_operator'::regclass, o.oid FROM pg_operator o WHERE o.oprnamespace = schema_oid
            UNION ALL SELECT 'pg_opclass'::regclass, o.oid FROM pg_opclass o WHERE o.opcnamespace = schema_oid
            UNION ALL SELECT 'pg_opfamily'::regclass, o.oid FROM pg_opfamily o WHERE o.opfnamespace = schema_oid
            UNION ALL SELECT 'pg_conversion'::regclass, c.oid FROM pg_conversion c WHERE c.connamespace = schema_oid
            UNION ALL SELECT 'pg_ts_config'::regclass, c.oid FROM pg_ts_config c WHERE c.cfgnamespace = schema_oid
            UNION ALL SELECT 'pg_ts_dict'::regclass, d.oid FROM pg_ts_dict d WHERE d.dictnamespace = schema_oid
            UNION ALL SELECT 'pg_ts_parser'::regclass, p.oid FROM pg_ts_parser p WHERE p.prsnamespace = schema_oid
            UNION ALL SELECT 'pg_ts_template'::regclass, t.oid FROM pg_ts_template t WHERE t.tmplnamespace = schema_oid
           ) inside(classid, objid)
      JOIN pg_depend d ON d.refclassid = inside.classid AND d.refobjid = inside.objid
     WHERE d.deptype IN ('n', 'a')
       AND tenancy._object_schema(d.classid, d.objid) IS DISTINCT FROM schema_oid;
    -- A partition or inheritance child in the schema of a table outside it
    -- holds rows of that table.
    SELECT concat_ws(', ', dependents, string_agg(format('table %s (part of %s)', i.inhrelid::regclass,
                                                         i.inhparent::regclass), ', '))
      INTO dependents
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent
     WHERE c.relnamespace = schema_oid AND p.relnamespace <> schema_oid;
    dependents := nullif(dependents, '');
    IF dependents IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
            MESSAGE = format('objects outside schema %s depend on it', schema_name),
            DETAIL = format('Moving the tenant to row mode drops its schema, and with it: %s.', dependents),
            HINT = 'Drop or change them first.';
    END IF;
END
$$;

-- Raises when a protected table holds a row of a tenant whose rows left
-- (counted by a direct scan: no policy of an owner hides one): a trigger, a
-- rule or a policy kept one, or code wrote one afterwards.
CREATE OR REPLACE FUNCTION tenancy._require_no_rows_left(target tenancy.tenants) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    relid regclass;
    left_behind bigint;
BEGIN
    FOR relid IN SELECT p.relid FROM tenancy.protected_tables p ORDER BY p.relid::text LOOP
        left_behind := tenancy._count_tenant_rows(relid, target.id);
        IF left_behind > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('%s row(s) of tenant "%s" stayed in %s', left_behind, target.slug, relid),
                DETAIL = 'A trigger, rule or policy kept them from being deleted, or code of a table wrote them '
                         'during the move; a move takes every row.',
                HINT = 'Nothing was moved. Change what keeps or writes them (the table''s owner can), then move the '
                       'tenant again.';
        END IF;
    END LOOP;
END
$$;

-- Moves a row-mode tenant into a schema of its own: its rows leave the
-- protected tables for the tables of the same names that the tenant
-- migrations create in its new schema.
CREATE OR REPLACE FUNCTION tenancy._move_rows_to_schema(target tenancy.tenants) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    schema text := tenancy._schema_name_for(target.slug);
    relid regclass;
    staged jsonb := '[]';
    moved jsonb := '[]';
    item jsonb;
    counterpart regclass;
    columns name[];
    column_list text;
    definitions text;
    stage regclass;
    stages regclass[] := '{}';
    checksum text;
    targets regclass[] := '{}';
    sequence_item record;
    n integer := 0;
BEGIN
    PERFORM tenancy._require_free_schema(target.slug, schema);
    PERFORM tenancy._refuse_outside_references(target);
    -- The tenant's rows leave every protected table, children first, for a
    -- temporary table: deleted and returned by one statement as the table's
    -- owner, which waits for whoever writes a row (a role that bypasses the
    -- policies included) and takes its last version.
    FOR relid IN SELECT u.r FROM unnest(tenancy._load_order(ARRAY(SELECT p.relid FROM tenancy.protected_tables p)))
                                 WITH ORDINALITY u(r, k) ORDER BY u.k DESC LOOP
        PERFORM tenancy._refuse_owner_code(relid, 'A move deletes and copies the tenant''s rows as the table''s owner');
        SELECT coalesce(array_agg(pc.column_name ORDER BY pc.attnum), '{}'),
               string_agg(format('%I %s', pc.column_name, pc.type_name), ', ' ORDER BY pc.attnum)
          INTO columns, definitions
          FROM tenancy._portable_columns(relid) pc;
        IF definitions IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                MESSAGE = format('protected table %s has no column but tenant_id', relid),
                HINT = 'A move copies the columns of a table; give it one, or unprotect it.';
        END IF;
        n := n + 1;
        stage := tenancy._new_temporary_table(format('pg_temp.tenancy_move_%s', n), definitions);
        stages := stages || stage;
        column_list := array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(columns) c), ', ');
        PERFORM tenancy._grant_to_owner(stage, 'SELECT, INSERT', relid);
        PERFORM tenancy._rows_as_owner(relid, target.id, 'owner', format(
            'WITH gone AS (DELETE FROM %s WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 RETURNING %s) '
            'INSERT INTO %s (%s) SELECT %s FROM gone', tenancy._move_rows_of(relid),
            array_to_string(ARRAY(SELECT 't.' || quote_ident(c) FROM unnest(columns) c), ', '), stage, column_list,
            column_list), NULL);
        SELECT f #>> '{}' INTO checksum
          FROM tenancy._rows_as_owner(relid, target.id, 'owner', format(
               'SELECT pg_catalog.to_jsonb(%s) FROM %s t', tenancy._move_checksum(columns), stage), NULL) f;
        PERFORM tenancy._revoke_from_owner(stage, relid);
        staged := staged || jsonb_build_object('source', relid::text, 'source_oid', relid::oid,
                                               'name', (SELECT c.relname FROM pg_class c WHERE c.oid = relid),
                                               'stage', stage::text, 'rows', split_part(checksum, '/', 1)::bigint,
                                               'checksum', split_part(checksum, '/', 2));
    END LOOP;
    PERFORM tenancy._require_no_rows_left(target);
    -- The tenant switches to schema mode and gets its schema.
    UPDATE tenancy.tenants SET isolation = 'schema', schema_name = schema WHERE id = target.id;
    PERFORM tenancy._create_tenant_schema(target.id);
    -- Each protected table's rows go to the table of its name there.
    FOR item IN SELECT e FROM jsonb_array_elements(staged) e LOOP
        counterpart := NULL;
        IF tenancy._protected_counterpart(item->>'name') = (item->>'source_oid')::oid THEN
            SELECT c.oid::regclass INTO counterpart
              FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
             WHERE s.nspname = schema AND c.relname = item->>'name' AND c.relkind IN ('r', 'p');
        END IF;
        IF counterpart IS NULL THEN
            IF (item->>'rows')::bigint > 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                    MESSAGE = format('%s row(s) of tenant "%s" in %s have no table to go to in its schema',
                                     item->>'rows', target.slug, item->>'source'),
                    DETAIL = format('A tenant''s schema has the tables of the tenant migrations; the rows of a '
                                    'protected table go to the one of its name when the table is the first of that '
                                    'name in the shared schemas (%s). A move copies every row of the tenant.',
                                    tenancy._shared_search_path()),
                    HINT = 'Create the table with a tenant migration (tenantctl migrate DIR), or remove those rows, '
                           'then move the tenant again.';
            END IF;
            CONTINUE;
        END IF;
        PERFORM tenancy._refuse_tenant_id_column(counterpart);
        targets := targets || counterpart;
        columns := tenancy._move_columns((item->>'source_oid')::oid::regclass, counterpart);
        moved := moved || (item || jsonb_build_object('target', counterpart::text, 'target_oid', counterpart::oid,
                                                      'columns', to_jsonb(columns)));
    END LOOP;
    -- The new tables hold the tenant's rows and nothing else: what the
    -- migrations put in them goes (children first), then the rows come
    -- (parents first).
    targets := tenancy._load_order(targets);
    FOR i IN REVERSE coalesce(cardinality(targets), 0) .. 1 LOOP
        PERFORM tenancy._in_tenant_table(targets[i], target.id,
                                         format('DELETE FROM %s', tenancy._move_rows_of(targets[i])));
    END LOOP;
    FOREACH counterpart IN ARRAY targets LOOP
        SELECT e INTO item FROM jsonb_array_elements(moved) e WHERE (e->>'target_oid')::oid = counterpart;
        columns := ARRAY(SELECT jsonb_array_elements_text(item->'columns'))::name[];
        column_list := array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(columns) c), ', ');
        IF (item->>'rows')::bigint > 0 THEN
            PERFORM tenancy._grant_to_owner((item->>'stage')::regclass, 'SELECT', counterpart);
            PERFORM tenancy._in_tenant_table(counterpart, target.id, format(
                'INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s', counterpart, column_list,
                column_list, item->>'stage'));
            PERFORM tenancy._revoke_from_owner((item->>'stage')::regclass, counterpart);
            FOR sequence_item IN SELECT * FROM tenancy._move_sequences(counterpart) s
                                  WHERE s.column_name = ANY (columns) LOOP
                PERFORM tenancy._in_tenant_table(counterpart, target.id, format(
                    'SELECT pg_catalog.setval(%L::pg_catalog.regclass, m) FROM (SELECT pg_catalog.max(t.%I) AS m '
                    'FROM %s) x WHERE m IS NOT NULL', sequence_item.sequence, sequence_item.column_name,
                    tenancy._move_rows_of(counterpart)));
            END LOOP;
        END IF;
        PERFORM tenancy._require_same_copy(item->>'source', counterpart,
                                           (item->>'rows') || '/' || (item->>'checksum'),
                                           tenancy._checksum_in_tenant(counterpart, target.id, columns));
    END LOOP;
    -- Again, now that the new tables' code ran too.
    PERFORM tenancy._require_no_rows_left(target);
    FOREACH stage IN ARRAY stages LOOP
        EXECUTE format('DROP TABLE %s', stage);
    END LOOP;
    RETURN moved;
END
$$;

-- Finds the protected table that corresponds to a table of a tenant's
-- schema: the protected table of that name in the shared schemas (where
-- tenant migrations run for row-mode tenants), the first in their order;
-- null when there is none.
CREATE OR REPLACE FUNCTION tenancy._protected_counterpart(relname name) RETURNS regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.relid
      FROM tenancy.protected_tables p
      JOIN pg_class c ON c.oid = p.relid
      JOIN pg_namespace s ON s.oid = c.relnamespace
      JOIN tenancy._shared_schemas() e ON e.schema_name = s.nspname
     WHERE c.relname = _protected_counterpart.relname
     ORDER BY e.search_order
     LIMIT 1
$$;

-- Moves a schema-mode tenant into the protected tables: the rows of each
-- table of its schema go to the protected table of the same name, and the
-- schema goes.
CREATE OR REPLACE FUNCTION tenancy._move_schema_to_rows(target tenancy.tenants) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
    sources regclass[];
    source regclass;
    counterpart regclass;
    columns name[];
    column_list text;
    stage regclass;
    stages regclass[] := '{}';
    moved jsonb := '[]';
    item jsonb;
    checksum text;
    targets regclass[] := '{}';
    held bigint;
    all_rows bigint;
    sequence_item record;
    constraint_name text;
    problem text;
    n integer := 0;
BEGIN
    sources := ARRAY(SELECT c.oid::regclass
                       FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
                      WHERE s.nspname = target.schema_name AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                      ORDER BY c.relname);
    -- Writers of the tenant's tables (whoever they are) wait until the move
    -- ends, and then find the tables gone; readers go on.
    IF cardinality(sources) > 0 THEN
        PERFORM tenancy._run_in_tenant(current_user::regrole, target.id, 'pg_catalog, pg_temp',
                                       format('LOCK TABLE %s IN EXCLUSIVE MODE',
                                              (SELECT string_agg(r::text, ', ') FROM unnest(sources) r)));
    END IF;
    FOREACH source IN ARRAY sources LOOP
        PERFORM tenancy._refuse_tenant_id_column(source);
        columns := ARRAY(SELECT pc.column_name FROM tenancy._portable_columns(source) pc ORDER BY pc.attnum);
        checksum := tenancy._checksum_in_tenant(source, target.id, columns);
        -- Read as its owner, the table may hide rows by a policy of its own:
        -- the direct count sees them all.
        all_rows := tenancy._count_all_rows(source);
        IF all_rows <> split_part(checksum, '/', 1)::bigint THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('%s has %s row(s), its owner sees %s', source, all_rows, split_part(checksum, '/', 1)),
                DETAIL = 'A policy of the table hides rows from its owner (FORCE ROW LEVEL SECURITY); a move reads '
                         'the tenant''s tables as their owners and takes every row.',
                HINT = 'Nothing was moved. Drop or relax the policy (or ALTER TABLE ... NO FORCE ROW LEVEL SECURITY) '
                       'for the move.';
        END IF;
        counterpart := tenancy._protected_counterpart((SELECT c.relname FROM pg_class c WHERE c.oid = source));
        IF counterpart IS NULL THEN
            IF split_part(checksum, '/', 1)::bigint > 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                    MESSAGE = format('%s row(s) of %s have no protected table to go to', split_part(checksum, '/', 1),
                                     source),
                    DETAIL = format('Row mode keeps a tenant''s rows in protected tables; no protected table of the '
                                    'shared schemas (%s) is named %I.', tenancy._shared_search_path(),
                                    (SELECT c.relname FROM pg_class c WHERE c.oid = source)),
                    HINT = 'Protect the shared table of that name (tenancy.protect()), or empty the tenant''s table, '
                           'then move the tenant again.';
            END IF;
            CONTINUE;
        END IF;
        PERFORM tenancy._refuse_owner_code(counterpart, 'A move writes the tenant''s rows as the table''s owner');
        columns := tenancy._move_columns(source, counterpart);
        column_list := array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(columns) c), ', ');
        n := n + 1;
        stage := tenancy._new_temporary_table(format('pg_temp.tenancy_move_%s', n),
                     (SELECT string_agg(format('%I %s', pc.column_name, pc.type_name), ', ' ORDER BY pc.attnum)
                        FROM tenancy._portable_columns(source) pc));
        stages := stages || stage;
        IF column_list IS NOT NULL THEN
            PERFORM tenancy._grant_to_owner(stage, 'INSERT', source);
            PERFORM tenancy._in_tenant_table(source, target.id, format(
                'INSERT INTO %s (%s) SELECT %s FROM %s', stage, column_list,
                array_to_string(ARRAY(SELECT 't.' || quote_ident(c) FROM unnest(columns) c), ', '),
                tenancy._move_rows_of(source)));
            PERFORM tenancy._revoke_from_owner(stage, source);
        END IF;
        SELECT (f #>> '{}')::bigint INTO held
          FROM tenancy._rows_as_owner(counterpart, target.id,
                                      (SELECT p.read_role FROM tenancy.protected_tables p WHERE p.relid = counterpart),
                                      format('SELECT pg_catalog.to_jsonb(pg_catalog.count(*)) FROM %s '
                                             'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1',
                                             tenancy._move_rows_of(counterpart)), NULL) f;
        IF held > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('%s already has %s row(s) of tenant "%s"', counterpart, held, target.slug),
                DETAIL = 'A schema-mode tenant''s rows belong in its schema; a move would mix them with these.',
                HINT = 'Remove those rows (or move them into the tenant''s schema), then move the tenant again.';
        END IF;
        targets := targets || counterpart;
        moved := moved || jsonb_build_object('source', source::text, 'target', counterpart::text,
                                             'target_oid', counterpart::oid, 'stage', stage::text,
                                             'columns', to_jsonb(columns),
                                             'rows', split_part(checksum, '/', 1)::bigint,
                                             'checksum', split_part(checksum, '/', 2));
    END LOOP;
    -- The old copy goes (with the tenant's schema open), and the tenant is in
    -- row mode from here on.
    PERFORM tenancy._refuse_outside_dependents(target.schema_name);
    PERFORM tenancy._run_in_tenant(current_user::regrole, target.id, 'pg_catalog, pg_temp',
                                   format('DROP SCHEMA %I CASCADE', target.schema_name));
    UPDATE tenancy.tenants SET isolation = 'row', schema_name = NULL WHERE id = target.id;
    DELETE FROM tenancy.migrations m WHERE m.scope = 'tenant' AND m.tenant_id = target.id;
    FOREACH counterpart IN ARRAY tenancy._load_order(targets) LOOP
        SELECT e INTO item FROM jsonb_array_elements(moved) e WHERE (e->>'target_oid')::oid = counterpart;
        columns := ARRAY(SELECT jsonb_array_elements_text(item->'columns'))::name[];
        column_list := array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(columns) c), ', ');
        IF (item->>'rows')::bigint > 0 THEN
            PERFORM tenancy._grant_to_owner((item->>'stage')::regclass, 'SELECT', counterpart);
            BEGIN
                PERFORM tenancy._rows_as_owner(counterpart, target.id, 'owner', format(
                    'INSERT INTO %s (tenant_id%s) OVERRIDING SYSTEM VALUE SELECT $1%s FROM %s s', counterpart,
                    coalesce(', ' || column_list, ''),
                    coalesce(', ' || array_to_string(ARRAY(SELECT 's.' || quote_ident(c) FROM unnest(columns) c), ', '), ''),
                    item->>'stage'), NULL);
            EXCEPTION WHEN unique_violation THEN
                GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME, problem = PG_EXCEPTION_DETAIL;
                RAISE EXCEPTION USING ERRCODE = 'unique_violation',
                    MESSAGE = format('the rows of %s cannot go into %s', item->>'source', counterpart),
                    DETAIL = format('Unique constraint "%s" holds across tenants, and another tenant''s row has a '
                                    'value of the tenant''s.%s', constraint_name,
                                    coalesce(' ' || nullif(problem, ''), '')),
                    HINT = 'A move keeps every value. Make the constraint include tenant_id, or change the '
                           'tenant''s values first.';
            END;
            -- The table's sequences go past the keys that came in (never back).
            FOR sequence_item IN SELECT * FROM tenancy._move_sequences(counterpart) s
                                  WHERE s.column_name = ANY (columns) LOOP
                PERFORM tenancy._rows_as_owner(counterpart, target.id, 'owner', format(
                    'SELECT pg_catalog.to_jsonb(pg_catalog.setval(%L::pg_catalog.regclass, x.m)) '
                    'FROM (SELECT pg_catalog.max(s.%I) AS m FROM %s s) x, %s q WHERE x.m >= q.last_value',
                    sequence_item.sequence, sequence_item.column_name, item->>'stage', sequence_item.sequence), NULL);
            END LOOP;
            PERFORM tenancy._revoke_from_owner((item->>'stage')::regclass, counterpart);
        END IF;
        SELECT f #>> '{}' INTO checksum
          FROM tenancy._rows_as_owner(counterpart, target.id,
                                      (SELECT p.read_role FROM tenancy.protected_tables p WHERE p.relid = counterpart),
                                      format('SELECT pg_catalog.to_jsonb(%s) FROM %s WHERE t.tenant_id OPERATOR(pg_catalog.=) $1',
                                             tenancy._move_checksum(columns), tenancy._move_rows_of(counterpart)), NULL) f;
        PERFORM tenancy._require_same_copy(item->>'source', counterpart,
                                           (item->>'rows') || '/' || (item->>'checksum'), checksum);
    END LOOP;
    FOREACH stage IN ARRAY stages LOOP
        EXECUTE format('DROP TABLE %s', stage);
    END LOOP;
    RETURN moved;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.move_tenant(tenant text, isolation tenancy.isolation) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    refused text;
    started timestamptz := clock_timestamp();
    moved jsonb;
BEGIN
    PERFORM tenancy._require_platform_admin('move tenants');
    target := tenancy._find_tenant(tenant);
    IF move_tenant.isolation IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'isolation must not be null',
            HINT = 'The modes are row and schema.';
    END IF;
    refused := tenancy.isolation_problem(move_tenant.isolation::text);
    IF refused IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported', MESSAGE = refused,
            DETAIL = 'This version of pg_tenancy moves tenants between row and schema mode.';
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_state',
            MESSAGE = 'tenancy.move_tenant() must run in a READ COMMITTED transaction',
            DETAIL = format('This transaction is %s: its snapshot, taken before the move waited for the tenant''s '
                            'writers, would not show their rows.', upper(current_setting('transaction_isolation'))),
            HINT = 'Move the tenant in a transaction of its own (READ COMMITTED is the default).';
    END IF;
    -- Every writer of the tenant is waited for and kept out; then the
    -- tenant's row, in its latest state, is held until the end.
    PERFORM tenancy._hold_tenant_rows(target.id);
    target := tenancy._find_tenant(target.id::text, true);
    IF target.isolation = move_tenant.isolation THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is already in %s mode', target.slug, target.isolation);
    END IF;
    IF target.status = 'terminating' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is being terminated', target.slug),
            HINT = 'Restore it first with tenancy.restore_tenant(), or let it be purged.';
    END IF;
    moved := CASE move_tenant.isolation
                  WHEN 'schema' THEN tenancy._move_rows_to_schema(target)
                  ELSE tenancy._move_schema_to_rows(target) END;
    RETURN jsonb_build_object(
        'tenant', target.slug, 'from', target.isolation, 'to', move_tenant.isolation,
        'schema', (SELECT t.schema_name FROM tenancy.tenants t WHERE t.id = target.id),
        'tables', (SELECT coalesce(jsonb_agg(jsonb_build_object('source', e->>'source', 'target', e->>'target',
                                                                 'rows', (e->>'rows')::bigint, 'checksum', e->>'checksum')
                                             ORDER BY e->>'target'), '[]')
                     FROM jsonb_array_elements(moved) e),
        'rows', (SELECT coalesce(sum((e->>'rows')::bigint), 0) FROM jsonb_array_elements(moved) e),
        'seconds', round(extract(epoch FROM clock_timestamp() - started)::numeric, 3));
END
$$;
COMMENT ON FUNCTION tenancy.move_tenant(text, tenancy.isolation) IS
    'moves a tenant between row and schema mode in the caller''s transaction: copies its rows into the tables of '
    'the same names, verifies their counts and checksums, switches the tenant and removes the old copy; returns '
    'what moved (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy._count_all_rows(target regclass) RETURNS bigint
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_count_all_rows';
CREATE OR REPLACE FUNCTION tenancy._hold_tenant_rows(tenant uuid) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_hold_tenant_rows';

REVOKE ALL ON FUNCTION tenancy._move_columns(regclass, regclass), tenancy._move_rows_of(regclass),
    tenancy._move_checksum(name[]), tenancy._move_sequences(regclass), tenancy._owner_of(regclass),
    tenancy._in_tenant_table(regclass, uuid, text), tenancy._revoke_from_owner(regclass, regclass),
    tenancy._checksum_in_tenant(regclass, uuid, name[]), tenancy._require_same_copy(text, regclass, text, text),
    tenancy._refuse_tenant_id_column(regclass), tenancy._refuse_outside_references(tenancy.tenants),
    tenancy._object_schema(oid, oid), tenancy._refuse_outside_dependents(text),
    tenancy._value_as_owner(regclass, uuid, text), tenancy._require_no_rows_left(tenancy.tenants),
    tenancy._move_rows_to_schema(tenancy.tenants), tenancy._protected_counterpart(name),
    tenancy._move_schema_to_rows(tenancy.tenants), tenancy._hold_tenant_rows(uuid), tenancy._count_all_rows(regclass)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._move_columns(regclass, regclass) IS 'internal: the columns a move copies, checked';
COMMENT ON FUNCTION tenancy._move_rows_of(regclass) IS 'internal: a table''s rows in a FROM clause, as t';
COMMENT ON FUNCTION tenancy._move_checksum(name[]) IS 'internal: the expression of a table''s count and checksum';
COMMENT ON FUNCTION tenancy._move_sequences(regclass) IS 'internal: the sequences that fill a table''s columns';
COMMENT ON FUNCTION tenancy._owner_of(regclass) IS 'internal: a table''s owner';
COMMENT ON FUNCTION tenancy._in_tenant_table(regclass, uuid, text) IS
    'internal: runs a statement as the owner of a table of a tenant''s schema, that tenant open';
COMMENT ON FUNCTION tenancy._revoke_from_owner(regclass, regclass) IS
    'internal: takes back a privilege on a temporary table from a table''s owner';
COMMENT ON FUNCTION tenancy._checksum_in_tenant(regclass, uuid, name[]) IS
    'internal: the count and checksum of a table of a tenant''s schema, taken as its owner';
COMMENT ON FUNCTION tenancy._require_same_copy(text, regclass, text, text) IS
    'internal: error unless a copy has its source''s count and checksum';
COMMENT ON FUNCTION tenancy._refuse_outside_references(tenancy.tenants) IS
    'internal: error when rows outside a tenant refer to its rows in protected tables';
COMMENT ON FUNCTION tenancy._value_as_owner(regclass, uuid, text) IS
    'internal: the one value of a query run as a table''s owner with one tenant open';
COMMENT ON FUNCTION tenancy._require_no_rows_left(tenancy.tenants) IS
    'internal: error when a protected table holds a row of the moved tenant';
COMMENT ON FUNCTION tenancy._object_schema(oid, oid) IS 'internal: the schema of an object, or of its table';
COMMENT ON FUNCTION tenancy._refuse_outside_dependents(text) IS
    'internal: error when objects outside a tenant''s schema depend on it';
COMMENT ON FUNCTION tenancy._refuse_tenant_id_column(regclass) IS
    'internal: error when a tenant table has a column tenant_id';
COMMENT ON FUNCTION tenancy._move_rows_to_schema(tenancy.tenants) IS 'internal: moves a row-mode tenant into its schema';
COMMENT ON FUNCTION tenancy._protected_counterpart(name) IS
    'internal: the protected table a tenant table''s rows go to in row mode';
COMMENT ON FUNCTION tenancy._move_schema_to_rows(tenancy.tenants) IS
    'internal: moves a schema-mode tenant into the protected tables';
COMMENT ON FUNCTION tenancy._count_all_rows(regclass) IS
    'internal: every row of a table (of its partitions), counted by direct scans';
COMMENT ON FUNCTION tenancy._hold_tenant_rows(uuid) IS
    'internal: waits for the tenant''s writers and keeps new ones out until the transaction ends';
