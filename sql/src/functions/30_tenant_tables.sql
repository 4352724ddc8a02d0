-- pg_tenancy: every table in a tenant schema has row level security enabled,
-- with one policy that lets every row through (tenancy_schema_rows). The
-- rows need no filter (the schema is the tenant's), but PostgreSQL's
-- statistics views (pg_stats, pg_stats_ext) hide the column values of a
-- table whose row level security applies to the reader: without it, a role
-- that may read every tenant's tables would read other tenants' most common
-- values and histograms there, whatever tenant it is in. An event trigger
-- seals each table created in, or moved into, a tenant schema, and seals it
-- again after an ALTER TABLE that disabled it. Materialized views and
-- foreign tables, which cannot have row level security, are refused there.

-- Enables row level security on a table of a tenant schema, with the policy
-- that lets every row through, unless it has both.
CREATE OR REPLACE FUNCTION tenancy._seal_tenant_table(target regclass) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = target) THEN
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = target AND p.polname = 'tenancy_schema_rows') THEN
        EXECUTE format('CREATE POLICY tenancy_schema_rows ON %s USING (true) WITH CHECK (true)', target);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._seal_tenant_table(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._seal_tenant_table(regclass) IS
    'internal: enables row level security on a tenant schema''s table with a policy that lets every row through';

-- The tables of tenant schemas that are not sealed.
CREATE OR REPLACE FUNCTION tenancy._unsealed_tenant_tables()
RETURNS TABLE (relid regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN tenancy.tenants t ON t.schema_name = n.nspname
     WHERE c.relkind IN ('r', 'p')
       AND (NOT c.relrowsecurity
            OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenancy_schema_rows'))
$$;
REVOKE ALL ON FUNCTION tenancy._unsealed_tenant_tables() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._unsealed_tenant_tables() IS
    'internal: tables of tenant schemas without row level security or its policy';

-- Materialized views and foreign tables of tenant schemas: they cannot have
-- row level security, so pg_stats would show their values to other tenants.
CREATE OR REPLACE FUNCTION tenancy._unsealable_tenant_relations()
RETURNS TABLE (relid regclass, kind text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass, CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN tenancy.tenants t ON t.schema_name = n.nspname
     WHERE c.relkind IN ('m', 'f')
$$;
REVOKE ALL ON FUNCTION tenancy._unsealable_tenant_relations() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._unsealable_tenant_relations() IS
    'internal: materialized views and foreign tables in tenant schemas';

-- Looks at each relation of the command by its oid (index lookups only:
-- it runs after every CREATE and ALTER TABLE of the database).
CREATE OR REPLACE FUNCTION tenancy.seal_tenant_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target oid;
    relation record;
BEGIN
    FOR target IN SELECT DISTINCT d.objid FROM pg_event_trigger_ddl_commands() d
                   WHERE d.classid = 'pg_class'::regclass LOOP
        SELECT c.oid::regclass AS relid, c.relkind INTO relation
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = target AND c.relkind IN ('r', 'p', 'm', 'f')
           AND EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.schema_name = n.nspname);
        CONTINUE WHEN NOT FOUND;
        IF relation.relkind IN ('m', 'f') THEN
            RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                MESSAGE = format('a %s cannot live in a tenant schema',
                                 CASE relation.relkind WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END),
                DETAIL = format('%s cannot have row level security, so pg_stats would show its values to the '
                                'roles of other tenants.', relation.relid),
                HINT = 'Use a table (filled by the application, or by a function the tenant''s roles call).';
        END IF;
        PERFORM tenancy._seal_tenant_table(relation.relid);
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.seal_tenant_tables() IS
    'event trigger: enables row level security, with a policy that lets every row through, on each table '
    'created in or moved into a tenant schema, so that pg_stats keeps its values from other tenants';
