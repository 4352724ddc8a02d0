-- pg_tenancy 0.8 -> 0.9, after the functions.

-- Requests about persons (new in 0.9): read like the audit log; written only
-- by the functions of personal data.
CREATE POLICY subject_requests_read ON tenancy.subject_requests FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));
