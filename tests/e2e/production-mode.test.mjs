// With DEV_MODE off (as deployed), the dev-only endpoints do not exist and links the
// platform hands out are https. Runs its own Worker with DEV_MODE=0 beside the shared one.

import assert from 'node:assert/strict';
import path from 'node:path';
import { before, after } from 'node:test';
import { test, randomIp, uniqueName, strongPassword } from '../lib/client.mjs';
import { ROOT, startWorker } from '../lib/worker.mjs';

let production;

before(async () => {
  production = await startWorker({
    vars: { DEV_MODE: '0' },
    logFile: path.join(ROOT, 'tests', '.artifacts', 'worker-production.log'),
  });
});

after(() => production?.stop());

async function call(method, apiPath, body) {
  const res = await fetch(`${production.base}/api/v1${apiPath}`, {
    method,
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': randomIp() },
    body: body && JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

test('with DEV_MODE off the dev outbox and the argon2 probe answer 404 like unknown paths', async () => {
  for (const devPath of ['/dev/outbox', '/dev/outbox?to=a@example.com', '/dev/argon2']) {
    const res = await call('GET', devPath);

    assert.equal(res.status, 404, devPath);
    assert.equal(res.json?.error?.code, 'NOT_FOUND', devPath);
  }
});

test('with DEV_MODE off the tenant URL handed out at sign-up is https', async () => {
  const username = uniqueName();

  const res = await call('POST', '/auth/register', {
    username, email: `${username}@example.com`, password: strongPassword(),
  });

  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.match(res.json.tenant.url, new RegExp(`^https://${username}\\.localhost:${production.port}/$`));
});
