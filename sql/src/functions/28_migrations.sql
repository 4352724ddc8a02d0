-- pg_tenancy: the ledger side of tenantctl migrate. Platform admins only:
-- a migration of every tenant enters every tenant (each entry recorded).
-- A place is the shared schemas (scope shared, or scope tenant for the
-- tables of row-mode tenants) or one schema-mode tenant's schema.

-- Returns the ledger row of a migration in a place, if any.
CREATE OR REPLACE FUNCTION tenancy._migration_row(scope text, tenant uuid, version text)
RETURNS tenancy.migrations
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT m.* FROM tenancy.migrations m
     WHERE m.scope = _migration_row.scope AND m.version = _migration_row.version
       AND coalesce(m.tenant_id, '00000000-0000-0000-0000-000000000000') =
           coalesce(_migration_row.tenant, '00000000-0000-0000-0000-000000000000')
$$;
COMMENT ON FUNCTION tenancy._migration_row(text, uuid, text) IS 'internal: a migration''s ledger row in a place';

-- Raises unless scope, version and checksum are well formed.
CREATE OR REPLACE FUNCTION tenancy._require_migration_input(scope text, version text, checksum text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF scope IS NULL OR scope NOT IN ('shared', 'tenant') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unknown migration scope "%s"', tenancy._shown(coalesce(scope, 'null'))),
            HINT = 'The scopes are shared and tenant.';
    END IF;
    IF version IS NULL OR length(version) NOT BETWEEN 1 AND 255 OR version ~ '[[:cntrl:]/]' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid migration version "%s"', tenancy._shown(coalesce(version, 'null'))),
            DETAIL = 'A version is a file name: 1 to 255 characters, no "/" and no control characters.';
    END IF;
    IF checksum IS NULL OR checksum !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'a migration checksum is a SHA-256 in 64 lowercase hexadecimal digits';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._require_migration_input(text, text, text) IS
    'internal: raises unless a migration''s scope, version and checksum are well formed';

-- Raises when a migration was applied with other contents than now.
CREATE OR REPLACE FUNCTION tenancy._refuse_changed_migration(version text, applied text, given text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF applied IS DISTINCT FROM given THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('migration %s was changed after it was applied', tenancy._shown(version)),
            DETAIL = format('It was applied with SHA-256 %s; the file now has %s.', applied, given),
            HINT = 'Restore the file as it was applied, and put the change in a new migration.';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._refuse_changed_migration(text, text, text) IS
    'internal: raises when an applied migration''s file has changed';

CREATE OR REPLACE FUNCTION tenancy.migration_places()
RETURNS TABLE (tenant text, isolation tenancy.isolation, schema_name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('list the places of migrations');
    RETURN QUERY
        SELECT NULL::text, 'row'::tenancy.isolation, NULL::text
        UNION ALL
        (SELECT t.slug::text, t.isolation, t.schema_name::text FROM tenancy.tenants t
          WHERE t.isolation = 'schema' ORDER BY t.slug);
END
$$;
COMMENT ON FUNCTION tenancy.migration_places() IS
    'where tenant migrations run: the shared schemas of row-mode tenants (tenant null), then every '
    'schema-mode tenant (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.migration_list()
RETURNS TABLE (scope text, tenant text, version text, checksum text, applied_at timestamptz,
               duration interval, applied_by text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('read the migrations ledger');
    RETURN QUERY
        SELECT m.scope, t.slug::text, m.version::text, m.checksum, m.applied_at, m.duration, m.applied_by
          FROM tenancy.migrations m LEFT JOIN tenancy.tenants t ON t.id = m.tenant_id
         ORDER BY m.scope, t.slug NULLS FIRST, m.version;
END
$$;
COMMENT ON FUNCTION tenancy.migration_list() IS
    'every migration applied, where, when, how long and by whom (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.start_migration(scope text, tenant text, version text, checksum text,
                                                   body text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    place tenancy.tenants;
    done tenancy.migrations;
    stored tenancy.migration_scripts;
BEGIN
    PERFORM tenancy._require_platform_admin('run migrations');
    PERFORM tenancy._require_migration_input(scope, version, checksum);
    IF NOT tenancy._in_transaction_block() THEN
        RAISE EXCEPTION USING ERRCODE = 'active_sql_transaction',
            MESSAGE = 'a migration must run inside a transaction block',
            HINT = 'BEGIN, start_migration(), the migration, finish_migration(), COMMIT: it commits with its '
                   'ledger row.';
    END IF;
    IF tenant IS NOT NULL THEN
        IF scope = 'shared' THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = 'a shared migration has no tenant';
        END IF;
        place := tenancy._find_tenant(tenant);
        IF place.isolation <> 'schema' THEN
            RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
                MESSAGE = format('tenant "%s" has no schema of its own', place.slug),
                DETAIL = format('It is in %s mode: its tenant migrations run once in the shared schemas '
                                '(tenant null).', place.isolation);
        END IF;
        IF tenancy.current_tenant() IS DISTINCT FROM place.slug THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('tenant "%s" is not entered', place.slug),
                HINT = format('Run SELECT tenancy.enter(%L) first, in the same transaction.', place.slug);
        END IF;
    END IF;
    done := tenancy._migration_row(scope, place.id, version);
    IF done.version IS NOT NULL THEN
        PERFORM tenancy._refuse_changed_migration(version, done.checksum, checksum);
        RETURN false;
    END IF;
    IF scope = 'tenant' THEN
        IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = tenancy.db_role()) THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = 'tenant migrations are not applied by a superuser',
                DETAIL = 'Every tenant created later replays them as the role that applied them; a superuser '
                         'would run them with names resolved in schemas other roles may write to.',
                HINT = 'Run tenantctl migrate as the database''s owner, made a platform admin.';
        END IF;
        IF body IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
                MESSAGE = 'a tenant migration needs its body',
                DETAIL = 'Tenants created later get it from the database.';
        END IF;
        SELECT * INTO stored FROM tenancy.migration_scripts s WHERE s.version = start_migration.version;
        IF stored.version IS NOT NULL THEN
            PERFORM tenancy._refuse_changed_migration(version, stored.checksum, checksum);
        ELSE
            INSERT INTO tenancy.migration_scripts (version, checksum, body, run_as, shared_path)
            VALUES (version, checksum, body, tenancy.db_role()::regrole, tenancy._shared_search_path())
            ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    -- A concurrent run of the same migration in the same place waits here,
    -- then fails on the unique index; nothing runs twice.
    INSERT INTO tenancy.migrations (scope, tenant_id, version, checksum, applied_by)
    VALUES (scope, place.id, version, checksum, tenancy.actor());
    RETURN true;
END
$$;
COMMENT ON FUNCTION tenancy.start_migration(text, text, text, text, text) IS
    'records that a migration runs in a place (tenant null: the shared schemas) in this transaction; false '
    'when it ran there already (refused when its checksum differs); a tenant migration''s body is kept for '
    'tenants created later (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.finish_migration(scope text, tenant text, version text) RETURNS interval
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    took interval;
BEGIN
    PERFORM tenancy._require_platform_admin('run migrations');
    IF NOT tenancy._in_transaction_block() THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_termination',
            MESSAGE = format('migration %s ended its own transaction', tenancy._shown(coalesce(version, 'null'))),
            DETAIL = 'What ran before its COMMIT or ROLLBACK is committed, and the ledger may say it ran.',
            HINT = 'Migrations must not contain BEGIN, COMMIT or ROLLBACK; check the place by hand.';
    END IF;
    UPDATE tenancy.migrations m SET duration = clock_timestamp() - m.applied_at
     WHERE m.scope = finish_migration.scope AND m.version = finish_migration.version
       AND m.duration IS NULL
       AND coalesce(m.tenant_id, '00000000-0000-0000-0000-000000000000') =
           coalesce((SELECT t.id FROM tenancy.tenants t WHERE t.slug = finish_migration.tenant),
                    '00000000-0000-0000-0000-000000000000')
    RETURNING m.duration INTO took;
    IF took IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('migration %s was not started here', tenancy._shown(coalesce(version, 'null'))),
            HINT = 'Call tenancy.start_migration() first, in the same transaction.';
    END IF;
    RETURN took;
END
$$;
COMMENT ON FUNCTION tenancy.finish_migration(text, text, text) IS
    'records how long a migration started in this transaction took (platform admins only)';
