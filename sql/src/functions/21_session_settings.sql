-- pg_tenancy: what a tenant's sessions run with. While a tenant is selected,
-- each statement runs with the statement_timeout and work_mem of its limits
-- and, when tenancy.apply_timezone is on, the TimeZone of its "timezone"
-- setting (extension/session_settings.cpp applies them).

-- Returns {statement_timeout, work_mem, timezone} of a tenant, each null
-- when the tenant has none; read again only when the catalog changed.
CREATE OR REPLACE FUNCTION tenancy._session_settings(tenant_id uuid) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT ARRAY[l.limits ->> 'statement_timeout', l.limits ->> 'work_mem',
                      CASE WHEN d.type = 'timezone'
                           THEN coalesce(t.settings -> 'timezone', d.default_value) #>> '{}' END]
           FROM tenancy.tenants t
           CROSS JOIN LATERAL (SELECT tenancy._effective_limits(t) AS limits) l
           LEFT JOIN tenancy.setting_definitions d ON d.key = 'timezone'
          WHERE t.id = _session_settings.tenant_id),
        ARRAY[NULL, NULL, NULL]::text[])
$$;
COMMENT ON FUNCTION tenancy._session_settings(uuid) IS
    'internal: the statement_timeout, work_mem and timezone a tenant''s sessions run with';
REVOKE ALL ON FUNCTION tenancy._session_settings(uuid) FROM PUBLIC;
