-- Issue 5: every room is a git repository. The room's Durable Object owns the refs;
-- D1 mirrors the commit `main` points at, so room listings show it without a call
-- to each room's object.
ALTER TABLE rooms ADD COLUMN head_commit TEXT;
