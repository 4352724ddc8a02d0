-- pg_tenancy: guards. A protected table's owner may not switch off what
-- protects it: TRUNCATE (which ignores row level security and row triggers),
-- disabling row level security or the audit trigger, dropping or altering the
-- tenancy policies, or changing the tenant_id column. Platform admins may.
-- Nobody grants TRIGGER or REFERENCES on a protected table.

CREATE OR REPLACE FUNCTION tenancy.guard_truncate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_truncate';
COMMENT ON FUNCTION tenancy.guard_truncate() IS
    'BEFORE TRUNCATE trigger of protected tables: only platform admins may truncate (it spans every tenant)';

CREATE OR REPLACE FUNCTION tenancy.guard_ddl() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_ddl';
COMMENT ON FUNCTION tenancy.guard_ddl() IS
    'refuses DDL that would weaken a protected table unless run by a platform admin';

-- The TRIGGER and REFERENCES privileges on protected tables held by anyone
-- but the table's owner, table-wide or on a column.
CREATE OR REPLACE FUNCTION tenancy._trigger_grants()
RETURNS TABLE (relid regclass, grantee text, privilege text, column_name name)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
           a.privilege_type, NULL::name
      FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid,
           LATERAL aclexplode(c.relacl) a
     WHERE a.privilege_type IN ('TRIGGER', 'REFERENCES') AND a.grantee <> c.relowner
    UNION ALL
    SELECT c.oid::regclass,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
           a.privilege_type, att.attname
      FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid
           JOIN pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped
                                AND att.attacl IS NOT NULL,
           LATERAL aclexplode(att.attacl) a
     WHERE a.privilege_type = 'REFERENCES' AND a.grantee <> c.relowner
$$;
REVOKE ALL ON FUNCTION tenancy._trigger_grants() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._trigger_grants() IS
    'internal: TRIGGER and REFERENCES privileges on protected tables held by others than the owner';

-- Refuses, at the end of a GRANT, any TRIGGER or REFERENCES privilege on a
-- protected table held by someone other than its owner: the outcome is
-- judged, whatever the statement's form (GRANT ALL, ON ALL TABLES IN SCHEMA,
-- column privileges).
CREATE OR REPLACE FUNCTION tenancy.guard_grants() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    offending record;
BEGIN
    SELECT * INTO offending FROM tenancy._trigger_grants() LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('cannot grant %s on protected table %s to %s', offending.privilege,
                             offending.relid, offending.grantee),
            DETAIL = 'A trigger on a protected table runs its creator''s code on every tenant''s rows, and a '
                     'foreign key''s checks bypass row level security; only the table''s owner may do either.',
            HINT = format('Grant only what tenants need, for example GRANT SELECT, INSERT, UPDATE, DELETE ON %s '
                          'TO %s.', offending.relid, offending.grantee);
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.guard_grants() IS
    'refuses TRIGGER and REFERENCES privileges on protected tables for anyone but the owner';

REVOKE ALL ON FUNCTION tenancy.guard_truncate(), tenancy.guard_ddl(), tenancy.guard_grants() FROM PUBLIC;

-- Makes every new session of this database load pg_tenancy at start
-- (session_preload_libraries), keeping the libraries already listed: the
-- guards against locks, TRUNCATE and DDL that would block every tenant must
-- be in place before a session's first statement, not from its first use
-- of pg_tenancy on. Called when the extension is created or updated.
CREATE OR REPLACE FUNCTION tenancy._preload_in_database() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    listed text;
BEGIN
    SELECT substr(c.setting, length('session_preload_libraries=') + 1) INTO listed
      FROM pg_db_role_setting s, unnest(s.setconfig) AS c(setting)
     WHERE s.setdatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND s.setrole = 0 AND c.setting LIKE 'session_preload_libraries=%';
    IF coalesce(listed, '') ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)'
       OR current_setting('shared_preload_libraries') ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)' THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER DATABASE %I SET session_preload_libraries = %L', current_database(),
                   CASE WHEN coalesce(listed, '') = '' THEN 'pg_tenancy' ELSE listed || ', pg_tenancy' END);
    RAISE NOTICE 'new sessions of database "%" load pg_tenancy at start', current_database()
        USING DETAIL = 'session_preload_libraries now includes pg_tenancy, so that its guards are in place '
                       'before a session''s first statement.';
END
$$;
REVOKE ALL ON FUNCTION tenancy._preload_in_database() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._preload_in_database() IS
    'internal: adds pg_tenancy to this database''s session_preload_libraries';

-- Says whether new sessions of this database load pg_tenancy at start.
CREATE OR REPLACE FUNCTION tenancy._preloaded() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT current_setting('shared_preload_libraries') ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)'
        OR EXISTS (SELECT 1 FROM pg_db_role_setting s, unnest(s.setconfig) AS c(setting)
                    WHERE s.setdatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                      AND s.setrole = 0 AND c.setting ~ '^session_preload_libraries=.*pg_tenancy')
        OR EXISTS (SELECT 1 FROM pg_settings p
                    WHERE p.name = 'session_preload_libraries' AND p.source = 'configuration file'
                      AND p.setting ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)')
$$;
REVOKE ALL ON FUNCTION tenancy._preloaded() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._preloaded() IS 'internal: whether new sessions of this database load pg_tenancy';
