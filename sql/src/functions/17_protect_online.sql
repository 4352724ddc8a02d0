-- pg_tenancy: online protection of a live table, in short steps that never
-- hold a lock the application waits on for long. tenancy.protect_online()
-- records the job (tenancy.protect_jobs); each call of
-- tenancy.protect_online_step() does the next bounded piece of work in the
-- caller's transaction and records it there, so that a run killed at any
-- point resumes where it stopped. The helpers of the steps are not
-- executable by PUBLIC: protect_online_step() calls the one the job's step
-- names, and nothing else.
--
--   prepare   tenant_id added without a rewrite (nullable, no default), a
--             foreign key to tenancy.tenants NOT VALID (new rows name an
--             existing tenant, and no tenant with rows here can be dropped),
--             and the trigger tenancy_backfill that gives the rows the
--             application writes meanwhile their tenant (or refuses them);
--   backfill  the rows without a tenant, a range of blocks per call, placed
--             by the backfill rule (tenancy._backfill_rows());
--   verify    a scan for rows still without a tenant (a second pass places
--             those that moved; what remains is reported, never guessed);
--   validate  CHECK (tenant_id IS NOT NULL) NOT VALID, then validated under
--             SHARE UPDATE EXCLUSIVE, which writers ignore;
--   index     CREATE INDEX CONCURRENTLY on tenant_id, returned as a command
--             for the caller to run outside a transaction block (a leftover
--             invalid index of a killed run is dropped concurrently first);
--   switch    in one short ACCESS EXCLUSIVE transaction: NOT NULL (proved by
--             the valid CHECK, no scan), default, row level security,
--             policies, triggers; the temporary constraints and trigger go.

-- True when an online protection at its last step has proved that every
-- row of the table has a tenant and that it exists: its CHECK (tenant_id IS
-- NOT NULL) on the tenant_id column is valid, and the foreign key it made at
-- step prepare (the very constraint, by oid) still stands on that column.
-- Verify found every row's tenant after that foreign key was made, and the
-- key has held every write since (and refused to drop a tenant with rows
-- here), so it need not be validated: validating it would read the table
-- with pg_tenancy's rights, or row by row as the table's owner.
CREATE OR REPLACE FUNCTION tenancy._online_constraints_valid(target regclass) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) = 2
      FROM tenancy.protect_jobs j
      JOIN pg_attribute a ON a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped
      JOIN pg_constraint c ON c.conrelid = target AND c.conkey = ARRAY[a.attnum]
     WHERE j.relid = target AND j.online AND j.step = 'switch'
       AND ((c.conname = 'tenancy_tenant_id_not_null' AND c.contype = 'c' AND c.convalidated
             AND pg_get_constraintdef(c.oid) = 'CHECK ((tenant_id IS NOT NULL))')
            OR (c.oid = j.foreign_key AND c.contype = 'f' AND c.confrelid = 'tenancy.tenants'::regclass))
$$;
REVOKE ALL ON FUNCTION tenancy._online_constraints_valid(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_constraints_valid(regclass) IS
    'internal: an online protection has validated that every row has an existing tenant';

-- Drops what an online protection adds for its duration: the CHECK, the
-- foreign key and the trigger tenancy_backfill.
CREATE OR REPLACE FUNCTION tenancy._drop_online_constraints(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    constraint_name name;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_backfill') THEN
        EXECUTE format('DROP TRIGGER tenancy_backfill ON %s', target);
    END IF;
    FOR constraint_name IN SELECT c.conname FROM pg_constraint c WHERE c.conrelid = target
                              AND c.conname IN ('tenancy_tenant_id_not_null', 'tenancy_tenant_id_fkey') LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', target, constraint_name);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._drop_online_constraints(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._drop_online_constraints(regclass) IS
    'internal: drops the constraints and trigger of an online protection';

-- Raises unless what is named like the online protection's own objects on
-- the table is exactly what it makes: pg_tenancy validates and trusts them
-- with its own rights, so they must not be anyone else's.
CREATE OR REPLACE FUNCTION tenancy._require_own_online_objects(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant_column smallint := (SELECT a.attnum FROM pg_attribute a
                                WHERE a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped);
    foreign_object text;
BEGIN
    SELECT c.conname INTO foreign_object FROM pg_constraint c
     WHERE c.conrelid = target AND c.conname IN ('tenancy_tenant_id_not_null', 'tenancy_tenant_id_fkey')
       AND NOT (c.conkey = ARRAY[tenant_column]
                AND ((c.conname = 'tenancy_tenant_id_not_null' AND c.contype = 'c'
                      AND regexp_replace(pg_get_constraintdef(c.oid), ' NOT VALID$', '')
                          = 'CHECK ((tenant_id IS NOT NULL))')
                     OR (c.conname = 'tenancy_tenant_id_fkey' AND c.contype = 'f'
                         AND c.confrelid = 'tenancy.tenants'::regclass)))
     LIMIT 1;
    IF foreign_object IS NULL THEN
        SELECT t.tgname INTO foreign_object FROM pg_trigger t
         WHERE t.tgrelid = target AND t.tgname = 'tenancy_backfill' AND t.tgfoid <> 'tenancy.backfill_trigger()'::regprocedure;
    END IF;
    IF foreign_object IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'duplicate_object',
            MESSAGE = format('table %s has a %s that pg_tenancy did not make', target, foreign_object),
            HINT = 'Drop or rename it, then resume the online protection.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_own_online_objects(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_own_online_objects(regclass) IS
    'internal: error unless the objects named like an online protection''s are its own';

-- The trigger tenancy_backfill, BEFORE INSERT OR UPDATE while a table is
-- protected online (arguments: unassigned, backfill tenant, backfill_from,
-- the search_path it was written for). A new row without a tenant takes the
-- selected tenant (SET tenancy.tenant, validated as always); without one it
-- takes the backfill rule's tenant when unassigned is 'backfill', and is
-- refused when it is 'refuse'. A changed row without a tenant takes the
-- rule's. With a tenant selected, a row may name no other tenant, as the
-- policies will require. SECURITY INVOKER: the expression runs as the
-- writer, like the table's own triggers. (The expression was parsed when the
-- job was recorded; this runs on every write, and does not parse it again.)
CREATE OR REPLACE FUNCTION tenancy.backfill_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    selected uuid;
    placed_ref text;
    placed uuid;
BEGIN
    IF coalesce(current_setting('tenancy.tenant', true), '') <> '' THEN
        selected := tenancy.current_tenant_id();
    END IF;
    IF NEW.tenant_id IS NOT NULL THEN
        IF selected IS NOT NULL AND NEW.tenant_id <> selected
           AND (TG_OP = 'INSERT' OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('row of table %I.%I names another tenant than the selected one',
                                 TG_TABLE_SCHEMA, TG_TABLE_NAME),
                DETAIL = 'The table is being protected online; with a tenant selected, rows are that tenant''s.';
        END IF;
        -- With no tenant selected, a row names only a tenant the writer may
        -- place rows in (the same answer whether the tenant exists or not).
        IF selected IS NULL AND (TG_OP = 'INSERT' OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id)
           AND tenancy._online_tenant_of(TG_RELID, NEW.tenant_id::text) IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('permission denied to place rows of table %I.%I in the tenant they name',
                                 TG_TABLE_SCHEMA, TG_TABLE_NAME),
                DETAIL = 'The table is being protected online; with no tenant selected, a row may name only a tenant '
                         'the writer is a member of.',
                HINT = 'Select the tenant first: SET tenancy.tenant = ''...''.';
        END IF;
        IF TG_OP = 'UPDATE' THEN
            PERFORM tenancy._online_require_writable(TG_RELID, OLD.tenant_id);
        END IF;
        PERFORM tenancy._online_require_writable(TG_RELID, NEW.tenant_id);
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND selected IS NOT NULL THEN
        NEW.tenant_id := tenancy._online_require_writable(TG_RELID, selected);
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' OR TG_ARGV[0] = 'backfill' THEN
        IF TG_ARGV[2] <> '' THEN
            PERFORM set_config('search_path', concat_ws(', ', nullif(TG_ARGV[3], ''), 'pg_temp'), true);
            EXECUTE format('SELECT (%s)::text FROM (SELECT ($1).*) AS %I', TG_ARGV[2], TG_TABLE_NAME)
              INTO placed_ref USING NEW;
            PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
            placed := tenancy._online_tenant_of(TG_RELID, placed_ref);
        END IF;
        NEW.tenant_id := coalesce(placed, nullif(TG_ARGV[1], '')::uuid);
    END IF;
    IF NEW.tenant_id IS NULL AND TG_OP = 'INSERT' THEN
        RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
            MESSAGE = format('new row of table %I.%I has no tenant', TG_TABLE_SCHEMA, TG_TABLE_NAME),
            DETAIL = CASE WHEN TG_ARGV[0] = 'refuse'
                          THEN 'The table is being protected online, and refuses rows without a tenant.'
                          ELSE 'The table is being protected online, and its backfill places no tenant for this row.' END,
            HINT = 'Select the tenant first: SET tenancy.tenant = ''...''.';
    END IF;
    IF NEW.tenant_id IS NULL AND OLD.tenant_id IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
            MESSAGE = format('cannot take the tenant of a row of table %I.%I away', TG_TABLE_SCHEMA, TG_TABLE_NAME),
            DETAIL = 'The table is being protected online.';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        PERFORM tenancy._online_require_writable(TG_RELID, OLD.tenant_id);
    END IF;
    PERFORM tenancy._online_require_writable(TG_RELID, NEW.tenant_id);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION tenancy.backfill_trigger() IS
    'trigger tenancy_backfill of a table being protected online: gives rows written meanwhile their tenant';

-- The tenant a value of the backfill expression (or a written tenant_id)
-- names, by uuid or slug, for the trigger tenancy_backfill: only inside a
-- trigger, for a role that writes the table, while it is protected online;
-- and only a tenant the writer may place rows in (a member, the table's
-- owner, a service or a platform admin), NULL for any other, existing or not.
CREATE OR REPLACE FUNCTION tenancy._online_tenant_of(target oid, ref text) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found uuid;
BEGIN
    IF pg_trigger_depth() = 0
       OR NOT has_table_privilege(tenancy.db_role(), target, 'INSERT, UPDATE')
       OR NOT EXISTS (SELECT 1 FROM tenancy.protect_jobs j WHERE j.relid = target AND j.online) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'tenancy._online_tenant_of() is for the trigger tenancy_backfill only';
    END IF;
    found := (tenancy._lookup_tenant(ref)).id;
    IF found IS NOT NULL
       AND (tenancy.is_platform_admin()
            OR tenancy._holds_platform_right(tenancy.db_role()::regrole, 'service')
            OR pg_has_role(tenancy.db_role(), (SELECT c.relowner FROM pg_class c WHERE c.oid = target), 'MEMBER')
            OR tenancy._member_role(found, tenancy.actor()) IS NOT NULL) THEN
        RETURN found;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION tenancy._online_tenant_of(oid, text) IS
    'internal: the tenant a value of the backfill expression names, for the trigger of an online protection';

-- Raises when the trigger tenancy_backfill would write a row into a tenant
-- the writer may place rows in but that takes no writes (archived,
-- terminating; suspended for members): the policies' rule, before the table
-- has them. Tenants the writer may not place rows in are not looked at.
CREATE OR REPLACE FUNCTION tenancy._online_require_writable(target oid, tenant uuid) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF tenant IS NOT NULL AND tenancy._online_tenant_of(target, tenant::text) IS NOT NULL THEN
        PERFORM tenancy._require_writable_tenant(tenant);
    END IF;
    RETURN tenant;
END
$$;
COMMENT ON FUNCTION tenancy._online_require_writable(oid, uuid) IS
    'internal: for the trigger of an online protection, an error when a row would go into a read-only tenant';

-- The job of a table (NULL when none), for its owner or a platform admin.
CREATE OR REPLACE FUNCTION tenancy._protect_job(target regclass) RETURNS tenancy.protect_jobs
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job tenancy.protect_jobs;
BEGIN
    PERFORM tenancy._require_protectable(target);
    PERFORM tenancy._require_table_owner(target, 'protect');
    SELECT * INTO job FROM tenancy.protect_jobs j WHERE j.relid = target;
    RETURN job;
END
$$;
REVOKE ALL ON FUNCTION tenancy._protect_job(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._protect_job(regclass) IS 'internal: the online protection job of a table';

-- Records a job, or finds the one in progress (a setting left NULL is the
-- job's); checks the expression against the table as its owner.
CREATE OR REPLACE FUNCTION tenancy._protect_online_register(
    target regclass, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role, audit boolean,
    strict boolean, backfill text, backfill_from text, unassigned text, batch_rows integer, caller_search_path text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant uuid := tenancy._backfill_settings(target, backfill, backfill_from);
    job tenancy.protect_jobs;
BEGIN
    IF unassigned NOT IN ('refuse', 'backfill') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unassigned must be refuse or backfill, not %s', quote_literal(unassigned)),
            DETAIL = 'It says what happens to the rows the application writes without a tenant during the protection.';
    END IF;
    IF batch_rows < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('batch_rows must be positive, not %s', batch_rows);
    END IF;
    PERFORM tenancy._require_protect_settings(target, coalesce(audit, true), coalesce(strict, false));
    SELECT * INTO job FROM tenancy.protect_jobs j WHERE j.relid = target FOR UPDATE;
    IF FOUND THEN
        -- A setting not given (NULL) is the job's: resuming needs only the table.
        IF (read_role IS NOT NULL AND read_role IS DISTINCT FROM job.read_role)
           OR (write_role IS NOT NULL AND write_role IS DISTINCT FROM job.write_role)
           OR (delete_role IS NOT NULL AND delete_role IS DISTINCT FROM job.delete_role)
           OR (audit IS NOT NULL AND audit IS DISTINCT FROM job.audit)
           OR (strict IS NOT NULL AND strict IS DISTINCT FROM job."strict")
           OR (tenant IS NOT NULL AND tenant IS DISTINCT FROM job.backfill_tenant)
           OR (backfill_from IS NOT NULL AND backfill_from IS DISTINCT FROM job.backfill_from)
           OR (unassigned IS NOT NULL AND unassigned IS DISTINCT FROM job.unassigned) THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('an online protection of table %s is in progress with other settings', target),
                DETAIL = format('It was started by %s at %s and has reached step %s.', job.started_by, job.started_at,
                                job.step),
                HINT = 'Resume it with the same settings, or cancel it with tenancy.protect_online_cancel().';
        END IF;
        -- Resuming a job whose verify found rows it could not place starts
        -- another pass: the data may have been fixed since.
        UPDATE tenancy.protect_jobs j
           SET batch_rows = COALESCE(_protect_online_register.batch_rows, j.batch_rows),
               step = CASE WHEN j.step = 'verify' AND j.pass > 1 THEN 'backfill' ELSE j.step END,
               pass = CASE WHEN j.step = 'verify' AND j.pass > 1 THEN j.pass + 1 ELSE j.pass END,
               next_block = CASE WHEN j.step = 'verify' AND j.pass > 1 THEN 0 ELSE j.next_block END,
               total_blocks = CASE WHEN j.step = 'verify' AND j.pass > 1
                                   THEN pg_relation_size(target) / current_setting('block_size')::bigint
                                   ELSE j.total_blocks END
         WHERE j.relid = target
        RETURNING j.step INTO job.step;
        RETURN job.step;
    END IF;
    -- Protected already: a resumed run whose last step committed after its
    -- client was gone finds it so; settings are changed with protect().
    IF EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        RAISE NOTICE 'table % is protected already, skipping', target
            USING HINT = 'Change its settings with tenancy.protect().';
        RETURN 'done';
    END IF;
    IF backfill_from IS NOT NULL THEN
        PERFORM tenancy._execute_as_owner(target, concat_ws(', ', nullif(caller_search_path, ''), 'pg_temp'),
            format('SELECT (%s)::text FROM ONLY %s AS %I LIMIT 0', backfill_from, target,
                   (SELECT c.relname FROM pg_class c WHERE c.oid = target)), NULL, NULL, NULL);
    END IF;
    INSERT INTO tenancy.protect_jobs (relid, read_role, write_role, delete_role, audit, strict, backfill_tenant,
                                      backfill_from, search_path, unassigned, batch_rows, online, started_by)
    VALUES (target, read_role, write_role, delete_role, audit, strict, tenant, backfill_from,
            coalesce(caller_search_path, ''), COALESCE(unassigned, 'refuse'), COALESCE(batch_rows, 10000), true,
            tenancy.actor());
    RETURN 'prepare';
END
$$;
COMMENT ON FUNCTION tenancy._protect_online_register(regclass, tenancy.role, tenancy.role, tenancy.role, boolean,
                                                     boolean, text, text, text, integer, text) IS
    'internal: records an online protection, or finds the one in progress';

-- Starts (or finds) the online protection of a table; returns its next
-- step. unassigned (default refuse) and batch_rows (default 10000) as for a
-- new job; a setting left NULL when resuming is the job's. SECURITY INVOKER
-- only to hand the caller's search_path to the job, for backfill_from.
CREATE OR REPLACE FUNCTION tenancy.protect_online(
    target regclass,
    read_role tenancy.role DEFAULT NULL,
    write_role tenancy.role DEFAULT NULL,
    delete_role tenancy.role DEFAULT NULL,
    audit boolean DEFAULT NULL,
    strict boolean DEFAULT NULL,
    backfill text DEFAULT NULL,
    backfill_from text DEFAULT NULL,
    unassigned text DEFAULT NULL,
    batch_rows integer DEFAULT NULL
) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN tenancy._protect_online_register(target, read_role, write_role, delete_role, audit, protect_online.strict,
                                            backfill, backfill_from, unassigned, batch_rows,
                                            pg_catalog.current_setting('search_path'));
END
$$;
COMMENT ON FUNCTION tenancy.protect_online(regclass, tenancy.role, tenancy.role, tenancy.role, boolean, boolean, text,
                                           text, text, integer) IS
    'starts or resumes the online protection of a live table; tenancy.protect_online_step() does its steps';

-- Step prepare: tenant_id, the NOT VALID foreign key, the trigger; measures
-- the table for the backfill.
CREATE OR REPLACE FUNCTION tenancy._online_prepare(job tenancy.protect_jobs) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target regclass := job.relid;
    blocks bigint;
BEGIN
    PERFORM tenancy._add_tenant_column(target);
    PERFORM tenancy._require_own_online_objects(target);
    IF NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = target AND c.conname = 'tenancy_tenant_id_fkey') THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT tenancy_tenant_id_fkey FOREIGN KEY (tenant_id) '
                       'REFERENCES tenancy.tenants (id) NOT VALID', target);
    END IF;
    UPDATE tenancy.protect_jobs j
       SET foreign_key = (SELECT c.oid FROM pg_constraint c
                           WHERE c.conrelid = target AND c.conname = 'tenancy_tenant_id_fkey')
     WHERE j.relid = target;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_backfill') THEN
        EXECUTE format('CREATE TRIGGER tenancy_backfill BEFORE INSERT OR UPDATE ON %s FOR EACH ROW '
                       'EXECUTE FUNCTION tenancy.backfill_trigger(%L, %L, %L, %L)', target, job.unassigned,
                       coalesce(job.backfill_tenant::text, ''), coalesce(job.backfill_from, ''), job.search_path);
    END IF;
    blocks := pg_relation_size(target) / current_setting('block_size')::bigint;
    UPDATE tenancy.protect_jobs j
       SET step = 'backfill', next_block = 0, total_blocks = blocks, updated_at = clock_timestamp(),
           rows_total = (SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
                                     ELSE blocks * 100 END FROM pg_class c WHERE c.oid = target)
     WHERE j.relid = target;
END
$$;
REVOKE ALL ON FUNCTION tenancy._online_prepare(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_prepare(tenancy.protect_jobs) IS 'internal: step prepare of an online protection';

-- Step verify: no row without a tenant or of an unknown tenant is left. A
-- pass that left rows without one (rows the application moved behind the
-- backfill) is followed by one more over the whole table; rows left after
-- that are reported, and the job waits at this step (resuming it starts
-- another pass, in case the data was fixed).
CREATE OR REPLACE FUNCTION tenancy._online_verify(job tenancy.protect_jobs) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    BEGIN
        PERFORM tenancy._require_all_placed(job.relid, job.backfill_from);
    EXCEPTION WHEN not_null_violation THEN
        IF job.pass > 1 THEN
            RAISE;
        END IF;
        UPDATE tenancy.protect_jobs j
           SET step = 'backfill', pass = j.pass + 1, next_block = 0, updated_at = clock_timestamp(),
               total_blocks = pg_relation_size(job.relid) / current_setting('block_size')::bigint
         WHERE j.relid = job.relid;
        RETURN;
    END;
    UPDATE tenancy.protect_jobs j SET step = 'validate', updated_at = clock_timestamp() WHERE j.relid = job.relid;
END
$$;
REVOKE ALL ON FUNCTION tenancy._online_verify(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_verify(tenancy.protect_jobs) IS 'internal: step verify of an online protection';

-- Step validate, in two calls: adds CHECK (tenant_id IS NOT NULL) NOT VALID
-- (a short ACCESS EXCLUSIVE lock), then, in the next transaction, validates
-- it under SHARE UPDATE EXCLUSIVE, which writers ignore (no lock timeout:
-- waiting for that lock blocks nobody).
CREATE OR REPLACE FUNCTION tenancy._online_validate(job tenancy.protect_jobs) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target regclass := job.relid;
BEGIN
    PERFORM tenancy._require_own_online_objects(target);
    IF NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = target AND c.conname = 'tenancy_tenant_id_not_null') THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT tenancy_tenant_id_not_null CHECK (tenant_id IS NOT NULL) '
                       'NOT VALID', target);
        RETURN;
    END IF;
    -- As the table's owner, like every read of its rows (owner_execution.cpp).
    PERFORM set_config('lock_timeout', '0', true);
    PERFORM tenancy._execute_as_owner(target, 'pg_catalog, pg_temp',
        format('ALTER TABLE %s VALIDATE CONSTRAINT tenancy_tenant_id_not_null', target), NULL, NULL, NULL);
    UPDATE tenancy.protect_jobs j SET step = 'index', updated_at = clock_timestamp() WHERE j.relid = target;
END
$$;
REVOKE ALL ON FUNCTION tenancy._online_validate(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_validate(tenancy.protect_jobs) IS 'internal: step validate of an online protection';

-- Step index: NULL once a valid index leads with tenant_id (the job moves on
-- to switch); otherwise the command the caller runs outside a transaction
-- block: DROP INDEX CONCURRENTLY of an invalid one a killed run left, or
-- CREATE INDEX CONCURRENTLY.
CREATE OR REPLACE FUNCTION tenancy._online_index_command(job tenancy.protect_jobs) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target regclass := job.relid;
    tenant_column smallint := (SELECT a.attnum FROM pg_attribute a
                                WHERE a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped);
    invalid regclass;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = target AND i.indkey[0] = tenant_column
                  AND i.indpred IS NULL AND i.indisvalid) THEN
        UPDATE tenancy.protect_jobs j SET step = 'switch', updated_at = clock_timestamp() WHERE j.relid = target;
        RETURN NULL;
    END IF;
    SELECT i.indexrelid::regclass INTO invalid FROM pg_index i
     WHERE i.indrelid = target AND i.indkey[0] = tenant_column AND NOT i.indisvalid LIMIT 1;
    IF invalid IS NOT NULL THEN
        RETURN format('DROP INDEX CONCURRENTLY %s', invalid);
    END IF;
    RETURN format('CREATE INDEX CONCURRENTLY ON %s (tenant_id)', target);
END
$$;
REVOKE ALL ON FUNCTION tenancy._online_index_command(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_index_command(tenancy.protect_jobs) IS
    'internal: step index of an online protection, the command to run outside a transaction block';

-- Step switch: the table is protected in one short transaction; the job's
-- record becomes its audit row.
CREATE OR REPLACE FUNCTION tenancy._online_switch(job tenancy.protect_jobs) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', job.relid);
    PERFORM tenancy._require_own_online_objects(job.relid);
    PERFORM tenancy._protect_table(job.relid, job.read_role, job.write_role, job.delete_role, job.audit, job."strict");
END
$$;
REVOKE ALL ON FUNCTION tenancy._online_switch(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_switch(tenancy.protect_jobs) IS 'internal: step switch of an online protection';

-- Does the next step of a table's online protection, in the caller's
-- transaction, and returns where the job stands: the step it has reached,
-- the command the caller must run outside a transaction block (then call
-- again), rows placed so far and the estimated total, and whether the
-- table is protected. The backfill runs as the table's owner.
CREATE OR REPLACE FUNCTION tenancy.protect_online_step(target regclass)
RETURNS TABLE (step text, command text, rows_done bigint, rows_total bigint, done boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job tenancy.protect_jobs := tenancy._protect_job(target);
    block_rows bigint;
BEGIN
    IF job.relid IS NULL OR NOT job.online THEN
        IF EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
            RETURN QUERY SELECT 'switch'::text, NULL::text, NULL::bigint, NULL::bigint, true;
            RETURN;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('no online protection of table %s is in progress', target),
            HINT = 'Start one with tenancy.protect_online().';
    END IF;
    CASE job.step
    WHEN 'prepare' THEN
        PERFORM tenancy._online_prepare(job);
    WHEN 'backfill' THEN
        IF job.next_block >= job.total_blocks THEN
            UPDATE tenancy.protect_jobs j SET step = 'verify', updated_at = clock_timestamp() WHERE j.relid = target;
        ELSE
            block_rows := greatest(1, (SELECT (c.reltuples / greatest(c.relpages, 1))::bigint
                                         FROM pg_class c WHERE c.oid = target));
            PERFORM tenancy._backfill_rows(target, job.next_block,
                                           least(job.total_blocks, job.next_block + greatest(1, job.batch_rows / block_rows)));
        END IF;
    WHEN 'verify' THEN
        PERFORM tenancy._online_verify(job);
    WHEN 'validate' THEN
        PERFORM tenancy._online_validate(job);
    WHEN 'index' THEN
        command := tenancy._online_index_command(job);
    WHEN 'switch' THEN
        PERFORM tenancy._online_switch(job);
    END CASE;
    SELECT * INTO job FROM tenancy.protect_jobs j WHERE j.relid = target;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'switch'::text, NULL::text, NULL::bigint, NULL::bigint, true;
        RETURN;
    END IF;
    RETURN QUERY SELECT job.step, command, job.rows_done, job.rows_total, false;
END
$$;
COMMENT ON FUNCTION tenancy.protect_online_step(regclass) IS
    'does the next step of the online protection of a table; returns its step, a command to run outside a '
    'transaction block (then call again), rows placed and estimated, and whether the table is protected';

-- Cancels an online protection: the trigger and temporary constraints go
-- (also when a job's record is gone); the tenant_id column, its values and
-- its index stay.
CREATE OR REPLACE FUNCTION tenancy.protect_online_cancel(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job tenancy.protect_jobs := tenancy._protect_job(target);
BEGIN
    IF EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        RAISE NOTICE 'table % is protected, nothing to cancel', target;
        RETURN;
    END IF;
    IF job.relid IS NULL THEN
        RAISE NOTICE 'no online protection of table % is in progress', target;
    END IF;
    PERFORM tenancy._require_own_online_objects(target);
    PERFORM tenancy._drop_online_constraints(target);
    DELETE FROM tenancy.protect_jobs j WHERE j.relid = target;
END
$$;
COMMENT ON FUNCTION tenancy.protect_online_cancel(regclass) IS
    'cancels the online protection of a table, keeping tenant_id and the tenants already given';
