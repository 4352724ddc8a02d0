-- pg_tenancy: a tenant's portability. export_manifest() describes a tenant
-- and the rows tenantctl exports (it reads them itself, with COPY, in the
-- caller's name); import_stage() makes the temporary tables the export's
-- files are copied into, and import_tenant() creates a tenant from the
-- description and loads the staged rows; clone_tenant() does both inside the
-- database. Rows reach the new tenant through _load_staged(): table by table
-- in foreign key order, as each table's owner with protected tables open for
-- the new tenant only (tenancy._rows_as_owner()), with new values for the
-- keys the tables generate and every reference to them changed to match.
-- Everything happens in the caller's transaction: all or nothing.

-- The columns of a protected table that an export holds and an import
-- fills: all but tenant_id, dropped and generated ones, in table order.
CREATE OR REPLACE FUNCTION tenancy._portable_columns(target regclass)
RETURNS TABLE (column_name name, type_name text, type_oid oid, attnum smallint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid, a.attnum
      FROM pg_attribute a
     WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
       AND a.attname <> 'tenant_id'
     ORDER BY a.attnum
$$;

-- The columns whose values a table generates (identity, a sequence's
-- nextval(), gen_random_uuid()) and a unique index holds, with the
-- expression that makes one: a copy of a row into another tenant gets a new
-- value there. Other defaults are not keys the table makes: their values
-- are kept.
CREATE OR REPLACE FUNCTION tenancy._generated_keys(target regclass)
RETURNS TABLE (column_name name, value_sql text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.attname,
           CASE WHEN a.attidentity <> ''
                THEN format('pg_catalog.nextval(%L::pg_catalog.regclass)', pg_get_serial_sequence(target::text, a.attname))
                ELSE pg_get_expr(d.adbin, d.adrelid) END
      FROM pg_attribute a
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
       AND a.attname <> 'tenant_id'
       AND (a.attidentity <> ''
            OR pg_get_expr(d.adbin, d.adrelid) ~ '^nextval\('
            OR pg_get_expr(d.adbin, d.adrelid) ~ '^(public\.)?(gen_random_uuid|uuid_generate_v4)\(\)$')
       AND EXISTS (SELECT 1 FROM pg_index i
                    WHERE i.indrelid = target AND i.indisunique AND i.indpred IS NULL
                      AND a.attnum = ANY (i.indkey::smallint[]))
$$;

-- The columns of a table that refer, through a foreign key, to a column of
-- another table (or of the same one).
CREATE OR REPLACE FUNCTION tenancy._referring_columns(target regclass)
RETURNS TABLE (column_name name, parent regclass, parent_column name)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ca.attname, con.confrelid::regclass, pa.attname
      FROM pg_constraint con
     CROSS JOIN LATERAL unnest(con.conkey, con.confkey) AS k(child_attnum, parent_attnum)
      JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = k.child_attnum
      JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.parent_attnum
     WHERE con.contype = 'f' AND con.conrelid = target AND ca.attname <> 'tenant_id'
$$;

-- Creates a temporary table of the session, dropped at commit, in place of
-- one of the same name left by an earlier call in the transaction; returns
-- it.
CREATE OR REPLACE FUNCTION tenancy._new_temporary_table(name text, definitions text) RETURNS regclass
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        EXECUTE format('DROP TABLE %s', name);
    END IF;
    EXECUTE format('CREATE TEMPORARY TABLE %s (%s) ON COMMIT DROP', name, definitions);
    RETURN to_regclass(name);
END
$$;

-- Says what in the types of a table's columns runs code that is not
-- trusted when a value is read in (a CHECK of a domain, also inside an array
-- or a composite type, calling an owner's function), or NULL. Staging an
-- import reads values in with the caller's rights, so such tables are
-- refused.
CREATE OR REPLACE FUNCTION tenancy._untrusted_input(target regclass) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE types(type_oid, depth) AS (
        SELECT a.atttypid, 0 FROM pg_attribute a
         WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped
        UNION
        SELECT next_type, t.depth + 1
          FROM types t JOIN pg_type ty ON ty.oid = t.type_oid
         CROSS JOIN LATERAL (SELECT ty.typbasetype WHERE ty.typtype = 'd'
                             UNION ALL SELECT ty.typelem WHERE ty.typelem <> 0 AND ty.typlen = -1
                             UNION ALL SELECT a.atttypid FROM pg_attribute a
                                        WHERE a.attrelid = ty.typrelid AND ty.typtype = 'c' AND a.attnum > 0
                                          AND NOT a.attisdropped) n(next_type)
         WHERE t.depth < 20
    )
    SELECT format('domain %s calls %s, owned by %s', c.contypid::regtype, f.oid::regprocedure, pg_get_userbyid(f.proowner))
      FROM types t
      JOIN pg_constraint c ON c.contypid = t.type_oid
      JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = c.oid
                      AND d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
      JOIN pg_proc f ON f.oid = CASE WHEN d.refclassid = 'pg_proc'::regclass THEN d.refobjid
                                     ELSE (SELECT o.oprcode::oid FROM pg_operator o WHERE o.oid = d.refobjid) END
     WHERE NOT tenancy._trusted_function(f.oid)
     LIMIT 1
$$;

-- Returns tables in an order where each comes after the tables its foreign
-- keys refer to (a table may refer to itself); a cycle is refused, since
-- neither side of it could be loaded first.
CREATE OR REPLACE FUNCTION tenancy._load_order(tables regclass[]) RETURNS regclass[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    remaining regclass[] := tables;
    ready regclass[];
    ordered regclass[] := '{}';
BEGIN
    WHILE cardinality(remaining) > 0 LOOP
        SELECT coalesce(array_agg(r ORDER BY r::text), '{}') INTO ready
          FROM unnest(remaining) r
         WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con
                            WHERE con.contype = 'f' AND con.conrelid = r AND con.confrelid <> r
                              AND con.confrelid = ANY (remaining));
        IF cardinality(ready) = 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                MESSAGE = 'the foreign keys of the protected tables form a cycle',
                DETAIL = format('No table of %s can be loaded before the others.',
                                (SELECT string_agg(r::text, ', ' ORDER BY r::text) FROM unnest(remaining) r)),
                HINT = 'Load such tables by hand, or make one of the foreign keys of the cycle refer to a table '
                       'outside it.';
        END IF;
        ordered := ordered || ready;
        remaining := ARRAY(SELECT r FROM unnest(remaining) r WHERE r <> ALL (ready));
    END LOOP;
    RETURN ordered;
END
$$;

-- Raises unless the tenant keeps its rows in protected tables (row mode),
-- where an export or a clone reads them: a schema-mode tenant's would be
-- left out without a word.
CREATE OR REPLACE FUNCTION tenancy._require_rows_in_tables(target tenancy.tenants, action text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF target.isolation <> 'row' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot %s tenant "%s": it is in %s mode', action, target.slug, target.isolation),
            DETAIL = format('Exports and clones read a tenant''s rows in protected tables; a %s-mode tenant keeps '
                            'them in its own %s.', target.isolation, target.isolation),
            HINT = format('Move it to row mode first (tenancy.move_tenant(%L, ''row'')), or clone it with '
                          'template => true for everything but its rows and members.', target.slug);
    END IF;
END
$$;

-- Everything about a tenant but its rows: what an export writes and what an
-- import or a clone creates the new tenant from. The region's server goes
-- only to platform admins.
CREATE OR REPLACE FUNCTION tenancy._tenant_description(target tenancy.tenants) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'id', target.id, 'slug', target.slug, 'name', target.name, 'status', target.status,
        'isolation', target.isolation, 'region', target.region,
        'region_server', CASE WHEN tenancy.is_platform_admin()
                              THEN (SELECT r.server FROM tenancy.regions r WHERE r.name = target.region) END,
        'plan', target.plan,
        'plan_definition', (SELECT CASE WHEN tenancy.is_platform_admin() THEN jsonb_build_object('description', p.description, 'features', to_jsonb(p.features),
                                                      'limits', p.limits) END
                              FROM tenancy.plans p WHERE p.name = target.plan),
        'settings', target.settings, 'limits', target.limits,
        'memberships', (SELECT coalesce(jsonb_agg(jsonb_build_object('actor', m.actor, 'role', m.role,
                                                                     'active', m.is_active)
                                                  ORDER BY m.role DESC, m.actor), '[]')
                          FROM tenancy.memberships m WHERE m.tenant_id = target.id),
        'domains', (SELECT coalesce(jsonb_agg(d.host ORDER BY d.host), '[]')
                      FROM tenancy.domains d WHERE d.tenant_id = target.id),
        'created_at', target.created_at)
$$;

-- The tables an export holds, in load order, each with its columns, its key
-- and the query that reads the tenant's rows of it (in key order, so that
-- two exports of the same rows have the same checksums).
CREATE OR REPLACE FUNCTION tenancy._export_tables(tenant uuid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'table', format('%I.%I', n.nspname, c.relname),
               'columns', (SELECT jsonb_agg(jsonb_build_object('name', pc.column_name, 'type', pc.type_name)
                                            ORDER BY pc.attnum)
                             FROM tenancy._portable_columns(o.relid) pc),
               'key', to_jsonb(k.key),
               'query', format('SELECT %s FROM ONLY %I.%I WHERE tenant_id OPERATOR(pg_catalog.=) %L::pg_catalog.uuid%s',
                               (SELECT string_agg(quote_ident(pc.column_name), ', ' ORDER BY pc.attnum)
                                  FROM tenancy._portable_columns(o.relid) pc),
                               n.nspname, c.relname, tenant,
                               CASE WHEN k.key IS NOT NULL
                                    THEN ' ORDER BY ' || (SELECT string_agg(quote_ident(x), ', ') FROM unnest(k.key) x)
                                    ELSE '' END))
           ORDER BY o.position), '[]')
      FROM unnest(tenancy._load_order(ARRAY(SELECT p.relid FROM tenancy.protected_tables p))) WITH ORDINALITY
           AS o(relid, position)
      JOIN pg_class c ON c.oid = o.relid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN LATERAL (
          SELECT array_agg(a.attname ORDER BY x.ord) FILTER (WHERE a.attname <> 'tenant_id') AS key
            FROM pg_index i
           CROSS JOIN LATERAL unnest(i.indkey::smallint[]) WITH ORDINALITY AS x(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.attnum
           WHERE i.indrelid = o.relid AND i.indisprimary) k ON true
$$;

CREATE OR REPLACE FUNCTION tenancy.export_manifest(tenant text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'export the tenant');
    relid regclass;
BEGIN
    PERFORM tenancy._require_rows_in_tables(target, 'export');
    -- The export plans queries on every protected table with the caller's
    -- rights: an owner's code that planning runs would run with them.
    FOR relid IN SELECT p.relid FROM tenancy.protected_tables p ORDER BY p.relid::text LOOP
        PERFORM tenancy._refuse_owner_code(relid, 'An export queries the table with your rights');
    END LOOP;
    RETURN jsonb_build_object(
        'format', 'pg_tenancy export', 'format_version', 1,
        'extension_version', (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pg_tenancy'),
        'database', current_database(), 'exported_at', now(), 'exported_by', tenancy.actor(),
        'tenant', tenancy._tenant_description(target),
        'tables', tenancy._export_tables(target.id));
END
$$;
COMMENT ON FUNCTION tenancy.export_manifest(text) IS
    'what an export of a tenant holds: its description (plan, settings, limits, region, members, domains) and '
    'each protected table with its columns and the query that reads the tenant''s rows (tenant owners/admins '
    'and platform admins)';

-- Checks an export's manifest before anything is created from it.
CREATE OR REPLACE FUNCTION tenancy._require_manifest(manifest jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF manifest IS NULL OR jsonb_typeof(manifest) <> 'object' OR manifest->>'format' IS DISTINCT FROM 'pg_tenancy export'
       OR jsonb_typeof(manifest->'tenant') IS DISTINCT FROM 'object'
       OR jsonb_typeof(manifest->'tables') IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'not the manifest of a pg_tenancy export',
            DETAIL = 'A manifest is the JSON object tenantctl tenant export writes as manifest.json, with "format", '
                     '"tenant" and "tables".';
    END IF;
    IF manifest->>'format_version' IS DISTINCT FROM '1' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('export format version %s is not supported', tenancy._shown(manifest->>'format_version')),
            HINT = 'Import it with the version of pg_tenancy that exported it, or a later one.';
    END IF;
    IF manifest->>'file_format' = 'xlsx' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = 'an xlsx export cannot be imported',
            DETAIL = 'A spreadsheet is for people to read; its cells do not keep every type exactly.',
            HINT = 'Export the tenant again with --format csv or --format json to import it.';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.import_stage(manifest jsonb)
RETURNS TABLE ("position" integer, table_name text, stage text, copy_sql text, finish_sql text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry record;
    target regclass;
    missing text;
    columns text;
    record_columns text;
    definitions text;
    json_format boolean := manifest->>'file_format' = 'json';
BEGIN
    PERFORM tenancy._require_platform_admin('import tenants');
    PERFORM tenancy._require_manifest(manifest);
    FOR entry IN SELECT e.value, e.ordinality::integer AS n
                   FROM jsonb_array_elements(manifest->'tables') WITH ORDINALITY e LOOP
        target := to_regclass(entry.value->>'table');
        IF target IS NOT NULL AND EXISTS (SELECT 1 FROM jsonb_array_elements(manifest->'tables') WITH ORDINALITY o(t, n)
                                           WHERE o.n < entry.n AND to_regclass(o.t->>'table') = target) THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('the manifest lists table %s twice', target);
        END IF;
        IF target IS NULL OR NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
            RAISE EXCEPTION USING ERRCODE = 'undefined_table',
                MESSAGE = format('table %s of the export is not a protected table here',
                                 tenancy._shown(coalesce(entry.value->>'table', 'null'))),
                HINT = 'Create and protect the same tables (run your migrations) before importing.';
        END IF;
        missing := tenancy._untrusted_input(target);
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('table %s has a column type that runs code of its owner when a value is read in', target),
                DETAIL = format('The %s. An import reads the export''s values in with your rights, and that code '
                                'would run then.', missing),
                HINT = 'Replace it with one that calls only trusted functions (built in, or owned by a superuser), '
                       'then try again.';
        END IF;
        SELECT string_agg(tenancy._shown(c.value->>'name'), ', ') INTO missing
          FROM jsonb_array_elements(entry.value->'columns') c
         WHERE NOT EXISTS (SELECT 1 FROM tenancy._portable_columns(target) pc WHERE pc.column_name = c.value->>'name');
        IF missing IS NOT NULL OR jsonb_typeof(entry.value->'columns') IS DISTINCT FROM 'array' THEN
            RAISE EXCEPTION USING ERRCODE = 'undefined_column',
                MESSAGE = format('table %s has no column %s of the export', target, coalesce(missing, '(none listed)')),
                DETAIL = 'An import fills the columns the export has; columns that are generated, dropped or '
                         'tenant_id are never filled.',
                HINT = 'Bring the table''s definition up to date with the exported one first.';
        END IF;
        SELECT string_agg(quote_ident(pc.column_name), ', ' ORDER BY c.ordinality),
               string_agg('r.' || quote_ident(pc.column_name), ', ' ORDER BY c.ordinality),
               string_agg(format('%I %s', pc.column_name, pc.type_name), ', ' ORDER BY c.ordinality)
          INTO columns, record_columns, definitions
          FROM jsonb_array_elements(entry.value->'columns') WITH ORDINALITY c
          JOIN tenancy._portable_columns(target) pc ON pc.column_name = c.value->>'name';
        "position" := entry.n;
        table_name := target::text;
        stage := format('pg_temp.tenancy_import_%s', entry.n);
        PERFORM tenancy._new_temporary_table(stage, coalesce(definitions, ''));
        -- The caller copies the files in.
        EXECUTE format('GRANT SELECT, INSERT ON TABLE %s TO %I', stage, tenancy.db_role());
        IF json_format THEN
            -- One JSON object per line, taken literally: CSV with quote and
            -- delimiter characters that JSON text never holds unescaped.
            PERFORM tenancy._new_temporary_table(stage || '_json', 'line jsonb');
            EXECUTE format('GRANT SELECT, INSERT ON TABLE %s_json TO %I', stage, tenancy.db_role());
            copy_sql := format('COPY %s_json (line) FROM STDIN (FORMAT csv, QUOTE %L, DELIMITER %L)', stage,
                               chr(1), chr(2));
            finish_sql := format('INSERT INTO %1$s (%2$s) SELECT %3$s FROM %1$s_json j, '
                                 'pg_catalog.jsonb_populate_record(NULL::%1$s, j.line) r', stage, columns,
                                 record_columns);
        ELSE
            copy_sql := format('COPY %s (%s) FROM STDIN (FORMAT csv, HEADER match)', stage, columns);
            finish_sql := NULL;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.import_stage(jsonb) IS
    'makes the temporary tables an import copies the files of an export into (one per table of its manifest, '
    'dropped at commit) and returns the COPY statement of each (platform admins only)';

-- Creates a tenant from a description: plan, settings, limits, and when
-- asked its members and the domains no other tenant holds. Returns the new
-- tenant's id and the domains left out.
CREATE OR REPLACE FUNCTION tenancy._create_from_description(
    slug text, description jsonb, name text, isolation tenancy.isolation, region text,
    with_members boolean, with_domains boolean, owner text)
RETURNS TABLE (id uuid, domains_left_out jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    plan text := description->>'plan';
    item record;
    left_out jsonb := '[]';
BEGIN
    IF plan IS NOT NULL AND plan <> 'basic' AND NOT EXISTS (SELECT 1 FROM tenancy.plans p WHERE p.name = plan) THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('plan "%s" does not exist', tenancy._shown(plan)),
            DETAIL = format('The tenant was on plan "%s": %s.', tenancy._shown(plan),
                            coalesce((description->'plan_definition')::text, 'no definition was exported')),
            HINT = 'Create the plan first (tenantctl plan create), with the features and limits you want here.';
    END IF;
    id := tenancy.create_tenant(slug, coalesce(name, description->>'name'), owner, coalesce(plan, 'basic'),
                                coalesce(isolation, (description->>'isolation')::tenancy.isolation, 'row'), NULL,
                                coalesce(region, description->>'region'));
    FOR item IN SELECT s.key, s.value FROM jsonb_each(coalesce(description->'settings', '{}')) s ORDER BY s.key LOOP
        PERFORM tenancy.set_tenant_setting(slug, item.key, item.value);
    END LOOP;
    FOR item IN SELECT l.key, l.value FROM jsonb_each(coalesce(description->'limits', '{}')) l ORDER BY l.key LOOP
        PERFORM tenancy.set_limit(slug, item.key, item.value);
    END LOOP;
    IF with_members THEN
        FOR item IN SELECT m.value->>'actor' AS actor, (m.value->>'role')::tenancy.role AS role,
                           coalesce((m.value->>'active')::boolean, true) AS active
                      FROM jsonb_array_elements(coalesce(description->'memberships', '[]')) m
                     ORDER BY (m.value->>'role')::tenancy.role DESC LOOP
            IF owner IS NOT NULL AND tenancy._normalize_actor(item.actor) = tenancy._normalize_actor(owner) THEN
                CONTINUE;
            END IF;
            PERFORM tenancy.add_member(slug, item.actor, item.role);
            IF NOT item.active THEN
                PERFORM tenancy.set_member_active(slug, item.actor, false);
            END IF;
        END LOOP;
    END IF;
    IF with_domains THEN
        FOR item IN SELECT d.value #>> '{}' AS host FROM jsonb_array_elements(coalesce(description->'domains', '[]')) d LOOP
            IF EXISTS (SELECT 1 FROM tenancy.domains d WHERE d.host = tenancy._canonical_host(item.host)) THEN
                left_out := left_out || to_jsonb(item.host);
            ELSE
                PERFORM tenancy.add_domain(slug, item.host);
            END IF;
        END LOOP;
    END IF;
    domains_left_out := left_out;
    RETURN NEXT;
END
$$;

-- Gives a table's owner a privilege on a temporary table of the session
-- (a staged table or a key map), for the statements it runs as that owner.
CREATE OR REPLACE FUNCTION tenancy._grant_to_owner(temporary regclass, privileges text, target regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('GRANT %s ON TABLE %s TO %I', privileges, temporary,
                   (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = target));
END
$$;

-- Loads staged rows into a tenant: each table's (tables[i]) rows from its
-- temporary table (stages[i]), in foreign key order, as the table's owner
-- with protected tables open for the tenant only. Generated keys get new
-- values (through a temporary map of old to new) and the columns that refer
-- to them follow; a reference to a row that is not there, or a row an
-- owner's trigger keeps out, makes the whole load fail. Returns the rows
-- loaded per table.
CREATE OR REPLACE FUNCTION tenancy._load_staged(tenant uuid, tables regclass[], stages regclass[]) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target regclass;
    stage regclass;
    maps jsonb := '{}';
    map_count integer := 0;
    map_name text;
    counts jsonb := '{}';
    key record;
    column_item record;
    insert_columns text;
    select_list text;
    joins text;
    join_count integer;
    staged bigint;
    loaded bigint;
    dangling bigint;
    eq text;
    constraint_name text;
    problem text;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(tables), 0) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = stages[i] AND c.relpersistence = 't' AND c.relkind = 'r'
                                                  AND c.relnamespace = pg_my_temp_schema()) THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('%s is not a temporary table of this session', stages[i]);
        END IF;
    END LOOP;
    FOR i IN 1 .. coalesce(cardinality(tables), 0) LOOP
        IF NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = tables[i])
           OR array_position(tables, tables[i]) <> i THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('%s is not a protected table, or is named twice', tables[i]),
                HINT = 'Rows are loaded only into protected tables, each once.';
        END IF;
        IF EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = stages[i] AND a.attnum > 0 AND NOT a.attisdropped
                      AND NOT EXISTS (SELECT 1 FROM tenancy._portable_columns(tables[i]) pc
                                       WHERE pc.column_name = a.attname)) THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('%s has columns that are not columns of %s an import fills', stages[i], tables[i]);
        END IF;
    END LOOP;
    FOREACH target IN ARRAY tenancy._load_order(tables) LOOP
        stage := stages[array_position(tables, target)];
        PERFORM tenancy._refuse_owner_code(target, 'A copy of a tenant''s rows queries the table as its owner');
        PERFORM tenancy._grant_to_owner(stage, 'SELECT', target);
        -- First the maps of the keys this table generates (unless the column
        -- refers to a key of a table loaded before: it follows that one).
        FOR key IN
            SELECT g.column_name, g.value_sql, a.atttypid AS type_oid, format_type(a.atttypid, a.atttypmod) AS type_name
              FROM tenancy._generated_keys(target) g
              JOIN pg_attribute a ON a.attrelid = stage AND a.attname = g.column_name AND NOT a.attisdropped
             WHERE NOT EXISTS (SELECT 1 FROM tenancy._referring_columns(target) r
                                WHERE r.column_name = g.column_name
                                  AND maps ? (r.parent::oid::text || '/' || r.parent_column)) LOOP
            IF tenancy._equality_operator(key.type_oid) IS NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                    MESSAGE = format('column %I of %s is a generated key of a type without equality',
                                     key.column_name, target),
                    HINT = 'Give its type a default btree operator class.';
            END IF;
            map_count := map_count + 1;
            map_name := format('pg_temp.tenancy_key_map_%s', map_count);
            PERFORM tenancy._new_temporary_table(map_name, format('old_key %s, new_key %s', key.type_name,
                                                                 key.type_name));
            PERFORM tenancy._grant_to_owner(map_name::regclass, 'SELECT, INSERT', target);
            -- New keys in the order of the old ones, made by the table's
            -- own default as its owner.
            PERFORM tenancy._rows_as_owner(target, tenant, 'owner', format(
                'INSERT INTO %s (old_key, new_key) SELECT k.v, %s FROM (SELECT DISTINCT s.%I AS v FROM %s s '
                'WHERE s.%I IS NOT NULL ORDER BY 1) k', map_name, key.value_sql, key.column_name, stage,
                key.column_name), NULL);
            IF (SELECT (f #>> '{}')::boolean FROM tenancy._rows_as_owner(target, tenant, 'owner', format(
                    'SELECT pg_catalog.to_jsonb(pg_catalog.count(*) = pg_catalog.count(DISTINCT m.new_key)) FROM %s m',
                    map_name), NULL) f) IS NOT TRUE THEN
                RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                    MESSAGE = format('the default of column %I of %s did not make a new distinct key for each row',
                                     key.column_name, target),
                    HINT = 'Nothing was loaded.';
            END IF;
            maps := maps || jsonb_build_object(target::oid::text || '/' || key.column_name, map_name);
        END LOOP;
        -- Then the statement: mapped columns take the new key of their row.
        joins := '';
        join_count := 0;
        select_list := '$1';
        insert_columns := 'tenant_id';
        FOR column_item IN
            SELECT a.attname AS column_name, a.atttypid AS type_oid,
                   (SELECT maps->>(r.parent::oid::text || '/' || r.parent_column)
                      FROM tenancy._referring_columns(target) r
                     WHERE r.column_name = a.attname AND maps ? (r.parent::oid::text || '/' || r.parent_column)
                     LIMIT 1) AS parent_map,
                   maps->>(target::oid::text || '/' || a.attname) AS own_map
              FROM pg_attribute a
             WHERE a.attrelid = stage AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum LOOP
            eq := tenancy._equality_operator(column_item.type_oid);
            map_name := coalesce(column_item.parent_map, column_item.own_map);
            IF column_item.parent_map IS NOT NULL THEN
                -- Every reference must find its row among the loaded ones.
                PERFORM tenancy._grant_to_owner(map_name::regclass, 'SELECT', target);
                SELECT (f #>> '{}')::bigint INTO dangling
                  FROM tenancy._rows_as_owner(target, tenant, 'owner', format(
                       'SELECT pg_catalog.to_jsonb(pg_catalog.count(*)) FROM %s s LEFT JOIN %s m ON m.old_key %s s.%I '
                       'WHERE s.%I IS NOT NULL AND m.old_key IS NULL', stage, map_name, eq, column_item.column_name,
                       column_item.column_name), NULL) f;
                IF dangling > 0 THEN
                    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
                        MESSAGE = format('%s row(s) of %s refer through column %I to rows that are not among the '
                                         'tenant''s', dangling, target, column_item.column_name),
                        DETAIL = 'Each reference to a generated key is changed to the new key of the row it refers '
                                 'to; these rows refer to a row of another tenant, or to one the export lacks.',
                        HINT = 'Nothing was loaded. Check the rows of the source tenant.';
                END IF;
            END IF;
            insert_columns := insert_columns || ', ' || quote_ident(column_item.column_name);
            IF map_name IS NULL THEN
                select_list := select_list || format(', s.%I', column_item.column_name);
            ELSE
                join_count := join_count + 1;
                joins := joins || format(' LEFT JOIN %s j%s ON j%s.old_key %s s.%I', map_name, join_count, join_count,
                                         eq, column_item.column_name);
                select_list := select_list || format(', j%s.new_key', join_count);
            END IF;
        END LOOP;
        EXECUTE format('SELECT pg_catalog.count(*) FROM %s', stage) INTO staged;
        BEGIN
            SELECT (f #>> '{}')::bigint INTO loaded
              FROM tenancy._rows_as_owner(target, tenant, 'owner', format(
                   'WITH loaded AS (INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s s%s RETURNING 1) '
                   'SELECT pg_catalog.to_jsonb(pg_catalog.count(*)) FROM loaded', target, insert_columns, select_list,
                   stage, joins), NULL) f;
        EXCEPTION WHEN unique_violation THEN
            GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME, problem = PG_EXCEPTION_DETAIL;
            RAISE EXCEPTION USING ERRCODE = 'unique_violation',
                MESSAGE = format('the rows of %s cannot go into another tenant', target),
                DETAIL = format('Unique constraint "%s" holds across tenants and the table does not generate its '
                                'values, so a copy would repeat them.%s', constraint_name,
                                coalesce(' ' || nullif(problem, ''), '')),
                HINT = 'Make the constraint include tenant_id, or let the table generate the column (identity, a '
                       'sequence or a default), so that a copy gets new values.';
        END;
        IF loaded IS DISTINCT FROM staged THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('%s of %s row(s) of %s were loaded', coalesce(loaded, 0), staged, target),
                DETAIL = 'A trigger or rule of the table''s owner kept rows out.',
                HINT = 'Nothing was loaded. Disable that trigger or rule for the copy, or change it.';
        END IF;
        counts := counts || jsonb_build_object(target::text, loaded);
    END LOOP;
    RETURN counts;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.import_tenant(slug text, manifest jsonb, isolation tenancy.isolation DEFAULT NULL,
                                                 region text DEFAULT NULL, allow_cross_region boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    created record;
    tables regclass[];
    stages regclass[];
    missing text;
    origin text := manifest->'tenant'->>'region';
    destination text;
    counted record;
    loaded jsonb;
    wanted tenancy.isolation;
BEGIN
    PERFORM tenancy._require_platform_admin('import tenants');
    PERFORM tenancy._require_manifest(manifest);
    destination := coalesce(import_tenant.region, origin, 'default');
    -- Data residency: a tenant stays in its region unless moving it is
    -- allowed in so many words.
    IF NOT coalesce(allow_cross_region, false)
       AND (destination IS DISTINCT FROM coalesce(origin, 'default')
            OR (destination <> 'default' AND NOT EXISTS (SELECT 1 FROM tenancy.regions r WHERE r.name = destination))) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" belongs to region "%s"', tenancy._shown(manifest->'tenant'->>'slug'),
                             tenancy._shown(coalesce(origin, 'default'))),
            DETAIL = CASE WHEN destination IS DISTINCT FROM coalesce(origin, 'default')
                          THEN format('Importing it into region "%s" would move its data to another region.',
                                      tenancy._shown(destination))
                          ELSE format('Region "%s" is not defined in this database, so this server is not one of its '
                                      'servers.', tenancy._shown(destination)) END,
            HINT = 'Import it on a server of its region, or allow the move with allow_cross_region => true '
                   '(tenantctl: --allow-cross-region).';
    END IF;
    -- Allowed to move and its region unknown here: the default region.
    IF coalesce(allow_cross_region, false) AND import_tenant.region IS NULL
       AND NOT EXISTS (SELECT 1 FROM tenancy.regions r WHERE r.name = destination) THEN
        destination := coalesce(nullif(current_setting('tenancy.default_region', true), ''), 'default');
    END IF;
    SELECT array_agg(to_regclass(e.value->>'table') ORDER BY e.n),
           array_agg(to_regclass(format('pg_temp.tenancy_import_%s', e.n)) ORDER BY e.n),
           string_agg(e.value->>'table', ', ') FILTER (WHERE to_regclass(format('pg_temp.tenancy_import_%s', e.n)) IS NULL)
      INTO tables, stages, missing
      FROM jsonb_array_elements(manifest->'tables') WITH ORDINALITY e(value, n);
    IF missing IS NOT NULL OR NULL = ANY (tables) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the rows of %s are not staged', coalesce(tenancy._shown(missing), 'the export''s tables')),
            HINT = 'Call tenancy.import_stage() with the same manifest and copy each file into its table first, in '
                   'the same transaction (tenantctl tenant import does).';
    END IF;
    -- A schema-mode tenant is made in row mode, loaded, then moved into its
    -- schema (the rows are in protected tables in an export).
    wanted := coalesce(isolation, (manifest->'tenant'->>'isolation')::tenancy.isolation, 'row');
    SELECT * INTO created FROM tenancy._create_from_description(slug, manifest->'tenant', NULL,
                                                                 CASE WHEN wanted = 'schema' THEN 'row' ELSE wanted END,
                                                                 destination,
                                                                 true, true, NULL);
    loaded := tenancy._load_staged(created.id, coalesce(tables, '{}'), coalesce(stages, '{}'));
    -- The rows of each file are those the manifest counted.
    FOR counted IN SELECT e.value->>'table' AS table_name, (e.value->>'rows')::bigint AS expected,
                          coalesce((loaded->>(to_regclass(e.value->>'table')::text))::bigint, 0) AS found
                     FROM jsonb_array_elements(manifest->'tables') e
                    WHERE e.value ? 'rows' LOOP
        IF counted.found <> counted.expected THEN
            RAISE EXCEPTION USING ERRCODE = 'data_exception',
                MESSAGE = format('the export holds %s row(s) of %s, but its manifest counts %s', counted.found,
                                 tenancy._shown(counted.table_name), counted.expected),
                HINT = 'The export is incomplete or was changed; nothing was imported. Export the tenant again.';
        END IF;
    END LOOP;
    IF wanted = 'schema' THEN
        PERFORM tenancy._move_rows_to_schema((SELECT t FROM tenancy.tenants t WHERE t.id = created.id));
    END IF;
    RETURN jsonb_build_object('tenant', slug, 'id', created.id, 'region', (SELECT t.region FROM tenancy.tenants t WHERE t.id = created.id),
                              'rows', loaded, 'domains_left_out', created.domains_left_out);
END
$$;
COMMENT ON FUNCTION tenancy.import_tenant(text, jsonb, tenancy.isolation, text, boolean) IS
    'creates a tenant from an export''s manifest (plan, settings, limits, members, free domains) and loads the rows '
    'staged with import_stage(), with new keys where the tables generate them (into its schema for schema '
    'isolation); refuses to move the tenant out of '
    'its region unless allow_cross_region (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.clone_tenant(source text, slug text, name text DEFAULT NULL,
                                                template boolean DEFAULT false, owner text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    origin tenancy.tenants;
    created record;
    tables regclass[];
    stages regclass[] := '{}';
    target regclass;
    stage text;
    columns text;
    definitions text;
BEGIN
    PERFORM tenancy._require_platform_admin('clone tenants');
    origin := tenancy._find_tenant(source);
    IF NOT coalesce(template, false) THEN
        PERFORM tenancy._require_rows_in_tables(origin, 'clone');
    END IF;
    SELECT * INTO created FROM tenancy._create_from_description(slug, tenancy._tenant_description(origin), name, NULL,
                                                                 NULL, NOT coalesce(template, false), false, owner);
    IF coalesce(template, false) THEN
        RETURN created.id;
    END IF;
    tables := ARRAY(SELECT p.relid FROM tenancy.protected_tables p ORDER BY p.relid::text);
    FOR i IN 1 .. coalesce(cardinality(tables), 0) LOOP
        target := tables[i];
        PERFORM tenancy._refuse_owner_code(target, 'A clone reads the table''s rows as its owner');
        SELECT string_agg(quote_ident(pc.column_name), ', ' ORDER BY pc.attnum),
               string_agg(format('%I %s', pc.column_name, pc.type_name), ', ' ORDER BY pc.attnum)
          INTO columns, definitions
          FROM tenancy._portable_columns(target) pc;
        stage := format('pg_temp.tenancy_clone_%s', i);
        PERFORM tenancy._new_temporary_table(stage, coalesce(definitions, ''));
        PERFORM tenancy._grant_to_owner(stage::regclass, 'INSERT', target);
        -- The source's rows, read as the table's owner with the table's
        -- read role, protected tables showing the source tenant only.
        PERFORM tenancy._rows_as_owner(target, origin.id,
                                       (SELECT p.read_role FROM tenancy.protected_tables p WHERE p.relid = target),
                                       format('INSERT INTO %s (%s) SELECT %s FROM ONLY %s t '
                                              'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1', stage, columns, columns,
                                              target), NULL);
        stages := stages || stage::regclass;
    END LOOP;
    PERFORM tenancy._load_staged(created.id, tables, stages);
    FOREACH target IN ARRAY stages LOOP
        EXECUTE format('DROP TABLE %s', target);
    END LOOP;
    RETURN created.id;
END
$$;
COMMENT ON FUNCTION tenancy.clone_tenant(text, text, text, boolean, text) IS
    'copies a tenant into a new one: plan, settings, limits, members and every protected row (new keys where the '
    'tables generate them), or with template => true everything but members and rows; domains stay with the '
    'source; owner adds a first owner (platform admins only)';

REVOKE ALL ON FUNCTION tenancy._new_temporary_table(text, text), tenancy._portable_columns(regclass),
    tenancy._require_rows_in_tables(tenancy.tenants, text),
    tenancy._generated_keys(regclass),
    tenancy._untrusted_input(regclass),
    tenancy._referring_columns(regclass), tenancy._load_order(regclass[]), tenancy._tenant_description(tenancy.tenants),
    tenancy._export_tables(uuid), tenancy._require_manifest(jsonb),
    tenancy._create_from_description(text, jsonb, text, tenancy.isolation, text, boolean, boolean, text),
    tenancy._grant_to_owner(regclass, text, regclass), tenancy._load_staged(uuid, regclass[], regclass[])
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._portable_columns(regclass) IS 'internal: the columns an export holds of a table';
COMMENT ON FUNCTION tenancy._require_rows_in_tables(tenancy.tenants, text) IS
    'internal: error unless the tenant keeps its rows in protected tables';
COMMENT ON FUNCTION tenancy._new_temporary_table(text, text) IS
    'internal: a new temporary table of the session, dropped at commit';
COMMENT ON FUNCTION tenancy._untrusted_input(regclass) IS
    'internal: what in a table''s column types runs untrusted code when a value is read in';
COMMENT ON FUNCTION tenancy._generated_keys(regclass) IS
    'internal: the unique columns a table generates, with the expression that makes a value';
COMMENT ON FUNCTION tenancy._referring_columns(regclass) IS 'internal: the columns of a table''s foreign keys';
COMMENT ON FUNCTION tenancy._load_order(regclass[]) IS 'internal: tables after the tables they refer to';
COMMENT ON FUNCTION tenancy._tenant_description(tenancy.tenants) IS 'internal: everything about a tenant but its rows';
COMMENT ON FUNCTION tenancy._export_tables(uuid) IS 'internal: the tables of an export and their queries';
COMMENT ON FUNCTION tenancy._require_manifest(jsonb) IS 'internal: error unless an importable export manifest';
COMMENT ON FUNCTION tenancy._create_from_description(text, jsonb, text, tenancy.isolation, text, boolean, boolean, text) IS
    'internal: a new tenant made from a description';
COMMENT ON FUNCTION tenancy._grant_to_owner(regclass, text, regclass) IS
    'internal: a privilege on a temporary table for a table''s owner';
COMMENT ON FUNCTION tenancy._load_staged(uuid, regclass[], regclass[]) IS
    'internal: loads staged rows into a tenant as the tables'' owners';
