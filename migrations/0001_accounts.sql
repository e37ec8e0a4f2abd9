-- Accounts, tenants and everything that authenticates. Times are unix milliseconds.
-- D1 enforces foreign keys, so deleting a user or tenant cascades to what hangs off it.

CREATE TABLE users (
  id                  TEXT PRIMARY KEY,
  username            TEXT NOT NULL UNIQUE,
  email               TEXT NOT NULL UNIQUE,
  email_verified      INTEGER NOT NULL DEFAULT 0,
  password_hash       TEXT NOT NULL,
  display_name        TEXT NOT NULL,
  preferences         TEXT NOT NULL DEFAULT '{}',
  created_at          INTEGER NOT NULL
);

CREATE TABLE tenants (
  id            TEXT PRIMARY KEY,
  slug          TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL CHECK (kind IN ('personal', 'organisation')),
  display_name  TEXT NOT NULL,
  plan          TEXT NOT NULL DEFAULT 'free',
  home_room_id  TEXT,
  created_at    INTEGER NOT NULL
);

CREATE TABLE memberships (
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'member', 'viewer')),
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships(user_id);

CREATE TABLE rooms (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  slug        TEXT NOT NULL,
  title       TEXT NOT NULL,
  visibility  TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (tenant_id, slug)
);

CREATE TABLE sessions (
  id                   TEXT PRIMARY KEY,
  user_id              TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at           INTEGER NOT NULL,
  last_used_at         INTEGER NOT NULL,
  idle_expires_at      INTEGER NOT NULL,
  absolute_expires_at  INTEGER NOT NULL,
  user_agent           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_user ON sessions(user_id);

-- Every refresh token a session was ever given, so reuse of an old one is detected.
CREATE TABLE refresh_tokens (
  token_hash  TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  used_at     INTEGER
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id);

-- Single-use mailed secrets: email verification, password reset, one-time codes.
CREATE TABLE email_tokens (
  token_hash  TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  purpose     TEXT NOT NULL CHECK (purpose IN ('verify', 'reset', 'otp')),
  email       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX email_tokens_by_user ON email_tokens(user_id, purpose);

CREATE TABLE access_tokens (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  scope         TEXT NOT NULL CHECK (scope IN ('read', 'write')),
  tenant_id     TEXT REFERENCES tenants(id) ON DELETE CASCADE,
  room_id       TEXT REFERENCES rooms(id) ON DELETE CASCADE,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  last_used_at  INTEGER
);
CREATE INDEX access_tokens_by_user ON access_tokens(user_id);

CREATE TABLE messages (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,
  subject     TEXT NOT NULL,
  body        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  read_at     INTEGER
);
CREATE INDEX messages_by_user ON messages(user_id, created_at);

-- Failed sign-in counters, keyed 'account:<login>' or 'ip:<address>'.
CREATE TABLE throttles (
  key              TEXT PRIMARY KEY,
  failures         INTEGER NOT NULL,
  last_failure_at  INTEGER NOT NULL,
  blocked_until    INTEGER NOT NULL
);

-- Mails sent per address and purpose in the current hour: bounds mail bombing.
CREATE TABLE mail_counts (
  key           TEXT PRIMARY KEY,
  window_start  INTEGER NOT NULL,
  sent          INTEGER NOT NULL
);

-- DEV_MODE only: mail that would have been sent, shown by GET /api/v1/dev/outbox.
CREATE TABLE outbox (
  id          TEXT PRIMARY KEY,
  to_addr     TEXT NOT NULL,
  subject     TEXT NOT NULL,
  body        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX outbox_by_to ON outbox(to_addr, created_at);
