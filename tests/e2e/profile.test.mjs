// PATCH /me: display name, preferences and changing the email address.

import assert from 'node:assert/strict';
import {
  test, api, register, login, me, uniqueName, emailFor, verificationToken, latestMail, VERIFY_LINK_RE, BASE,
} from '../lib/client.mjs';
import { assertStatus, assertError, assertValidation, assertUser, assertTokenResponse } from '../lib/expect.mjs';

function patchMe(token, body) {
  return api('PATCH', '/me', { token, body });
}

test('the display name and preferences can be changed', async () => {
  const u = await register();
  const preferences = { theme: 'dark', editor: { tabs: 2, wrap: true }, langs: ['en', 'de'] };

  const res = await patchMe(u.access, { display_name: '  Ada Lovelace  ', preferences });

  assertStatus(res, 200);
  assertUser(res.json, { id: u.user.id, display_name: 'Ada Lovelace', preferences, email: u.email });
  const after = await me(u.access);
  assert.equal(after.json.display_name, 'Ada Lovelace');
  assert.deepEqual(after.json.preferences, preferences);
});

test('preferences are replaced whole, and fields not sent are left alone', async () => {
  const u = await register({ display_name: 'Keep Me' });
  await patchMe(u.access, { preferences: { a: 1, b: 2 } });

  const res = await patchMe(u.access, { preferences: { c: 3 } });

  assertStatus(res, 200);
  assert.deepEqual(res.json.preferences, { c: 3 });
  assert.equal(res.json.display_name, 'Keep Me');
});

test('preferences that are not an object or exceed 4 KiB are refused', async (t) => {
  const u = await register();
  const cases = {
    'an array': [1, 2, 3],
    'a string': 'dark',
    'a number': 7,
    'over 4 KiB': { blob: 'x'.repeat(4200) },
  };
  for (const [name, preferences] of Object.entries(cases)) {
    await t.test(name, async () => {
      assertValidation(await patchMe(u.access, { preferences }), 'preferences');
    });
  }
  await t.test('nothing was stored', async () => {
    assert.deepEqual((await me(u.access)).json.preferences, u.user.preferences);
  });
});

test('preferences just under 4 KiB are accepted', async () => {
  const u = await register();
  const preferences = { blob: 'x'.repeat(3900) };

  const res = await patchMe(u.access, { preferences });

  assertStatus(res, 200);
  assert.deepEqual(res.json.preferences, preferences);
});

test('display names that are empty, blank, too long or contain control characters are refused', async (t) => {
  const u = await register();
  for (const [name, display_name] of Object.entries({ empty: '', blank: '   ', '65 characters': 'n'.repeat(65), 'a control character': 'bad\u0007name', 'a newline': 'two\nlines' })) {
    await t.test(name, async () => {
      assertValidation(await patchMe(u.access, { display_name }), 'display_name');
    });
  }
  await t.test('64 characters are fine', async () => {
    const res = await patchMe(u.access, { display_name: 'n'.repeat(64) });
    assertStatus(res, 200);
    assert.equal(res.json.display_name, 'n'.repeat(64));
  });
});

test('changing the email needs current_password', async () => {
  const u = await register();

  const res = await patchMe(u.access, { email: emailFor(uniqueName('new')) });

  assertValidation(res, 'current_password');
  assert.equal((await me(u.access)).json.email, u.email);
});

test('changing the email with a wrong current_password answers 403', async () => {
  const u = await register();

  const res = await patchMe(u.access, { email: emailFor(uniqueName('new')), current_password: `${u.password}x` });

  assertError(res, 403, 'INVALID_CREDENTIALS');
  assert.equal((await me(u.access)).json.email, u.email);
});

test('changing the email unverifies it, mails a verification link to the new address and moves the login', async () => {
  const u = await register();
  await api('POST', '/auth/verify-email', { body: { token: await verificationToken(u.email) } });
  assert.equal((await me(u.access)).json.email_verified, true);
  const newEmail = emailFor(uniqueName('moved'));

  const res = await patchMe(u.access, { email: newEmail.toUpperCase(), current_password: u.password });

  assertStatus(res, 200);
  assertUser(res.json, { id: u.user.id, email: newEmail, email_verified: false });
  const { match } = await latestMail(newEmail, VERIFY_LINK_RE);
  assert.equal(match[1], BASE);
  assertTokenResponse(await login(newEmail, u.password), 200, { id: u.user.id, email: newEmail });
  assertError(await login(u.email, u.password), 401, 'INVALID_CREDENTIALS');
  assertStatus(await api('POST', '/auth/verify-email', { body: { token: decodeURIComponent(match[2]) } }), 204);
  assert.equal((await me(u.access)).json.email_verified, true);
});

test('changing the email to an invalid address is refused with fields.email', async () => {
  const u = await register();

  const res = await patchMe(u.access, { email: 'not-an-email', current_password: u.password });

  assertValidation(res, 'email');
});

test('PATCH /me without a session answers 401', async () => {
  const res = await api('PATCH', '/me', { body: { display_name: 'x' } });

  assertError(res, 401, 'UNAUTHENTICATED');
});
