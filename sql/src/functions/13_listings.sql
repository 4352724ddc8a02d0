-- pg_tenancy: read functions for operators and tenantctl. Each checks
-- the caller's rights, so tenantctl needs no privilege on the catalog.

CREATE OR REPLACE FUNCTION tenancy.tenant_list()
RETURNS TABLE (slug text, name text, status tenancy.tenant_status, isolation tenancy.isolation, plan text,
               members bigint, created_at timestamptz, region text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.slug::text, t.name, t.status, t.isolation, t.plan,
           (SELECT count(*) FROM tenancy.memberships m WHERE m.tenant_id = t.id AND m.is_active),
           t.created_at, t.region::text
      FROM tenancy.tenants t
     WHERE tenancy.is_platform_admin()
        OR EXISTS (SELECT 1 FROM tenancy.memberships m
                    WHERE m.tenant_id = t.id AND m.actor = tenancy.actor() AND m.is_active)
     ORDER BY t.slug
$$;
COMMENT ON FUNCTION tenancy.tenant_list() IS
    'tenants with status, isolation, plan, active member count, creation time and region (all for platform admins, '
    'one''s own for others)';

CREATE OR REPLACE FUNCTION tenancy.member_list(tenant text)
RETURNS TABLE (actor text, role tenancy.role, is_active boolean, created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'list the members');
BEGIN
    RETURN QUERY
        SELECT m.actor::text, m.role, m.is_active, m.created_at, m.updated_at
          FROM tenancy.memberships m WHERE m.tenant_id = target.id
         ORDER BY m.role DESC, m.actor;
END
$$;
COMMENT ON FUNCTION tenancy.member_list(text) IS
    'members of a tenant with their roles (tenant owners/admins and platform admins)';

CREATE OR REPLACE FUNCTION tenancy.domain_list(tenant text DEFAULT NULL)
RETURNS TABLE (host text, tenant_slug text, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF tenant IS NULL THEN
        PERFORM tenancy._require_platform_admin('list every domain');
    ELSE
        target := tenancy._tenant_for_caller(tenant, 'admin', 'list the domains');
    END IF;
    RETURN QUERY
        SELECT d.host::text, t.slug::text, d.created_at
          FROM tenancy.domains d JOIN tenancy.tenants t ON t.id = d.tenant_id
         WHERE target.id IS NULL OR d.tenant_id = target.id
         ORDER BY d.host;
END
$$;
COMMENT ON FUNCTION tenancy.domain_list(text) IS
    'host names and their tenants: of one tenant (its owners/admins), or all (platform admins)';

CREATE OR REPLACE FUNCTION tenancy.protected_list()
RETURNS TABLE (table_name text, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role,
               audit boolean, protected_at timestamptz, protected_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.relid::text, p.read_role, p.write_role, p.delete_role, p.audit, p.protected_at, p.protected_by
      FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid
     WHERE tenancy.is_platform_admin() OR pg_has_role(tenancy.db_role()::name, c.relowner, 'USAGE')
     ORDER BY p.relid::text
$$;
COMMENT ON FUNCTION tenancy.protected_list() IS
    'protected tables with their roles and audit setting (all for platform admins, one''s own tables for others)';

CREATE OR REPLACE FUNCTION tenancy.tenant_details(tenant text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'show the details');
    table_rows jsonb := '[]';
    protected record;
    row_count bigint;
BEGIN
    FOR protected IN SELECT p.relid FROM tenancy.protected_tables p ORDER BY p.relid::text LOOP
        -- As the table's owner: planning a query on the table may run its
        -- owner's functions (owner_execution.cpp).
        row_count := tenancy._count_tenant_rows(protected.relid, target.id);
        table_rows := table_rows || jsonb_build_object('table', protected.relid::text, 'rows', row_count);
    END LOOP;
    RETURN to_jsonb(target) || jsonb_build_object(
        'members', (SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.role DESC, m.actor), '[]')
                      FROM tenancy.member_list(target.id::text) m),
        'domains', (SELECT coalesce(jsonb_agg(d.host ORDER BY d.host), '[]')
                      FROM tenancy.domains d WHERE d.tenant_id = target.id),
        'tables', table_rows);
END
$$;
COMMENT ON FUNCTION tenancy.tenant_details(text) IS
    'a tenant with its members, domains and row count per protected table, as jsonb '
    '(tenant owners/admins and platform admins)';
