// One-time sign-in codes by mail.

import assert from 'node:assert/strict';
import {
  test, api, register, me, otpCode, nextMail, outbox, uniqueName, randomIp, OTP_RE,
} from '../lib/client.mjs';
import { assertStatus, assertError, assertTokenResponse } from '../lib/expect.mjs';

function requestOtp(email, opts = {}) {
  return api('POST', '/auth/otp/request', { body: { email }, ...opts });
}
function verifyOtp(email, code, opts = {}) {
  return api('POST', '/auth/otp/verify', { body: { email, code }, ...opts });
}
/** A six-digit code that is certainly not `code`. */
function otherCode(code) {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}
/** Requests a code and returns it from the outbox. */
async function freshCode(email) {
  const before = await outbox(email);
  assertStatus(await requestOtp(email), 202);
  const { match } = await nextMail(email, OTP_RE, before);
  return match[1];
}

test('requesting a code answers 202 with the same body for known and unknown emails', async () => {
  const u = await register();

  const known = await requestOtp(u.email);
  const unknown = await requestOtp(`${uniqueName('nobody')}@example.test`);

  assertStatus(known, 202);
  assertStatus(unknown, 202);
  assert.equal(known.text, unknown.text);
  assert.equal(known.headers.get('content-type'), unknown.headers.get('content-type'));
  assert.match(await otpCode(u.email), /^\d{6}$/);
});

test('the mailed code signs the user in', async () => {
  const u = await register();
  const code = await freshCode(u.email);

  const res = await verifyOtp(u.email.toUpperCase(), code);

  const b = assertTokenResponse(res, 200, { id: u.user.id, username: u.username, email: u.email });
  assertStatus(await me(b.access_token), 200);
});

test('a code works only once', async () => {
  const u = await register();
  const code = await freshCode(u.email);
  assertStatus(await verifyOtp(u.email, code), 200);

  const again = await verifyOtp(u.email, code);

  assertError(again, 401, 'INVALID_CREDENTIALS');
});

test('a wrong code answers 401 and leaves the right one usable', async () => {
  const u = await register();
  const code = await freshCode(u.email);

  const wrong = await verifyOtp(u.email, otherCode(code));
  const right = await verifyOtp(u.email, code);

  assertError(wrong, 401, 'INVALID_CREDENTIALS');
  assertTokenResponse(right, 200, { id: u.user.id });
});

test('after five wrong tries the code is spent, even for the right code', async () => {
  const u = await register();
  const code = await freshCode(u.email);

  for (let i = 1; i <= 5; i++) {
    const wrong = await verifyOtp(u.email, otherCode(String(Number(code) + i - 1)), { ip: randomIp() });
    assertError(wrong, 401, 'INVALID_CREDENTIALS');
  }
  const right = await verifyOtp(u.email, code, { ip: randomIp() });

  assertError(right, 401, 'INVALID_CREDENTIALS');
});

test('requesting a new code spends the older one', async () => {
  const u = await register();
  const first = await freshCode(u.email);
  const second = await freshCode(u.email);

  const old = first === second ? null : await verifyOtp(u.email, first);
  const fresh = await verifyOtp(u.email, second);

  if (old) assertError(old, 401, 'INVALID_CREDENTIALS');
  assertTokenResponse(fresh, 200, { id: u.user.id });
});

test('verifying for an unknown email looks exactly like a wrong code', async () => {
  const u = await register();
  const code = await freshCode(u.email);

  const wrong = await verifyOtp(u.email, otherCode(code));
  const unknown = await verifyOtp(`${uniqueName('nobody')}@example.test`, code);

  const e1 = assertError(wrong, 401, 'INVALID_CREDENTIALS');
  const e2 = assertError(unknown, 401, 'INVALID_CREDENTIALS');
  assert.deepEqual(e2, e1);
});

test('malformed codes are refused', async () => {
  const u = await register();
  await freshCode(u.email);

  for (const code of ['', '12345', '1234567', 'abcdef']) {
    const res = await verifyOtp(u.email, code, { ip: randomIp() });
    assert.ok([401, 422].includes(res.status), `code ${JSON.stringify(code)}: ${res.status} ${res.text}`);
  }
});
