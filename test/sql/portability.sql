-- Tenant portability: what an export's manifest holds and who may read it,
-- an import from rows staged with COPY (as tenantctl does), clone_tenant(),
-- new keys where the tables generate them with every reference following,
-- and each refusal leaving nothing behind.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

SET ROLE app_owner;
CREATE TABLE app.shops (id bigserial PRIMARY KEY, name text NOT NULL, UNIQUE (tenant_id, name),
                        tenant_id uuid);
CREATE TABLE app.items (
    id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop_id   bigint NOT NULL REFERENCES app.shops (id),
    parent_id integer REFERENCES app.items (id),
    label     text NOT NULL,
    price     numeric(8, 2),
    tags      text[],
    meta      jsonb,
    doubled   numeric GENERATED ALWAYS AS (price * 2) STORED
);
CREATE TABLE app.receipts (id uuid DEFAULT gen_random_uuid() PRIMARY KEY, item_id integer REFERENCES app.items (id),
                           note text);
CREATE TABLE app.codes (code text NOT NULL, label text);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.shops, app.items, app.receipts, app.codes TO PUBLIC;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO PUBLIC;
RESET ROLE;
SELECT tenancy.protect('app.shops'), tenancy.protect('app.items'), tenancy.protect('app.receipts'),
       tenancy.protect('app.codes');
SET ROLE app_owner;
ALTER TABLE app.codes ADD PRIMARY KEY (tenant_id, code);
RESET ROLE;

-- A tenant of its own, with rows in these tables only (the tables of the
-- earlier tests hold rows of acme and globex).
SELECT tenancy.create_tenant('portable', 'Portable Inc', owner => 'alice') IS NOT NULL AS created;
SELECT tenancy.add_member('portable', 'carol', 'admin'), tenancy.add_member('portable', 'dave', 'member');
SELECT tenancy.set_tenant_setting('portable', 'max_users', '40') IS NOT NULL AS set;
SELECT tenancy.add_domain('portable', 'portable.example.com');
SET ROLE alice;
SET tenancy.tenant = 'portable';
INSERT INTO app.shops (name) VALUES ('north'), ('south');
INSERT INTO app.items (shop_id, label, price, tags, meta)
SELECT s.id, s.name || '-' || n, n * 1.5, ARRAY['t' || n, NULL], jsonb_build_object('n', n, 'quote', E'a "b"\\c')
  FROM app.shops s, generate_series(1, 3) n;
UPDATE app.items c SET parent_id = p.id FROM app.items p WHERE p.label = 'north-1' AND c.label IN ('north-2', 'south-3');
INSERT INTO app.receipts (item_id, note) SELECT id, E'line one\nline two, "quoted"' FROM app.items WHERE label LIKE 'north%';
INSERT INTO app.codes VALUES ('vip', 'Very important'), ('new', NULL);
SET ROLE bob;
SET tenancy.tenant = 'globex';
INSERT INTO app.shops (name) VALUES ('north');
INSERT INTO app.items (shop_id, label) SELECT id, 'globex-only' FROM app.shops;
INSERT INTO app.codes VALUES ('vip', 'Globex VIP');
RESET tenancy.tenant;
RESET ROLE;

-- A table whose planning runs its owner's code is refused: an export would
-- plan queries on it with the caller's rights, a clone as its owner; the
-- clone leaves nothing behind.
SET ROLE carol;
SELECT tenancy.export_manifest('portable');
:sqlstate
SET ROLE ops;
SELECT tenancy.clone_tenant('acme', 'acme-copy');
:sqlstate
SELECT count(*) AS tenants FROM tenancy.tenants WHERE slug = 'acme-copy';
SET ROLE app_owner;
DROP INDEX app.crates_folded_idx;
-- The manifest: the tenant's description and each protected table in
-- foreign key order, with its columns (not tenant_id, not generated ones)
-- and the query that reads the tenant's rows in key order.
SET ROLE carol;
SELECT m->>'format' AS format, m->'tenant'->>'slug' AS slug, m->'tenant'->>'plan' AS plan,
       m->'tenant'->'settings' AS settings, m->'tenant'->'region_server' AS server_hidden,
       jsonb_array_length(m->'tenant'->'memberships') AS members, m->'tenant'->'domains' AS domains
  FROM tenancy.export_manifest('portable') m;
SELECT t->>'table' AS table_name, t->'columns' AS columns, t->'key' AS key
  FROM jsonb_array_elements(tenancy.export_manifest('portable')->'tables') t
 WHERE t->>'table' IN ('app.shops', 'app.items', 'app.receipts', 'app.codes');
SELECT replace(t->>'query', m->'tenant'->>'id', '<portable>') AS query
  FROM tenancy.export_manifest('portable') m, jsonb_array_elements(m->'tables') t WHERE t->>'table' = 'app.items';
-- A member, another tenant's owner and a stranger are refused alike,
-- whether the tenant exists or not.
SET ROLE dave;
SELECT tenancy.export_manifest('portable');
:sqlstate
SET ROLE bob;
SELECT tenancy.export_manifest('portable');
:sqlstate
SELECT tenancy.export_manifest('no-such-tenant');
:sqlstate
-- Cloning and importing are for platform admins.
SET ROLE alice;
SELECT tenancy.clone_tenant('acme', 'acme-mine');
:sqlstate
SELECT tenancy.import_tenant('acme-mine', tenancy.export_manifest('acme'));
:sqlstate
RESET ROLE;

-- A unique key that holds across tenants and that the table does not
-- generate cannot be copied.
SET ROLE ops;
SELECT tenancy.clone_tenant('acme', 'acme-copy');
:sqlstate

-- A full clone: rows, members, settings and plan; new keys where the tables
-- generate them (bigserial, identity, uuid default), natural keys kept, and
-- every reference pointing at the new tenant's rows.
SET ROLE ops;
SELECT tenancy.clone_tenant('portable', 'portable-copy', name => 'Portable Copy') IS NOT NULL AS cloned;
SELECT t.slug, t.name, t.plan, t.settings, t.status,
       (SELECT string_agg(m.actor || ':' || m.role, ', ' ORDER BY m.actor) FROM tenancy.memberships m WHERE m.tenant_id = t.id) AS members,
       (SELECT count(*) FROM tenancy.domains d WHERE d.tenant_id = t.id) AS domains
  FROM tenancy.tenants t WHERE t.slug IN ('portable', 'portable-copy') ORDER BY t.slug;
RESET ROLE;
SELECT t.slug, (SELECT count(*) FROM app.shops x WHERE x.tenant_id = t.id) AS shops,
       (SELECT count(*) FROM app.items x WHERE x.tenant_id = t.id) AS items,
       (SELECT count(*) FROM app.receipts x WHERE x.tenant_id = t.id) AS receipts,
       (SELECT count(*) FROM app.codes x WHERE x.tenant_id = t.id) AS codes
  FROM tenancy.tenants t ORDER BY t.slug;
-- No key of the copy is one of the source's; each row's copy has the same
-- values and refers to the copies of the rows the source's refers to.
SELECT count(*) AS shared_keys FROM app.items a JOIN app.items b ON a.id = b.id
 WHERE a.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'portable')
   AND b.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'portable-copy');
SELECT count(*) AS shared_receipts FROM app.receipts a JOIN app.receipts b USING (id)
 WHERE a.tenant_id <> b.tenant_id;
SELECT i.label, s.name AS shop, p.label AS parent, i.price, i.tags, i.meta, i.doubled,
       s.tenant_id = i.tenant_id AS shop_same_tenant, p.tenant_id IS NOT DISTINCT FROM i.tenant_id OR p.id IS NULL AS parent_same_tenant
  FROM app.items i JOIN app.shops s ON s.id = i.shop_id LEFT JOIN app.items p ON p.id = i.parent_id
 WHERE i.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'portable-copy') ORDER BY i.label;
SELECT i.label, r.note, r.tenant_id = i.tenant_id AS same_tenant
  FROM app.receipts r JOIN app.items i ON i.id = r.item_id
 WHERE r.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'portable-copy') ORDER BY i.label;
SELECT code, label FROM app.codes WHERE tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'portable-copy') ORDER BY code;
-- The copy is a tenant like any other: its members see its rows only.
SET ROLE dave;
SET tenancy.tenant = 'portable-copy';
SELECT count(*) AS items_seen, count(*) FILTER (WHERE label = 'globex-only') AS globex_seen FROM app.items;
INSERT INTO app.items (shop_id, label) SELECT id, 'added to the copy' FROM app.shops WHERE name = 'north';
RESET tenancy.tenant;
RESET ROLE;

-- A template: plan, settings and limits, no members but the owner given,
-- no rows.
SET ROLE ops;
SELECT tenancy.clone_tenant('portable', 'portable-template', template => true, owner => 'erin') IS NOT NULL AS created;
SELECT t.settings, (SELECT string_agg(m.actor || ':' || m.role, ', ') FROM tenancy.memberships m WHERE m.tenant_id = t.id) AS members
  FROM tenancy.tenants t WHERE t.slug = 'portable-template';
RESET ROLE;
SELECT count(*) AS template_items FROM app.items WHERE tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'portable-template');

-- Bad input changes nothing.
SET ROLE ops;
SELECT tenancy.clone_tenant('portable', 'portable-copy');
:sqlstate
SELECT tenancy.clone_tenant('nobody', 'portable-2');
:sqlstate
SELECT tenancy.clone_tenant('portable', 'Portable 2');
:sqlstate
SELECT count(*) AS tenants FROM tenancy.tenants;

-- An owner's trigger that keeps rows out makes the whole clone fail.
SET ROLE app_owner;
CREATE FUNCTION app.skip_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN CASE WHEN NEW.code = 'new' THEN NULL ELSE NEW END;
END
$$;
CREATE TRIGGER skip_new BEFORE INSERT ON app.codes FOR EACH ROW EXECUTE FUNCTION app.skip_new();
SET ROLE ops;
SELECT tenancy.clone_tenant('portable', 'portable-3');
:sqlstate
SELECT count(*) AS tenants FROM tenancy.tenants WHERE slug = 'portable-3';
SET ROLE app_owner;
DROP TRIGGER skip_new ON app.codes;
DROP FUNCTION app.skip_new();

-- An import, as tenantctl runs it: the manifest, a temporary table per
-- table (import_stage()), COPY of each file, then import_tenant(), all in
-- one transaction.
SET ROLE ops;
SELECT tenancy.export_manifest('portable') || '{"file_format": "csv"}' AS manifest \gset
BEGIN;
SELECT max(stage) FILTER (WHERE table_name = 'app.shops') AS shops_stage,
       max(copy_sql) FILTER (WHERE table_name = 'app.shops') AS shops_copy,
       max(stage) FILTER (WHERE table_name = 'app.items') AS items_stage,
       count(*) > 10 AS every_table
  FROM tenancy.import_stage(:'manifest') \gset
SELECT :'shops_copy' LIKE 'COPY pg_temp.tenancy_import_% (id, name) FROM STDIN (FORMAT csv, HEADER match)' AS copy_statement,
       :'every_table' AS every_table;
COPY :shops_stage (id, name) FROM STDIN (FORMAT csv, HEADER match);
id,name
10,east
11,west
\.
COPY :items_stage (id, shop_id, parent_id, label, price, tags, meta) FROM STDIN (FORMAT csv, HEADER match);
id,shop_id,parent_id,label,price,tags,meta
100,10,,east-1,2.50,"{a,""b c""}","{""k"": ""v""}"
101,10,100,east-2,,,
102,11,101,west-1,1,,
\.
SELECT tenancy.import_tenant('portable-imported', :'manifest') AS result \gset
COMMIT;
SELECT r.key AS table_name, r.value AS rows FROM jsonb_each(:'result'::jsonb->'rows') r WHERE r.value::integer > 0;
SELECT :'result'::jsonb->'domains_left_out' AS domains_left_out, :'result'::jsonb->>'region' AS region;
RESET ROLE;
SELECT s.name, s.id NOT IN (10, 11) AS new_key FROM app.shops s
 WHERE s.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'portable-imported') ORDER BY s.name;
SELECT i.label, s.name AS shop, p.label AS parent, i.price, i.tags, i.meta, i.id NOT IN (100, 101, 102) AS new_key
  FROM app.items i JOIN app.shops s ON s.id = i.shop_id LEFT JOIN app.items p ON p.id = i.parent_id
 WHERE i.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'portable-imported') ORDER BY i.label;
SELECT string_agg(m.actor || ':' || m.role, ', ' ORDER BY m.actor) AS members FROM tenancy.memberships m
 WHERE m.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'portable-imported');

-- A reference to a row the export lacks fails the whole import.
SET ROLE ops;
BEGIN;
SELECT max(stage) FILTER (WHERE table_name = 'app.shops') AS shops_stage,
       max(stage) FILTER (WHERE table_name = 'app.items') AS items_stage
  FROM tenancy.import_stage(:'manifest') \gset
INSERT INTO :shops_stage (id, name) VALUES (1, 'only');
INSERT INTO :items_stage (id, shop_id, label) VALUES (1, 1, 'fine'), (2, 99, 'dangling');
SELECT tenancy.import_tenant('portable-dangling', :'manifest');
:sqlstate
ROLLBACK;
SELECT count(*) AS tenants FROM tenancy.tenants WHERE slug = 'portable-dangling';
-- Row counts must be those of the manifest.
BEGIN;
SELECT max(stage) FILTER (WHERE table_name = 'app.shops') AS shops_stage FROM tenancy.import_stage(:'manifest') \gset
INSERT INTO :shops_stage (id, name) VALUES (1, 'one');
SELECT tenancy.import_tenant('portable-short', jsonb_set(:'manifest', ARRAY['tables', (n - 1)::text, 'rows'], '5'))
  FROM jsonb_array_elements(:'manifest'::jsonb->'tables') WITH ORDINALITY a(t, n) WHERE t->>'table' = 'app.shops';
:sqlstate
ROLLBACK;
-- Rows not staged first.
SELECT tenancy.import_tenant('portable-unstaged', :'manifest');
:sqlstate
-- A tenant stays in its region unless the move is allowed.
BEGIN;
SELECT count(*) > 0 AS staged FROM tenancy.import_stage(:'manifest');
SELECT tenancy.import_tenant('portable-mars', jsonb_set(:'manifest', '{tenant,region}', '"mars"'));
:sqlstate
ROLLBACK;
BEGIN;
SELECT count(*) > 0 AS staged FROM tenancy.import_stage(:'manifest');
SELECT tenancy.import_tenant('portable-moved', :'manifest', region => 'eu-west');
:sqlstate
ROLLBACK;
BEGIN;
SELECT count(*) > 0 AS staged FROM tenancy.import_stage(:'manifest');
SELECT tenancy.import_tenant('portable-mars', jsonb_set(:'manifest', '{tenant,region}', '"mars"'),
                             allow_cross_region => true)->>'region' AS region;
COMMIT;
-- Manifests that are not, or that do not fit this database.
SELECT * FROM tenancy.import_stage('{"format": "something else"}');
:sqlstate
SELECT * FROM tenancy.import_stage(:'manifest'::jsonb || '{"format_version": 2}');
:sqlstate
SELECT * FROM tenancy.import_stage(:'manifest'::jsonb || '{"file_format": "xlsx"}');
:sqlstate
SELECT * FROM tenancy.import_stage(jsonb_set(:'manifest', '{tables,0,table}', '"app.nowhere"'));
:sqlstate
SELECT * FROM tenancy.import_stage(jsonb_set(:'manifest', '{tables,0,columns,0,name}', '"nope"'));
:sqlstate
SELECT * FROM tenancy.import_stage(jsonb_set(:'manifest', '{tables,0,columns,0,name}', '"tenant_id"'));
:sqlstate
-- A column type whose input runs an owner's code (a domain's CHECK) is
-- refused before any value is read in with the caller's rights.
SET ROLE app_owner;
CREATE FUNCTION app.check_label(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE DOMAIN app.label AS text CHECK (app.check_label(VALUE));
CREATE TABLE app.labelled (id int PRIMARY KEY, tenant_id uuid, labels app.label[]);
RESET ROLE;
SELECT tenancy.protect('app.labelled');
SET ROLE ops;
SELECT * FROM tenancy.import_stage(tenancy.export_manifest('portable'));
:sqlstate
RESET ROLE;
SELECT tenancy.unprotect('app.labelled');
DROP TABLE app.labelled;
DROP DOMAIN app.label;
DROP FUNCTION app.check_label(text);
-- Rows go only into protected tables, through staged columns they have.
SET ROLE ops;
BEGIN;
CREATE TEMPORARY TABLE tenancy_import_1 (actor text, operation text) ON COMMIT DROP;
SELECT tenancy.import_tenant('forged', '{"format": "pg_tenancy export", "format_version": 1, "tenant": {"name": "F"},
                                         "tables": [{"table": "tenancy.audit_log"}]}');
:sqlstate
ROLLBACK;
RESET ROLE;
SELECT slug FROM tenancy.tenants ORDER BY slug;

-- A tenant whose rows refer to each other across tables is dropped
-- children first (items refer to shops without ON DELETE CASCADE).
SET ROLE ops;
SELECT tenancy.drop_tenant('portable-copy');
RESET ROLE;
SELECT count(*) AS rows_left FROM app.items i
 WHERE NOT EXISTS (SELECT FROM tenancy.tenants t WHERE t.id = i.tenant_id);
