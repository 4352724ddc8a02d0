-- The extension, installed at its current version. (The suite runs a second
-- time on a database installed at an earlier version and updated; there
-- test/sql/updated.sql takes this file's place.)
CREATE EXTENSION pg_tenancy;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'pg_tenancy') AS current_version
  FROM pg_extension WHERE extname = 'pg_tenancy';
