-- pg_tenancy: the outcome of DDL on protected tables, judged after each
-- statement (ddl_command_end, sql_drop) on the tables it actually changed,
-- by oid: whatever the statement's text named, and whatever a concurrent
-- rename did to those names. Table owners may evolve their schema; they may
-- not leave a protected table weaker than tenancy.protect() made it.

CREATE OR REPLACE FUNCTION tenancy._trusted_function(function oid) RETURNS boolean
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'tenancy_trusted_function';
COMMENT ON FUNCTION tenancy._trusted_function(oid) IS
    'internal: whether a function may run on every tenant''s rows (built in, owned by a superuser, or pg_tenancy''s)';

-- The tables an object belongs to: a table itself, the table of an index,
-- trigger, policy, rule, constraint or column default, the tables whose
-- triggers call a function, and the tables of a schema (ALTER SCHEMA).
CREATE OR REPLACE FUNCTION tenancy._tables_of_object(classid oid, objid oid) RETURNS SETOF oid
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = $2), $2)
     WHERE $1 = 'pg_class'::regclass
    UNION ALL SELECT t.tgrelid FROM pg_trigger t WHERE $1 = 'pg_trigger'::regclass AND t.oid = $2
    UNION ALL SELECT p.polrelid FROM pg_policy p WHERE $1 = 'pg_policy'::regclass AND p.oid = $2
    UNION ALL SELECT r.ev_class FROM pg_rewrite r WHERE $1 = 'pg_rewrite'::regclass AND r.oid = $2
    UNION ALL SELECT c.conrelid FROM pg_constraint c WHERE $1 = 'pg_constraint'::regclass AND c.oid = $2
    UNION ALL SELECT d.adrelid FROM pg_attrdef d WHERE $1 = 'pg_attrdef'::regclass AND d.oid = $2
    UNION ALL SELECT t.tgrelid FROM pg_trigger t WHERE $1 = 'pg_proc'::regclass AND t.tgfoid = $2
    UNION ALL SELECT c.oid FROM pg_class c
               WHERE $1 = 'pg_namespace'::regclass AND c.relnamespace = $2 AND c.relkind IN ('r', 'p')
$$;
REVOKE ALL ON FUNCTION tenancy._tables_of_object(oid, oid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._tables_of_object(oid, oid) IS 'internal: the tables a catalog object belongs to';

-- The tables the current DDL statement changed: from the commands it ran
-- (ddl_command_end), or from the objects it dropped (sql_drop), whose tables
-- are named by their address.
CREATE OR REPLACE FUNCTION tenancy._ddl_changed_tables(event text) RETURNS oid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed oid[];
BEGIN
    IF event = 'sql_drop' THEN
        SELECT array_agg(DISTINCT t) INTO changed
          FROM (SELECT d.objid AS t FROM pg_event_trigger_dropped_objects() d
                 WHERE d.classid = 'pg_class'::regclass AND d.objsubid <> 0
                UNION ALL
                SELECT to_regclass(quote_ident(d.address_names[1]) || '.' || quote_ident(d.address_names[2]))::oid
                  FROM pg_event_trigger_dropped_objects() d
                 WHERE d.classid IN ('pg_trigger'::regclass, 'pg_policy'::regclass, 'pg_rewrite'::regclass,
                                     'pg_constraint'::regclass, 'pg_attrdef'::regclass)
                   AND cardinality(d.address_names) = 3) dropped
         WHERE t IS NOT NULL;
    ELSE
        SELECT array_agg(DISTINCT t) INTO changed
          FROM pg_event_trigger_ddl_commands() c, LATERAL tenancy._tables_of_object(c.classid, c.objid) t;
    END IF;
    RETURN coalesce(changed, '{}');
END
$$;
REVOKE ALL ON FUNCTION tenancy._ddl_changed_tables(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._ddl_changed_tables(text) IS 'internal: the tables the current DDL statement changed';

-- What DDL could add to the given tables that weakens their isolation: a
-- parent or child across the protection boundary, a rule, a foreign key
-- whose action writes tenant_id, a SECURITY DEFINER trigger of untrusted code.
CREATE OR REPLACE FUNCTION tenancy._table_weaknesses(tables oid[])
RETURNS TABLE (relid regclass, problem text, hint text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH protected AS (
        SELECT p.relid,
               (SELECT a.attnum FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_attnum
          FROM tenancy.protected_tables p
    ), inheritance AS (
        SELECT h.inhrelid AS child, h.inhparent AS parent, c.relispartition,
               EXISTS (SELECT 1 FROM protected p WHERE p.relid = h.inhrelid) AS child_protected,
               EXISTS (SELECT 1 FROM protected p WHERE p.relid = h.inhparent) AS parent_protected
          FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
         WHERE h.inhrelid = ANY (tables) OR h.inhparent = ANY (tables)
    ), changed AS (
        SELECT p.* FROM protected p WHERE p.relid = ANY (tables)
    )
    SELECT i.child::regclass,
           format('%s %s of protected table %s is not protected: its rows are read through the parent without '
                  'the tenant check and without audit',
                  CASE WHEN i.relispartition THEN 'partition' ELSE 'child table' END, i.child::regclass,
                  i.parent::regclass),
           format('Protect %s first with tenancy.protect(), or keep it apart from %s.', i.child::regclass,
                  i.parent::regclass)
      FROM inheritance i WHERE i.parent_protected AND NOT i.child_protected
    UNION ALL
    SELECT i.parent::regclass,
           format('table %s is a parent of protected table %s but is not protected: reading it shows every '
                  'tenant''s rows', i.parent::regclass, i.child::regclass),
           format('Protect %s first with tenancy.protect(), or keep it apart from %s.', i.parent::regclass,
                  i.child::regclass)
      FROM inheritance i WHERE i.child_protected AND NOT i.parent_protected
    UNION ALL
    SELECT i.child::regclass,
           format('table %s inherits from %s, and a row limit counts the rows of %s: its statements would count '
                  'the other table''s rows too', i.child::regclass, i.parent::regclass,
                  (SELECT c.relid::regclass FROM tenancy.row_count_tables c
                    WHERE c.relid IN (i.child, i.parent) ORDER BY c.relid LIMIT 1)),
           'Keep the tables a row limit names apart from inheritance.'
      FROM inheritance i
     WHERE EXISTS (SELECT 1 FROM tenancy.row_count_tables c WHERE c.relid IN (i.child, i.parent))
    UNION ALL
    SELECT r.ev_class::regclass,
           format('rule %I on protected table %s runs on every write, outside row level security and the audit '
                  'trail', r.rulename, r.ev_class::regclass),
           'Use an invoker''s-rights trigger instead of a rule.'
      FROM pg_rewrite r JOIN changed c ON c.relid = r.ev_class
    UNION ALL
    SELECT con.conrelid::regclass,
           format('foreign key %I on protected table %s writes tenant_id when the referenced row changes: rows '
                  'move to another tenant', con.conname, con.conrelid::regclass),
           'Use ON DELETE CASCADE, RESTRICT or NO ACTION and ON UPDATE NO ACTION, or name only other columns: '
           'ON DELETE SET NULL (column).'
      FROM pg_constraint con JOIN changed c ON c.relid = con.conrelid
     WHERE con.contype = 'f' AND c.tenant_attnum = ANY (con.conkey)
       AND ((con.confdeltype IN ('n', 'd')
             AND (coalesce(cardinality(con.confdelsetcols), 0) = 0 OR c.tenant_attnum = ANY (con.confdelsetcols)))
            OR con.confupdtype IN ('n', 'd', 'c'))
    UNION ALL
    SELECT con.conrelid::regclass,
           format('foreign key %I on protected table %s has a referential action from %s, which is not protected: '
                  'deleting or updating its rows changes every tenant''s rows', con.conname, con.conrelid::regclass,
                  con.confrelid::regclass),
           'Use ON DELETE/ON UPDATE NO ACTION or RESTRICT, or protect the referenced table.'
      FROM pg_constraint con JOIN changed c ON c.relid = con.conrelid
     WHERE con.contype = 'f' AND con.confrelid <> 'tenancy.tenants'::regclass
       AND NOT EXISTS (SELECT 1 FROM protected p WHERE p.relid = con.confrelid)
       AND (con.confdeltype NOT IN ('a', 'r') OR con.confupdtype NOT IN ('a', 'r'))
    UNION ALL
    SELECT t.tgrelid::regclass,
           format('trigger %I on protected table %s runs %s with the rights of its owner, %s, on every '
                  'tenant''s writes', t.tgname, t.tgrelid::regclass, t.tgfoid::regprocedure,
                  pg_get_userbyid(f.proowner)),
           'Make the trigger function SECURITY INVOKER (it then runs with the rights of the writing user), or '
           'have a superuser own it.'
      FROM pg_trigger t JOIN changed c ON c.relid = t.tgrelid JOIN pg_proc f ON f.oid = t.tgfoid
     WHERE NOT t.tgisinternal AND f.prosecdef AND NOT tenancy._trusted_function(f.oid)
$$;
REVOKE ALL ON FUNCTION tenancy._table_weaknesses(oid[]) FROM PUBLIC;

-- What the current DDL statement left weakened in the tables it changed: the
-- health check's errors about them, what tenancy._table_weaknesses finds,
-- and any change at all to a table protected in strict mode (the guard asks
-- only when the role running the DDL is no platform admin of this database).
CREATE OR REPLACE FUNCTION tenancy._ddl_weaknesses(event text)
RETURNS TABLE (relid regclass, problem text, hint text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH changed AS (SELECT tenancy._ddl_changed_tables(event) AS tables)
    SELECT h.object::regclass, h.problem, h.hint
      FROM changed c, LATERAL tenancy._health_protected_tables(c.tables) h
     WHERE h.severity = 'error'
    UNION ALL
    SELECT w.* FROM changed c, LATERAL tenancy._table_weaknesses(c.tables) w
    UNION ALL
    SELECT p.relid,
           format('table %s is protected in strict mode, whose schema only the platform admins of database %I '
                  'change', p.relid, current_database()),
           'Ask a platform admin of this database to make the change.'
      FROM changed c JOIN tenancy.protected_tables p ON p.relid = ANY (c.tables)
     WHERE p.strict
$$;
-- EXECUTE stays granted: the guard calls it as the role running the DDL, and
-- it answers only inside an event trigger, about that statement.
COMMENT ON FUNCTION tenancy._ddl_weaknesses(text) IS
    'internal: what the current DDL statement left weakened in the tables it changed';
COMMENT ON FUNCTION tenancy._table_weaknesses(oid[]) IS
    'internal: what weakens the isolation of the given tables (used after DDL and by the health check)';

CREATE OR REPLACE FUNCTION tenancy.guard_ddl_outcome() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_ddl_outcome';
COMMENT ON FUNCTION tenancy.guard_ddl_outcome() IS
    'refuses DDL that left a protected table weaker than tenancy.protect() made it, unless run by a platform admin';
REVOKE ALL ON FUNCTION tenancy._trusted_function(oid), tenancy.guard_ddl_outcome() FROM PUBLIC;

-- The code of table owners that runs on protected tables, for the health
-- check: indexes, CHECK constraints and generated columns that call untrusted
-- or non-immutable functions (an error: rebuilding or validating them runs
-- that code on every tenant's rows; they predate tenancy.protect() or were
-- made by a platform admin), and triggers that run an owner's code with the
-- writing user's rights.
-- The code of table owners that planning a statement on a protected table
-- (of one table, or of every one) runs: indexes, CHECK constraints and
-- generated columns that call untrusted or non-immutable functions.
CREATE OR REPLACE FUNCTION tenancy._planned_owner_code(only_table regclass DEFAULT NULL)
RETURNS TABLE (relid regclass, problem text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH protected AS (
        SELECT p.relid FROM tenancy.protected_tables p WHERE only_table IS NULL OR p.relid = only_table
    ), code AS (
        SELECT i.indrelid AS relid, 'index ' || i.indexrelid::regclass::text AS what,
               'pg_class'::regclass AS classid, i.indexrelid AS objid
          FROM pg_index i JOIN protected p ON p.relid = i.indrelid
        UNION ALL
        SELECT con.conrelid, format('check constraint %I', con.conname), 'pg_constraint'::regclass, con.oid
          FROM pg_constraint con JOIN protected p ON p.relid = con.conrelid
         WHERE con.contype = 'c'
        UNION ALL
        SELECT d.adrelid, format('generated column %I', a.attname), 'pg_attrdef'::regclass, d.oid
          FROM pg_attrdef d JOIN protected p ON p.relid = d.adrelid
               JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum AND a.attgenerated <> ''
        UNION ALL
        -- The planner evaluates the expressions of extended statistics.
        SELECT x.stxrelid, format('statistics object %I.%I', n.nspname, x.stxname), 'pg_statistic_ext'::regclass, x.oid
          FROM pg_statistic_ext x JOIN protected p ON p.relid = x.stxrelid
               JOIN pg_namespace n ON n.oid = x.stxnamespace
         WHERE x.stxexprs IS NOT NULL
    ), code_and_domains AS (
        -- A domain an expression casts to runs its constraints too.
        SELECT * FROM code
        UNION ALL
        SELECT c.relid, format('%s (through domain %s)', c.what, dc.contypid::regtype), 'pg_constraint'::regclass,
               dc.oid
          FROM code c JOIN pg_depend d ON d.classid = c.classid AND d.objid = c.objid
                      AND d.refclassid = 'pg_type'::regclass
               JOIN pg_constraint dc ON dc.contypid = d.refobjid
    ), calls AS (
        SELECT c.*, CASE WHEN d.refclassid = 'pg_proc'::regclass THEN d.refobjid
                         ELSE (SELECT o.oprcode::oid FROM pg_operator o WHERE o.oid = d.refobjid) END AS function
          FROM code_and_domains c JOIN pg_depend d ON d.classid = c.classid AND d.objid = c.objid
         WHERE d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
    )
    SELECT DISTINCT c.relid::regclass,
           format('%s calls %s, owned by %s: rebuilding or validating it runs that code on every tenant''s rows',
                  c.what, c.function::regprocedure, pg_get_userbyid(f.proowner))
      FROM calls c JOIN pg_proc f ON f.oid = c.function
     WHERE NOT tenancy._trusted_function(c.function) OR f.provolatile <> 'i'
$$;
REVOKE ALL ON FUNCTION tenancy._planned_owner_code(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._planned_owner_code(regclass) IS
    'internal: indexes, CHECK constraints, generated columns and statistics expressions of protected tables that '
    'call owners'' code';

CREATE OR REPLACE FUNCTION tenancy._owner_code_findings()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT 'error', c.relid::text, c.problem,
           'Replace it with one that calls only trusted functions (built in, or owned by a superuser).'
      FROM tenancy._planned_owner_code() c
    UNION ALL
    SELECT 'warning', t.tgrelid::regclass::text,
           format('trigger %I runs %s, owned by %s, on every write (with the rights of the writing user)',
                  t.tgname, t.tgfoid::regprocedure, pg_get_userbyid(f.proowner)),
           'Review the function: it sees every row a tenant writes.'
      FROM pg_trigger t JOIN tenancy.protected_tables p ON p.relid = t.tgrelid JOIN pg_proc f ON f.oid = t.tgfoid
     WHERE NOT t.tgisinternal AND NOT f.prosecdef AND NOT tenancy._trusted_function(f.oid)
    UNION ALL
    -- Column defaults and the checks of column domains run on writes too.
    SELECT DISTINCT 'warning', w.relid::text,
           regexp_replace(w.problem, ', who can replace it$', '') || ', on every write (with the rights of the writing user)',
           'Review the function: it sees every row a tenant writes.'
      FROM tenancy._strict_weaknesses(ARRAY(SELECT p.relid::oid FROM tenancy.protected_tables p WHERE NOT p."strict")) w
     WHERE w.problem ~ '^(the default of column|domain) .* calls '
    UNION ALL
    -- A foreign key's action (ON DELETE CASCADE, SET NULL, ...) runs as the
    -- referencing table's owner exempt from forced row level security. The
    -- owner's functions it calls run without the exemption (noforce_guard),
    -- but rules rewrite the action's own statement, and an index over a type
    -- of the owner's keeps that type's support functions set up from before.
    SELECT DISTINCT 'error', con.conrelid::regclass::text,
           format('rule %I rewrites the action of foreign key %I on protected table %s: it runs exempt from '
                  'forced row level security and could read or change every tenant''s rows', r.rulename,
                  con.conname, con.confrelid::regclass),
           'Drop the rule, or the foreign key''s action (ON DELETE/UPDATE NO ACTION), or protect the table strictly.'
      FROM pg_constraint con JOIN tenancy.protected_tables p ON p.relid = con.confrelid
           JOIN pg_rewrite r ON r.ev_class = con.conrelid AND r.rulename <> '_RETURN'
     WHERE con.contype = 'f' AND (con.confdeltype IN ('c', 'n', 'd') OR con.confupdtype IN ('c', 'n', 'd'))
    UNION ALL
    SELECT DISTINCT 'warning', con.conrelid::regclass::text,
           format('index %s uses type %s, owned by %s, and is updated by the action of foreign key %I on '
                  'protected table %s, exempt from forced row level security', i.indexrelid::regclass,
                  d.refobjid::regtype, pg_get_userbyid(t.typowner), con.conname, con.confrelid::regclass),
           'Index only built-in types (or types owned by a superuser) on tables that foreign key actions change.'
      FROM pg_constraint con JOIN tenancy.protected_tables p ON p.relid = con.confrelid
           JOIN pg_index i ON i.indrelid = con.conrelid
           JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                           AND d.refclassid = 'pg_type'::regclass
           JOIN pg_type t ON t.oid = d.refobjid
     WHERE con.contype = 'f' AND (con.confdeltype IN ('c', 'n', 'd') OR con.confupdtype IN ('c', 'n', 'd'))
       AND NOT tenancy._trusted_type(t.oid)
$$;
REVOKE ALL ON FUNCTION tenancy._owner_code_findings() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._owner_code_findings() IS 'internal: health findings about table owners'' code';

-- Says whether a type can be changed only by superusers: built in, owned by
-- a superuser or tenancy_table_owner, or part of an extension.
CREATE OR REPLACE FUNCTION tenancy._trusted_type(type oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.oid < 16384 OR r.rolsuper OR r.rolname = 'tenancy_table_owner'
           OR EXISTS (SELECT 1 FROM pg_depend d
                       WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
      FROM pg_type t JOIN pg_roles r ON r.oid = t.typowner
     WHERE t.oid = $1
$$;
COMMENT ON FUNCTION tenancy._trusted_type(oid) IS 'internal: whether only superusers can change a type';

-- What would still let a role other than a superuser change a strict
-- table's behaviour or data without its DDL: functions its indexes,
-- constraints, defaults, generated columns, triggers and column domains call
-- that their owner can replace (CREATE OR REPLACE runs new code on every
-- tenant's rows, or as tenancy_table_owner during ANALYZE), and column types
-- their owner can change (ALTER TYPE ... RENAME VALUE rewrites every
-- tenant's data without an audit row). protect(strict => true) refuses such
-- a table; the health check reports them on strict tables.
CREATE OR REPLACE FUNCTION tenancy._strict_weaknesses(tables oid[])
RETURNS TABLE (relid regclass, problem text, hint text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE column_types (relid, type) AS (
        SELECT a.attrelid, a.atttypid FROM pg_attribute a
         WHERE a.attrelid = ANY (tables) AND a.attnum > 0 AND NOT a.attisdropped
        UNION
        SELECT ct.relid, inner_type.oid
          FROM column_types ct JOIN pg_type t ON t.oid = ct.type
               CROSS JOIN LATERAL (SELECT t.typbasetype WHERE t.typtype = 'd'
                                   UNION ALL SELECT t.typelem WHERE t.typelem <> 0 AND t.typlen = -1
                                   UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid
                                   UNION ALL SELECT a.atttypid FROM pg_attribute a
                                    WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0
                                      AND NOT a.attisdropped) AS inner_type (oid)
    ), code (relid, what, classid, objid) AS (
        SELECT i.indrelid, 'index ' || i.indexrelid::regclass::text, 'pg_class'::regclass, i.indexrelid
          FROM pg_index i WHERE i.indrelid = ANY (tables)
        UNION ALL
        SELECT c.conrelid, format('constraint %I', c.conname), 'pg_constraint'::regclass, c.oid
          FROM pg_constraint c WHERE c.conrelid = ANY (tables)
        UNION ALL
        SELECT d.adrelid, format(CASE WHEN a.attgenerated <> '' THEN 'generated column %I'
                                      ELSE 'the default of column %I' END, a.attname),
               'pg_attrdef'::regclass, d.oid
          FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
         WHERE d.adrelid = ANY (tables)
        UNION ALL
        SELECT t.tgrelid, format('trigger %I', t.tgname), 'pg_trigger'::regclass, t.oid
          FROM pg_trigger t WHERE t.tgrelid = ANY (tables) AND NOT t.tgisinternal
        UNION ALL
        SELECT ct.relid, format('domain %s', c.contypid::regtype), 'pg_constraint'::regclass, c.oid
          FROM column_types ct JOIN pg_constraint c ON c.contypid = ct.type
    ), calls AS (
        SELECT DISTINCT c.relid, c.what,
               CASE WHEN d.refclassid = 'pg_proc'::regclass THEN d.refobjid
                    ELSE (SELECT o.oprcode::oid FROM pg_operator o WHERE o.oid = d.refobjid) END AS function
          FROM code c JOIN pg_depend d ON d.classid = c.classid AND d.objid = c.objid
         WHERE d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
    )
    SELECT c.relid::regclass,
           format('%s calls %s, owned by %s, who can replace it', c.what, c.function::regprocedure,
                  pg_get_userbyid(f.proowner)),
           'Use built-in functions or functions owned by a superuser (a superuser can ALTER FUNCTION ... OWNER '
           'TO tenancy_table_owner), then protect the table in strict mode.'
      FROM calls c JOIN pg_proc f ON f.oid = c.function
     WHERE NOT tenancy._trusted_function(c.function)
    UNION ALL
    SELECT DISTINCT ct.relid::regclass,
           format('column type %s is owned by %s, who can change it for every tenant''s rows', ct.type::regtype,
                  pg_get_userbyid(t.typowner)),
           format('A superuser can run ALTER TYPE %s OWNER TO tenancy_table_owner; then protect the table in '
                  'strict mode.', ct.type::regtype)
      FROM column_types ct JOIN pg_type t ON t.oid = ct.type
     WHERE NOT tenancy._trusted_type(ct.type)
$$;
REVOKE ALL ON FUNCTION tenancy._strict_weaknesses(oid[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._strict_weaknesses(oid[]) IS
    'internal: code and types of a table that roles other than superusers could still change under strict mode';
