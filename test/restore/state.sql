-- Everything pg_tenancy keeps in a database, row for row: each catalog
-- table, the audit log (with the partition each row is in), the denials,
-- the tenants' history, the sequences behind their ids, and the protected
-- tables' rows. Whole rows as text, so that any difference in any column
-- shows.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET row_security = off;
SELECT 'tenants', count(*), md5(string_agg(t::text, ',' ORDER BY t.id)) FROM tenancy.tenants t;
SELECT 'memberships', count(*), md5(string_agg(m::text, ',' ORDER BY m.tenant_id, m.actor)) FROM tenancy.memberships m;
SELECT 'domains', count(*), md5(string_agg(d::text, ',' ORDER BY d.host)) FROM tenancy.domains d;
SELECT 'plans', count(*), md5(string_agg(p::text, ',' ORDER BY p.name)) FROM tenancy.plans p;
SELECT 'setting_definitions', count(*), md5(string_agg(d::text, ',' ORDER BY d.key)) FROM tenancy.setting_definitions d;
SELECT 'protected_tables', count(*), md5(string_agg(p::text, ',' ORDER BY p.relid::text))
  FROM tenancy.protected_tables p;
SELECT 'audit_log', count(*), md5(string_agg(a.tableoid::regclass || ':' || a::text, ',' ORDER BY a.id))
  FROM tenancy.audit_log a;
SELECT 'platform_grants', count(*), md5(string_agg(g::text, ',' ORDER BY g.role::text, g.kind))
  FROM tenancy.platform_grants g;
SELECT 'access_denials', count(*), md5(string_agg(d::text, ',' ORDER BY d.id)) FROM tenancy.access_denials d;
SELECT 'tenant_events', count(*), md5(string_agg(e::text, ',' ORDER BY e.id)) FROM tenancy.tenant_events e;
SELECT 'audit_log_id_seq', last_value, is_called FROM tenancy.audit_log_id_seq;
SELECT 'access_denials_id_seq', last_value, is_called FROM tenancy.access_denials_id_seq;
SELECT 'tenant_events_id_seq', last_value, is_called FROM tenancy.tenant_events_id_seq;
SELECT 'shop.orders', count(*), md5(string_agg(o::text, ',' ORDER BY o.id)) FROM shop.orders o;
SELECT 'shop.invoices', count(*), md5(string_agg(i::text, ',' ORDER BY i.id)) FROM shop.invoices i;
SELECT 'shop.invoices owner', pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'shop.invoices'::regclass;
SELECT 'pii_columns', count(*), string_agg(format('%s.%s %s %s %s', p.table_name, p.column_name, p.kind, p.subject, p.erasure), ',')
  FROM tenancy.pii_columns() p;
SELECT 'subject_requests', count(*), md5(string_agg(r::text, ',' ORDER BY r.id)) FROM tenancy.subject_requests r;
SELECT 'subject_requests_id_seq', last_value, is_called FROM tenancy.subject_requests_id_seq;
