-- Rooms' files, modules and media (issue 3). Times are unix milliseconds.

-- What a tenant stores, kept exact by every write (room files, tmp files, module
-- versions, media). Quota checks are conditional updates of these two columns.
ALTER TABLE tenants ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN used_files INTEGER NOT NULL DEFAULT 0;

-- A room's share of the above, and its head, mirrored by its Durable Object (the truth
-- for its file index) so listings need no call per room.
ALTER TABLE rooms ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN files INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

CREATE TABLE modules (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  description  TEXT NOT NULL DEFAULT '',
  visibility   TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private')),
  created_at   INTEGER NOT NULL,
  UNIQUE (tenant_id, name)
);

-- A version is claimed ('pending') before its files are written, so two uploads of one
-- version cannot both write; only 'ready' versions are served or installed.
CREATE TABLE module_versions (
  module_id   TEXT NOT NULL REFERENCES modules(id) ON DELETE CASCADE,
  version     TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('pending', 'ready')),
  entry       TEXT NOT NULL DEFAULT '',
  files       TEXT NOT NULL DEFAULT '[]',
  file_count  INTEGER NOT NULL DEFAULT 0,
  bytes       INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (module_id, version)
);

CREATE TABLE media (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  path          TEXT NOT NULL,
  size          INTEGER NOT NULL,
  content_type  TEXT NOT NULL,
  etag          TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  UNIQUE (tenant_id, path)
);

-- Multipart uploads in progress. The parts live in R2 until complete or abort.
CREATE TABLE uploads (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  path        TEXT NOT NULL,
  media_id    TEXT NOT NULL,
  r2_upload   TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX uploads_by_tenant ON uploads(tenant_id);

CREATE TABLE upload_parts (
  upload_id  TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
  part       INTEGER NOT NULL,
  etag       TEXT NOT NULL,
  size       INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part)
);
