-- pg_tenancy: union views, the cross-tenant report of schema mode. A union
-- view shows one table of every schema-mode tenant, with a tenant_id column,
-- to platform admins. It is a view over tenancy._union_rows(), which lists
-- the tenants' tables when it is read: a tenant created or dropped is in the
-- view or gone from it at once, and the view depends on no tenant's table,
-- so tenant migrations change and drop columns freely. Its columns are the
-- tables' columns when it was made or last refreshed (refresh_union_views(),
-- which tenantctl migrate calls after a run); a tenant whose table lacks one
-- shows NULL there.

-- The columns of a table across the tenant schemas that have it: each name
-- once (tenant_id, which the view adds, left out), with the type most tables
-- give it, in the order of the tables.
CREATE OR REPLACE FUNCTION tenancy._union_columns(table_name text)
RETURNS TABLE (column_name name, column_type regtype)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH columns AS (
        SELECT a.attname, a.atttypid, a.attnum
          FROM tenancy.tenants t
               JOIN pg_namespace n ON n.nspname = t.schema_name
               JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = _union_columns.table_name
                              AND c.relkind IN ('r', 'p')
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE t.isolation = 'schema' AND a.attname <> 'tenant_id'
    ), typed AS (
        SELECT attname, atttypid, count(*) AS tables,
               row_number() OVER (PARTITION BY attname ORDER BY count(*) DESC, atttypid) AS rank
          FROM columns GROUP BY attname, atttypid
    )
    SELECT t.attname, t.atttypid::regtype
      FROM typed t JOIN (SELECT attname, min(attnum) AS position FROM columns GROUP BY attname) p USING (attname)
     WHERE t.rank = 1
     ORDER BY p.position, t.attname
$$;
REVOKE ALL ON FUNCTION tenancy._union_columns(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._union_columns(text) IS
    'internal: the columns a union view of a table shows, from the tenant schemas that have the table';

CREATE OR REPLACE FUNCTION tenancy._read_tenant_schemas(query text) RETURNS SETOF record
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_read_tenant_schemas';
REVOKE ALL ON FUNCTION tenancy._read_tenant_schemas(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._read_tenant_schemas(text) IS
    'internal: the rows of one read-only query, with every tenant schema open to reading';

-- Raises unless a union view may have a column of this type: a domain
-- runs its CHECK constraints on the NULL of a tenant whose table lacks the
-- column, so only a superuser's domain is taken.
CREATE OR REPLACE FUNCTION tenancy._require_union_type(column_name name, column_type regtype) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_type ty JOIN pg_roles r ON r.oid = ty.typowner
                WHERE ty.oid = column_type AND ty.typtype = 'd' AND NOT r.rolsuper) THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('column "%s" of a union view cannot have domain type %s', column_name, column_type),
            DETAIL = 'A union view reads every tenant''s table with the rights of pg_tenancy, which never runs the '
                     'CHECK constraints of a domain that an ordinary role made.',
            HINT = 'Give the column its base type in the tenants'' tables, or leave the table out of union views.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_union_type(name, regtype) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_union_type(name, regtype) IS
    'internal: raises unless a union view may have a column of this type';

-- The rows of a union view: the table of every schema-mode tenant that has
-- it, each with the tenant's id; a column a tenant's table lacks is NULL. A
-- column of another type than the view's is refused, never cast (a cast may
-- be any role's code): the view is behind, and refresh_union_views() brings
-- it up to date. Nothing but the columns is read: no cast, no function, no
-- policy (pg_tenancy's owner bypasses row level security), no inheritance
-- child.
CREATE OR REPLACE FUNCTION tenancy._union_rows(table_name text, columns name[], types regtype[])
RETURNS SETOF record
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    query text;
    definitions text;
    mismatch record;
BEGIN
    PERFORM tenancy._require_platform_admin('read a union view');
    IF table_name IS NULL OR columns IS NULL OR types IS NULL
       OR cardinality(columns) <> cardinality(types) OR array_position(types, NULL) IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'a union view needs a table name and one type per column';
    END IF;
    PERFORM tenancy._require_union_type(columns[i], types[i]) FROM generate_subscripts(columns, 1) i;
    SELECT t.slug, a.attname, a.atttypid::regtype AS found_type, types[i] AS wanted_type INTO mismatch
      FROM tenancy.tenants t
           JOIN pg_namespace n ON n.nspname = t.schema_name
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = _union_rows.table_name
                          AND c.relkind IN ('r', 'p')
           JOIN generate_subscripts(columns, 1) i ON true
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = columns[i] AND NOT a.attisdropped
     WHERE t.isolation = 'schema' AND a.atttypid <> types[i]
     ORDER BY t.slug LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
            MESSAGE = format('column "%s" of table "%s" of tenant "%s" has type %s, the union view''s has %s',
                             mismatch.attname, table_name, mismatch.slug, mismatch.found_type, mismatch.wanted_type),
            HINT = 'Finish the migration that changes it in every tenant, then run SELECT * FROM '
                   'tenancy.refresh_union_views().';
    END IF;
    SELECT string_agg(format('SELECT %L::uuid, %s FROM %s %I.%I', t.id,
                             (SELECT string_agg(CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a
                                                                   WHERE a.attrelid = c.oid
                                                                     AND a.attname = columns[i]
                                                                     AND NOT a.attisdropped)
                                                     THEN quote_ident(columns[i])
                                                     ELSE format('NULL::%s', types[i]) END, ', ' ORDER BY i)
                                FROM generate_subscripts(columns, 1) i),
                             CASE WHEN c.relkind = 'r' THEN 'ONLY' ELSE '' END,
                             t.schema_name, _union_rows.table_name),
                      ' UNION ALL ' ORDER BY t.slug)
      INTO query
      FROM tenancy.tenants t
           JOIN pg_namespace n ON n.nspname = t.schema_name
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = _union_rows.table_name
                          AND c.relkind IN ('r', 'p')
     WHERE t.isolation = 'schema';
    IF query IS NULL THEN
        RETURN;
    END IF;
    SELECT string_agg(format('%I %s', columns[i], types[i]), ', ' ORDER BY i) INTO definitions
      FROM generate_subscripts(columns, 1) i;
    RETURN QUERY EXECUTE format('SELECT * FROM tenancy._read_tenant_schemas(%L) AS r(tenant_id uuid, %s)',
                                query, definitions);
END
$$;
-- Every reader of a union view calls it; it refuses all but platform admins.
GRANT EXECUTE ON FUNCTION tenancy._union_rows(text, name[], regtype[]) TO PUBLIC;
COMMENT ON FUNCTION tenancy._union_rows(text, name[], regtype[]) IS
    'internal: the rows of a union view (platform admins)';

-- The SELECT a union view of a table with these columns runs.
CREATE OR REPLACE FUNCTION tenancy._union_view_query(table_name text, columns name[], types regtype[])
RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('SELECT r.tenant_id%s FROM tenancy._union_rows(%L, %L, %L) AS r(tenant_id uuid%s)',
                  (SELECT string_agg(format(', r.%I', columns[i]), '' ORDER BY i) FROM generate_subscripts(columns, 1) i),
                  table_name, columns, types,
                  (SELECT string_agg(format(', %I %s', columns[i], types[i]), '' ORDER BY i)
                     FROM generate_subscripts(columns, 1) i))
$$;
COMMENT ON FUNCTION tenancy._union_view_query(text, name[], regtype[]) IS
    'internal: the query of a union view';

-- Creates the union view schema.name of a table, or brings an existing one
-- up to the tables' columns; returns it. The view keeps its owner, grants and
-- comment; when columns went away or changed type it is made again, which
-- views built on it prevent (2BP01).
CREATE OR REPLACE FUNCTION tenancy._make_union_view(view_schema text, view_name text, table_name text)
RETURNS regclass
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    caller text := tenancy.db_role();
    qualified text := format('%I.%I', view_schema, view_name);
    existing pg_class;
    columns name[];
    types regtype[];
    query text;
    made regclass;
BEGIN
    SELECT array_agg(u.column_name), array_agg(u.column_type) INTO columns, types
      FROM tenancy._union_columns(table_name) u;
    IF columns IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_table',
            MESSAGE = format('no tenant schema has a table "%s"', tenancy._shown(table_name)),
            HINT = 'A union view takes its columns from the tenants'' tables: create a schema-mode tenant and '
                   'migrate it first.';
    END IF;
    PERFORM tenancy._require_union_type(columns[i], types[i]) FROM generate_subscripts(columns, 1) i;
    query := tenancy._union_view_query(table_name, columns, types);
    SELECT c.* INTO existing FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = view_schema AND c.relname = view_name;
    IF existing.oid IS NULL THEN
        EXECUTE format('CREATE VIEW %s AS %s', qualified, query);
        EXECUTE format('ALTER VIEW %s OWNER TO %I', qualified, caller);
    ELSE
        BEGIN
            EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', qualified, query);
        EXCEPTION WHEN invalid_table_definition THEN
            -- Columns went away or changed: the view is made again as it was.
            EXECUTE format('DROP VIEW %s', qualified);
            EXECUTE format('CREATE VIEW %s AS %s', qualified, query);
            EXECUTE format('ALTER VIEW %s OWNER TO %I', qualified, existing.relowner::regrole);
            PERFORM tenancy._grant_again(qualified::regclass, existing.relacl);
            EXECUTE format('COMMENT ON VIEW %s IS %L', qualified, obj_description(existing.oid, 'pg_class'));
            DELETE FROM tenancy.union_views v WHERE v.view_id = existing.oid;
        END;
    END IF;
    made := qualified::regclass;
    INSERT INTO tenancy.union_views AS v (view_id, table_name, created_by)
    VALUES (made, _make_union_view.table_name, caller)
    ON CONFLICT (view_id) DO UPDATE SET table_name = excluded.table_name, refreshed_at = now();
    RETURN made;
END
$$;
REVOKE ALL ON FUNCTION tenancy._make_union_view(text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._make_union_view(text, text, text) IS
    'internal: creates or refreshes a union view';

-- Grants on a relation the privileges of an ACL (a relation made again).
CREATE OR REPLACE FUNCTION tenancy._grant_again(target regclass, acl aclitem[]) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM aclexplode(acl) a
                 WHERE a.grantee <> (SELECT c.relowner FROM pg_class c WHERE c.oid = target) LOOP
        EXECUTE format('GRANT %s ON %s TO %s%s', item.privilege_type, target,
                       CASE WHEN item.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(item.grantee)) END,
                       CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._grant_again(regclass, aclitem[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._grant_again(regclass, aclitem[]) IS
    'internal: grants again the privileges of an ACL on a relation made again';

-- Checks where a union view may go and who may make it there; returns
-- schema and name.
CREATE OR REPLACE FUNCTION tenancy._union_view_place(view_schema text, view_name text, OUT schema_name text,
                                                    OUT relation_name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    caller text := tenancy.db_role();
    existing pg_class;
BEGIN
    PERFORM tenancy._require_platform_admin('make a union view');
    IF view_schema IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_schema_name', MESSAGE = 'no schema has been selected to create in',
            HINT = 'Name the view with its schema, for example reports.all_todos.';
    END IF;
    IF view_schema = 'tenancy' OR EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.schema_name = view_schema) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('a union view cannot live in schema "%s"', view_schema),
            DETAIL = 'It belongs to pg_tenancy or to a tenant.',
            HINT = 'Put it in a shared schema, for example reports.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = view_schema) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_schema_name',
            MESSAGE = format('schema "%s" does not exist', view_schema);
    END IF;
    IF NOT has_schema_privilege(caller, view_schema, 'CREATE') THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied for schema %s', view_schema),
            DETAIL = format('Role "%s" may not create objects in it.', caller);
    END IF;
    SELECT c.* INTO existing FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = view_schema AND c.relname = view_name;
    IF existing.oid IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM tenancy.union_views v WHERE v.view_id = existing.oid) THEN
            RAISE EXCEPTION USING ERRCODE = 'duplicate_table',
                MESSAGE = format('relation "%s.%s" already exists', view_schema, view_name),
                DETAIL = 'It is not a union view, and a union view never replaces anything else.';
        END IF;
        IF NOT pg_has_role(caller, existing.relowner, 'USAGE') THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('must be owner of view %s.%s', view_schema, view_name);
        END IF;
    END IF;
    schema_name := view_schema;
    relation_name := view_name;
END
$$;
REVOKE ALL ON FUNCTION tenancy._union_view_place(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._union_view_place(text, text) IS
    'internal: checks where a union view goes and that the caller may make it there';

-- Makes or refreshes the union view schema.name after checking the caller.
CREATE OR REPLACE FUNCTION tenancy._union_view_in(view_schema text, view_name text, table_name text)
RETURNS regclass
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    place record;
BEGIN
    place := tenancy._union_view_place(view_schema, view_name);
    RETURN tenancy._make_union_view(place.schema_name, place.relation_name, table_name);
END
$$;
COMMENT ON FUNCTION tenancy._union_view_in(text, text, text) IS
    'internal: makes or refreshes a union view for a platform admin who may create it there';

-- Not SECURITY DEFINER, so that an unqualified view name goes into the
-- caller's current schema.
CREATE OR REPLACE FUNCTION tenancy.union_view("view" text, table_name text) RETURNS regclass
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    parts text[];
BEGIN
    IF "view" IS NULL OR table_name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'view and table_name must not be null';
    END IF;
    parts := pg_catalog.parse_ident("view");
    IF pg_catalog.array_length(parts, 1) > 2 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_name',
            MESSAGE = pg_catalog.format('improper view name "%s"', "view"),
            HINT = 'Name it as schema.view, or as view in the current schema.';
    END IF;
    RETURN tenancy._union_view_in(CASE WHEN pg_catalog.array_length(parts, 1) = 2 THEN parts[1]
                                       ELSE pg_catalog.current_schema() END,
                                  parts[pg_catalog.array_length(parts, 1)], table_name);
END
$$;
COMMENT ON FUNCTION tenancy.union_view(text, text) IS
    'creates (or refreshes) a view of one table of every schema-mode tenant with a tenant_id column; reads are '
    'for platform admins (platform admins)';

CREATE OR REPLACE FUNCTION tenancy.union_view("view" regclass, table_name text) RETURNS regclass
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    place record;
BEGIN
    IF "view" IS NULL OR table_name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'view and table_name must not be null';
    END IF;
    SELECT n.nspname::text AS schema_name, c.relname::text AS relation_name INTO place
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = "view";
    RETURN tenancy._union_view_in(place.schema_name, place.relation_name, table_name);
END
$$;
COMMENT ON FUNCTION tenancy.union_view(regclass, text) IS
    'refreshes an existing union view, or points it at another table (platform admins)';

CREATE OR REPLACE FUNCTION tenancy.refresh_union_views()
RETURNS TABLE ("view" regclass, table_name text, columns integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry record;
    made regclass;
BEGIN
    PERFORM tenancy._require_platform_admin('refresh union views');
    -- Views dropped by hand leave the list.
    DELETE FROM tenancy.union_views v WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = v.view_id);
    FOR entry IN SELECT n.nspname::text AS schema_name, c.relname::text AS relation_name, v.table_name
                   FROM tenancy.union_views v JOIN pg_class c ON c.oid = v.view_id
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                  ORDER BY 1, 2 LOOP
        IF EXISTS (SELECT 1 FROM tenancy._union_columns(entry.table_name)) THEN
            made := tenancy._make_union_view(entry.schema_name, entry.relation_name, entry.table_name);
            "view" := made;
            table_name := entry.table_name;
            columns := (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = made AND a.attnum > 0);
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.refresh_union_views() IS
    'brings every union view up to its table''s columns (after migrations; tenantctl migrate calls it) and '
    'returns them (platform admins)';
