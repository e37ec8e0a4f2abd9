-- Organisation tenants, the audit log, the sign-in handoff for private rooms and the
-- per-room data keys that encrypt them. Times are unix milliseconds.

-- The room's AES-256 data key wrapped by MASTER_KEY: `k1.<master key id>.<base64url>`
-- (domain::envelope). Set the first time the room becomes private; kept afterwards.
ALTER TABLE rooms ADD COLUMN data_key TEXT;

-- Append-only: nothing updates an event (the trigger refuses it); they are deleted only
-- with their tenant or by the retention rule. `subject_id` marks an account event
-- (sign-in, password, email, tokens): only that user sees it in their personal tenant.
CREATE TABLE audit_events (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  actor_id    TEXT,
  actor_name  TEXT,
  subject_id  TEXT,
  action      TEXT NOT NULL,
  target      TEXT NOT NULL DEFAULT '',
  details     TEXT NOT NULL DEFAULT '{}',
  ip          TEXT NOT NULL DEFAULT '',
  once_key    TEXT UNIQUE,
  created_at  INTEGER NOT NULL
);
CREATE INDEX audit_by_tenant ON audit_events(tenant_id, created_at, id);
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only');
END;

-- One-time codes of the handoff: the app issues one for a user, session and tenant; the
-- tenant host trades it, once, within a minute, for its grant cookie.
CREATE TABLE grant_codes (
  code_hash    TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  session_id   TEXT NOT NULL,
  tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  return_path  TEXT NOT NULL,
  expires_at   INTEGER NOT NULL,
  used_at      INTEGER
);
CREATE INDEX grant_codes_by_expiry ON grant_codes(expires_at);
