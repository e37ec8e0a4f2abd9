// Sign-out, sign-out everywhere, the session list and revoking single sessions.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  test, api, register, loginOk, me, refreshWith, refreshCookieHeader, decodeJwt, randomIp,
} from '../lib/client.mjs';
import {
  assertStatus, assertError, assertUnauthenticated, assertRefreshCookieCleared, assertId, assertTime,
} from '../lib/expect.mjs';

/** The refresh token of a dead session is refused (401, whatever the code). */
async function assertRefreshRefused(refreshToken) {
  const res = await refreshWith(refreshToken);
  assertStatus(res, 401);
  assert.ok(['INVALID_TOKEN', 'TOKEN_REUSED'].includes(res.json?.error?.code), `refresh refused: ${res.text}`);
}

test('logout ends the session at once and clears the cookie', async () => {
  const u = await register();
  assertStatus(await me(u.access), 200);

  const res = await api('POST', '/auth/logout', { token: u.access });

  assertStatus(res, 204);
  assert.equal(res.body.length, 0);
  assertRefreshCookieCleared(res);
  assertUnauthenticated(await me(u.access));
  await assertRefreshRefused(u.refresh);
});

test('logout ends only the current session', async () => {
  const u = await register();
  const other = await loginOk(u.username, u.password);

  assertStatus(await api('POST', '/auth/logout', { token: u.access }), 204);

  assertStatus(await me(other.access), 200);
  assertStatus(await refreshWith(other.refresh), 200);
});

test('logout by the refresh cookie from the app ends that session', async () => {
  const u = await register();

  const res = await api('POST', '/auth/logout', { headers: { cookie: refreshCookieHeader(u.cookie.value), 'sec-fetch-site': 'same-origin' } });

  assertStatus(res, 204);
  assertRefreshCookieCleared(res);
  assertUnauthenticated(await me(u.access));
  await assertRefreshRefused(u.refresh);
});

test('logout by the refresh cookie from another site is refused and the session lives on', async () => {
  const u = await register();

  const res = await api('POST', '/auth/logout', { headers: { cookie: refreshCookieHeader(u.cookie.value), 'sec-fetch-site': 'cross-site' } });

  assertError(res, 403, 'CSRF_REJECTED');
  assertStatus(await me(u.access), 200);
});

test('logout-all ends every session of the user but not other users\' sessions', async () => {
  const u = await register();
  const s2 = await loginOk(u.username, u.password);
  const s3 = await loginOk(u.email, u.password);
  const bystander = await register();

  const res = await api('POST', '/auth/logout-all', { token: s2.access });

  assertStatus(res, 204);
  for (const s of [u, s2, s3]) {
    assertUnauthenticated(await me(s.access));
    await assertRefreshRefused(s.refresh);
  }
  assertStatus(await me(bystander.access), 200);
  assertStatus(await refreshWith(bystander.refresh), 200);
});

test('signing in again after logout-all works', async () => {
  const u = await register();
  assertStatus(await api('POST', '/auth/logout-all', { token: u.access }), 204);

  const s = await loginOk(u.username, u.password);

  assertStatus(await me(s.access), 200);
});

test('the session list shows every session and marks the caller\'s as current', async () => {
  const u = await register();
  const phone = await loginOk(u.username, u.password, { headers: { 'user-agent': 'rooom-e2e/phone' }, ip: randomIp() });

  const fromFirst = await api('GET', '/me/sessions', { token: u.access });
  const fromPhone = await api('GET', '/me/sessions', { token: phone.access });

  assertStatus(fromFirst, 200);
  assert.ok(Array.isArray(fromFirst.json));
  assert.equal(fromFirst.json.length, 2, fromFirst.text);
  const firstSid = decodeJwt(u.access).payload.sid;
  const phoneSid = decodeJwt(phone.access).payload.sid;
  for (const s of fromFirst.json) {
    assertId(s.id, 'session id');
    assertTime(s.created_at, 'created_at');
    assertTime(s.last_used_at, 'last_used_at');
    assert.equal(typeof s.current, 'boolean');
  }
  assert.deepEqual(fromFirst.json.filter((s) => s.current).map((s) => s.id), [firstSid]);
  assert.deepEqual(fromPhone.json.filter((s) => s.current).map((s) => s.id), [phoneSid]);
  assert.equal(fromFirst.json.find((s) => s.id === phoneSid)?.user_agent, 'rooom-e2e/phone');
  assert.ok(!fromFirst.text.includes(u.refresh) && !fromFirst.text.includes(phone.refresh), 'no tokens in the list');
});

test('revoking another session ends it at once', async () => {
  const u = await register();
  const other = await loginOk(u.username, u.password);
  const otherSid = decodeJwt(other.access).payload.sid;
  assertStatus(await me(other.access), 200);

  const res = await api('DELETE', `/me/sessions/${otherSid}`, { token: u.access });

  assertStatus(res, 204);
  assertUnauthenticated(await me(other.access));
  await assertRefreshRefused(other.refresh);
  assertStatus(await me(u.access), 200);
  const list = await api('GET', '/me/sessions', { token: u.access });
  assert.deepEqual(list.json.map((s) => s.id), [decodeJwt(u.access).payload.sid]);
});

test('revoking someone else\'s session, or an unknown one, answers 404', async () => {
  const a = await register();
  const b = await register();
  const bSid = decodeJwt(b.access).payload.sid;

  const foreign = await api('DELETE', `/me/sessions/${bSid}`, { token: a.access });
  const unknown = await api('DELETE', `/me/sessions/${crypto.randomUUID()}`, { token: a.access });

  assertError(foreign, 404, 'NOT_FOUND');
  assertError(unknown, 404, 'NOT_FOUND');
  assertStatus(await me(b.access), 200);
});
