-- pg_tenancy: health findings about schema-mode tenants (part of
-- tenancy.health_check()): their schemas, the grants on them, the tables
-- in them, the migrations they miss, and the union views over them.

-- The relations of every tenant schema, with how many tenant schemas have
-- one of that name and kind, out of how many.
CREATE OR REPLACE FUNCTION tenancy._tenant_schema_objects()
RETURNS TABLE (slug text, schema_name text, relname name, relkind "char", holders bigint, schemas bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH present AS (
        SELECT t.slug::text, t.schema_name::text, n.oid AS nsp
          FROM tenancy.tenants t JOIN pg_namespace n ON n.nspname = t.schema_name
         WHERE t.isolation = 'schema'
    ), objects AS (
        SELECT p.slug, p.schema_name, c.relname, c.relkind
          FROM present p JOIN pg_class c ON c.relnamespace = p.nsp
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    ), counted AS (
        SELECT o.relname, o.relkind, count(*) AS holders FROM objects o GROUP BY o.relname, o.relkind
    )
    SELECT p.slug, p.schema_name, k.relname, k.relkind, k.holders, (SELECT count(*) FROM present)
      FROM present p CROSS JOIN counted k
     WHERE EXISTS (SELECT 1 FROM objects o WHERE o.slug = p.slug AND o.relname = k.relname AND o.relkind = k.relkind)
           <> (k.holders * 2 > (SELECT count(*) FROM present))
$$;
REVOKE ALL ON FUNCTION tenancy._tenant_schema_objects() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._tenant_schema_objects() IS
    'internal: relations that a tenant schema lacks while most have them, or has while most do not';

CREATE OR REPLACE FUNCTION tenancy._health_tenant_schemas()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH schemas AS (
        SELECT t.id, t.slug::text AS slug, t.schema_name::text AS schema_name, n.oid AS nsp, n.nspowner, n.nspacl
          FROM tenancy.tenants t LEFT JOIN pg_namespace n ON n.nspname = t.schema_name
         WHERE t.isolation = 'schema'
    ), owner AS (
        SELECT d.datdba FROM pg_database d WHERE d.datname = current_database()
    )
    SELECT 'error', s.schema_name, format('the schema of tenant "%s" does not exist', s.slug),
           format('Restore it from a dump, or drop the tenant with tenancy.drop_tenant(%L).', s.slug)
      FROM schemas s WHERE s.nsp IS NULL
    UNION ALL
    SELECT 'warning', n.nspname::text,
           'schema is named like a tenant''s but belongs to no tenant: pg_tenancy does not close it',
           'Rename it (ALTER SCHEMA ... RENAME TO), or drop it if it is left over.'
      FROM pg_namespace n
     WHERE n.nspname LIKE 'tenant\_%' AND NOT EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.schema_name = n.nspname)
    UNION ALL
    SELECT 'warning', s.schema_name,
           format('schema belongs to %s, not to the database''s owner %s: tenant migrations run as the '
                  'database''s owner, and new tenants'' schemas belong to it',
                  pg_get_userbyid(s.nspowner), pg_get_userbyid(o.datdba)),
           format('ALTER SCHEMA %I OWNER TO %I', s.schema_name, pg_get_userbyid(o.datdba))
      FROM schemas s, owner o WHERE s.nsp IS NOT NULL AND s.nspowner <> o.datdba
    UNION ALL
    SELECT 'warning', s.schema_name,
           format('%s is granted %s on the tenant''s schema%s', CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                  ELSE pg_get_userbyid(a.grantee) END, a.privilege_type,
                  CASE WHEN a.privilege_type = 'CREATE'
                       THEN ': objects it creates there exist in no other tenant and no migration made them'
                       ELSE ': every role is, grant it to the application''s roles instead' END),
           format('REVOKE %s ON SCHEMA %I FROM %s', a.privilege_type, s.schema_name,
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
      FROM schemas s, LATERAL aclexplode(s.nspacl) a
     WHERE a.grantee <> s.nspowner AND (a.grantee = 0 OR a.privilege_type = 'CREATE')
    UNION ALL
    SELECT 'error', u.relid::text,
           'table in a tenant schema has no row level security: pg_stats shows its column values (most common '
           'values, histograms) to every role that may read it, in whatever tenant it is',
           format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY; CREATE POLICY tenancy_schema_rows ON %s USING (true) '
                  'WITH CHECK (true)', u.relid, u.relid)
      FROM tenancy._unsealed_tenant_tables() u
    UNION ALL
    SELECT 'error', u.relid::text,
           format('%s in a tenant schema: it cannot have row level security, so pg_stats shows its values to every '
                  'role that may read it, in whatever tenant it is', u.kind),
           'Replace it with a table.'
      FROM tenancy._unsealable_tenant_relations() u
    UNION ALL
    SELECT 'error', s.schema_name,
           format('tenant "%s" misses %s tenant migration%s: %s', s.slug, count(*),
                  CASE WHEN count(*) > 1 THEN 's' ELSE '' END,
                  string_agg(m.version, ', ' ORDER BY m.version)),
           format('Run tenantctl migrate DIR --tenant %s.', s.slug)
      FROM schemas s JOIN tenancy.migration_scripts m ON true
     WHERE s.nsp IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM tenancy.migrations l
                        WHERE l.scope = 'tenant' AND l.tenant_id = s.id AND l.version = m.version)
     GROUP BY s.schema_name, s.slug
    UNION ALL
    SELECT 'warning', format('%I.%I', o.schema_name, o.relname),
           CASE WHEN o.holders * 2 > o.schemas
                THEN format('%s of %s tenant schemas have %s %s, but not tenant "%s": a migration did not reach it',
                            o.holders, o.schemas, CASE o.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                            WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END, o.relname, o.slug)
                ELSE format('only %s of %s tenant schemas have it: no tenant migration made it', o.holders, o.schemas)
           END,
           'Make every tenant''s schema alike through tenant migrations (tenantctl migrate).'
      FROM tenancy._tenant_schema_objects() o
    UNION ALL
    SELECT 'warning', v.view_id::text,
           format('union view does not show the columns that the tables "%s" of the tenant schemas now have',
                  v.table_name),
           'Run SELECT * FROM tenancy.refresh_union_views() (tenantctl migrate does it after each run).'
      FROM tenancy.union_views v JOIN pg_class c ON c.oid = v.view_id
     WHERE ARRAY(SELECT (a.attname, a.atttypid::regtype)::text FROM pg_attribute a
                  WHERE a.attrelid = v.view_id AND a.attnum > 1 ORDER BY a.attnum)
           <> ARRAY(SELECT (u.column_name, u.column_type)::text FROM tenancy._union_columns(v.table_name) u)
$$;
REVOKE ALL ON FUNCTION tenancy._health_tenant_schemas() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._health_tenant_schemas() IS 'internal: health findings about schema-mode tenants';
