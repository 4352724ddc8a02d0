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
