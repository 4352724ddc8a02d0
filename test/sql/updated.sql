-- In place of install.sql when the suite runs on a database that was
-- installed at an earlier version, filled, updated with ALTER EXTENSION
-- pg_tenancy UPDATE and emptied of its tenants (test/upgrade/regress.sh):
-- it is at the current version, its audit trail and settings survived, and
-- every later test runs on it as on a fresh install.
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'pg_tenancy') AS current_version
  FROM pg_extension WHERE extname = 'pg_tenancy';
SELECT count(*) AS tenants_left FROM tenancy.tenants;
SELECT count(*) > 0 AS audit_rows_kept FROM tenancy.audit_log;
SELECT setting ~ 'pg_tenancy' AS preloaded
  FROM pg_db_role_setting s, LATERAL unnest(s.setconfig) setting
 WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.setrole = 0
   AND setting LIKE 'session_preload_libraries=%';
