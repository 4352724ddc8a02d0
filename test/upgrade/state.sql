-- The user data of a filled database, as counts and checksums, to prove that
-- an update loses nothing: tenants, memberships, domains, protected tables,
-- protected rows and the audit trail.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SELECT 'tenants', count(*), md5(string_agg(format('%s|%s|%s|%s|%s|%s', id, slug, name, status, plan, settings), ',' ORDER BY id))
  FROM tenancy.tenants;
SELECT 'memberships', count(*), md5(string_agg(format('%s|%s|%s|%s', tenant_id, actor, role, is_active), ',' ORDER BY tenant_id, actor))
  FROM tenancy.memberships;
SELECT 'domains', count(*), md5(string_agg(format('%s|%s', host, tenant_id), ',' ORDER BY host)) FROM tenancy.domains;
SELECT 'protected_tables', count(*), md5(string_agg(format('%s|%s|%s|%s|%s', relid, read_role, write_role, delete_role, audit), ',' ORDER BY relid::text))
  FROM tenancy.protected_tables;
SELECT 'audit_log', count(*), md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s', id, tenant_id, actor, table_name, operation, old_row, new_row), ',' ORDER BY id))
  FROM tenancy.audit_log;
SET row_security = off;
SELECT 'shop.orders', count(*), md5(string_agg(format('%s|%s|%s|%s', tenant_id, id, item, qty), ',' ORDER BY id)) FROM shop.orders;
