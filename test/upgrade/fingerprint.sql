-- A description of every object of the pg_tenancy extension, by name and
-- definition (never by oid), one line each, in a stable order: two databases
-- with the same fingerprint have the same extension objects. Used to compare
-- a database updated from an older version with a fresh install.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET search_path = pg_catalog;
-- An ACL without the privileges that platform rights bring (data of the
-- database, like the rows of tenancy.platform_grants, not of the extension).
CREATE FUNCTION pg_temp.extension_acl(acl aclitem[]) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT item FROM unnest(acl) item
                  WHERE NOT EXISTS (SELECT 1 FROM aclexplode(ARRAY[item]) x
                                      JOIN tenancy.platform_grants g ON g.role = x.grantee))::text
$$;
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'pg_tenancy'),
members AS (
    SELECT d.classid, d.objid FROM pg_depend d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
rels AS (
    SELECT c.*, c.oid::regclass::text AS name FROM pg_class c
     WHERE c.oid IN (SELECT objid FROM members WHERE classid = 'pg_class'::regclass)
        OR c.oid IN (SELECT i.indexrelid FROM pg_index i JOIN members m ON m.classid = 'pg_class'::regclass
                                                           AND m.objid = i.indrelid)
)
SELECT line FROM (
    SELECT 'extension ' || e.extversion || ' config ' ||
           coalesce((SELECT string_agg(x::regclass::text, ',' ORDER BY x::regclass::text)
                       FROM unnest(e.extconfig) x), '') || ' ' || coalesce(array_to_string(e.extcondition, ','), '')
      FROM pg_extension e WHERE e.extname = 'pg_tenancy'
    UNION ALL
    SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text || E'\n' || pg_get_functiondef(p.oid) ||
           ' acl ' || coalesce(p.proacl::text, 'default') || ' comment ' || coalesce(obj_description(p.oid, 'pg_proc'), '')
      FROM pg_proc p WHERE p.oid IN (SELECT objid FROM members WHERE classid = 'pg_proc'::regclass)
    UNION ALL
    SELECT format('relation %s kind %s persistence %s rls %s force %s acl %s options %s partition %s comment %s',
                  r.name, r.relkind, r.relpersistence, r.relrowsecurity, r.relforcerowsecurity,
                  coalesce(pg_temp.extension_acl(r.relacl), 'default'), coalesce(r.reloptions::text, ''),
                  coalesce(pg_get_expr(r.relpartbound, r.oid), pg_get_partkeydef(r.oid), ''),
                  coalesce(obj_description(r.oid, 'pg_class'), ''))
      FROM rels r
    UNION ALL
    SELECT format('column %s.%s #%s %s notnull %s default %s identity %s generated %s collation %s acl %s comment %s',
                  r.name, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''), a.attidentity, a.attgenerated,
                  coalesce(co.collname, ''), coalesce(a.attacl::text, ''),
                  coalesce(col_description(r.oid, a.attnum), ''))
      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
           LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
           LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
     WHERE r.relkind IN ('r', 'p', 'v', 'S', 'c')
    UNION ALL
    SELECT format('constraint %s %s %s', r.name, con.conname, pg_get_constraintdef(con.oid))
      FROM rels r JOIN pg_constraint con ON con.conrelid = r.oid
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid)) FROM rels r JOIN pg_index i ON i.indexrelid = r.oid
    UNION ALL
    SELECT format('policy %s %s %s %s to %s using %s check %s', r.name, pol.polname, pol.polcmd, pol.polpermissive,
                  pol.polroles::regrole[]::text, coalesce(pg_get_expr(pol.polqual, pol.polrelid), ''),
                  coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), ''))
      FROM rels r JOIN pg_policy pol ON pol.polrelid = r.oid
    UNION ALL
    SELECT format('trigger %s enabled %s', pg_get_triggerdef(t.oid), t.tgenabled)
      FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT format('sequence %s %s start %s increment %s cycle %s', r.name, format_type(s.seqtypid, NULL),
                  s.seqstart, s.seqincrement, s.seqcycle)
      FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
    UNION ALL
    SELECT format('type %s %s labels %s comment %s', t.oid::regtype, t.typtype,
                  (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
                  coalesce(obj_description(t.oid, 'pg_type'), ''))
      FROM pg_type t WHERE t.oid IN (SELECT objid FROM members WHERE classid = 'pg_type'::regclass)
    UNION ALL
    SELECT format('event trigger %s on %s tags %s function %s enabled %s', e.evtname, e.evtevent,
                  coalesce(e.evttags::text, ''), e.evtfoid::regprocedure, e.evtenabled)
      FROM pg_event_trigger e WHERE e.oid IN (SELECT objid FROM members WHERE classid = 'pg_event_trigger'::regclass)
    UNION ALL
    SELECT format('schema %s owner-acl %s comment %s', n.nspname, pg_temp.extension_acl(n.nspacl), coalesce(obj_description(n.oid, 'pg_namespace'), ''))
      FROM pg_namespace n WHERE n.nspname = 'tenancy'
) lines(line)
ORDER BY line;
