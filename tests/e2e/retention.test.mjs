// The hourly purge (Cron Trigger, src/domain/retention.rs) removes rows whose time is
// over and keeps the rest. Rows are seeded straight into the local D1 file, then the
// cron is fired through wrangler's `/__scheduled` hook.

import assert from 'node:assert/strict';
import { test, register, me, request, uniqueName, BASE } from '../lib/client.mjs';
import { assertStatus } from '../lib/expect.mjs';
import { d1, d1Live } from '../lib/d1.mjs';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test('the hourly purge removes expired rows and keeps live ones', async () => {
  const u = await register();
  const t = uniqueName('purge');
  const now = Date.now();
  // Through the Worker's own D1: a write to the file from outside can fail a
  // concurrent request of another test with SQLITE_BUSY.
  await d1Live([
    [`INSERT INTO throttles (key, failures, last_failure_at, blocked_until) VALUES
      ('${t}:quiet', 3, ${now - 2 * HOUR}, 0),
      ('${t}:recent', 3, ${now - 60_000}, 0),
      ('${t}:blocking', 9, ${now - 2 * HOUR}, ${now + HOUR});`],
    [`INSERT INTO mail_counts (key, window_start, sent) VALUES ('${t}:old', ${now - 2 * HOUR}, 1), ('${t}:now', ${now - 60_000}, 1);`],
    [`INSERT INTO email_tokens (token_hash, user_id, purpose, email, created_at, expires_at, used_at) VALUES
      ('${t}:expired', '${u.user.id}', 'reset', '${u.email}', ${now - 3 * DAY}, ${now - 2 * DAY}, NULL),
      ('${t}:spent', '${u.user.id}', 'otp', '${u.email}', ${now - 3 * DAY}, ${now + DAY}, ${now - 2 * DAY}),
      ('${t}:live', '${u.user.id}', 'verify', '${u.email}', ${now}, ${now + DAY}, NULL);`],
    [`INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, user_agent) VALUES
      ('${t}:idle', '${u.user.id}', ${now - 100 * DAY}, ${now - 91 * DAY}, ${now - DAY}, ${now + DAY}, 'old phone');`],
    [`INSERT INTO outbox (id, to_addr, subject, body, created_at) VALUES
      ('${t}:old', 'x@example.com', 's', 'b', ${now - 8 * DAY}), ('${t}:new', 'x@example.com', 's', 'b', ${now});`],
  ]);

  const res = await request(`${BASE}/__scheduled?cron=${encodeURIComponent('17 * * * *')}`);

  assertStatus(res, 200);
  const left = (table, column) => d1(`SELECT ${column} FROM ${table} WHERE ${column} LIKE '${t}:%' ORDER BY ${column};`);
  assert.deepEqual(left('throttles', 'key'), [`${t}:blocking`, `${t}:recent`]);
  assert.deepEqual(left('mail_counts', 'key'), [`${t}:now`]);
  assert.deepEqual(left('email_tokens', 'token_hash'), [`${t}:live`]);
  assert.deepEqual(left('sessions', 'id'), []);
  assert.deepEqual(left('outbox', 'id'), [`${t}:new`]);
  assertStatus(await me(u.access), 200, 'a live session survives');
});
