-- pg_tenancy: database-mode tenants. create_tenant(isolation => 'database')
-- creates the database tenant_<slug> in this cluster, installs pg_tenancy
-- in it and binds it to the tenant: inside, the tenant is a schema-mode
-- tenant of its own database (schema tenant_<slug>, selected by default),
-- so that every rule of schema mode holds there. This database, the
-- control database, stays where the tenant is managed: each change of the
-- tenant, its plan, its members or the platform grants is sent to the
-- tenant's database before the transaction that made it commits (a
-- deferred trigger), so a revocation is in force there when it is reported
-- done. The work in the other database is done by pg_tenancy's background
-- workers (extension/database_worker.cpp), as the bootstrap superuser.

CREATE OR REPLACE FUNCTION tenancy._run_in_database(database name, setup text, query text, argument text)
RETURNS text LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'tenancy_run_in_database';
REVOKE ALL ON FUNCTION tenancy._run_in_database(name, text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._run_in_database(name, text, text, text) IS
    'internal: runs statements in another database of the cluster, in a worker''s own transaction (superusers)';

CREATE OR REPLACE FUNCTION tenancy._run_outside_transaction(statement text)
RETURNS void LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'tenancy_run_outside_transaction';
REVOKE ALL ON FUNCTION tenancy._run_outside_transaction(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._run_outside_transaction(text) IS
    'internal: runs CREATE DATABASE or DROP DATABASE in a worker, outside the caller''s transaction (superusers)';

CREATE OR REPLACE FUNCTION tenancy._drop_database_later(database name, at_commit boolean)
RETURNS void LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'tenancy_drop_database_later';
REVOKE ALL ON FUNCTION tenancy._drop_database_later(name, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._drop_database_later(name, boolean) IS
    'internal: drops a tenant''s database once the transaction commits (true) or rolls back (false), unless '
    'a tenant holds it by then (superusers)';

CREATE OR REPLACE FUNCTION tenancy._in_database_worker()
RETURNS boolean LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'tenancy_in_database_worker';
REVOKE ALL ON FUNCTION tenancy._in_database_worker() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._in_database_worker() IS
    'internal: whether this session is a pg_tenancy worker (which alone writes a tenant database''s catalog)';

-- Raises unless a new database-mode tenant with this slug can have its
-- database.
CREATE OR REPLACE FUNCTION tenancy._require_free_database(slug text, database text, region text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF octet_length(database) > 63 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('slug "%s" is too long for a database-mode tenant', slug),
            DETAIL = format('Its database would be "%s", longer than the 63 bytes a PostgreSQL name can have.',
                            database),
            HINT = 'A database-mode tenant''s slug has at most 56 characters.';
    END IF;
    IF (SELECT r.server FROM tenancy.regions r WHERE r.name = region) IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('region "%s" is on another server', region),
            DETAIL = 'This version of pg_tenancy creates tenant databases in the cluster of the control '
                     'database only.',
            HINT = 'Create the tenant in a region of this server, or in schema or row mode.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = database) THEN
        RAISE EXCEPTION USING ERRCODE = 'duplicate_database',
            MESSAGE = format('database "%s" already exists', database),
            DETAIL = coalesce('It is the database of tenant "' ||
                              (SELECT t.slug FROM tenancy.tenant_databases d JOIN tenancy.tenants t ON t.id = d.tenant_id
                                WHERE d.database_name = database) || '".',
                              'A database-mode tenant never takes over a database that exists.'),
            HINT = 'Choose another slug ("-" and "_" give the same database name), or drop or rename the database.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_free_database(text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_free_database(text, text, text) IS
    'internal: raises unless a new database-mode tenant can create its database';

-- Returns what a tenant's database keeps of it: the tenant's row, its plan
-- and region, its members, and the platform grants of this database.
CREATE OR REPLACE FUNCTION tenancy._tenant_state(tenant uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'control_database', current_database(),
        'database', d.database_name,
        'tenant', to_jsonb(t) - 'isolation' - 'schema_name',
        'plan', (SELECT to_jsonb(p) FROM tenancy.plans p WHERE p.name = t.plan),
        'region', (SELECT to_jsonb(r) - 'server' FROM tenancy.regions r WHERE r.name = t.region),
        'memberships', coalesce((SELECT jsonb_agg(jsonb_build_object('actor', m.actor, 'role', m.role,
                                                                     'is_active', m.is_active,
                                                                     'created_at', m.created_at) ORDER BY m.actor)
                                   FROM tenancy.memberships m WHERE m.tenant_id = t.id), '[]'),
        'platform_grants', coalesce((SELECT jsonb_agg(jsonb_build_object('role', g.role::text, 'kind', g.kind,
                                                                         'granted_by', g.granted_by)
                                                      ORDER BY g.role::text, g.kind)
                                       FROM tenancy.platform_grants g), '[]'))
      FROM tenancy.tenants t JOIN tenancy.tenant_databases d ON d.tenant_id = t.id
     WHERE t.id = _tenant_state.tenant
$$;
REVOKE ALL ON FUNCTION tenancy._tenant_state(uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._tenant_state(uuid) IS
    'internal: the state of a database-mode tenant that its database keeps a copy of';

-- In a tenant's database: makes its catalog the state sent by the control
-- database (binding the database the first time). Only pg_tenancy's worker
-- calls it; a state older than the one applied is ignored.
CREATE OR REPLACE FUNCTION tenancy._apply_tenant_state(state jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bound tenancy.database_binding;
    tenant_key uuid := (state -> 'tenant' ->> 'id')::uuid;
    sent_generation bigint := (state ->> 'generation')::bigint;
    grant_row record;
BEGIN
    IF NOT tenancy._in_database_worker() THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'only pg_tenancy''s worker changes the catalog of a tenant''s database';
    END IF;
    SELECT * INTO bound FROM tenancy.database_binding FOR UPDATE;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM tenancy.tenants) THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('database "%s" has tenants of its own', current_database()),
                HINT = 'A tenant''s database is created empty by tenancy.create_tenant().';
        END IF;
        INSERT INTO tenancy.database_binding (tenant_id, control_database, generation)
        VALUES (tenant_key, state ->> 'control_database', sent_generation);
    ELSIF bound.tenant_id <> tenant_key OR bound.control_database <> state ->> 'control_database' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('database "%s" belongs to another tenant', current_database()),
            DETAIL = format('It is bound to tenant %s of database "%s".', bound.tenant_id, bound.control_database);
    ELSIF sent_generation < bound.generation THEN
        RETURN bound.generation;
    END IF;

    INSERT INTO tenancy.regions AS r SELECT * FROM jsonb_populate_record(NULL::tenancy.regions, state -> 'region')
        ON CONFLICT (name) DO UPDATE SET description = excluded.description, updated_at = excluded.updated_at;
    INSERT INTO tenancy.plans AS p SELECT * FROM jsonb_populate_record(NULL::tenancy.plans, state -> 'plan')
        ON CONFLICT (name) DO UPDATE SET description = excluded.description, features = excluded.features,
                                         limits = excluded.limits, updated_at = excluded.updated_at;
    INSERT INTO tenancy.tenants AS t
    SELECT (jsonb_populate_record(NULL::tenancy.tenants,
                                  (state -> 'tenant') || jsonb_build_object('isolation', 'schema',
                                                                            'schema_name', current_database()))).*
        ON CONFLICT (id) DO UPDATE
        SET slug = excluded.slug, name = excluded.name, status = excluded.status,
            status_reason = excluded.status_reason, plan = excluded.plan, settings = excluded.settings,
            updated_at = excluded.updated_at, purge_after = excluded.purge_after, limits = excluded.limits,
            region = excluded.region;

    DELETE FROM tenancy.memberships m
     WHERE m.tenant_id = tenant_key
       AND m.actor NOT IN (SELECT e ->> 'actor' FROM jsonb_array_elements(state -> 'memberships') e);
    INSERT INTO tenancy.memberships AS m (tenant_id, actor, role, is_active, created_at)
    SELECT tenant_key, e ->> 'actor', (e ->> 'role')::tenancy.role, (e ->> 'is_active')::boolean,
           (e ->> 'created_at')::timestamptz
      FROM jsonb_array_elements(state -> 'memberships') e
        ON CONFLICT (tenant_id, actor) DO UPDATE SET role = excluded.role, is_active = excluded.is_active,
                                                     updated_at = now()
     WHERE (m.role, m.is_active) IS DISTINCT FROM (excluded.role, excluded.is_active);

    FOR grant_row IN
        SELECT g.role, g.kind FROM tenancy.platform_grants g
         WHERE (g.role::text, g.kind) NOT IN (SELECT e ->> 'role', e ->> 'kind'
                                                FROM jsonb_array_elements(state -> 'platform_grants') e)
    LOOP
        PERFORM tenancy._set_platform_right(grant_row.role, grant_row.kind, false);
    END LOOP;
    FOR grant_row IN
        SELECT to_regrole(e ->> 'role') AS role, e ->> 'kind' AS kind
          FROM jsonb_array_elements(state -> 'platform_grants') e
         WHERE to_regrole(e ->> 'role') IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM tenancy.platform_grants g
                            WHERE g.role = to_regrole(e ->> 'role') AND g.kind = e ->> 'kind')
    LOOP
        PERFORM tenancy._set_platform_right(grant_row.role, grant_row.kind, true);
    END LOOP;

    UPDATE tenancy.database_binding b SET generation = sent_generation, synced_at = now();
    RETURN sent_generation;
END
$$;
REVOKE ALL ON FUNCTION tenancy._apply_tenant_state(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._apply_tenant_state(jsonb) IS
    'internal: in a tenant''s database, makes its catalog the state the control database sent (pg_tenancy''s '
    'worker only)';

-- In a new tenant's database: binds it to the tenant, creates the tenant's
-- schema with every tenant migration applied so far, and makes the tenant
-- and its schema what every session of the database starts with.
CREATE OR REPLACE FUNCTION tenancy._bind_database(state jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant_key uuid := (state -> 'tenant' ->> 'id')::uuid;
BEGIN
    IF EXISTS (SELECT 1 FROM tenancy.database_binding) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('database "%s" is bound to a tenant already', current_database());
    END IF;
    PERFORM tenancy._apply_tenant_state(state);
    INSERT INTO tenancy.migration_scripts
    SELECT * FROM jsonb_populate_recordset(NULL::tenancy.migration_scripts, state -> 'scripts');
    PERFORM tenancy._create_tenant_schema(tenant_key);
    EXECUTE format('ALTER DATABASE %I SET tenancy.tenant = %L', current_database(), state -> 'tenant' ->> 'slug');
    EXECUTE format('ALTER DATABASE %I SET search_path = %I, public', current_database(), current_database());
END
$$;
REVOKE ALL ON FUNCTION tenancy._bind_database(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._bind_database(jsonb) IS
    'internal: binds a new tenant database to its tenant and creates the tenant''s schema in it';

-- Creates the database of a new database-mode tenant (its row in
-- tenancy.tenant_databases exists) and binds it. The database is dropped
-- again if the transaction, or the subtransaction, rolls back.
CREATE OR REPLACE FUNCTION tenancy._create_tenant_database(tenant uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenant_databases;
    state jsonb;
BEGIN
    SELECT * INTO STRICT target FROM tenancy.tenant_databases d WHERE d.tenant_id = _create_tenant_database.tenant;
    PERFORM tenancy._run_outside_transaction(
        format('CREATE DATABASE %I OWNER %I', target.database_name,
               (SELECT pg_get_userbyid(d.datdba) FROM pg_database d WHERE d.datname = current_database())));
    PERFORM tenancy._drop_database_later(target.database_name, false);
    state := tenancy._tenant_state(target.tenant_id);
    PERFORM tenancy._run_in_database(
        target.database_name, 'CREATE EXTENSION IF NOT EXISTS pg_tenancy', 'SELECT tenancy._bind_database($1::jsonb)',
        (state || jsonb_build_object(
            'generation', 1,
            'scripts', coalesce((SELECT jsonb_agg(jsonb_build_object('version', s.version, 'checksum', s.checksum,
                                                                     'body', s.body, 'run_as', s.run_as::text,
                                                                     'shared_path', s.shared_path,
                                                                     'added_at', s.added_at) ORDER BY s.version)
                                   FROM tenancy.migration_scripts s), '[]')))::text);
    UPDATE tenancy.tenant_databases d SET generation = 1, state_hash = md5(state::text), synced_at = now()
     WHERE d.tenant_id = target.tenant_id;
END
$$;
REVOKE ALL ON FUNCTION tenancy._create_tenant_database(uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._create_tenant_database(uuid) IS
    'internal: creates and binds the database of a new database-mode tenant';

-- Sends a database-mode tenant's state to its database unless it has not
-- changed since it was last sent (force: send anyway); returns the
-- generation the database has. Concurrent senders of one tenant take turns
-- (the row lock), and each reads the state after its turn came, so the last
-- to commit sends the state that includes every change.
CREATE OR REPLACE FUNCTION tenancy._sync_tenant_database(tenant uuid, force boolean DEFAULT false) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenant_databases;
    state jsonb;
    sent bigint;
BEGIN
    SELECT * INTO target FROM tenancy.tenant_databases d WHERE d.tenant_id = _sync_tenant_database.tenant FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    state := tenancy._tenant_state(target.tenant_id);
    IF state IS NULL OR (NOT force AND target.state_hash IS NOT DISTINCT FROM md5(state::text)) THEN
        RETURN target.generation;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = target.database_name) THEN
        -- Nothing there to keep in step; the health check reports it.
        RETURN target.generation;
    END IF;
    UPDATE tenancy.tenant_databases d SET generation = d.generation + 1
     WHERE d.tenant_id = target.tenant_id RETURNING d.generation INTO sent;
    BEGIN
        PERFORM tenancy._run_in_database(target.database_name, '', 'SELECT tenancy._apply_tenant_state($1::jsonb)',
                                         (state || jsonb_build_object('generation', sent))::text);
    EXCEPTION WHEN OTHERS THEN
        DECLARE
            message text;
            detail text;
        BEGIN
            GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('could not bring database "%s" of tenant "%s" up to date', target.database_name,
                                 state -> 'tenant' ->> 'slug'),
                DETAIL = format('%s %s Nothing was changed.', message, detail),
                HINT = 'Check that the database exists and accepts connections (tenancy.health_check()).';
        END;
    END;
    UPDATE tenancy.tenant_databases d SET state_hash = md5(state::text), synced_at = now()
     WHERE d.tenant_id = target.tenant_id;
    RETURN sent;
END
$$;
REVOKE ALL ON FUNCTION tenancy._sync_tenant_database(uuid, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._sync_tenant_database(uuid, boolean) IS
    'internal: sends a database-mode tenant''s state to its database when it changed';

CREATE OR REPLACE FUNCTION tenancy.sync_tenant_database(tenant text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin('bring tenant databases up to date');
    target := tenancy._find_tenant(tenant);
    IF target.isolation <> 'database' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('tenant "%s" has no database of its own', target.slug),
            DETAIL = format('It is in %s mode.', target.isolation);
    END IF;
    RETURN tenancy._sync_tenant_database(target.id, true);
END
$$;
COMMENT ON FUNCTION tenancy.sync_tenant_database(text) IS
    'sends a database-mode tenant''s state (row, plan, members, platform grants) to its database now, as every '
    'change does before it commits; returns the generation sent (platform admins only)';

-- The deferred trigger that sends changes of tenants, members, plans and
-- platform grants to the databases of the tenants they concern, when the
-- transaction commits (or at SET CONSTRAINTS ... IMMEDIATE).
CREATE OR REPLACE FUNCTION tenancy._tenant_database_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._sync_tenant_database(d.tenant_id)
       FROM tenancy.tenant_databases d
      WHERE CASE TG_TABLE_NAME
                WHEN 'memberships' THEN d.tenant_id IN ((to_jsonb(OLD) ->> 'tenant_id')::uuid,
                                                        (to_jsonb(NEW) ->> 'tenant_id')::uuid)
                WHEN 'tenants' THEN d.tenant_id = (to_jsonb(NEW) ->> 'id')::uuid
                WHEN 'plans' THEN d.tenant_id IN (SELECT t.id FROM tenancy.tenants t
                                                   WHERE t.plan = to_jsonb(NEW) ->> 'name')
                ELSE true
            END
      ORDER BY d.tenant_id;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tenancy._tenant_database_changed() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._tenant_database_changed() IS
    'internal: sends changed tenant state to the tenants'' databases before the transaction commits';

-- The trigger that drops a database-mode tenant's database once the
-- transaction that removed the tenant commits.
CREATE OR REPLACE FUNCTION tenancy._drop_tenant_database() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._drop_database_later(OLD.database_name, true);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tenancy._drop_tenant_database() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._drop_tenant_database() IS
    'internal: drops a tenant''s database after the transaction that removed the tenant commits';

-- In a tenant's database, the trigger that keeps its catalog a copy: the
-- tenant is managed in the control database.
CREATE OR REPLACE FUNCTION tenancy._refuse_bound_catalog_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bound record;
BEGIN
    IF tenancy._in_database_worker() THEN
        RETURN NULL;
    END IF;
    SELECT b.control_database, t.slug INTO bound
      FROM tenancy.database_binding b LEFT JOIN tenancy.tenants t ON t.id = b.tenant_id;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is managed in database "%s"', bound.slug, bound.control_database),
            DETAIL = format('Database "%s" is the tenant''s own database; its tenants, plans, members and platform '
                            'grants are copies of the control database''s.', current_database()),
            HINT = format('Make the change in database "%s"; it reaches this database before it commits.',
                          bound.control_database);
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tenancy._refuse_bound_catalog_change() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._refuse_bound_catalog_change() IS
    'internal: in a tenant''s database, refuses changes of the catalog copy except by pg_tenancy''s worker';

-- In a tenant's database: what the control database's health check asks.
CREATE OR REPLACE FUNCTION tenancy._database_report() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'tenant_id', (SELECT b.tenant_id FROM tenancy.database_binding b),
        'control_database', (SELECT b.control_database FROM tenancy.database_binding b),
        'generation', (SELECT b.generation FROM tenancy.database_binding b),
        'migrations', coalesce((SELECT jsonb_agg(m.version ORDER BY m.version) FROM tenancy.migrations m
                                 WHERE m.scope = 'tenant'), '[]'))
$$;
REVOKE ALL ON FUNCTION tenancy._database_report() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._database_report() IS
    'internal: in a tenant''s database, its binding and the tenant migrations applied there';

-- Health findings about database-mode tenants: databases missing,
-- unreachable, bound elsewhere, behind on state or on tenant migrations;
-- and databases left behind by tenants that are gone.
CREATE OR REPLACE FUNCTION tenancy._health_tenant_databases()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    place record;
    report jsonb;
    missing text;
BEGIN
    FOR place IN
        SELECT t.id, t.slug::text AS slug, d.database_name, d.generation
          FROM tenancy.tenant_databases d JOIN tenancy.tenants t ON t.id = d.tenant_id ORDER BY t.slug
    LOOP
        object := place.database_name;
        IF NOT EXISTS (SELECT 1 FROM pg_database b WHERE b.datname = place.database_name) THEN
            severity := 'error';
            problem := format('the database of tenant "%s" does not exist', place.slug);
            hint := 'Restore it from a backup, or drop the tenant (tenancy.drop_tenant()).';
            RETURN NEXT;
            CONTINUE;
        END IF;
        BEGIN
            report := tenancy._run_in_database(place.database_name, '', 'SELECT tenancy._database_report()', '')::jsonb;
        EXCEPTION WHEN OTHERS THEN
            severity := 'error';
            problem := format('the database of tenant "%s" is unreachable: %s', place.slug, SQLERRM);
            hint := 'Check that it accepts connections and has pg_tenancy installed.';
            RETURN NEXT;
            CONTINUE;
        END;
        IF (report ->> 'tenant_id')::uuid IS DISTINCT FROM place.id
           OR report ->> 'control_database' IS DISTINCT FROM current_database() THEN
            severity := 'error';
            problem := format('the database of tenant "%s" is bound to another tenant or control database', place.slug);
            hint := 'Find out who changed it; a tenant''s database is bound once, when it is created.';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF (report ->> 'generation')::bigint < place.generation THEN
            severity := 'error';
            problem := format('the database of tenant "%s" is behind: it has state %s of %s', place.slug,
                              report ->> 'generation', place.generation);
            hint := format('SELECT tenancy.sync_tenant_database(%L)', place.slug);
            RETURN NEXT;
        END IF;
        SELECT string_agg(s.version, ', ' ORDER BY s.version) INTO missing
          FROM tenancy.migration_scripts s
         WHERE NOT (report -> 'migrations') ? s.version;
        IF missing IS NOT NULL THEN
            severity := 'warning';
            problem := format('the database of tenant "%s" is behind on tenant migrations: %s', place.slug, missing);
            hint := format('tenantctl migrate DIR --tenant %s', place.slug);
            RETURN NEXT;
        END IF;
    END LOOP;
    FOR place IN
        SELECT b.datname FROM pg_database b
         WHERE b.datname LIKE 'tenant\_%' AND b.datallowconn
           AND NOT EXISTS (SELECT 1 FROM tenancy.tenant_databases d WHERE d.database_name = b.datname)
         ORDER BY b.datname
    LOOP
        BEGIN
            report := tenancy._run_in_database(place.datname, '',
                                               'SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_extension '
                                               'WHERE extname = ''pg_tenancy'') THEN tenancy._database_report() END',
                                               '')::jsonb;
        EXCEPTION WHEN OTHERS THEN
            report := NULL;
        END;
        IF report ->> 'control_database' = current_database() THEN
            severity := 'warning';
            object := place.datname;
            problem := format('database "%s" belonged to a tenant that no longer exists', place.datname);
            hint := format('DROP DATABASE %I', place.datname);
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._health_tenant_databases() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._health_tenant_databases() IS
    'internal: health findings about the databases of database-mode tenants';
