-- pg_tenancy 0.3 -> 0.4, after the functions: protected tables trade their
-- foreign key to tenancy.tenants for the tenancy_tenant_check trigger and
-- the tenant locks (extension/tenant_lock.hpp); tenancy.tenants gets the
-- triggers that remove a dropped tenant's rows and refuse TRUNCATE.

CREATE TRIGGER tenants_remove_rows AFTER DELETE ON tenancy.tenants
    FOR EACH ROW EXECUTE FUNCTION tenancy.remove_tenant_rows();
CREATE TRIGGER tenants_refuse_truncate BEFORE TRUNCATE ON tenancy.tenants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._refuse_tenant_rows_loss();
CREATE TRIGGER tenants_refuse_new_id BEFORE UPDATE OF id ON tenancy.tenants
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION tenancy._refuse_tenant_rows_loss();

-- The foreign key protect() added: on tenant_id, to tenancy.tenants, ON
-- DELETE CASCADE. Foreign keys of other shapes were the owners' own.
DO $tenant_check$
DECLARE
    target record;
BEGIN
    FOR target IN
        SELECT p.relid, con.conname
          FROM tenancy.protected_tables p
          LEFT JOIN pg_catalog.pg_attribute a
                 ON a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped
          LEFT JOIN pg_catalog.pg_constraint con
                 ON con.conrelid = p.relid AND con.contype = 'f'
                AND con.confrelid = 'tenancy.tenants'::pg_catalog.regclass
                AND con.conkey = ARRAY[a.attnum] AND con.confdeltype = 'c'
    LOOP
        IF target.conname IS NOT NULL THEN
            EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', target.relid, target.conname);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                        WHERE t.tgrelid = target.relid AND t.tgname = 'tenancy_tenant_check') THEN
            EXECUTE pg_catalog.format('CREATE TRIGGER tenancy_tenant_check AFTER INSERT OR UPDATE OF tenant_id '
                                      'ON %s FOR EACH ROW EXECUTE FUNCTION tenancy.tenant_check()', target.relid);
        END IF;
    END LOOP;
END
$tenant_check$;

-- The write policies call tenancy.tenant_for() directly (09_protect.sql).
SELECT tenancy._install_policies(p.relid, p.read_role, p.write_role, p.delete_role)
  FROM tenancy.protected_tables p;
