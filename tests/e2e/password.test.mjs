// Forgotten password (mail link + reset) and changing the password while signed in.

import assert from 'node:assert/strict';
import {
  test, api, register, login, loginOk, me, refreshWith, outbox, nextMail, resetToken,
  strongPassword, uniqueName, RESET_LINK_RE, BASE,
} from '../lib/client.mjs';
import {
  assertStatus, assertError, assertValidation, assertTokenResponse, assertUnauthenticated,
} from '../lib/expect.mjs';

function forgot(email) {
  return api('POST', '/auth/password/forgot', { body: { email } });
}
function reset(token, newPassword) {
  return api('POST', '/auth/password/reset', { body: { token, new_password: newPassword } });
}
/** Asks for a reset mail and returns its token. */
async function mailedResetToken(email) {
  const before = await outbox(email);
  assertStatus(await forgot(email), 202);
  const { match } = await nextMail(email, RESET_LINK_RE, before);
  assert.equal(match[1], BASE, 'the reset link is built from APP_HOST');
  return decodeURIComponent(match[2]);
}

test('forgot-password answers 202 with the same body for known and unknown emails', async () => {
  const u = await register();

  const known = await forgot(u.email);
  const unknown = await forgot(`${uniqueName('nobody')}@example.test`);

  assertStatus(known, 202);
  assertStatus(unknown, 202);
  assert.equal(known.text, unknown.text);
  assert.equal(known.headers.get('content-type'), unknown.headers.get('content-type'));
  assert.ok((await resetToken(u.email)).length >= 40, 'a reset link was mailed to the known address');
});

test('resetting with the mailed token sets the password, ends every session and signs nobody in', async () => {
  const u = await register();
  const other = await loginOk(u.username, u.password);
  const token = await mailedResetToken(u.email);
  const newPassword = strongPassword();

  const res = await reset(token, newPassword);

  assertStatus(res, 204);
  assert.equal(res.body.length, 0, 'no body, so no tokens');
  assert.equal(res.headers.getSetCookie().filter((c) => /^__Host-rooom_refresh=[^;]+/.test(c)).length, 0, 'no refresh cookie');
  assertError(await login(u.username, u.password), 401, 'INVALID_CREDENTIALS');
  assertTokenResponse(await login(u.username, newPassword), 200, { id: u.user.id });
  for (const s of [u, other]) {
    assertUnauthenticated(await me(s.access));
    assertStatus(await refreshWith(s.refresh), 401);
  }
});

test('a reset token works only once', async () => {
  const u = await register();
  const token = await mailedResetToken(u.email);
  assertStatus(await reset(token, strongPassword()), 204);
  const third = strongPassword();

  const replay = await reset(token, third);

  assertError(replay, 400, 'INVALID_TOKEN');
  assertError(await login(u.username, third), 401, 'INVALID_CREDENTIALS');
});

test('an unknown reset token answers 400 INVALID_TOKEN', async () => {
  const res = await reset('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', strongPassword());

  assertError(res, 400, 'INVALID_TOKEN');
});

test('an older reset token stays valid after a newer one is mailed', async () => {
  const u = await register();
  const older = await mailedResetToken(u.email);
  await mailedResetToken(u.email);
  const pw = strongPassword();

  assertStatus(await reset(older, pw), 204);

  assertStatus(await login(u.username, pw), 200);
});

test('a weak new password is refused with fields.new_password and the token is not spent', async (t) => {
  const u = await register();
  const token = await mailedResetToken(u.email);

  for (const [name, pw] of Object.entries({ short: 'Ab3$xY7', common: 'password123', long: 'x'.repeat(129), username: u.username })) {
    await t.test(name, async () => {
      assertValidation(await reset(token, pw), 'new_password');
    });
  }
  const pw = strongPassword();
  assertStatus(await reset(token, pw), 204);
  assertStatus(await login(u.username, pw), 200);
});

test('changing the password needs the current one: a wrong one answers 403', async () => {
  const u = await register();

  const res = await api('POST', '/me/password', { token: u.access, body: { current_password: `${u.password}x`, new_password: strongPassword() } });

  assertError(res, 403, 'INVALID_CREDENTIALS');
  assertStatus(await me(u.access), 200, 'a wrong current password ends no session');
  assertStatus(await login(u.username, u.password), 200);
});

test('changing the password ends the other sessions, keeps this one, and notes it in the inbox', async () => {
  const u = await register();
  const other = await loginOk(u.username, u.password);
  const newPassword = strongPassword();

  const res = await api('POST', '/me/password', { token: u.access, body: { current_password: u.password, new_password: newPassword } });

  assertStatus(res, 204);
  assertStatus(await me(u.access), 200);
  assertStatus(await refreshWith(u.refresh), 200);
  assertUnauthenticated(await me(other.access));
  assertStatus(await refreshWith(other.refresh), 401);
  assertError(await login(u.username, u.password), 401, 'INVALID_CREDENTIALS');
  assertStatus(await login(u.username, newPassword), 200);
  const inbox = await api('GET', '/me/messages', { token: u.access });
  assert.ok(inbox.json.some((m) => m.kind === 'password_changed'), `password_changed message: ${inbox.text}`);
});

test('a weak new password on change is refused with fields.new_password', async () => {
  const u = await register();

  const res = await api('POST', '/me/password', { token: u.access, body: { current_password: u.password, new_password: 'short' } });

  assertValidation(res, 'new_password');
  assertStatus(await login(u.username, u.password), 200, 'the old password still works');
});

test('changing the password needs a signed-in session', async () => {
  const res = await api('POST', '/me/password', { body: { current_password: 'whatever1', new_password: strongPassword() } });

  assertError(res, 401, 'UNAUTHENTICATED');
});
