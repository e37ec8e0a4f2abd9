// Account recovery against pre-hijacking: someone registers an address that is not
// theirs, and the real owner later proves the mailbox (one-time code) or resets the
// password. The squatter must lose every session and token (docs/accounts.md).

import assert from 'node:assert/strict';
import {
  test, api, register, registerVerified, me, outbox, nextMail, resetToken, randomIp, strongPassword, OTP_RE,
} from '../lib/client.mjs';
import { assertStatus, assertError, assertUnauthenticated, assertTokenResponse } from '../lib/expect.mjs';

test('a squatter who registered an address cannot mint tokens before it is verified', async () => {
  const squatter = await register();

  const res = await api('POST', '/me/tokens', { token: squatter.access, body: { name: 'backdoor', scope: 'write' } });

  assertError(res, 403, 'EMAIL_NOT_VERIFIED');
});

test('the mailbox owner signing in by code ends the squatter\'s sessions', async () => {
  const squatter = await register();
  assertStatus(await me(squatter.access), 200);
  const before = await outbox(squatter.email);
  assertStatus(await api('POST', '/auth/otp/request', { body: { email: squatter.email } }), 202);
  const code = (await nextMail(squatter.email, OTP_RE, before)).match[1];

  const owner = await api('POST', '/auth/otp/verify', { body: { email: squatter.email, code }, ip: randomIp() });

  assertTokenResponse(owner, 200, { id: squatter.user.id });
  assert.equal(owner.json.user.email_verified, true);
  assertUnauthenticated(await me(squatter.access));
  assertStatus(await me(owner.json.access_token), 200);
  const refresh = await api('POST', '/auth/refresh', { body: { refresh_token: squatter.refresh } });
  assertError(refresh, 401, 'INVALID_TOKEN');
});

test('a password reset ends every session and revokes every access token', async () => {
  const u = await registerVerified();
  const pat = await api('POST', '/me/tokens', { token: u.access, body: { name: 'old', scope: 'read' } });
  assertStatus(pat, 201);
  assertStatus(await me(pat.json.token), 200);
  assertStatus(await api('POST', '/auth/password/forgot', { body: { email: u.email } }), 202);
  const token = await resetToken(u.email);

  const res = await api('POST', '/auth/password/reset', { body: { token, new_password: strongPassword() } });

  assertStatus(res, 204);
  assertUnauthenticated(await me(u.access));
  assertUnauthenticated(await me(pat.json.token));
});
