-- Typed settings: a platform admin defines a key's type and default;
-- set_tenant_setting() then refuses values of another type with nothing
-- changed; tenancy.setting() answers the current tenant's value or the
-- default to any of its members, and to nobody else.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- Only platform admins define settings; bad names, types and defaults are
-- refused.
SET ROLE alice;
SELECT tenancy.define_setting('timezone', 'timezone');
:sqlstate
RESET ROLE;
SET ROLE ops;
SELECT tenancy.define_setting('Time Zone', 'timezone');
:sqlstate
SELECT tenancy.define_setting('timezone', 'tz');
:sqlstate
SELECT tenancy.define_setting('timezone', 'timezone', '"Mars/Olympus"');
:sqlstate
SELECT count(*) AS definitions FROM tenancy.setting_definitions;

-- One key of each type.
SELECT tenancy.define_setting('timezone', 'timezone', '"UTC"', 'the tenant''s time zone');
SELECT tenancy.define_setting('brand.name', 'text');
SELECT tenancy.define_setting('seats', 'integer', '5');
SELECT tenancy.define_setting('vat.rate', 'numeric', '0.2');
SELECT tenancy.define_setting('beta', 'boolean', 'false');
SELECT tenancy.define_setting('locale', 'locale', '"en"');
SELECT tenancy.define_setting('billing.email', 'email');
SELECT tenancy.define_setting('logo', 'url');
SELECT tenancy.define_setting('brand.color', 'color', '"#336699"');
SELECT tenancy.define_setting('theme', 'jsonb', '{"dark": false}');
SELECT key, type, default_value, description FROM tenancy.setting_definitions ORDER BY key;
RESET ROLE;

-- Acme's owner sets values: those of the key's type are taken, every other
-- one is refused with the type named, and nothing changes.
SET ROLE alice;
SELECT tenancy.set_tenant_setting('acme', 'timezone', '"Europe/Paris"') -> 'timezone' AS timezone;
SELECT tenancy.set_tenant_setting('acme', 'timezone', '"Europe/Atlantis"');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'timezone', '1');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'brand.name', '42');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'seats', '2.5');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'seats', '"12"');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'vat.rate', '"high"');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'beta', '"yes"');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'locale', '"French"');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'billing.email', '"billing at acme"');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'logo', '"javascript:alert(1)"');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'brand.color', '"red"');
:sqlstate
SELECT tenancy.set_tenant_setting('acme', 'seats', '12') ->> 'seats' AS seats;
SELECT tenancy.set_tenant_setting('acme', 'locale', '"fr-CA"') ->> 'locale' AS locale;
SELECT tenancy.set_tenant_setting('acme', 'billing.email', '"billing@acme.example"') ->> 'billing.email' AS email;
SELECT tenancy.set_tenant_setting('acme', 'logo', '"https://acme.example/logo.png"') ->> 'logo' AS logo;
SELECT tenancy.set_tenant_setting('acme', 'brand.color', '"#C0FFEE"') ->> 'brand.color' AS color;
-- Undefined keys stay free-form; null removes a value.
SELECT tenancy.set_tenant_setting('acme', 'anything', '[1, "two"]') -> 'anything' AS anything;
SELECT tenancy.set_tenant_setting('acme', 'anything', NULL) ? 'anything' AS still_there;

-- Members read the current tenant's value or the default; as text and jsonb.
SET ROLE erin;
SET tenancy.tenant = 'acme';
SELECT tenancy.setting('timezone') AS timezone, tenancy.setting('seats') AS seats,
       tenancy.setting('vat.rate') AS vat_rate, tenancy.setting('beta') AS beta,
       tenancy.setting_value('theme') AS theme, tenancy.setting('nothing') AS nothing;
-- Another tenant's members see their own tenant's values and the defaults.
SET ROLE bob;
SET tenancy.tenant = 'globex';
SELECT tenancy.setting('timezone') AS timezone, tenancy.setting('seats') AS seats;
-- No tenant selected: refused.
RESET tenancy.tenant;
SELECT tenancy.setting('timezone');
:sqlstate
RESET ROLE;

-- A definition whose type a tenant's value does not fit is refused until the
-- value changes; undefined, the key is free-form again.
SET ROLE ops;
SELECT tenancy.define_setting('billing.email', 'integer');
:sqlstate
SELECT tenancy.undefine_setting('billing.email');
SELECT tenancy.undefine_setting('billing.email');
:sqlstate
RESET ROLE;
SET ROLE alice;
SELECT tenancy.set_tenant_setting('acme', 'billing.email', '7') ->> 'billing.email' AS free_form_again;

-- Clean up.
SELECT tenancy.set_tenant_setting('acme', key, NULL) IS NOT NULL AS removed
  FROM unnest(ARRAY['timezone', 'seats', 'locale', 'billing.email', 'logo', 'brand.color']) key;
RESET ROLE;
SELECT count(tenancy.undefine_setting(key)) FROM tenancy.setting_definitions;
