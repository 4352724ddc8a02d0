-- pg_tenancy 0.1 -> 0.2, after the functions: the triggers, policies and
-- event triggers 0.2 adds or changes, and data changes that need the new
-- functions.

CREATE EVENT TRIGGER tenancy_guard_grants ON ddl_command_end
    WHEN TAG IN ('GRANT')
    EXECUTE FUNCTION tenancy.guard_grants();

-- Finds actors whose names look alike (tenancy._refuse_lookalike).
CREATE INDEX memberships_actor_skeleton_idx ON tenancy.memberships (tenant_id, tenancy._actor_skeleton(actor));

-- Tables protected in 0.1: policies that call tenancy.tenant_for() directly
-- (the planner makes each call an initplan) instead of through a scalar
-- subquery, and no TRIGGER or REFERENCES privilege granted to others.
DO $protected$
DECLARE
    protected record;
BEGIN
    FOR protected IN SELECT p.relid, p.read_role, p.write_role, p.delete_role FROM tenancy.protected_tables p LOOP
        PERFORM tenancy._install_policies(protected.relid, protected.read_role, protected.write_role,
                                          protected.delete_role);
        PERFORM tenancy._revoke_trigger_grants(protected.relid);
    END LOOP;
END
$protected$;

-- New sessions load pg_tenancy at start, for its guards.
SELECT tenancy._preload_in_database();
