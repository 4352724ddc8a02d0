-- pg_tenancy 0.1 -> 0.2, after the functions: the triggers, policies and
-- event triggers 0.2 adds or changes, and data changes that need the new
-- functions.

CREATE EVENT TRIGGER tenancy_guard_grants ON ddl_command_end
    WHEN TAG IN ('GRANT')
    EXECUTE FUNCTION tenancy.guard_grants();

-- Finds actors whose names look alike (tenancy._refuse_lookalike).
CREATE INDEX memberships_actor_skeleton_idx ON tenancy.memberships (tenant_id, tenancy._actor_skeleton(actor));

-- Tables protected in 0.1 may have granted TRIGGER or REFERENCES to others.
DO $revoke$
DECLARE
    protected regclass;
BEGIN
    FOR protected IN SELECT p.relid FROM tenancy.protected_tables p LOOP
        PERFORM tenancy._revoke_trigger_grants(protected);
    END LOOP;
END
$revoke$;

-- New sessions load pg_tenancy at start, for its guards.
SELECT tenancy._preload_in_database();
