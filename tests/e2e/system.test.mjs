// System endpoints, routing of hosts, error shape and security headers.

import assert from 'node:assert/strict';
import { test, api, request, register, outbox, waitForMails, BASE, PORT, describeRes } from '../lib/client.mjs';
import { assertStatus, assertError, assertAppSecurityHeaders } from '../lib/expect.mjs';

// Every /api/v1 route the end-to-end suite calls, as [method, templated path].
const ROUTES_USED = [
  ['get', '/health'],
  ['get', '/openapi.json'],
  ['get', '/dev/outbox'],
  ['post', '/auth/register'],
  ['post', '/auth/verify-email'],
  ['post', '/auth/login'],
  ['post', '/auth/refresh'],
  ['post', '/auth/logout'],
  ['post', '/auth/logout-all'],
  ['post', '/auth/otp/request'],
  ['post', '/auth/otp/verify'],
  ['post', '/auth/password/forgot'],
  ['post', '/auth/password/reset'],
  ['get', '/me'],
  ['patch', '/me'],
  ['delete', '/me'],
  ['post', '/me/password'],
  ['get', '/me/sessions'],
  ['delete', '/me/sessions/{id}'],
  ['get', '/me/tokens'],
  ['post', '/me/tokens'],
  ['delete', '/me/tokens/{id}'],
  ['get', '/me/messages'],
  ['post', '/me/messages/{id}/read'],
];

// Paths may be written with or without the /api/v1 prefix (then in servers[].url),
// and parameters may have any name: compare `/me/sessions/{}`.
function normalisePath(p) {
  return p.replace(/^\/api\/v1(?=\/)/, '').replace(/\{[^}]+\}/g, '{}');
}

test('health answers 200 with every storage check ok', async () => {
  const res = await api('GET', '/health');

  assertStatus(res, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(res.json.status, 'ok');
  assert.equal(typeof res.json.version, 'string');
  assert.ok(res.json.version.length > 0, 'version must not be empty');
  assert.deepEqual(
    { d1: res.json.checks?.d1, r2: res.json.checks?.r2, kv: res.json.checks?.kv },
    { d1: 'ok', r2: 'ok', kv: 'ok' },
  );
});

test('the OpenAPI document is 3.1 and describes every route the suite calls', async () => {
  const res = await api('GET', '/openapi.json');

  assertStatus(res, 200);
  const doc = res.json;
  assert.match(String(doc?.openapi), /^3\.1\.\d+$/, 'openapi version');
  assert.equal(typeof doc.info?.title, 'string');
  const documented = new Map();
  for (const [p, item] of Object.entries(doc.paths ?? {})) documented.set(normalisePath(p), item);
  const missing = ROUTES_USED.filter(([m, p]) => !documented.get(normalisePath(p))?.[m]).map(([m, p]) => `${m.toUpperCase()} ${p}`);
  assert.deepEqual(missing, [], 'routes missing from openapi.json');
});

test('the dev outbox lists mails newest first and filters by recipient', async () => {
  const u = await register();
  await waitForMails(u.email, 1);

  const otp = await api('POST', '/auth/otp/request', { body: { email: u.email } });
  assertStatus(otp, 202);
  const mails = await waitForMails(u.email, 2);

  assert.ok(mails.every((m) => m.to === u.email), 'only mails to the requested address');
  for (const m of mails) {
    assert.equal(typeof m.subject, 'string');
    assert.equal(typeof m.text, 'string');
    assert.ok(!Number.isNaN(Date.parse(m.created_at)), 'created_at is a time');
  }
  assert.match(mails[0].text, /Your rooom sign-in code is \d{6}/, 'the newest (OTP) mail comes first');
  assert.ok(Date.parse(mails[0].created_at) >= Date.parse(mails[1].created_at), 'newest first');
  const all = await outbox();
  assert.ok(all.some((m) => m.to === u.email), 'the unfiltered outbox includes the mail');
});

test('an unknown API path answers 404 NOT_FOUND as JSON', async () => {
  const res = await api('GET', '/no-such-thing/here');

  assertError(res, 404, 'NOT_FOUND');
});

test('a known path with the wrong method answers 405 with Allow', async () => {
  const del = await api('DELETE', '/health');
  const get = await api('GET', '/auth/login');

  assertError(del, 405, 'METHOD_NOT_ALLOWED');
  assert.match(del.headers.get('allow') ?? '', /\bGET\b/, `Allow for /health: ${del.headers.get('allow')}`);
  assertError(get, 405, 'METHOD_NOT_ALLOWED');
  assert.match(get.headers.get('allow') ?? '', /\bPOST\b/, `Allow for /auth/login: ${get.headers.get('allow')}`);
});

test('hosts that are neither the app nor a tenant get a plain 404 page', async (t) => {
  const hosts = ['evil.example', `evil.example:${PORT}`, `www.localhost:${PORT}`, `api.localhost:${PORT}`, `nobody-here.localhost:${PORT}`, `a.b.localhost:${PORT}`];
  for (const host of hosts) {
    await t.test(host, async () => {
      const res = await request(`${BASE}/`, { headers: { host } });

      assertStatus(res, 404);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/, `404 page for ${host} is HTML`);
      assert.equal(res.headers.get('location'), null, 'no redirect');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(res.headers.get('x-request-id'));
    });
  }
});

test('the app host is matched case-insensitively and without its port', async () => {
  const upper = await request(`${BASE}/api/v1/health`, { headers: { host: `LOCALHOST:${PORT}` } });
  const noPort = await request(`${BASE}/api/v1/health`, { headers: { host: 'localhost' } });

  assertStatus(upper, 200);
  assert.equal(upper.json?.status, 'ok');
  assertStatus(noPort, 200);
  assert.equal(noPort.json?.status, 'ok');
});

test('API responses carry the security headers', async () => {
  const ok = await api('GET', '/health');
  const notFound = await api('GET', '/no-such-thing');

  // docs/accounts.md: strict-origin-when-cross-origin by default; the stricter
  // no-referrer is accepted on API responses too.
  for (const res of [ok, notFound]) assertAppSecurityHeaders(res, ['strict-origin-when-cross-origin', 'no-referrer']);
});

test('the app page at / is HTML with a strict CSP and no referrer', async () => {
  const res = await request(`${BASE}/`);

  assertStatus(res, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  assertAppSecurityHeaders(res, 'no-referrer');
  assert.equal(res.headers.getSetCookie().length, 0, 'the app page sets no cookie');
});

test('every response has its own x-request-id and a client-supplied one is not trusted', async () => {
  const a = await api('GET', '/health');
  const b = await api('GET', '/health');
  const c = await api('GET', '/health', { headers: { 'x-request-id': 'attacker-chosen-id' } });
  const d = await api('POST', '/auth/login', { raw: '{' });

  const ids = [a, b, c, d].map((r) => r.headers.get('x-request-id'));
  assert.ok(ids.every((id) => typeof id === 'string' && id.length >= 8), `ids: ${ids}`);
  assert.equal(new Set(ids).size, 4, `ids must differ: ${ids}`);
  assert.notEqual(ids[2], 'attacker-chosen-id');
  assert.equal(d.status, 400, describeRes(d));
});

test('HEAD works wherever GET does, with the headers and without a body', async () => {
  const u = await register();

  const health = await api('HEAD', '/health');
  const mine = await api('HEAD', '/me', { token: u.access });

  assertStatus(health, 200);
  assert.equal(health.text, '', 'no body');
  assert.match(health.headers.get('content-type') ?? '', /application\/json/);
  assert.ok(health.headers.get('x-request-id'));
  assertStatus(mine, 200);
  assert.equal(mine.text, '');
});

test('a form-encoded body answers 415; JSON is accepted whatever its label', async () => {
  const form = await api('POST', '/auth/login', {
    raw: 'login=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const jsonAsForm = await api('POST', '/auth/login', {
    raw: JSON.stringify({ login: 'nobody-here', password: 'wrong password' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });

  assertError(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
  assertError(jsonAsForm, 401, 'INVALID_CREDENTIALS');
});

test('a UTF-8 byte-order mark before JSON is ignored', async () => {
  const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ login: 'nobody-here', password: 'wrong password' }))]);

  const res = await api('POST', '/auth/login', { raw });

  assertError(res, 401, 'INVALID_CREDENTIALS');
});
