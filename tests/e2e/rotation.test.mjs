// Master key rotation (docs/teams.md): files of private rooms stay readable across a
// rotation, `npm run rewrap-keys` moves every data key to the new master key, and
// afterwards the old key is no longer needed — nor sufficient. Runs its own Workers,
// one after another on one state directory, beside the shared one.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { after } from 'node:test';
import { test, randomIp, uniqueName, strongPassword } from '../lib/client.mjs';
import { ROOT, startWorker } from '../lib/worker.mjs';

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rooom-rotation-'));
after(() => fs.rmSync(stateDir, { recursive: true, force: true }));

const OLD_KEY = crypto.randomBytes(32).toString('base64url');
const NEW_KEY = crypto.randomBytes(32).toString('base64url');
const ADMIN_TOKEN = crypto.randomBytes(32).toString('base64url');
const ip = randomIp();

async function withWorker(vars, work) {
  const worker = await startWorker({
    vars, stateDir, logFile: path.join(ROOT, 'tests', '.artifacts', 'worker-rotation.log'),
  });
  try {
    return await work(worker);
  } finally {
    worker.stop();
  }
}

async function call(worker, method, apiPath, { token, body, raw, headers = {} } = {}) {
  const res = await fetch(`${worker.base}/api/v1${apiPath}`, {
    method,
    headers: {
      'cf-connecting-ip': ip,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : raw,
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json = null;
  try { json = JSON.parse(bytes.toString('utf8')); } catch { /* not JSON */ }
  return { status: res.status, bytes, json };
}

test('a master key rotation keeps private files readable, re-wraps every data key, and retires the old key', async () => {
  const username = uniqueName('rot');
  const marker = `ROTATION-MARKER-${crypto.randomBytes(8).toString('hex')}`;
  const content = Buffer.concat([crypto.randomBytes(70_000), Buffer.from(marker)]);
  let access;

  await withWorker({ MASTER_KEY: OLD_KEY }, async (w) => {
    const reg = await call(w, 'POST', '/auth/register', {
      body: { username, email: `${username}@example.com`, password: strongPassword() },
    });
    assert.equal(reg.status, 201);
    access = reg.json.access_token;
    for (const slug of ['diary', 'notes']) {
      const room = await call(w, 'POST', `/tenants/${username}/rooms`, { token: access, body: { slug, visibility: 'private' } });
      assert.equal(room.status, 201);
      const put = await call(w, 'PUT', `/tenants/${username}/rooms/${slug}/files/data.bin`, {
        token: access, raw: content, headers: { 'content-type': 'application/octet-stream' },
      });
      assert.equal(put.status, 201);
    }
  });

  await withWorker({ MASTER_KEY: NEW_KEY, MASTER_KEY_PREVIOUS: OLD_KEY, ADMIN_TOKEN }, async (w) => {
    const before = await call(w, 'GET', `/tenants/${username}/rooms/diary/files/data.bin`, { token: access });
    assert.equal(before.status, 200, 'old data keys still unwrap through MASTER_KEY_PREVIOUS');
    assert.ok(before.bytes.equals(content));

    assert.equal((await call(w, 'POST', '/admin/rewrap-keys')).status, 401, 'no token');
    assert.equal((await call(w, 'POST', '/admin/rewrap-keys', { token: 'x'.repeat(43) })).status, 401, 'wrong token');
    assert.equal((await call(w, 'POST', '/admin/rewrap-keys', { token: access })).status, 401, "a user's token is not the admin token");

    const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'rewrap-keys.mjs'), w.base], {
      env: { ...process.env, ADMIN_TOKEN }, encoding: 'utf8', timeout: 60_000,
    });
    assert.equal(run.status, 0, `npm run rewrap-keys failed:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /done: \d+ data keys re-wrapped/);
    const again = await call(w, 'POST', '/admin/rewrap-keys', { token: ADMIN_TOKEN });
    assert.equal(again.status, 200);
    assert.deepEqual([again.json.rewrapped, again.json.remaining], [0, 0], 'nothing left on the old key');
    assert.match(again.json.current_key_id, /^[0-9a-f]{8}$/);
  });

  await withWorker({ MASTER_KEY: NEW_KEY }, async (w) => {
    for (const slug of ['diary', 'notes']) {
      const res = await call(w, 'GET', `/tenants/${username}/rooms/${slug}/files/data.bin`, { token: access });
      assert.equal(res.status, 200, `${slug} opens with the new key alone`);
      assert.ok(res.bytes.equals(content));
    }
    const admin = await call(w, 'POST', '/admin/rewrap-keys', { token: ADMIN_TOKEN });
    assert.equal(admin.status, 404, 'without an ADMIN_TOKEN secret the route does not exist');
  });

  await withWorker({ MASTER_KEY: OLD_KEY }, async (w) => {
    const res = await call(w, 'GET', `/tenants/${username}/rooms/diary/files/data.bin`, { token: access });
    assert.equal(res.status, 500, 'the retired key opens nothing: an error, not bytes');
    assert.ok(!res.bytes.includes(marker), 'no plaintext in the refusal');
    assert.ok(res.json?.error, 'the error shape');
  });
});
