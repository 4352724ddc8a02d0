-- Memberships: who may change them, the owner rules, and bad input.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- A tenant admin (carol) adds and changes members below owner.
SET ROLE carol;
SELECT tenancy.add_member('acme', 'frank', 'member');
SELECT tenancy.set_member_role('acme', 'frank', 'admin');
-- ...but cannot grant owner, nor touch an owner.
SELECT tenancy.add_member('acme', 'grace', 'owner');
:sqlstate
SELECT tenancy.set_member_role('acme', 'frank', 'owner');
:sqlstate
SELECT tenancy.set_member_role('acme', 'alice', 'admin');
:sqlstate
SELECT tenancy.remove_member('acme', 'alice');
:sqlstate
-- ...and manages only her own tenant.
SELECT tenancy.add_member('globex', 'carol', 'owner');
:sqlstate
SELECT tenancy.add_member('globex', 'frank', 'viewer');
:sqlstate
RESET ROLE;

-- Members and viewers manage nobody.
SET ROLE dave;
SELECT tenancy.add_member('acme', 'grace', 'viewer');
:sqlstate
SELECT tenancy.set_member_role('acme', 'erin', 'member');
:sqlstate
RESET ROLE;
SET ROLE mallory;
SELECT tenancy.add_member('acme', 'mallory', 'owner');
:sqlstate
RESET ROLE;

-- The owner (alice) grants owner; the last owner cannot leave or be demoted.
SET ROLE alice;
SELECT tenancy.remove_member('acme', 'alice');
:sqlstate
SELECT tenancy.set_member_role('acme', 'alice', 'viewer');
:sqlstate
SELECT tenancy.set_member_active('acme', 'alice', false);
:sqlstate
SELECT tenancy.set_member_role('acme', 'frank', 'owner');
SELECT tenancy.set_member_role('acme', 'alice', 'admin');
RESET ROLE;
-- Now frank is the only owner; alice (admin) cannot demote him.
SET ROLE alice;
SELECT tenancy.set_member_role('acme', 'frank', 'member');
:sqlstate
RESET ROLE;
-- Platform admins are bound by the last-owner rule too.
SET ROLE ops;
SELECT tenancy.remove_member('acme', 'frank');
:sqlstate
SELECT tenancy.set_member_role('acme', 'alice', 'owner');
SELECT tenancy.remove_member('acme', 'frank');
RESET ROLE;

-- Anyone may leave a tenant: erin (viewer) removes herself.
SET ROLE erin;
SELECT tenancy.remove_member('acme', 'erin');
RESET ROLE;
SELECT tenancy.add_member('acme', 'erin', 'viewer');

-- Duplicates, unknown members, unknown tenants, bad actors and roles.
SELECT tenancy.add_member('acme', 'dave', 'viewer');
:sqlstate
SELECT tenancy.set_member_role('acme', 'nobody', 'viewer');
:sqlstate
SELECT tenancy.remove_member('acme', 'nobody');
:sqlstate
SELECT tenancy.add_member('nope', 'dave', 'viewer');
:sqlstate
SELECT tenancy.add_member('acme', '', 'viewer');
:sqlstate
SELECT tenancy.add_member('acme', E'tab\there', 'viewer');
:sqlstate
SELECT tenancy.add_member('acme', repeat('x', 257), 'viewer');
:sqlstate
-- Names are put in Unicode normal form C: the decomposed and the composed
-- spellings of one name are one actor.
SELECT tenancy.add_member('acme', E'Ame\u0301lie', 'viewer');
SELECT actor = E'Am\u00e9lie' AS composed FROM tenancy.member_list('acme') WHERE actor LIKE 'Am%';
SELECT tenancy.set_member_role('acme', E'Am\u00e9lie', 'member');
SELECT tenancy.remove_member('acme', E'Ame\u0301lie');
-- Format characters are refused, so are names that mix scripts the way
-- look-alikes do (a Cyrillic "a" in "dave", a Cyrillic "o" in "bob", a
-- Cyrillic palochka for an "l"), and names that look like a member of the
-- tenant or a database role (digit one for letter l, full-width letters).
SELECT tenancy.add_member('acme', E'dave\u200b', 'viewer');
:sqlstate
SELECT tenancy.add_member('acme', E'd\u0430ve', 'viewer');
:sqlstate
SELECT tenancy.add_member('acme', E'b\u043eb', 'viewer');
:sqlstate
SELECT tenancy.add_member('acme', E'alice@examp\u04cfe.com', 'viewer');
:sqlstate
SELECT tenancy.add_member('acme', 'a1ice', 'viewer');
:sqlstate
SELECT tenancy.add_member('acme', E'\uff42\uff4f\uff42', 'viewer');
:sqlstate
-- One script, or Latin with Han and Kana, is fine.
SELECT tenancy.add_member('acme', E'\u5c71\u7530@example.com', 'viewer');
SELECT tenancy.remove_member('acme', E'\u5c71\u7530@example.com');
SELECT tenancy.create_tenant('lookalike', 'Lookalike', owner => E'\u0430lice');
:sqlstate
SELECT tenancy.add_member('acme', 'grace', 'superhero');
:sqlstate
SELECT tenancy.add_member('acme', 'grace', NULL);
:sqlstate
SELECT tenancy.add_member('acme', NULL, 'viewer');
:sqlstate

-- A suspended tenant's members are managed by platform admins only.
SELECT tenancy.suspend_tenant('acme');
SET ROLE alice;
SELECT tenancy.add_member('acme', 'grace', 'viewer');
:sqlstate
RESET ROLE;
SELECT tenancy.activate_tenant('acme');

-- The state after all of the above.
SELECT t.slug, m.actor, m.role, m.is_active
  FROM tenancy.memberships m JOIN tenancy.tenants t ON t.id = m.tenant_id
 ORDER BY t.slug, m.role DESC, m.actor;

-- Domains: owners and platform admins assign host names; resolution.
SET ROLE alice;
SELECT tenancy.add_domain('acme', 'Acme.Example.COM.');
SELECT tenancy.add_domain('globex', 'globex.example.com');
:sqlstate
RESET ROLE;
SELECT tenancy.add_domain('globex', 'globex.example.com');
SELECT tenancy.add_domain('globex', 'acme.example.com');
:sqlstate
SELECT tenancy.add_domain('acme', 'not a host');
:sqlstate
SELECT tenancy.add_domain('acme', '-bad-.example.com');
:sqlstate
SELECT tenancy.resolve_domain('ACME.example.com'), tenancy.resolve_domain('unknown.example.com');
-- A Host header as a browser sends it: the port is ignored, whatever its case
-- or trailing dot; a port on an unknown host still resolves to nothing.
SELECT tenancy.resolve_domain('acme.example.com:8000') AS with_port,
       tenancy.resolve_domain(' Acme.Example.COM.:443 ') AS dotted_with_port,
       tenancy.resolve_domain('acme.example.com:') AS empty_port,
       tenancy.resolve_domain('unknown.example.com:8000') AS unknown_with_port,
       tenancy.resolve_domain('acme.example.com:80:80') AS two_ports;
SET ROLE carol;
SELECT tenancy.remove_domain('acme.example.com');
:sqlstate
RESET ROLE;
SELECT tenancy.remove_domain('nowhere.example.com');
:sqlstate
SELECT host, (SELECT slug FROM tenancy.tenants t WHERE t.id = d.tenant_id) FROM tenancy.domains d ORDER BY host;
