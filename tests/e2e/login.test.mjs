// Login, GET /me, the sign-in notice in the inbox, and refusal of forged access tokens.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  test, api, register, login, loginOk, me, mintJwt, decodeJwt, jwtSecret, randomIp, uniqueName,
} from '../lib/client.mjs';
import {
  assertStatus, assertError, assertTokenResponse, assertUnauthenticated, assertUser,
} from '../lib/expect.mjs';

test('a user signs in with the username or the email, in any letter case', async () => {
  const u = await register();

  const byName = await login(u.username.toUpperCase(), u.password);
  const byEmail = await login(u.email.toUpperCase(), u.password);

  for (const res of [byName, byEmail]) {
    const b = assertTokenResponse(res, 200, { id: u.user.id, username: u.username, email: u.email });
    assert.notEqual(b.refresh_token, u.refresh, 'each sign-in is a new session');
  }
});

test('a wrong password and an unknown account get the same 401 answer', async () => {
  const u = await register();

  const wrong = await login(u.username, `${u.password}x`);
  const unknown = await login(uniqueName('ghost'), u.password);
  const unknownEmail = await login(`${uniqueName('ghost')}@example.test`, u.password);

  const e1 = assertError(wrong, 401, 'INVALID_CREDENTIALS');
  const e2 = assertError(unknown, 401, 'INVALID_CREDENTIALS');
  const e3 = assertError(unknownEmail, 401, 'INVALID_CREDENTIALS');
  assert.deepEqual(e2, e1);
  assert.deepEqual(e3, e1);
  assert.equal(unknown.headers.get('www-authenticate'), wrong.headers.get('www-authenticate'));
  assert.equal(wrong.headers.getSetCookie().length, 0, 'a failed login sets no cookie');
});

test('a login body with missing fields is refused, not a 500', async () => {
  const res = await api('POST', '/auth/login', { body: { login: 'someone' } });

  assert.ok([400, 422].includes(res.status), `status ${res.status}`);
  assert.ok(res.json?.error?.code, 'an error body');
});

test('GET /me returns the signed-in user', async () => {
  const u = await register({ display_name: 'Grace' });

  const res = await me(u.access);

  assertStatus(res, 200);
  assertUser(res.json, { id: u.user.id, username: u.username, email: u.email, display_name: 'Grace', email_verified: false });
  assert.ok(!('refresh_token' in res.json));
});

test('a new sign-in leaves a new_sign_in message that can be marked read', async () => {
  const u = await register();
  const s = await loginOk(u.username, u.password, { ip: randomIp(), headers: { 'user-agent': 'rooom-e2e/other-device' } });

  const list = await api('GET', '/me/messages', { token: s.access });
  assertStatus(list, 200);
  assert.ok(Array.isArray(list.json), 'messages are a list');
  const msg = list.json.find((m) => m.kind === 'new_sign_in');
  assert.ok(msg, `a new_sign_in message: ${list.text}`);
  assert.equal(msg.read, false);
  assert.equal(typeof msg.subject, 'string');
  assert.equal(typeof msg.body, 'string');
  assert.ok(!Number.isNaN(Date.parse(msg.created_at)));
  const times = list.json.map((m) => Date.parse(m.created_at));
  assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');

  const mark = await api('POST', `/me/messages/${msg.id}/read`, { token: u.access });
  const after = await api('GET', '/me/messages', { token: u.access });

  assertStatus(mark, 204);
  assert.equal(after.json.find((m) => m.id === msg.id)?.read, true);
});

test('a user cannot mark another user\'s message read', async () => {
  const a = await register();
  const b = await register();
  await loginOk(a.username, a.password, { ip: randomIp(), headers: { 'user-agent': 'rooom-e2e/x' } });
  const mine = (await api('GET', '/me/messages', { token: a.access })).json;
  assert.ok(mine.length > 0, 'a has messages');

  const res = await api('POST', `/me/messages/${mine[0].id}/read`, { token: b.access });
  const still = (await api('GET', '/me/messages', { token: a.access })).json.find((m) => m.id === mine[0].id);

  assertError(res, 404, 'NOT_FOUND');
  assert.equal(still.read, mine[0].read);
});

test('forged or broken access tokens are refused with 401 UNAUTHENTICATED', async (t) => {
  const u = await register();
  const other = await register();
  const { header, payload, signature } = decodeJwt(u.access);
  const now = Math.floor(Date.now() / 1000);

  await t.test('the real claims re-signed with the real secret are accepted (control)', async () => {
    assert.equal(header.alg, 'HS256');
    assert.equal(payload.aud === 'rooom-api' || (Array.isArray(payload.aud) && payload.aud.includes('rooom-api')), true);
    assert.equal(payload.typ, 'access');
    assert.equal(payload.sub, u.user.id);
    assert.equal(typeof payload.sid, 'string');
    assert.ok(payload.exp - payload.iat <= 900 && payload.exp > now, 'a 15 minute token');
    jwtSecret();
    assertStatus(await me(mintJwt(payload, { header })), 200);
  });

  const [h64, p64] = u.access.split('.');
  const tamperedPayload = Buffer.from(JSON.stringify({ ...payload, sub: other.user.id })).toString('base64url');
  const forged = {
    'signed with a wrong secret': mintJwt(payload, { header, secret: crypto.randomBytes(32).toString('hex') }),
    'payload changed (sub) under the original signature': `${h64}.${tamperedPayload}.${signature}`,
    'signature stripped': `${h64}.${p64}.`,
    'alg none': mintJwt(payload, { header, alg: 'none' }),
    'alg HS512 with the real secret': mintJwt(payload, { header, alg: 'HS512' }),
    'expired': mintJwt({ ...payload, iat: now - 2000, exp: now - 60 }, { header }),
    'wrong audience': mintJwt({ ...payload, aud: 'some-other-api' }, { header }),
    'no audience': mintJwt(Object.fromEntries(Object.entries(payload).filter(([k]) => k !== 'aud')), { header }),
    'typ refresh': mintJwt({ ...payload, typ: 'refresh' }, { header }),
    'a session id that does not exist': mintJwt({ ...payload, sid: crypto.randomUUID() }, { header }),
    'garbage': 'this-is-not-a-jwt',
    'three garbage segments': 'aaa.bbb.ccc',
    'the refresh token': u.refresh,
  };
  for (const [name, token] of Object.entries(forged)) {
    await t.test(name, async () => {
      assertUnauthenticated(await me(token));
    });
  }
  await t.test('no Authorization header', async () => {
    assertUnauthenticated(await api('GET', '/me'));
  });
  await t.test('a non-Bearer scheme', async () => {
    assertUnauthenticated(await api('GET', '/me', { headers: { authorization: `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}` } }));
  });
  await t.test('the genuine token still works afterwards', async () => {
    assertStatus(await me(u.access), 200);
  });
});
