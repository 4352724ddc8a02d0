-- pg_tenancy: protection of a table. tenancy.protect() adds and adopts a
-- tenant_id column, enables and forces row level security, installs the
-- policies and triggers, and records the table for the health check.

-- True: the permissive policy of protected tables is tenancy.installed(),
-- not the constant true, so that DROP EXTENSION ... CASCADE drops it with
-- the restrictive ones. A table whose row level security stays forced with
-- no policy at all shows no row to anyone but superusers and BYPASSRLS
-- roles: after the extension is gone, protected tables fail closed. Being
-- IMMUTABLE, it is folded to true when a query is planned.
-- In C: the planner folds it to true without parsing a body (an SQL
-- function would be parsed and inlined at every planning, ~30k instructions).
CREATE OR REPLACE FUNCTION tenancy.installed() RETURNS boolean
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'tenancy_installed';
COMMENT ON FUNCTION tenancy.installed() IS
    'true; the permissive policy of protected tables, so that dropping pg_tenancy leaves them closed';

-- The policies of a protected table, in exactly the form pg_get_expr() prints
-- them under search_path = pg_catalog, so that the health check can compare.
-- Every command has one RESTRICTIVE policy: tenant_id must equal the tenant
-- that tenancy.tenant_for() returns, which it does only when the actor's role
-- allows that command. Restrictive policies are ANDed with anything else, so
-- no permissive policy that someone adds can widen access; PostgreSQL wants
-- at least one permissive policy, hence tenancy_permit (tenancy.installed(),
-- which is true) for all commands. For reads the tenant is a scalar subquery:
-- evaluated once per statement (in the leader of a parallel query, whose
-- workers get its value), and usable as an index condition. For writes it is
-- a plain call: an initplan costs ~10k instructions to set up per statement,
-- more than the call costs on the few rows a write usually touches (and a
-- stable function's result still serves as an index condition).
CREATE OR REPLACE FUNCTION tenancy._policy_definitions(
    target regclass, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role)
RETURNS TABLE (policy_name name, command "char", permissive boolean, using_expression text, check_expression text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH rights (policy_name, command, role, action) AS (VALUES
             ('tenancy_select'::name, 'r'::"char", read_role, 'select'),
             ('tenancy_insert', 'a', write_role, 'insert'),
             ('tenancy_update', 'w', write_role, 'update'),
             ('tenancy_delete', 'd', delete_role, 'delete'))
    SELECT 'tenancy_permit'::name, '*'::"char", true, 'tenancy.installed()', 'tenancy.installed()'
    UNION ALL
    SELECT r.policy_name, r.command, false,
           CASE WHEN r.command <> 'a' THEN expr END,
           CASE WHEN r.command IN ('a', 'w') THEN expr END
      FROM rights r,
           LATERAL (SELECT format(CASE WHEN r.command = 'r'
                                       THEN '(tenant_id = ( SELECT tenancy.tenant_for(%L::tenancy.role, %L::text, %L::regclass) AS tenant_for))'
                                       ELSE '(tenant_id = tenancy.tenant_for(%L::tenancy.role, %L::text, %L::regclass))' END,
                                  r.role, r.action, target::text) AS expr) e
$$;
REVOKE ALL ON FUNCTION tenancy._policy_definitions(regclass, tenancy.role, tenancy.role, tenancy.role) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._policy_definitions(regclass, tenancy.role, tenancy.role, tenancy.role) IS
    'internal: the policies tenancy.protect() installs on a table';

-- Raises unless the caller owns the table (or is a platform admin).
CREATE OR REPLACE FUNCTION tenancy._require_table_owner(target regclass, action text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT tenancy.is_platform_admin()
       AND NOT pg_has_role(tenancy.db_role()::name, (SELECT relowner FROM pg_class WHERE oid = target), 'USAGE') THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('must be owner of table %s', target),
            DETAIL = format('Only the owner of a table or a platform admin may %s it.', action);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_table_owner(regclass, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_table_owner(regclass, text) IS
    'internal: error unless the caller owns the table or is a platform admin';

-- Raises unless the relation is an ordinary, permanent, user table.
CREATE OR REPLACE FUNCTION tenancy._require_protectable(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel record;
BEGIN
    IF target IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'table must not be null';
    END IF;
    SELECT c.relkind, c.relpersistence, n.nspname INTO rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_table', MESSAGE = format('table with oid %s does not exist', target::oid);
    END IF;
    IF rel.relkind = 'p' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('cannot protect partitioned table %s', target),
            DETAIL = 'Row level security of a partitioned table does not apply when a partition is queried directly.',
            HINT = 'Use an ordinary table.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_inherits h WHERE target IN (h.inhrelid, h.inhparent)) THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('cannot protect %s: it is a partition, an inheritance child or an inheritance parent',
                             target),
            DETAIL = 'PostgreSQL applies only the policies of the table a query names: reading through a parent '
                     'would bypass the protection of its children.',
            HINT = 'Detach the partition (ALTER TABLE ... DETACH PARTITION) or end the inheritance (ALTER TABLE ... '
                   'NO INHERIT) first.';
    END IF;
    IF rel.relkind <> 'r' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('%s is not an ordinary table', target),
            DETAIL = format('tenancy.protect() works on ordinary tables; %s is a %s.', target,
                            CASE rel.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                                 WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index'
                                 WHEN 'c' THEN 'composite type' ELSE 'relation of kind ' || rel.relkind::text END);
    END IF;
    IF rel.relpersistence = 't' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot protect temporary table %s', target);
    END IF;
    IF rel.nspname IN ('pg_catalog', 'information_schema', 'tenancy') OR rel.nspname LIKE 'pg\_toast%' THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('cannot protect %s', target),
            DETAIL = format('Tables in schema "%s" belong to the system or to pg_tenancy.', rel.nspname);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_protectable(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_protectable(regclass) IS
    'internal: error unless the relation is an ordinary permanent user table';

-- The trigger tenancy_tenant_check of protected tables, in place of a foreign
-- key to tenancy.tenants: after a row is written by a role that bypasses row
-- level security, its tenant must exist, and then cannot be dropped before
-- the transaction ends. Rows written under the policies are pinned to the
-- validated tenant already; for them it returns at once.
CREATE OR REPLACE FUNCTION tenancy.tenant_check() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_tenant_check';
REVOKE ALL ON FUNCTION tenancy.tenant_check() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.tenant_check() IS
    'trigger tenancy_tenant_check of protected tables: a written row''s tenant exists and stays until the '
    'transaction ends';

-- Removes a dropped tenant's rows from every protected table: after DELETE on
-- tenancy.tenants, for each row. Waits for the transactions writing into the
-- tenant first.
CREATE OR REPLACE FUNCTION tenancy.remove_tenant_rows() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_remove_tenant_rows';
REVOKE ALL ON FUNCTION tenancy.remove_tenant_rows() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.remove_tenant_rows() IS
    'trigger: deletes a dropped tenant''s rows from every protected table';

-- Refuses what would leave rows without their tenant: TRUNCATE of
-- tenancy.tenants, and a new id for a tenant.
CREATE OR REPLACE FUNCTION tenancy._refuse_tenant_rows_loss() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = 'cannot truncate tenancy.tenants',
            DETAIL = 'The rows of the tenants in protected tables would stay without their tenant.',
            HINT = 'Drop tenants with tenancy.drop_tenant(), which removes their rows too.';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
        MESSAGE = format('cannot change the id of tenant "%s"', OLD.slug),
        DETAIL = 'The rows of the tenant in protected tables name it by its id.';
END
$$;
REVOKE ALL ON FUNCTION tenancy._refuse_tenant_rows_loss() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._refuse_tenant_rows_loss() IS
    'internal trigger: refuses TRUNCATE of tenancy.tenants and a change of a tenant''s id';

-- Adds or adopts the tenant_id column: uuid, NOT NULL, defaulting to the
-- current tenant, naming an existing tenant (the tenancy_tenant_check
-- trigger, see tenancy.tenant_check()), and led by an index. Refuses rows
-- without a tenant, or of unknown tenants, rather than guessing.
-- Adds the tenant_id column (uuid, nullable: a new column needs no rewrite
-- of the table) unless the table has it, and returns its number; refuses a
-- tenant_id of another type.
CREATE OR REPLACE FUNCTION tenancy._add_tenant_column(target regclass) RETURNS smallint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    column_info record;
BEGIN
    SELECT a.attnum, a.atttypid INTO column_info
      FROM pg_attribute a WHERE a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped;
    IF NOT FOUND THEN
        EXECUTE format('ALTER TABLE %s ADD COLUMN tenant_id uuid', target);
        SELECT a.attnum, a.atttypid INTO column_info
          FROM pg_attribute a WHERE a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped;
    ELSIF column_info.atttypid <> 'uuid'::regtype THEN
        RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
            MESSAGE = format('column "tenant_id" of table %s has type %s, not uuid', target,
                             format_type(column_info.atttypid, NULL)),
            HINT = 'Convert the column to uuid holding tenancy.tenants ids, or rename it, then protect again.';
    END IF;
    RETURN column_info.attnum;
END
$$;
REVOKE ALL ON FUNCTION tenancy._add_tenant_column(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._add_tenant_column(regclass) IS
    'internal: adds a nullable uuid tenant_id column unless the table has one, and returns its number';

CREATE OR REPLACE FUNCTION tenancy._install_tenant_column(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant_column smallint := tenancy._add_tenant_column(target);
    online boolean;
    scan_result text[];
    orphaned boolean;
    unknown boolean;
BEGIN

    -- One pass answers both: rows without a tenant, rows of unknown tenants.
    -- SHARE on tenancy.tenants keeps every tenant found here until the table
    -- is protected: a tenant dropped meanwhile would leave its rows behind.
    -- An online protection has proved both already, with the constraints it
    -- validated without blocking writers (16_protect_online.sql).
    LOCK TABLE tenancy.tenants IN SHARE MODE;
    online := tenancy._online_constraints_valid(target);
    IF online OR EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        -- Proved already: by the online protection's constraints, or by the
        -- protection itself (NOT NULL, the tenant check, tenant removal).
        orphaned := false;
        unknown := false;
    ELSE
        -- The owner is never exempt from forced row level security when
        -- pg_tenancy runs its code (owner_execution.cpp), and the check must
        -- see every row: a table pg_tenancy does not protect (yet) that
        -- forces it (its own policies, or what DROP EXTENSION left) stops
        -- forcing it until protection forces it again, in this transaction.
        IF (SELECT c.relforcerowsecurity FROM pg_class c WHERE c.oid = target) THEN
            EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', target);
        END IF;
        -- As the table's owner (planning a query on the table may run the
        -- owner's functions: see owner_execution.cpp).
        scan_result := string_to_array(tenancy._scan_as_owner(target, format(
            'SELECT coalesce(bool_or(r.tenant_id IS NULL), false) || '','' || '
            'coalesce(bool_or(r.tenant_id IS NOT NULL AND NOT (r.tenant_id = ANY ($1))), false) FROM %s r', target),
            ARRAY(SELECT t.id FROM tenancy.tenants t)), ',');
        orphaned := scan_result[1]::boolean;
        unknown := scan_result[2]::boolean;
    END IF;
    IF orphaned THEN
        RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
            MESSAGE = format('table %s has rows without a tenant', target),
            DETAIL = 'Protecting a table must not guess which tenant owns existing rows.',
            HINT = 'Set tenant_id of every row to the id of its tenant (tenancy.tenants.id), then protect again.';
    END IF;
    IF unknown THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('table %s has rows of tenants that do not exist', target),
            DETAIL = 'Every tenant_id must be the id of a row of tenancy.tenants.',
            HINT = 'Create the missing tenants with tenancy.create_tenant() (with id => their old id when they were lost with DROP EXTENSION), or fix tenant_id, then protect again.';
    END IF;
    EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT tenancy.current_tenant_id(), '
                   'ALTER COLUMN tenant_id SET NOT NULL', target);
    IF online THEN
        PERFORM tenancy._drop_online_constraints(target);
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_tenant_check') THEN
        EXECUTE format('CREATE TRIGGER tenancy_tenant_check AFTER INSERT OR UPDATE OF tenant_id ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION tenancy.tenant_check()', target);
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_index i
                    WHERE i.indrelid = target AND i.indkey[0] = tenant_column
                      AND i.indpred IS NULL AND i.indisvalid) THEN
        EXECUTE format('CREATE INDEX ON %s (tenant_id)', target);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._install_tenant_column(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._install_tenant_column(regclass) IS
    'internal: adds or adopts tenant_id with default, NOT NULL, tenant check and index';

-- Drops the policies that tenancy.protect() installs on a table.
CREATE OR REPLACE FUNCTION tenancy._drop_policies(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    policy record;
BEGIN
    FOR policy IN SELECT p.polname FROM pg_policy p
                   WHERE p.polrelid = target AND p.polname IN
                         ('tenancy_permit', 'tenancy_select', 'tenancy_insert', 'tenancy_update', 'tenancy_delete')
    LOOP
        EXECUTE format('DROP POLICY %I ON %s', policy.polname, target);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._drop_policies(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._drop_policies(regclass) IS 'internal: drops the tenancy policies of a table';

-- Creates (or re-creates) the policies of a protected table.
CREATE OR REPLACE FUNCTION tenancy._install_policies(
    target regclass, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    policy record;
BEGIN
    PERFORM tenancy._drop_policies(target);
    FOR policy IN SELECT * FROM tenancy._policy_definitions(target, read_role, write_role, delete_role) LOOP
        EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s TO PUBLIC%s%s',
            policy.policy_name, target,
            CASE WHEN policy.permissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
            CASE policy.command WHEN '*' THEN 'ALL' WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                                WHEN 'w' THEN 'UPDATE' ELSE 'DELETE' END,
            CASE WHEN policy.using_expression IS NOT NULL THEN format(' USING (%s)', policy.using_expression) END,
            CASE WHEN policy.check_expression IS NOT NULL THEN format(' WITH CHECK (%s)', policy.check_expression) END);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._install_policies(regclass, tenancy.role, tenancy.role, tenancy.role) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._install_policies(regclass, tenancy.role, tenancy.role, tenancy.role) IS
    'internal: (re-)creates the row level security policies of a protected table';

-- Raises when a trigger on the table carries one of the names pg_tenancy
-- gives its own (tenancy_*) but runs another function: it was there before
-- the table was protected, and protect() would otherwise take it for its own.
CREATE OR REPLACE FUNCTION tenancy._refuse_foreign_triggers(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    foreign_trigger record;
BEGIN
    SELECT t.tgname, t.tgfoid::regproc AS function INTO foreign_trigger
      FROM pg_trigger t
     WHERE t.tgrelid = target AND t.tgname LIKE 'tenancy\_%' AND NOT t.tgisinternal
       AND t.tgfoid NOT IN ('tenancy.audit_trigger'::regproc, 'tenancy.guard_truncate'::regproc,
                            'tenancy.tenant_check'::regproc, 'tenancy.row_count_trigger'::regproc,
                            'tenancy.backfill_trigger'::regproc)
     ORDER BY t.tgname LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('trigger %s on table %s is not pg_tenancy''s', foreign_trigger.tgname, target),
            DETAIL = format('It runs %s; the names tenancy_* are pg_tenancy''s own.', foreign_trigger.function),
            HINT = 'Rename or drop it, then protect the table.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._refuse_foreign_triggers(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._refuse_foreign_triggers(regclass) IS
    'internal: error when a trigger with a pg_tenancy name runs another function';

-- Creates or drops the audit trigger of a table.
CREATE OR REPLACE FUNCTION tenancy._install_audit_trigger(target regclass, enabled boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    present boolean := EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_audit');
BEGIN
    PERFORM tenancy._refuse_foreign_triggers(target);
    IF enabled AND NOT present THEN
        EXECUTE format('CREATE TRIGGER tenancy_audit AFTER INSERT OR UPDATE OR DELETE ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger()', target);
    ELSIF NOT enabled AND present THEN
        EXECUTE format('DROP TRIGGER tenancy_audit ON %s', target);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._install_audit_trigger(regclass, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._install_audit_trigger(regclass, boolean) IS
    'internal: creates or drops the audit trigger of a protected table';

-- Revokes TRIGGER and REFERENCES on a table from everyone but its owner: a
-- trigger runs its creator's code on every tenant's rows, and a foreign key's
-- checks bypass row level security (telling whether a key exists).
CREATE OR REPLACE FUNCTION tenancy._revoke_trigger_grants(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    grant_row record;
BEGIN
    FOR grant_row IN SELECT * FROM tenancy._trigger_grants() g WHERE g.relid = target LOOP
        EXECUTE format('REVOKE %s%s ON %s FROM %s', grant_row.privilege,
                       CASE WHEN grant_row.column_name IS NOT NULL THEN format(' (%I)', grant_row.column_name) END,
                       target, grant_row.grantee);
        RAISE NOTICE 'revoked % on % from %', grant_row.privilege,
            target || coalesce('.' || quote_ident(grant_row.column_name), ''), grant_row.grantee
            USING DETAIL = 'Only the owner of a protected table may create triggers on it or reference it.';
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._revoke_trigger_grants(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._revoke_trigger_grants(regclass) IS
    'internal: revokes TRIGGER and REFERENCES on a table from everyone but its owner';

-- Strict mode: hands a table to tenancy_table_owner, so that its schema
-- changes go through platform admins (tenancy.as_table_owner(); CREATE on the
-- table's schema lets them index it), and gives its previous owner the rights
-- of an application role instead: SELECT, INSERT, UPDATE, DELETE on the
-- table, and the use of its sequences (not setval: every tenant inserts with
-- them). Returns the previous owner.
CREATE OR REPLACE FUNCTION tenancy._hand_to_table_owner_role(target regclass) RETURNS regrole
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner_before regrole;
    sequence regclass;
BEGIN
    SELECT c.relowner::regrole INTO owner_before FROM pg_class c WHERE c.oid = target;
    EXECUTE format('ALTER TABLE %s OWNER TO tenancy_table_owner', target);
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO tenancy_table_owner',
                   (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.oid = target));
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', target, owner_before);
    FOR sequence IN SELECT d.objid::regclass FROM pg_depend d
                     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                       AND d.refobjid = target AND d.deptype IN ('a', 'i')
                       AND (SELECT c.relkind FROM pg_class c WHERE c.oid = d.objid) = 'S' LOOP
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %s', sequence, owner_before);
    END LOOP;
    RETURN owner_before;
END
$$;
REVOKE ALL ON FUNCTION tenancy._hand_to_table_owner_role(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._hand_to_table_owner_role(regclass) IS
    'internal: strict mode, hands a table to tenancy_table_owner and keeps its previous owner''s data rights';

-- Raises unless the caller may protect the table with these settings: a
-- table owner or platform admin; strict mode only for a table without
-- weaknesses; no audit only for platform admins.
CREATE OR REPLACE FUNCTION tenancy._require_protect_settings(target regclass, audit boolean, strict_mode boolean)
RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    previous tenancy.protected_tables;
    weakness record;
BEGIN
    PERFORM tenancy._require_protectable(target);
    PERFORM tenancy._require_table_owner(target, 'protect');
    SELECT * INTO previous FROM tenancy.protected_tables p WHERE p.relid = target;
    IF strict_mode AND NOT coalesce(previous."strict", false) THEN
        SELECT w.problem, w.hint INTO weakness FROM tenancy._strict_weaknesses(ARRAY[target::oid]) w LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('cannot protect table %s in strict mode: %s', target, weakness.problem),
                DETAIL = 'In strict mode only platform admins change the table; code or types another role can '
                         'replace would change it, or read every tenant''s rows, all the same.',
                HINT = weakness.hint;
        END IF;
    END IF;
    IF NOT audit AND coalesce(previous.audit, true) AND NOT tenancy.is_platform_admin() THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to exempt %s from audit', target),
            DETAIL = 'Only platform admins may protect a table without its audit trigger.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_protect_settings(regclass, boolean, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_protect_settings(regclass, boolean, boolean) IS
    'internal: error unless the caller may protect the table with these settings';

-- The work of tenancy.protect(): with a backfill recorded in
-- tenancy.protect_jobs (by protect() in this transaction, or an online
-- protection at its last step), checks that it placed every row first, and
-- records it in the audit log from that record.
CREATE OR REPLACE FUNCTION tenancy._protect_table(
    target regclass, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role,
    audit boolean, strict boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rls record;
    previous tenancy.protected_tables;
    owner_before regrole;
    strict_mode boolean;
    job tenancy.protect_jobs;
BEGIN
    -- A null setting keeps the table's current one, or takes the default.
    SELECT * INTO previous FROM tenancy.protected_tables p WHERE p.relid = target;
    read_role := coalesce(read_role, previous.read_role, 'viewer');
    write_role := coalesce(write_role, previous.write_role, 'member');
    delete_role := coalesce(delete_role, previous.delete_role, 'admin');
    audit := coalesce(audit, previous.audit, true);
    strict_mode := coalesce(_protect_table.strict, false) OR coalesce(previous."strict", false);
    PERFORM tenancy._require_protect_settings(target, audit, strict_mode);
    PERFORM tenancy._refuse_foreign_triggers(target);
    SELECT * INTO job FROM tenancy.protect_jobs j WHERE j.relid = target FOR UPDATE;
    IF FOUND AND job.online AND job.step <> 'switch' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('an online protection of table %s is in progress', target),
            DETAIL = format('It has reached step %s.', job.step),
            HINT = 'Resume it (tenantctl protect --online) or cancel it with tenancy.protect_online_cancel().';
    ELSIF FOUND AND NOT job.online THEN
        PERFORM tenancy._require_all_placed(target, job.backfill_from);
    END IF;

    SELECT c.relrowsecurity, c.relforcerowsecurity INTO rls FROM pg_class c WHERE c.oid = target;
    PERFORM tenancy._install_tenant_column(target);
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', target);
    PERFORM tenancy._install_policies(target, read_role, write_role, delete_role);
    PERFORM tenancy._install_audit_trigger(target, audit);
    IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_truncate_guard') THEN
        EXECUTE format('CREATE TRIGGER tenancy_truncate_guard BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.guard_truncate()', target);
    END IF;

    IF strict_mode AND NOT coalesce(previous."strict", false) THEN
        owner_before := tenancy._hand_to_table_owner_role(target);
    END IF;

    INSERT INTO tenancy.protected_tables AS p
           (relid, read_role, write_role, delete_role, audit, rls_was_enabled, rls_was_forced, protected_by,
            strict, owner_before_strict)
    VALUES (target, read_role, write_role, delete_role, audit,
            coalesce(previous.rls_was_enabled, rls.relrowsecurity),
            coalesce(previous.rls_was_forced, rls.relforcerowsecurity), tenancy.actor(), strict_mode, owner_before)
    ON CONFLICT (relid) DO UPDATE
       SET read_role = excluded.read_role, write_role = excluded.write_role,
           delete_role = excluded.delete_role, audit = excluded.audit, strict = excluded.strict,
           owner_before_strict = coalesce(p.owner_before_strict, excluded.owner_before_strict);
    PERFORM tenancy._revoke_trigger_grants(target);
    IF job.relid IS NOT NULL THEN
        PERFORM tenancy._audit_backfill(job);
        DELETE FROM tenancy.protect_jobs j WHERE j.relid = target;
    END IF;
    PERFORM tenancy._sync_row_limits();
END
$$;
COMMENT ON FUNCTION tenancy._protect_table(regclass, tenancy.role, tenancy.role, tenancy.role, boolean, boolean) IS
    'internal: protects a table (table owners and platform admins), after its backfill if one is recorded';

-- SECURITY INVOKER, and without a search_path of its own, only to hand the
-- caller's search_path to the backfill: names in backfill_from resolve as
-- the caller wrote them. Everything is done by the SECURITY DEFINER
-- functions it calls; the backfill itself runs as the table's owner.
CREATE OR REPLACE FUNCTION tenancy.protect(
    target regclass,
    read_role tenancy.role DEFAULT 'viewer',
    write_role tenancy.role DEFAULT 'member',
    delete_role tenancy.role DEFAULT 'admin',
    audit boolean DEFAULT true,
    strict boolean DEFAULT false,
    backfill text DEFAULT NULL,
    backfill_from text DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- A protected table has no row without a tenant (NOT NULL): nothing to place.
    IF (backfill IS NOT NULL OR backfill_from IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM tenancy.protected_list() l WHERE l.table_name = target::text) THEN
        PERFORM tenancy._backfill_prepare(target, backfill, backfill_from,
                                          pg_catalog.current_setting('search_path'));
        PERFORM tenancy._backfill_rows(target, NULL, NULL);
    END IF;
    PERFORM tenancy._protect_table(target, read_role, write_role, delete_role, audit, protect.strict);
END
$$;
COMMENT ON FUNCTION tenancy.protect(regclass, tenancy.role, tenancy.role, tenancy.role, boolean, boolean, text, text) IS
    'protects a table: tenant_id column, forced row level security, per-tenant policies, audit (idempotent; '
    'a null setting keeps the current one); strict hands the table to tenancy_table_owner for good; backfill '
    '(a tenant) and backfill_from (an SQL expression over the row) give rows without a tenant theirs first';

CREATE OR REPLACE FUNCTION tenancy.unprotect(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    settings tenancy.protected_tables;
BEGIN
    PERFORM tenancy._require_platform_admin('unprotect tables');
    SELECT * INTO settings FROM tenancy.protected_tables p WHERE p.relid = target;
    IF settings.relid IS NULL THEN
        RAISE NOTICE 'table % is not protected, skipping', target;
        RETURN;
    END IF;
    PERFORM tenancy._drop_policies(target);
    IF settings."strict" AND settings.owner_before_strict IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %s OWNER TO %s', target, settings.owner_before_strict);
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS tenancy_audit ON %s', target);
    EXECUTE format('DROP TRIGGER IF EXISTS tenancy_truncate_guard ON %s', target);
    EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id DROP DEFAULT', target);
    EXECUTE format('DROP TRIGGER IF EXISTS tenancy_tenant_check ON %s', target);
    PERFORM tenancy._drop_row_count_triggers(target);
    EXECUTE format('ALTER TABLE %s %s ROW LEVEL SECURITY, %s ROW LEVEL SECURITY', target,
                   CASE WHEN settings.rls_was_enabled THEN 'ENABLE' ELSE 'DISABLE' END,
                   CASE WHEN settings.rls_was_forced THEN 'FORCE' ELSE 'NO FORCE' END);
    DELETE FROM tenancy.protected_tables p WHERE p.relid = target;
END
$$;
COMMENT ON FUNCTION tenancy.unprotect(regclass) IS
    'removes the protection of a table, keeping its tenant_id column and data (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.set_audit(target regclass, enabled boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF target IS NULL OR enabled IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'table and enabled must not be null';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not protected', target),
            HINT = 'Protect it with tenancy.protect(); its audit trigger is on by default.';
    END IF;
    IF enabled THEN
        PERFORM tenancy._require_table_owner(target, 'audit');
    ELSE
        PERFORM tenancy._require_platform_admin('switch off the audit of a table');
    END IF;
    PERFORM tenancy._install_audit_trigger(target, enabled);
    UPDATE tenancy.protected_tables p SET audit = enabled WHERE p.relid = target;
END
$$;
COMMENT ON FUNCTION tenancy.set_audit(regclass, boolean) IS
    'switches the audit trigger of a protected table on (owner) or off (platform admins only)';

-- The name of a table protected in strict mode that the current DROP
-- removes, if any (called inside the sql_drop event trigger only).
CREATE OR REPLACE FUNCTION tenancy._dropped_strict_table() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT d.object_identity
      FROM pg_event_trigger_dropped_objects() d JOIN tenancy.protected_tables p ON p.relid::oid = d.objid
     WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND p."strict"
     LIMIT 1
$$;
COMMENT ON FUNCTION tenancy._dropped_strict_table() IS
    'internal: a table protected in strict mode that the current DROP removes (sql_drop event triggers only)';

-- Removes the tables the current DROP removes from tenancy.protected_tables
-- (called inside the sql_drop event trigger only).
CREATE OR REPLACE FUNCTION tenancy._forget_dropped_tables() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DELETE FROM tenancy.row_counts r
     WHERE r.relid IN (SELECT d.objid FROM pg_event_trigger_dropped_objects() d
                        WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0);
    DELETE FROM tenancy.protected_tables p
     WHERE p.relid::oid IN (SELECT d.objid FROM pg_event_trigger_dropped_objects() d
                             WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0)
$$;
COMMENT ON FUNCTION tenancy._forget_dropped_tables() IS
    'internal: forgets the protected tables the current DROP removes (sql_drop event triggers only)';

-- After a DROP: forgets the dropped tables, and refuses the drop of a table
-- protected in strict mode unless the role running it (not the owner of this
-- function: it runs with the caller's rights) is a platform admin of this
-- database - not the owner of its schema (DROP SCHEMA ... CASCADE), not code
-- that runs as tenancy_table_owner outside tenancy.as_table_owner().
CREATE OR REPLACE FUNCTION tenancy.forget_dropped_tables() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    strict_table text;
BEGIN
    IF NOT tenancy._current_role_is_platform_admin() THEN
        strict_table := tenancy._dropped_strict_table();
        IF strict_table IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('cannot drop table %s: it is protected in strict mode', strict_table),
                DETAIL = format('Only platform admins of database "%s" drop or change tables protected in strict '
                                'mode; role "%s" is not one.', current_database(), current_user),
                HINT = 'Ask a platform admin of this database to drop it.';
        END IF;
    END IF;
    PERFORM tenancy._forget_dropped_tables();
END
$$;
COMMENT ON FUNCTION tenancy.forget_dropped_tables() IS
    'internal: removes dropped tables from tenancy.protected_tables; refuses the drop of a strict table by anyone '
    'but platform admins of this database';
REVOKE ALL ON FUNCTION tenancy.forget_dropped_tables() FROM PUBLIC;
