-- Backstops in the database itself for two rules the code already keeps: the audit log
-- is kept for its retention period, and a tenant has exactly one owner.

-- An event younger than the retention period (400 days, domain::audit::RETENTION_MS) is
-- never deleted while its tenant exists. Deleting the tenant still takes its events
-- (the ON DELETE CASCADE runs after the tenant's row is gone), and the hourly purge
-- still deletes older ones. The hour of grace covers a difference between the Worker's
-- clock, which sets the purge's cutoff, and the database's. Times are unix milliseconds.
CREATE TRIGGER audit_events_kept BEFORE DELETE ON audit_events
WHEN OLD.created_at > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
                      - 400 * 86400000 + 3600000
  AND EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id)
BEGIN
  SELECT RAISE(ABORT, 'audit events are kept for 400 days');
END;

-- At most one owner per tenant, whatever races the conditional writes might miss.
CREATE UNIQUE INDEX memberships_one_owner ON memberships(tenant_id) WHERE role = 'owner';
