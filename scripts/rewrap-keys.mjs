#!/usr/bin/env node
// Re-wraps every private room's data key under the current MASTER_KEY, after a master
// key rotation (docs/teams.md, "Rotating the master key").
//
//   ADMIN_TOKEN=… npm run rewrap-keys -- https://app.rooom.online
//
// Calls POST /api/v1/admin/rewrap-keys until no room uses an older master key, then
// says it is safe to delete MASTER_KEY_PREVIOUS.

const base = (process.argv[2] ?? '').replace(/\/+$/, '');
const token = process.env.ADMIN_TOKEN ?? '';
if (!/^https?:\/\//.test(base) || token.length < 32) {
  console.error('usage: ADMIN_TOKEN=<32+ chars> npm run rewrap-keys -- <app url, e.g. http://localhost:8787>');
  process.exit(2);
}

let total = 0;
for (let round = 1; round <= 10_000; round++) {
  const res = await fetch(`${base}/api/v1/admin/rewrap-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  const body = await res.json().catch(() => ({}));
  if (res.status !== 200) {
    console.error(`rewrap failed: HTTP ${res.status} ${JSON.stringify(body)}`);
    process.exit(1);
  }
  total += body.rewrapped;
  console.log(`round ${round}: re-wrapped ${body.rewrapped}, ${body.remaining} left (current key id ${body.current_key_id})`);
  if (body.remaining === 0) {
    console.log(`done: ${total} data keys re-wrapped; MASTER_KEY_PREVIOUS may now be deleted.`);
    process.exit(0);
  }
  if (body.rewrapped === 0) {
    console.error('no progress: some data keys do not unwrap with MASTER_KEY or MASTER_KEY_PREVIOUS');
    process.exit(1);
  }
}
