// Personal access tokens: created once, listed without the secret, usable as Bearer
// tokens, never for account management, revocable at once, validated on creation.

import assert from 'node:assert/strict';
import { test, api, register, registerVerified, me, uniqueName, strongPassword } from '../lib/client.mjs';
import { assertStatus, assertError, assertValidation, assertUnauthenticated, assertId } from '../lib/expect.mjs';

function createPat(access, body) {
  return api('POST', '/me/tokens', { token: access, body: { name: 'e2e', scope: 'read', ...body } });
}
async function newPat(access, body = {}) {
  const res = await createPat(access, body);
  assertStatus(res, 201);
  return res.json;
}

test('a new token is shown once and listed without its secret', async () => {
  const u = await registerVerified();

  const res = await createPat(u.access, { name: 'laptop git', scope: 'write' });

  assertStatus(res, 201);
  assertId(res.json.id, 'token id');
  assert.match(res.json.token, /^rooom_pat_[A-Za-z0-9_-]{43,}$/, 'rooom_pat_ + 256 random bits');
  const list = await api('GET', '/me/tokens', { token: u.access });
  assertStatus(list, 200);
  assert.ok(Array.isArray(list.json));
  const item = list.json.find((t) => t.id === res.json.id);
  assert.ok(item, `the token is listed: ${list.text}`);
  assert.equal(item.name, 'laptop git');
  assert.equal(item.scope, 'write');
  assert.ok(!('token' in item), 'the list has no token field');
  assert.ok(!list.text.includes(res.json.token), 'the secret appears nowhere in the list');
  assert.ok(!list.text.includes(res.json.token.slice('rooom_pat_'.length)), 'not even without its prefix');
});

test('two tokens are distinct', async () => {
  const u = await registerVerified();

  const a = await newPat(u.access);
  const b = await newPat(u.access);

  assert.notEqual(a.id, b.id);
  assert.notEqual(a.token, b.token);
});

test('a token authenticates GET /me as its owner', async () => {
  const u = await registerVerified();
  const pat = await newPat(u.access, { scope: 'read' });

  const res = await me(pat.token);

  assertStatus(res, 200);
  assert.equal(res.json.id, u.user.id);
});

test('tokens cannot manage the account: 403 SESSION_REQUIRED', async (t) => {
  const u = await registerVerified();
  const read = (await newPat(u.access, { scope: 'read' })).token;
  const write = (await newPat(u.access, { scope: 'write' })).token;
  const sid = JSON.parse(Buffer.from(u.access.split('.')[1], 'base64url')).sid;
  const tokenId = (await newPat(u.access)).id;
  const calls = [
    ['PATCH', '/me', { display_name: 'Hijacked' }, 'display name'],
    ['PATCH', '/me', { email: `${uniqueName('x')}@example.test`, current_password: u.password }, 'email'],
    ['POST', '/me/password', { current_password: u.password, new_password: strongPassword() }],
    ['DELETE', '/me', { password: u.password }],
    ['GET', '/me/sessions', undefined],
    ['DELETE', `/me/sessions/${sid}`, undefined],
    ['GET', '/me/tokens', undefined],
    ['POST', '/me/tokens', { name: 'escalate', scope: 'write' }],
    ['DELETE', `/me/tokens/${tokenId}`, undefined],
    ['POST', '/auth/logout', undefined],
    ['POST', '/auth/logout-all', undefined],
  ];
  for (const [scopeName, pat] of [['read', read], ['write', write]]) {
    for (const [method, path, body, what] of calls) {
      await t.test(`${scopeName} token: ${method} ${path.replace(/[0-9a-f-]{36}/, '{id}')}${what ? ` (${what})` : ''}`, async () => {
        assertError(await api(method, path, { token: pat, body }), 403, 'SESSION_REQUIRED');
      });
    }
  }
  await t.test('nothing changed', async () => {
    const now = await me(u.access);
    assertStatus(now, 200, 'the session is alive and the account exists');
    assert.equal(now.json.display_name, u.user.display_name);
    assert.equal(now.json.email, u.email);
    const tokens = await api('GET', '/me/tokens', { token: u.access });
    assert.equal(tokens.json.length, 3, 'no token created or deleted');
    assertStatus(await me(read), 200, 'the tokens still work');
  });
});

test('a revoked token is refused at once', async () => {
  const u = await registerVerified();
  const pat = await newPat(u.access);
  assertStatus(await me(pat.token), 200);

  const res = await api('DELETE', `/me/tokens/${pat.id}`, { token: u.access });

  assertStatus(res, 204);
  assertUnauthenticated(await me(pat.token));
  const list = await api('GET', '/me/tokens', { token: u.access });
  assert.ok(!list.json.some((t) => t.id === pat.id), 'gone from the list');
});

test('another user\'s token cannot be revoked (404)', async () => {
  const a = await registerVerified();
  const b = await registerVerified();
  const pat = await newPat(b.access);

  const res = await api('DELETE', `/me/tokens/${pat.id}`, { token: a.access });

  assertError(res, 404, 'NOT_FOUND');
  assertStatus(await me(pat.token), 200);
});

test('a made-up token with the right prefix is refused', async () => {
  const res = await me(`rooom_pat_${'A'.repeat(43)}`);

  assertUnauthenticated(res);
});

test('invalid token settings are refused with 422', async (t) => {
  const u = await registerVerified();
  const stranger = await registerVerified();
  const cases = [
    ['an unknown scope', { scope: 'admin' }, 'scope'],
    ['expires_in_days 0', { expires_in_days: 0 }, 'expires_in_days'],
    ['expires_in_days 366', { expires_in_days: 366 }, 'expires_in_days'],
    ['expires_in_days -1', { expires_in_days: -1 }, 'expires_in_days'],
    ['an unknown tenant', { tenant: uniqueName('nope') }, 'tenant'],
    ['a tenant the user does not belong to', { tenant: stranger.username }, 'tenant'],
    ['an unknown room of the own tenant', { tenant: u.username, room: 'no-such-room' }, 'room'],
  ];
  for (const [name, body, field] of cases) {
    await t.test(name, async () => {
      assertValidation(await createPat(u.access, body), field);
    });
  }
  await t.test('a room without a tenant', async () => {
    const err = assertError(await createPat(u.access, { room: 'home' }), 422, 'VALIDATION_FAILED');
    assert.ok(err.fields && ('room' in err.fields || 'tenant' in err.fields), JSON.stringify(err));
  });
});

test('valid token settings at the limits are accepted', async (t) => {
  const u = await registerVerified();
  for (const [name, body] of Object.entries({
    'expires_in_days 1': { expires_in_days: 1 },
    'expires_in_days 365': { expires_in_days: 365 },
    'the own tenant': { tenant: u.username, scope: 'write' },
    'the own tenant and its home room': { tenant: u.username, room: 'home' },
  })) {
    await t.test(name, async () => {
      const res = await createPat(u.access, body);
      assertStatus(res, 201);
      assert.match(res.json.token, /^rooom_pat_/);
    });
  }
});

test('creating a token needs a verified email address', async () => {
  const u = await register();

  const res = await createPat(u.access, { name: 'too early', scope: 'write' });

  assertError(res, 403, 'EMAIL_NOT_VERIFIED');
  const list = await api('GET', '/me/tokens', { token: u.access });
  assert.deepEqual(list.json, [], 'no token was created');
});

test('a new token is announced in the inbox', async () => {
  const u = await registerVerified();

  await newPat(u.access, { name: 'deploy key', scope: 'write' });

  const inbox = await api('GET', '/me/messages', { token: u.access });
  const note = inbox.json.find((m) => m.kind === 'token_created');
  assert.ok(note, `a token_created message: ${inbox.text}`);
  assert.match(note.body, /deploy key/);
});
