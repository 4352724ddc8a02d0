-- pg_tenancy: plans, the features they unlock and the limits they set, and
-- the limits of one tenant that override its plan's. Platform admins define
-- plans and give them to tenants; the database enforces them.

-- Says what is wrong with a value of the statement_timeout or work_mem limit
-- (read as PostgreSQL reads the setting: units, range), or null.
CREATE OR REPLACE FUNCTION tenancy._setting_limit_problem(key text, value text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT AS 'MODULE_PATHNAME', 'tenancy_setting_limit_problem';
COMMENT ON FUNCTION tenancy._setting_limit_problem(text, text) IS
    'internal: what is wrong with a statement_timeout or work_mem limit, or null';

-- Returns limits in their stored form after checking every entry: members
-- (a whole number), rows (an object of schema-qualified table names and
-- whole numbers), storage_mb (a number), statement_timeout and work_mem (a
-- PostgreSQL setting's value with its unit). A JSON null drops the entry.
CREATE OR REPLACE FUNCTION tenancy._checked_limits(limits jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry record;
    table_entry record;
    checked jsonb := '{}';
    tables jsonb;
    parts text[];
BEGIN
    IF limits IS NULL OR jsonb_typeof(limits) <> 'object' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'limits must be a JSON object',
            DETAIL = 'For example {"members": 5, "rows": {"app.invoices": 10000}, "storage_mb": 500, '
                     '"statement_timeout": "5s", "work_mem": "64MB"}.';
    END IF;
    FOR entry IN SELECT e.key, e.value FROM jsonb_each(limits) e ORDER BY e.key LOOP
        CONTINUE WHEN jsonb_typeof(entry.value) = 'null';
        CASE entry.key
        WHEN 'members', 'storage_mb' THEN
            IF NOT tenancy._is_limit_number(entry.value, entry.key = 'members') THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid limit %s: %s', entry.key, tenancy._shown(entry.value::text)),
                    DETAIL = CASE entry.key WHEN 'members' THEN 'members is a whole number, 0 or more.'
                                            ELSE 'storage_mb is a number of megabytes, 0 or more.' END;
            END IF;
            checked := checked || jsonb_build_object(entry.key, CASE entry.key
                WHEN 'members' THEN to_jsonb(entry.value::text::numeric::bigint) ELSE entry.value END);
        WHEN 'rows' THEN
            IF jsonb_typeof(entry.value) <> 'object' THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid limit rows: %s', tenancy._shown(entry.value::text)),
                    DETAIL = 'rows is an object of tables and their row limits, e.g. {"app.invoices": 10000}.';
            END IF;
            tables := '{}';
            FOR table_entry IN SELECT e.key, e.value FROM jsonb_each(entry.value) e ORDER BY e.key LOOP
                CONTINUE WHEN jsonb_typeof(table_entry.value) = 'null';
                BEGIN
                    parts := parse_ident(table_entry.key);
                EXCEPTION WHEN invalid_parameter_value THEN
                    parts := NULL;
                END;
                IF cardinality(parts) IS DISTINCT FROM 2 OR octet_length(parts[1]) >= 64
                   OR octet_length(parts[2]) >= 64 THEN
                    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                        MESSAGE = format('invalid table name in limit rows: "%s"', tenancy._shown(table_entry.key)),
                        DETAIL = 'Name each table with its schema, as in "app.invoices" (each name at most 63 bytes).';
                END IF;
                IF NOT tenancy._is_limit_number(table_entry.value, true) THEN
                    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                        MESSAGE = format('invalid row limit for %s: %s', table_entry.key,
                                         tenancy._shown(table_entry.value::text)),
                        DETAIL = 'A row limit is a whole number, 0 or more.';
                END IF;
                tables := tables || jsonb_build_object(quote_ident(parts[1]) || '.' || quote_ident(parts[2]),
                                                       to_jsonb(table_entry.value::text::numeric::bigint));
            END LOOP;
            IF tables <> '{}' THEN
                checked := checked || jsonb_build_object('rows', tables);
            END IF;
        WHEN 'statement_timeout', 'work_mem' THEN
            IF jsonb_typeof(entry.value) NOT IN ('string', 'number')
               OR tenancy._setting_limit_problem(entry.key, entry.value #>> '{}') IS NOT NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid limit %s: %s', entry.key, tenancy._shown(entry.value::text)),
                    DETAIL = coalesce(tenancy._setting_limit_problem(entry.key, entry.value #>> '{}'),
                                      CASE entry.key WHEN 'statement_timeout' THEN 'statement_timeout is a duration, as in "5s" or "250ms".'
                                                     ELSE 'work_mem is an amount of memory, as in "64MB".' END);
            END IF;
            checked := checked || jsonb_build_object(entry.key, btrim(entry.value #>> '{}'));
        ELSE
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('unknown limit "%s"', tenancy._shown(entry.key)),
                DETAIL = 'The limits are members, rows, storage_mb, statement_timeout and work_mem.';
        END CASE;
    END LOOP;
    RETURN checked;
END
$$;
COMMENT ON FUNCTION tenancy._checked_limits(jsonb) IS 'internal: limits checked and in their stored form';

-- Says whether a JSON value is a limit: a number from 0 up to the largest
-- bigint, whole when whole is true (10.0 is whole).
CREATE OR REPLACE FUNCTION tenancy._is_limit_number(value jsonb, whole boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_typeof(value) = 'number'
       AND value::text::numeric BETWEEN 0 AND 9223372036854775807
       AND (NOT whole OR value::text::numeric = trunc(value::text::numeric))
$$;
COMMENT ON FUNCTION tenancy._is_limit_number(jsonb, boolean) IS 'internal: whether a JSON value is a valid limit';

-- Returns features after checking each name; NULL and duplicates go.
CREATE OR REPLACE FUNCTION tenancy._checked_features(features text[]) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    feature text;
BEGIN
    FOREACH feature IN ARRAY coalesce(features, '{}') LOOP
        IF feature !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid feature name "%s"', tenancy._shown(feature)),
                DETAIL = 'A feature name starts with a lowercase letter and has only lowercase letters, digits, '
                         '".", "_" and "-", at most 63 characters.';
        END IF;
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT f FROM unnest(features) f WHERE f IS NOT NULL ORDER BY f);
END
$$;
COMMENT ON FUNCTION tenancy._checked_features(text[]) IS 'internal: feature names checked, sorted, without duplicates';

-- Returns a plan, or raises when there is none of that name.
CREATE OR REPLACE FUNCTION tenancy._find_plan(plan text, lock_row boolean DEFAULT false) RETURNS tenancy.plans
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_plan tenancy.plans;
BEGIN
    IF lock_row THEN
        SELECT * INTO found_plan FROM tenancy.plans p WHERE p.name = plan FOR UPDATE;
    ELSE
        SELECT * INTO found_plan FROM tenancy.plans p WHERE p.name = plan;
    END IF;
    IF found_plan.name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('plan "%s" does not exist', tenancy._shown(coalesce(plan, 'null'))),
            HINT = 'tenancy.plan_list() lists the plans; tenancy.create_plan() creates one.';
    END IF;
    RETURN found_plan;
END
$$;
COMMENT ON FUNCTION tenancy._find_plan(text, boolean) IS 'internal: a plan by name, or an error';

CREATE OR REPLACE FUNCTION tenancy.create_plan(name text, features text[] DEFAULT '{}', limits jsonb DEFAULT '{}',
                                               description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('create plans');
    IF create_plan.name IS NULL OR create_plan.name !~ '^[a-z][a-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid plan name "%s"', tenancy._shown(coalesce(create_plan.name, 'null'))),
            DETAIL = 'A plan name starts with a lowercase letter and has only lowercase letters, digits, "_" and "-".';
    END IF;
    IF EXISTS (SELECT 1 FROM tenancy.plans p WHERE p.name = create_plan.name) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('plan "%s" already exists', create_plan.name),
            HINT = 'Change it with tenancy.alter_plan().';
    END IF;
    INSERT INTO tenancy.plans (name, description, features, limits)
    VALUES (create_plan.name, create_plan.description, tenancy._checked_features(create_plan.features),
            tenancy._checked_limits(coalesce(create_plan.limits, '{}')));
    PERFORM tenancy._sync_row_limits();
END
$$;
COMMENT ON FUNCTION tenancy.create_plan(text, text[], jsonb, text) IS
    'creates a plan with the features it unlocks and the limits it sets (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.alter_plan(name text, features text[] DEFAULT NULL, limits jsonb DEFAULT NULL,
                                              description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.plans;
BEGIN
    PERFORM tenancy._require_platform_admin('change plans');
    target := tenancy._find_plan(alter_plan.name, true);
    UPDATE tenancy.plans p
       SET features = CASE WHEN alter_plan.features IS NULL THEN p.features
                           ELSE tenancy._checked_features(alter_plan.features) END,
           limits = CASE WHEN alter_plan.limits IS NULL THEN p.limits
                         ELSE tenancy._checked_limits(alter_plan.limits) END,
           description = coalesce(alter_plan.description, p.description),
           updated_at = now()
     WHERE p.name = target.name;
    PERFORM tenancy._sync_row_limits();
END
$$;
COMMENT ON FUNCTION tenancy.alter_plan(text, text[], jsonb, text) IS
    'changes a plan''s features, limits or description; a NULL argument keeps the current value; the tenants '
    'of the plan have the new ones from their next statement (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.drop_plan(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.plans;
    users bigint;
BEGIN
    PERFORM tenancy._require_platform_admin('drop plans');
    target := tenancy._find_plan(drop_plan.name, true);
    SELECT count(*) INTO users FROM tenancy.tenants t WHERE t.plan = target.name;
    IF users > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
            MESSAGE = format('plan "%s" is in use', target.name),
            DETAIL = CASE WHEN users = 1 THEN '1 tenant has it.' ELSE format('%s tenants have it.', users) END,
            HINT = 'Give them another plan first with tenancy.set_plan().';
    END IF;
    DELETE FROM tenancy.plans p WHERE p.name = target.name;
    PERFORM tenancy._sync_row_limits();
END
$$;
COMMENT ON FUNCTION tenancy.drop_plan(text) IS 'drops a plan no tenant has (platform admins only)';

-- Gives a tenant another plan (an event in tenancy.tenant_events); says so
-- when the tenant is already over one of the new plan's limits.
CREATE OR REPLACE FUNCTION tenancy.set_plan(tenant text, plan text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    new_plan tenancy.plans;
    over record;
BEGIN
    PERFORM tenancy._require_platform_admin('change the plan of tenants');
    target := tenancy._find_tenant(tenant, true);
    new_plan := tenancy._find_plan(set_plan.plan);
    UPDATE tenancy.tenants t SET plan = new_plan.name, updated_at = now() WHERE t.id = target.id;
    PERFORM tenancy._sync_row_limits();
    FOR over IN SELECT l.key, l."limit", l.usage FROM tenancy.tenant_limits(target.id::text) l WHERE l.over LOOP
        RAISE NOTICE 'tenant "%" is over the limit % of plan "%": % (limit %)', target.slug, over.key, new_plan.name,
            over.usage, over."limit";
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.set_plan(text, text) IS
    'gives a tenant another plan (platform admins only); a notice names each limit it is already over';

-- Sets (or, with NULL, removes) one limit of a tenant that overrides its
-- plan's; for rows, value is an object of tables whose entries are merged
-- into the tenant's (a table given null goes back to the plan's limit).
CREATE OR REPLACE FUNCTION tenancy.set_limit(tenant text, key text, value jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    overrides jsonb;
    merged jsonb;
BEGIN
    PERFORM tenancy._require_platform_admin('change the limits of tenants');
    target := tenancy._find_tenant(tenant, true);
    IF key IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'key must not be null';
    END IF;
    overrides := target.limits;
    IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
        PERFORM tenancy._checked_limits(jsonb_build_object(key, 'null'::jsonb));
        overrides := overrides - key;
    ELSIF key = 'rows' THEN
        -- Table by table: a number sets the tenant's limit, null removes it.
        merged := coalesce(overrides->'rows', '{}')
                  || coalesce(tenancy._checked_limits(jsonb_build_object('rows', value))->'rows', '{}');
        IF jsonb_typeof(value) = 'object' THEN
            merged := merged - ARRAY(SELECT quote_ident((parse_ident(e.key))[1]) || '.' || quote_ident((parse_ident(e.key))[2])
                                       FROM jsonb_each(value) e WHERE jsonb_typeof(e.value) = 'null');
        END IF;
        overrides := overrides - 'rows' || CASE WHEN merged = '{}' THEN '{}' ELSE jsonb_build_object('rows', merged) END;
    ELSE
        overrides := overrides - key || tenancy._checked_limits(jsonb_build_object(key, value));
    END IF;
    UPDATE tenancy.tenants t SET limits = overrides, updated_at = now() WHERE t.id = target.id;
    PERFORM tenancy._sync_row_limits();
    RETURN overrides;
END
$$;
COMMENT ON FUNCTION tenancy.set_limit(text, text, jsonb) IS
    'sets one limit of a tenant over its plan''s, or removes it with NULL (rows: merged per table); returns the '
    'tenant''s own limits (platform admins only)';

-- The limits that hold for a tenant: its plan's, with its own on top.
CREATE OR REPLACE FUNCTION tenancy._effective_limits(target tenancy.tenants) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_strip_nulls((p.limits - 'rows') || (target.limits - 'rows')
           || jsonb_build_object('rows', nullif(coalesce(p.limits->'rows', '{}') || coalesce(target.limits->'rows', '{}'),
                                                '{}'::jsonb)))
      FROM tenancy.plans p WHERE p.name = target.plan
$$;
COMMENT ON FUNCTION tenancy._effective_limits(tenancy.tenants) IS 'internal: a tenant''s limits, plan and own';

-- Each limit of a tenant, where it comes from, and how much of it is used
-- (members: active members; rows: rows of the table; storage_mb: the latest
-- collected estimate; the others: NULL).
CREATE OR REPLACE FUNCTION tenancy.tenant_limits(tenant text)
RETURNS TABLE (key text, "limit" jsonb, source text, usage numeric, over boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'read the limits');
    effective jsonb := tenancy._effective_limits(target);
    entry record;
BEGIN
    FOR entry IN SELECT e.key, e.value FROM jsonb_each(effective - 'rows') e ORDER BY e.key LOOP
        key := entry.key;
        "limit" := entry.value;
        source := CASE WHEN target.limits ? entry.key THEN 'tenant' ELSE 'plan' END;
        usage := CASE entry.key WHEN 'members' THEN tenancy._active_members(target.id)
                                WHEN 'storage_mb' THEN tenancy._storage_mb(target.id) END;
        over := NULL;
        IF usage IS NOT NULL THEN
            over := usage > (entry.value #>> '{}')::numeric;
        END IF;
        RETURN NEXT;
    END LOOP;
    FOR entry IN SELECT e.key, e.value FROM jsonb_each(coalesce(effective->'rows', '{}')) e ORDER BY e.key LOOP
        key := 'rows.' || entry.key;
        "limit" := entry.value;
        source := CASE WHEN target.limits->'rows' ? entry.key THEN 'tenant' ELSE 'plan' END;
        usage := tenancy._limited_table_rows(target.id, entry.key);
        over := usage > (entry.value #>> '{}')::numeric;  -- rows limits are numbers
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_limits(text) IS
    'the limits of a tenant (from its plan, or its own), with the usage of members and rows and whether it is '
    'over them (its owners and admins, platform admins)';

-- The rows of a tenant in a table named in a row limit: NULL when the table
-- does not exist or is not protected.
CREATE OR REPLACE FUNCTION tenancy._limited_table_rows(tenant uuid, table_name text) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target_relid oid := to_regclass(table_name);
BEGIN
    IF target_relid IS NULL OR NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target_relid) THEN
        RETURN NULL;
    END IF;
    RETURN tenancy._count_tenant_rows(target_relid, tenant);
END
$$;
COMMENT ON FUNCTION tenancy._limited_table_rows(uuid, text) IS 'internal: a tenant''s rows of a limited table';

-- Raises unless a tenant can take one more active member: the members limit
-- is checked against the latest committed count, with the tenant's adders
-- taking turns (a lock in pg_tenancy's own space, until commit), so that
-- concurrent additions cannot pass it together under any isolation level.
CREATE OR REPLACE FUNCTION tenancy._require_member_room(target tenancy.tenants) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    allowed jsonb := tenancy._effective_limits(target)->'members';
    used bigint;
BEGIN
    IF allowed IS NULL THEN
        RETURN;
    END IF;
    PERFORM tenancy._lock_member_seats(target.id);
    used := tenancy._active_members(target.id);
    IF used >= (allowed #>> '{}')::numeric THEN
        RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('tenant "%s" has reached its limit of %s active members', target.slug, allowed),
            DETAIL = CASE WHEN target.limits ? 'members'
                          THEN format('The tenant''s own limit (over plan "%s") is %s active members; it has %s.',
                                      target.plan, allowed, used)
                          ELSE format('Plan "%s" allows %s active members; the tenant has %s.', target.plan, allowed,
                                      used) END,
            HINT = 'Deactivate or remove a member, or a platform admin can raise the limit '
                   '(tenancy.set_plan(), tenancy.set_limit()).';
    END IF;
    -- The member comes next: an alert when that crosses 80 % or 100 %.
    PERFORM tenancy._raise_alerts(target.id, 'members', used, used + 1, (allowed #>> '{}')::numeric);
END
$$;
COMMENT ON FUNCTION tenancy._require_member_room(tenancy.tenants) IS
    'internal: error when a tenant is at its members limit, alert when the member to come crosses 80 % or 100 %';

-- Says whether the current tenant's plan unlocks a feature.
CREATE OR REPLACE FUNCTION tenancy.has_feature(feature text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT has_feature.feature = ANY (p.features)
                       FROM tenancy.tenants t JOIN tenancy.plans p ON p.name = t.plan
                      WHERE t.id = tenancy.current_tenant_id()), false)
$$;
COMMENT ON FUNCTION tenancy.has_feature(text) IS
    'whether the current tenant''s plan unlocks a feature (an error when no tenant is selected)';

-- Raises 42501 unless the current tenant's plan unlocks a feature.
CREATE OR REPLACE FUNCTION tenancy.require_feature(feature text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    current tenancy.tenants;
BEGIN
    IF tenancy.has_feature(feature) THEN
        RETURN;
    END IF;
    SELECT * INTO current FROM tenancy.tenants t WHERE t.id = tenancy.current_tenant_id();
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = format('feature "%s" is not in plan "%s" of tenant "%s"', tenancy._shown(coalesce(feature, 'null')),
                         current.plan, current.slug),
        HINT = 'A platform admin can give the tenant a plan that has it (tenancy.set_plan()).';
END
$$;
COMMENT ON FUNCTION tenancy.require_feature(text) IS
    'an error (42501) unless the current tenant''s plan unlocks a feature; for functions, policies and triggers';

-- Every plan, with the number of tenants that have it (platform admins).
CREATE OR REPLACE FUNCTION tenancy.plan_list()
RETURNS TABLE (name text, description text, features text[], limits jsonb, tenants bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('list plans');
    RETURN QUERY SELECT p.name::text, p.description, p.features, p.limits,
                        (SELECT count(*) FROM tenancy.tenants t WHERE t.plan = p.name)
                   FROM tenancy.plans p ORDER BY p.name;
END
$$;
COMMENT ON FUNCTION tenancy.plan_list() IS 'plans with their features, limits and number of tenants (platform admins)';

-- One plan as jsonb, with the slugs of the tenants that have it (platform
-- admins).
CREATE OR REPLACE FUNCTION tenancy.plan_details(plan text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_plan tenancy.plans;
BEGIN
    PERFORM tenancy._require_platform_admin('read plans');
    found_plan := tenancy._find_plan(plan);
    RETURN to_jsonb(found_plan) || jsonb_build_object('tenants',
        (SELECT coalesce(jsonb_agg(t.slug ORDER BY t.slug), '[]') FROM tenancy.tenants t WHERE t.plan = found_plan.name));
END
$$;
COMMENT ON FUNCTION tenancy.plan_details(text) IS 'a plan, with the tenants that have it, as jsonb (platform admins)';

REVOKE ALL ON FUNCTION tenancy._checked_limits(jsonb), tenancy._checked_features(text[]),
    tenancy._is_limit_number(jsonb, boolean),
    tenancy._find_plan(text, boolean), tenancy._effective_limits(tenancy.tenants),
    tenancy._limited_table_rows(uuid, text), tenancy._require_member_room(tenancy.tenants)
    FROM PUBLIC;
