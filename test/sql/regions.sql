-- Regions: platform admins define them and place tenants in them; every
-- tenant has one (tenancy.default_region, or "default"); an unknown region
-- is refused, and each change is an event.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- Tenants created before any region was defined live in "default".
SELECT slug, region FROM tenancy.tenants WHERE slug IN ('acme', 'globex') ORDER BY slug;

-- Only platform admins define, list, drop regions and move tenants.
SET ROLE alice;
SELECT tenancy.define_region('eu-west');
:sqlstate
SELECT tenancy.set_region('acme', 'default');
:sqlstate
SELECT * FROM tenancy.region_list();
:sqlstate
SELECT count(*) FROM tenancy.regions;
:sqlstate
RESET ROLE;

-- Bad names and servers are refused, and nothing is created.
SET ROLE ops;
SELECT tenancy.define_region('EU West');
:sqlstate
SELECT tenancy.define_region(NULL);
:sqlstate
SELECT tenancy.define_region('eu-west', 'Ireland', '   ');
:sqlstate
SELECT tenancy.define_region('eu-west', 'Ireland', E'host=a\nport=1');
:sqlstate
SELECT tenancy.define_region('eu-west', E'Ire\tland');
:sqlstate
SELECT tenancy.define_region('abcdef01-2345-6789-abcd-ef0123456789');
:sqlstate
SELECT tenancy.define_region('eu-west', repeat('x', 501));
:sqlstate
SELECT tenancy.define_region('eu-west', 'Ireland', E'host=a \u009b b');
:sqlstate
SELECT name FROM tenancy.regions ORDER BY name;

-- Defining again changes the description and the server.
SELECT tenancy.define_region('eu-west', 'Ireland');
SELECT tenancy.define_region('us-east', 'Virginia', 'host=db-us.internal port=5432');
SELECT tenancy.define_region('eu-west', 'Dublin, Ireland', 'host=db-eu.internal');
SELECT name, description, server, tenants FROM tenancy.region_list();

-- A new tenant goes to the region given, else to tenancy.default_region;
-- an unknown region is refused and no tenant is created.
SELECT tenancy.create_tenant('region-a', 'Region A', region => 'us-east') IS NOT NULL AS created;
SELECT tenancy.create_tenant('region-b', 'Region B', region => 'mars');
:sqlstate
SET tenancy.default_region = 'eu-west';
SELECT tenancy.create_tenant('region-b', 'Region B') IS NOT NULL AS created;
SET tenancy.default_region = 'moon';
SELECT tenancy.create_tenant('region-c', 'Region C');
:sqlstate
SET tenancy.default_region = 'Not A Name';
:sqlstate
RESET tenancy.default_region;
SELECT slug, region FROM tenancy.tenants WHERE slug LIKE 'region-%' ORDER BY slug;

-- Moving a tenant is an event; moving it where it is, nothing; an unknown
-- region is refused.
SELECT tenancy.set_region('region-a', 'eu-west');
SELECT tenancy.set_region('region-a', 'eu-west');
SELECT tenancy.set_region('region-a', 'nowhere');
:sqlstate
SELECT tenancy.set_region('no-such-tenant', 'eu-west');
:sqlstate
SELECT event, "from", "to", details ->> 'region' AS created_in
  FROM tenancy.tenant_event_list('region-a') WHERE event IN ('created', 'region');

-- A region with tenants cannot be dropped; an empty one can.
SELECT tenancy.drop_region('eu-west');
:sqlstate
SELECT tenancy.drop_region('us-east');
SELECT tenancy.drop_region('us-east');
:sqlstate
SELECT name, tenants FROM tenancy.region_list();

-- Its owners and admins see a tenant's region and its changes.
RESET ROLE;
SELECT tenancy.add_member('region-a', 'alice', 'admin');
SET ROLE alice;
SELECT tenancy.tenant_details('region-a') ->> 'region' AS region;
SELECT slug, region FROM tenancy.tenant_list() WHERE slug = 'region-a';
SET tenancy.tenant = 'region-a';
SELECT event, "from", "to" FROM tenancy.tenant_events WHERE event = 'region';
RESET tenancy.tenant;
RESET ROLE;

-- Clean up.
SET ROLE ops;
SELECT tenancy.drop_tenant('region-a');
SELECT tenancy.drop_tenant('region-b');
SELECT tenancy.drop_region('eu-west');
RESET ROLE;
