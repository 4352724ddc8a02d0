-- pg_tenancy: the health check. One row per finding: what is wrong, where,
-- and how to fix it. Reads only the system catalogs and tenancy's own
-- catalog, never tenant data, so it is as fast with ten thousand tenants as
-- with ten.

-- Says whether a role bypasses row level security (superuser or BYPASSRLS).
CREATE OR REPLACE FUNCTION tenancy._bypasses_rls(role oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.oid = role
$$;
REVOKE ALL ON FUNCTION tenancy._bypasses_rls(oid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._bypasses_rls(oid) IS 'internal: whether a role bypasses row level security';

-- Findings about each protected table itself (or only those listed): row
-- level security, policies, the tenant column and its index,
-- the triggers.
CREATE OR REPLACE FUNCTION tenancy._health_protected_tables(tables oid[] DEFAULT NULL)
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH protected AS (
        SELECT p.*, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT a.attnum FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_attnum,
               (SELECT a.attnotnull FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_not_null
          FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid
         WHERE tables IS NULL OR p.relid = ANY (tables)
    ), expected AS (
        SELECT p.relid, d.* FROM protected p,
               LATERAL tenancy._policy_definitions(p.relid, p.read_role, p.write_role, p.delete_role) d
    ), actual AS (
        SELECT pol.polrelid AS relid, pol.polname, pol.polcmd, pol.polpermissive,
               pol.polroles = ARRAY[0::oid] AS to_public,
               pg_get_expr(pol.polqual, pol.polrelid) AS using_expression,
               pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expression
          FROM pg_policy pol JOIN protected p ON p.relid = pol.polrelid
    )
    SELECT 'error', p.relid::text, 'row level security is disabled',
           format('Run SELECT tenancy.protect(%L) again.', p.relid::text)
      FROM protected p WHERE NOT p.relrowsecurity
    UNION ALL
    SELECT 'error', p.relid::text, 'row level security is not forced: the table owner bypasses it',
           format('Run SELECT tenancy.protect(%L) again.', p.relid::text)
      FROM protected p WHERE NOT p.relforcerowsecurity
    UNION ALL
    SELECT 'error', e.relid::text, format('policy %s is missing', e.policy_name),
           format('Run SELECT tenancy.protect(%L) again.', e.relid::text)
      FROM expected e LEFT JOIN actual a ON a.relid = e.relid AND a.polname = e.policy_name
     WHERE a.polname IS NULL
    UNION ALL
    SELECT 'error', e.relid::text, format('policy %s was altered', e.policy_name),
           format('Run SELECT tenancy.protect(%L) again to restore it.', e.relid::text)
      FROM expected e JOIN actual a ON a.relid = e.relid AND a.polname = e.policy_name
     WHERE a.polcmd <> e.command OR a.polpermissive <> e.permissive OR NOT a.to_public
        OR a.using_expression IS DISTINCT FROM e.using_expression
        OR a.check_expression IS DISTINCT FROM e.check_expression
    UNION ALL
    SELECT 'error', a.relid::regclass::text,
           format('policy %I is not one of pg_tenancy''s: its expression runs on other tenants'' rows, possibly '
                  'before the tenant filter', a.polname),
           format('DROP POLICY %I ON %s (restrict access further with the roles of tenancy.protect())',
                  a.polname, a.relid::regclass)
      FROM actual a
     WHERE NOT EXISTS (SELECT 1 FROM expected e WHERE e.relid = a.relid AND e.policy_name = a.polname)
    UNION ALL
    SELECT 'error', p.relid::text, 'column tenant_id is missing',
           'Restore the column, or unprotect the table with tenancy.unprotect().'
      FROM protected p WHERE p.tenant_attnum IS NULL
    UNION ALL
    SELECT 'error', p.relid::text, 'column tenant_id is nullable: rows without a tenant can be written',
           format('ALTER TABLE %s ALTER COLUMN tenant_id SET NOT NULL', p.relid::text)
      FROM protected p WHERE p.tenant_attnum IS NOT NULL AND NOT p.tenant_not_null
    UNION ALL
    SELECT 'warning', p.relid::text, 'no index starts with tenant_id: every tenant''s queries scan the table',
           format('CREATE INDEX ON %s (tenant_id)', p.relid::text)
      FROM protected p
     WHERE p.tenant_attnum IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM pg_index i
            WHERE i.indrelid = p.relid AND i.indkey[0] = p.tenant_attnum AND i.indpred IS NULL AND i.indisvalid)
    UNION ALL
    SELECT 'error', p.relid::text,
           CASE WHEN t.oid IS NULL THEN format('trigger %s is missing', name)
                WHEN t.tgfoid <> wanted.function THEN format('trigger %s runs %s, not %s', name,
                                                             t.tgfoid::regproc, wanted.function)
                ELSE format('trigger %s is disabled', name) END,
           CASE WHEN t.oid IS NOT NULL AND t.tgfoid <> wanted.function
                    THEN format('A superuser drops it (DROP TRIGGER %I ON %s), then runs SELECT tenancy.protect(%L) '
                                'again.', name, p.relid::text, p.relid::text)
                WHEN name = 'tenancy_audit' THEN format('Run SELECT tenancy.set_audit(%L, true).', p.relid::text)
                ELSE format('Run SELECT tenancy.protect(%L) again.', p.relid::text) END
      FROM protected p
           CROSS JOIN LATERAL (VALUES ('tenancy_audit', p.audit, 'tenancy.audit_trigger'::regproc),
                                      ('tenancy_truncate_guard', true, 'tenancy.guard_truncate'::regproc),
                                      ('tenancy_tenant_check', true, 'tenancy.tenant_check'::regproc))
                AS wanted(name, wanted, function)
           LEFT JOIN pg_trigger t ON t.tgrelid = p.relid AND t.tgname = wanted.name
     WHERE wanted.wanted AND (t.oid IS NULL OR t.tgenabled NOT IN ('O', 'A') OR t.tgfoid <> wanted.function)
    UNION ALL
    -- Row limits: a table they name must be counted, under that name (a
    -- warning: the limit still holds, from a direct count per tenant).
    SELECT 'warning', p.relid::text,
           format('the row limits of %s are not counted: %s', limit_name.name,
                  CASE WHEN c.relid IS NULL THEN 'its rows were never counted in full (a restore does not carry the counts)'
                       ELSE 'its counting triggers are missing or disabled' END),
           'Run SELECT * FROM tenancy.recount_rows().'
      FROM protected p
           LEFT JOIN tenancy.row_count_tables c ON c.relid = p.relid
           CROSS JOIN LATERAL (SELECT coalesce(c.limit_name, tenancy._limit_table_name(p.relid)) AS name) limit_name
     WHERE (EXISTS (SELECT 1 FROM tenancy.plans pl WHERE pl.limits->'rows' ? limit_name.name)
            OR EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.limits->'rows' ? limit_name.name))
       AND (c.relid IS NULL OR NOT tenancy._has_row_count_triggers(p.relid)
            OR EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = p.relid AND t.tgfoid = 'tenancy.row_count_trigger'::regproc
                          AND t.tgenabled NOT IN ('O', 'A')))
    UNION ALL
    SELECT 'warning', p.relid::text,
           format('table %s was renamed: its row limits still name it %s', p.relid::regclass, c.limit_name),
           format('Rename it in the plans and tenants'' own limits (tenancy.alter_plan(), tenancy.set_limit()); '
                  'until then the limits of %s hold for it.', c.limit_name)
      FROM protected p JOIN tenancy.row_count_tables c ON c.relid = p.relid
     WHERE c.limit_name <> tenancy._limit_table_name(p.relid)
$$;
REVOKE ALL ON FUNCTION tenancy._health_protected_tables(oid[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._health_protected_tables(oid[]) IS 'internal: health findings about protected tables';

-- Findings about what surrounds protected tables: unprotected tables with a
-- tenant_id, unique keys and foreign keys without tenant_id, views and
-- materialized views, and roles that bypass row level security.
CREATE OR REPLACE FUNCTION tenancy._health_surroundings()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH protected AS (
        SELECT p.relid,
               (SELECT a.attnum FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_attnum
          FROM tenancy.protected_tables p
    ), dependent_views AS (
        SELECT DISTINCT v.oid AS view_oid, v.relkind, v.relowner, v.reloptions, p.relid
          FROM pg_depend d
               JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
               JOIN pg_class v ON v.oid = r.ev_class
               JOIN protected p ON d.refclassid = 'pg_class'::regclass AND d.refobjid = p.relid
         WHERE v.oid <> p.relid AND v.relkind IN ('v', 'm')
    )
    SELECT 'warning', c.oid::regclass::text, 'table has a tenant_id column but is not protected',
           format('Run SELECT tenancy.protect(%L).', c.oid::regclass::text)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenancy') AND n.nspname NOT LIKE 'pg\_%'
       AND NOT EXISTS (SELECT 1 FROM protected p WHERE p.relid = c.oid)
       AND NOT EXISTS (SELECT 1 FROM pg_inherits h JOIN protected p ON p.relid IN (h.inhparent, h.inhrelid)
                        WHERE c.oid IN (h.inhparent, h.inhrelid))
    UNION ALL
    SELECT 'warning', i.indexrelid::regclass::text,
           format('unique index on %s does not include tenant_id: it reveals whether a value exists in another '
                  'tenant', p.relid::text),
           'Make the key unique per tenant, for example UNIQUE (tenant_id, ...) or PRIMARY KEY (tenant_id, id).'
      FROM protected p JOIN pg_index i ON i.indrelid = p.relid
     WHERE i.indisunique AND NOT (p.tenant_attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1]))
    UNION ALL
    SELECT 'warning', format('%s.%s', con.conrelid::regclass, quote_ident(con.conname)),
           format('exclusion constraint on %s does not compare tenant_id with =: it reveals whether a '
                  'conflicting row exists in another tenant', con.conrelid::regclass),
           'Add tenant_id WITH = to the constraint, for example EXCLUDE USING gist (tenant_id WITH =, ...) '
           '(btree_gist provides = for gist).'
      FROM protected p JOIN pg_constraint con ON con.conrelid = p.relid AND con.contype = 'x'
     WHERE NOT EXISTS (SELECT 1 FROM generate_subscripts(con.conkey, 1) k
                        WHERE con.conkey[k] = p.tenant_attnum
                          AND (SELECT o.oprname FROM pg_operator o WHERE o.oid = con.conexclop[k]) = '=')
    UNION ALL
    SELECT 'warning', format('%s.%s', con.conrelid::regclass, quote_ident(con.conname)),
           format('foreign key from %s to protected table %s does not include tenant_id: a row can reference '
                  'another tenant''s row', con.conrelid::regclass, con.confrelid::regclass),
           'Reference (tenant_id, key) with a composite foreign key.'
      FROM pg_constraint con JOIN protected target ON target.relid = con.confrelid
     WHERE con.contype = 'f' AND con.confrelid <> 'tenancy.tenants'::regclass
       AND NOT (target.tenant_attnum = ANY (con.confkey))
    UNION ALL
    SELECT CASE WHEN tenancy._bypasses_rls(v.relowner) THEN 'error' ELSE 'warning' END,
           v.view_oid::regclass::text,
           CASE WHEN tenancy._bypasses_rls(v.relowner)
                THEN format('view over protected table %s runs as %s, who bypasses row level security: it shows '
                            'every tenant''s rows', v.relid::text, pg_get_userbyid(v.relowner))
                ELSE format('view over protected table %s runs with its owner''s rights (no security_invoker)',
                            v.relid::text) END,
           format('ALTER VIEW %s SET (security_invoker = true)', v.view_oid::regclass::text)
      FROM dependent_views v
     WHERE v.relkind = 'v'
       AND coalesce((SELECT lower(o.option_value) FROM pg_options_to_table(v.reloptions) o
                      WHERE o.option_name = 'security_invoker'), 'false') NOT IN ('true', 'on', 'yes', '1')
    UNION ALL
    SELECT 'error', v.view_oid::regclass::text,
           format('materialized view over protected table %s stores rows outside row level security',
                  v.relid::text),
           'Replace it with a view (security_invoker = true) or a protected table filled per tenant.'
      FROM dependent_views v WHERE v.relkind = 'm'
    UNION ALL
    SELECT 'error', r.rolname::text,
           format('role is a service of this database but %s: it sees every tenant''s rows',
                  CASE WHEN r.rolsuper THEN 'a superuser' ELSE 'has BYPASSRLS' END),
           format('Run SELECT tenancy.revoke_service(%L), or ALTER ROLE %I NOSUPERUSER NOBYPASSRLS.',
                  r.rolname, r.rolname)
      FROM pg_roles r
     WHERE (r.rolsuper OR r.rolbypassrls) AND tenancy._holds_platform_right(r.oid, 'service')
    UNION ALL
    SELECT 'error', r.rolname::text,
           'role is a member of tenancy_table_owner: it can change, drop and lock the tables protected in strict '
           'mode in every database of the cluster',
           format('REVOKE tenancy_table_owner FROM %I; platform admins change strict tables with '
                  'tenancy.as_table_owner().', r.rolname)
      FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
     WHERE m.roleid = 'tenancy_table_owner'::regrole
    UNION ALL
    SELECT 'warning', 'tenancy.platform_grants',
           format('a %s right is still granted to a dropped role: a new role that got its oid would hold it',
                  replace(g.kind, '_', ' ')),
           format('Run SELECT tenancy.revoke_%s(%L).', g.kind, g.role::oid::text)
      FROM tenancy.platform_grants g
     WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = g.role)
    UNION ALL
    SELECT 'warning', 'tenancy.platform_grants',
           format('role %s holds a %s right without the privileges it comes with (restored from a dump of a '
                  'database updated from 0.1 or 0.2, or revoked by hand)', g.role, replace(g.kind, '_', ' ')),
           format('Run SELECT tenancy.grant_%s(%L) again.', g.kind, g.role::text)
      FROM tenancy.platform_grants g JOIN pg_roles r ON r.oid = g.role
     WHERE NOT r.rolsuper
       AND (NOT EXISTS (SELECT 1 FROM pg_namespace n, LATERAL aclexplode(n.nspacl) a
                         WHERE n.nspname = 'tenancy' AND a.grantee = g.role AND a.privilege_type = 'USAGE')
            OR (g.kind = 'platform_admin' AND NOT has_table_privilege(g.role, 'tenancy.tenants', 'SELECT')))
    UNION ALL
    SELECT 'error', g.relid::text || coalesce('.' || quote_ident(g.column_name), ''),
           format('%s is granted %s: it can run its own code on every tenant''s rows or probe them through a '
                  'foreign key', g.grantee, g.privilege),
           format('REVOKE %s%s ON %s FROM %s', g.privilege,
                  CASE WHEN g.column_name IS NOT NULL THEN format(' (%I)', g.column_name) END, g.relid, g.grantee)
      FROM tenancy._trigger_grants() g
    UNION ALL
    SELECT 'warning', i.indexrelid::regclass::text,
           format('index on %s is not led by tenant_id: a condition on its columns is checked against every '
                  'tenant''s rows before row level security filters them, and EXPLAIN ANALYZE or the statistics '
                  'counters then tell whether another tenant has a matching value', p.relid::text),
           'Lead the index with tenant_id, for example CREATE INDEX ON table (tenant_id, column).'
      FROM protected p JOIN pg_index i ON i.indrelid = p.relid
     WHERE i.indkey[0] <> p.tenant_attnum
       AND NOT (i.indisunique AND NOT (p.tenant_attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])))
       AND NOT i.indisexclusion
    UNION ALL
    SELECT 'error', current_database()::text,
           'pg_tenancy is not preloaded: a session that has not used it yet is not guarded against LOCK, TRUNCATE '
           'and DDL that would block every tenant',
           format('ALTER DATABASE %I SET session_preload_libraries = ''pg_tenancy'' (keeping the libraries already '
                  'listed)', current_database())
     WHERE NOT tenancy._preloaded()
    UNION ALL
    SELECT 'error', e.evtname::text,
           CASE WHEN e.evtname = 'tenancy_seal_tenant_tables'
                THEN 'event trigger is disabled: tables created in tenant schemas get no row level security, and '
                     'pg_stats shows their values to other tenants'
                ELSE 'event trigger is disabled: protected tables lose their guard' END,
           format('ALTER EVENT TRIGGER %I ENABLE', e.evtname)
      FROM pg_event_trigger e
     WHERE e.evtname IN ('tenancy_guard_ddl', 'tenancy_forget_dropped_tables', 'tenancy_guard_grants',
                         'tenancy_guard_ddl_outcome', 'tenancy_guard_ddl_drops', 'tenancy_seal_tenant_tables')
       AND e.evtenabled = 'D'
$$;
REVOKE ALL ON FUNCTION tenancy._health_surroundings() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._health_surroundings() IS 'internal: health findings around protected tables';

CREATE OR REPLACE FUNCTION tenancy.health_check()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('run the health check');
    RETURN QUERY
        SELECT f.severity, f.object, f.problem, f.hint
          FROM (SELECT * FROM tenancy._health_protected_tables()
                UNION ALL
                SELECT * FROM tenancy._health_surroundings()
                UNION ALL
                SELECT 'error', w.relid::text, w.problem, w.hint
                  FROM tenancy._table_weaknesses(ARRAY(SELECT p.relid::oid FROM tenancy.protected_tables p)) w
                UNION ALL
                SELECT 'error', w.relid::text, 'strict mode: ' || w.problem, w.hint
                  FROM tenancy._strict_weaknesses(ARRAY(SELECT p.relid::oid FROM tenancy.protected_tables p
                                                         WHERE p.strict)) w
                UNION ALL
                SELECT * FROM tenancy._owner_code_findings()
                UNION ALL
                SELECT * FROM tenancy._health_tenant_schemas()) f
         ORDER BY f.severity = 'warning', f.object, f.problem;
END
$$;
COMMENT ON FUNCTION tenancy.health_check() IS
    'one row per problem found in how tables are protected: severity (error or warning), object, problem, '
    'hint (platform admins only)';
