-- pg_tenancy: the history of each tenant. Triggers on tenancy.tenants and
-- tenancy.memberships (wiring/01_triggers.sql) record every creation,
-- change of status, plan, isolation or owner, and deletion, whoever made it
-- and however (management functions, tenantctl, a superuser's UPDATE).
-- Events outlive their tenant: no foreign key, and the slug is kept.

CREATE TABLE tenancy.tenant_events (
    id        bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id uuid NOT NULL,
    tenant    text NOT NULL,
    at        timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    actor     text NOT NULL,
    db_role   text NOT NULL,
    event     text NOT NULL,
    "from"    text,
    "to"      text,
    reason    text,
    details   jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT tenant_events_pkey PRIMARY KEY (id),
    CONSTRAINT tenant_events_event_check
        CHECK (event IN ('created', 'status', 'plan', 'isolation', 'region', 'owner', 'deleted'))
);
CREATE INDEX tenant_events_tenant_at_idx ON tenancy.tenant_events (tenant_id, at);
COMMENT ON TABLE tenancy.tenant_events IS
    'pg_tenancy: every creation, change of status, plan, isolation, region or owner, and deletion of a tenant; '
    'read by platform admins and by the owners and admins of the current tenant, edited by nobody';
COMMENT ON COLUMN tenancy.tenant_events.tenant IS 'the tenant''s slug when the event happened';
COMMENT ON COLUMN tenancy.tenant_events.actor IS 'tenancy.actor() of the session that made the change';
COMMENT ON COLUMN tenancy.tenant_events.db_role IS 'the session''s outer database role (a service role asserting the actor)';
COMMENT ON COLUMN tenancy.tenant_events.event IS
    'created, status, plan, isolation, region, owner (an actor became or stopped being an active owner), deleted';
COMMENT ON COLUMN tenancy.tenant_events."from" IS 'the value before (status, plan, isolation, region; owner: the actor who stopped being one)';
COMMENT ON COLUMN tenancy.tenant_events."to" IS 'the value after (status, plan, isolation, region; owner: the actor who became one)';
COMMENT ON COLUMN tenancy.tenant_events.reason IS 'the reason given with a change of status';

REVOKE ALL ON tenancy.tenant_events FROM PUBLIC;
GRANT SELECT ON tenancy.tenant_events TO PUBLIC;
ALTER TABLE tenancy.tenant_events ENABLE ROW LEVEL SECURITY;

SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_events', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_events_id_seq', '');
