-- pg_tenancy: usage alerts. When a tenant's usage crosses 80 % and 100 % of
-- one of its limits (members, rows of a table), a row is written here, once
-- per limit, threshold and month, and a NOTIFY tenancy_alerts carries it as
-- JSON to whoever listens (at commit: an addition that rolls back alerts
-- nobody).

CREATE TABLE tenancy.alerts (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id   uuid NOT NULL,
    tenant      text NOT NULL,
    limit_key   text NOT NULL,
    threshold   integer NOT NULL,
    period      date NOT NULL,
    usage       numeric NOT NULL,
    "limit"     numeric NOT NULL,
    plan        text NOT NULL,
    at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    CONSTRAINT alerts_pkey PRIMARY KEY (id),
    CONSTRAINT alerts_once UNIQUE (tenant_id, limit_key, threshold, period),
    CONSTRAINT alerts_threshold_check CHECK (threshold IN (80, 100))
);
CREATE INDEX alerts_at_idx ON tenancy.alerts (at);
COMMENT ON TABLE tenancy.alerts IS
    'pg_tenancy: a tenant''s usage crossing 80 % or 100 % of a limit, once per limit, threshold and month; '
    'read by platform admins and by the owners and admins of the current tenant';
COMMENT ON COLUMN tenancy.alerts.limit_key IS 'members, or rows.<schema>.<table> (as tenancy.tenant_limits() names them)';
COMMENT ON COLUMN tenancy.alerts.period IS 'the month (UTC) the alert belongs to (its first day)';
COMMENT ON COLUMN tenancy.alerts.usage IS 'the usage that crossed the threshold';

REVOKE ALL ON tenancy.alerts FROM PUBLIC;
GRANT SELECT ON tenancy.alerts TO PUBLIC;
ALTER TABLE tenancy.alerts ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.alerts_id_seq', '');
