// Refresh-token rotation, reuse detection and the CSRF rule for the refresh cookie.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  test, api, register, me, refreshWith, refreshCookieHeader, cookieFrom, APP_ORIGIN, PORT,
} from '../lib/client.mjs';
import { assertStatus, assertError, assertTokenResponse, assertUnauthenticated } from '../lib/expect.mjs';

/** POST /auth/refresh authenticated by the cookie only, with the given extra headers. */
function refreshByCookie(cookieValue, headers = {}) {
  return api('POST', '/auth/refresh', { body: {}, headers: { cookie: refreshCookieHeader(cookieValue), ...headers } });
}

test('refreshing with the body token rotates it and keeps the old access token valid', async () => {
  const u = await register();

  const res = await refreshWith(u.refresh);

  const b = assertTokenResponse(res, 200, { id: u.user.id, username: u.username });
  assert.notEqual(b.refresh_token, u.refresh, 'a new refresh token');
  assertStatus(await me(u.access), 200);
  assertStatus(await me(b.access_token), 200);
});

test('replaying a used refresh token answers TOKEN_REUSED and ends the whole session', async () => {
  const u = await register();
  const second = (await refreshWith(u.refresh)).json;
  const third = (await refreshWith(second.refresh_token)).json;
  assert.ok(third?.refresh_token, 'two rotations succeeded');

  const replay = await refreshWith(u.refresh);
  const newest = await refreshWith(third.refresh_token);

  assertError(replay, 401, 'TOKEN_REUSED');
  assertStatus(newest, 401);
  assert.ok(['INVALID_TOKEN', 'TOKEN_REUSED'].includes(newest.json?.error?.code), `newest refused: ${newest.text}`);
  assertUnauthenticated(await me(third.access_token));
  assertUnauthenticated(await me(u.access));
});

test('reuse detection ends only that session, not the user\'s other sessions', async () => {
  const u = await register();
  const other = (await api('POST', '/auth/login', { body: { login: u.username, password: u.password } })).json;
  await refreshWith(u.refresh);

  assertError(await refreshWith(u.refresh), 401, 'TOKEN_REUSED');

  assertStatus(await me(other.access_token), 200);
  assertStatus(await refreshWith(other.refresh_token), 200);
});

test('an unknown refresh token answers 401 INVALID_TOKEN', async () => {
  const res = await refreshWith(crypto.randomBytes(32).toString('base64url'));

  assertError(res, 401, 'INVALID_TOKEN');
});

test('the refresh cookie works from the app itself (Sec-Fetch-Site: same-origin) and is rotated', async () => {
  const u = await register();
  assert.ok(u.cookie?.value, 'register set the refresh cookie');

  const res = await refreshByCookie(u.cookie.value, { 'sec-fetch-site': 'same-origin' });

  const b = assertTokenResponse(res, 200, { id: u.user.id });
  const rotated = cookieFrom(res);
  assert.notEqual(rotated.value, u.cookie.value, 'a new cookie value');
  assertError(await refreshByCookie(u.cookie.value, { 'sec-fetch-site': 'same-origin' }), 401, 'TOKEN_REUSED');
  assertUnauthenticated(await me(b.access_token));
});

test('the refresh cookie works without Sec-Fetch-Site when Origin is the app origin', async () => {
  const u = await register();

  const res = await refreshByCookie(u.cookie.value, { origin: APP_ORIGIN });

  assertTokenResponse(res, 200, { id: u.user.id });
});

test('cookie refreshes from other sites are refused with 403 CSRF_REJECTED and spend nothing', async (t) => {
  const u = await register();
  const tenantOrigin = `http://evil.localhost:${PORT}`;
  const cases = {
    'Sec-Fetch-Site: cross-site': { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' },
    'Sec-Fetch-Site: same-site from a tenant host': { 'sec-fetch-site': 'same-site', origin: tenantOrigin },
    'Sec-Fetch-Site: same-site even with the app Origin': { 'sec-fetch-site': 'same-site', origin: APP_ORIGIN },
    'Sec-Fetch-Site: none': { 'sec-fetch-site': 'none' },
    'no Sec-Fetch-Site, Origin of a tenant host': { origin: tenantOrigin },
    'no Sec-Fetch-Site, Origin null': { origin: 'null' },
    'neither header': {},
  };
  for (const [name, headers] of Object.entries(cases)) {
    await t.test(name, async () => {
      const res = await refreshByCookie(u.cookie.value, headers);
      assertError(res, 403, 'CSRF_REJECTED');
      assert.ok(!cookieFrom(res)?.value, 'no new refresh cookie');
    });
  }
  await t.test('the cookie is still valid afterwards', async () => {
    assertTokenResponse(await refreshByCookie(u.cookie.value, { 'sec-fetch-site': 'same-origin' }), 200, { id: u.user.id });
  });
});

test('a body token is used even without browser headers (no CSRF check for non-cookie auth)', async () => {
  const u = await register();

  const res = await api('POST', '/auth/refresh', { body: { refresh_token: u.refresh }, headers: { 'sec-fetch-site': 'cross-site' } });

  assertTokenResponse(res, 200, { id: u.user.id });
});

test('refresh without any token is refused', async () => {
  const res = await api('POST', '/auth/refresh', { body: {}, headers: { 'sec-fetch-site': 'same-origin' } });

  assert.ok([400, 401].includes(res.status), `status ${res.status}: ${res.text}`);
  assert.ok(res.json?.error?.code, 'an error body');
});
