-- pg_tenancy: the tenant context, implemented in C++ (extension/context*.cpp).
-- PARALLEL RESTRICTED: evaluated by the leader only, so that a refusal is
-- recorded once and in the session that caused it.

-- Planner support function of the context functions: it simplifies nothing,
-- but planning a query on a protected table thereby loads the library, whose
-- statement check then runs before the executor reads any row.
CREATE OR REPLACE FUNCTION tenancy.context_support(internal) RETURNS internal
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_context_support';
COMMENT ON FUNCTION tenancy.context_support(internal) IS
    'internal: planner support function that loads pg_tenancy when a protected table is planned';

CREATE OR REPLACE FUNCTION tenancy.current_tenant_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED SUPPORT tenancy.context_support
    AS 'MODULE_PATHNAME', 'tenancy_current_tenant_id';
COMMENT ON FUNCTION tenancy.current_tenant_id() IS
    'uuid of the tenant selected with SET tenancy.tenant, validated against membership and status';

CREATE OR REPLACE FUNCTION tenancy.current_tenant() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_current_tenant';
COMMENT ON FUNCTION tenancy.current_tenant() IS 'slug of the validated current tenant';

CREATE OR REPLACE FUNCTION tenancy.actor() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_actor';
COMMENT ON FUNCTION tenancy.actor() IS
    'who is acting: the session''s role, or tenancy.actor when set for the transaction by a service role of '
    'this database';

CREATE OR REPLACE FUNCTION tenancy.db_role() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_db_role';
COMMENT ON FUNCTION tenancy.db_role() IS
    'the session''s outer database role (SET ROLE counts, SECURITY DEFINER does not)';

CREATE OR REPLACE FUNCTION tenancy.current_role() RETURNS tenancy.role
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_current_role';
COMMENT ON FUNCTION tenancy.current_role() IS
    'the actor''s role in the current tenant (platform admins act as owner)';

CREATE OR REPLACE FUNCTION tenancy.has_role(tenancy.role) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_has_role';
COMMENT ON FUNCTION tenancy.has_role(tenancy.role) IS
    'whether the actor''s role in the current tenant is at least the given role';

CREATE OR REPLACE FUNCTION tenancy.is_platform_admin() RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_is_platform_admin';
COMMENT ON FUNCTION tenancy.is_platform_admin() IS
    'whether the acting role is a superuser or a platform admin of this database (never while asserting '
    'tenancy.actor)';

CREATE OR REPLACE FUNCTION tenancy._current_role_is_platform_admin() RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_current_role_is_platform_admin';
COMMENT ON FUNCTION tenancy._current_role_is_platform_admin() IS
    'internal: whether the role SQL runs as right now (current_user) is a platform admin of this database';

CREATE OR REPLACE FUNCTION tenancy.tenant_for(tenancy.role, text, regclass) RETURNS uuid
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED SUPPORT tenancy.context_support
    AS 'MODULE_PATHNAME', 'tenancy_tenant_for';
COMMENT ON FUNCTION tenancy.tenant_for(tenancy.role, text, regclass) IS
    'used by the policies of protected tables: the current tenant if the actor''s role allows the action '
    '(select, insert, update, delete) on the table, else an error naming the role needed';
