// Login throttling (docs/accounts.md, "No enumeration, throttling"): per account five
// failures are free and per client IP thirty; each further failure doubles a wait that
// starts at 1 s, during which login answers 429 with Retry-After without checking the
// password. So after 5 (30) failures the next try is still checked; the 6th (31st)
// failure starts the wait. Never a permanent lockout, and mail-based sign-in and reset
// keep working while a login is throttled.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  test, api, register, login, outbox, nextMail, sleep, uniqueName, randomIp, strongPassword,
  OTP_RE, RESET_LINK_RE,
} from '../lib/client.mjs';
import { assertStatus, assertError, assertRetryAfter, assertTokenResponse } from '../lib/expect.mjs';
import { d1Live } from '../lib/d1.mjs';

/** `n` failed logins as `loginName`, each from its own IP (so only the account counter counts). */
async function failLogins(loginName, n, forms = [loginName]) {
  for (let i = 0; i < n; i++) {
    const res = await login(forms[i % forms.length], `wrong-password-${i}`, { ip: randomIp() });
    assertError(res, 401, 'INVALID_CREDENTIALS');
  }
}

test('five failures on one account are free: the right password still signs in', async () => {
  const u = await register();
  await failLogins(u.username, 5);

  const res = await login(u.username, u.password, { ip: randomIp() });

  assertTokenResponse(res, 200, { id: u.user.id });
});

test('after a sixth failure even the right password gets 429 with Retry-After', async () => {
  const u = await register();
  await failLogins(u.username, 6);

  const res = await login(u.username, u.password, { ip: randomIp() });

  assertError(res, 429, 'RATE_LIMITED');
  const wait = assertRetryAfter(res);
  assert.ok(wait <= 2, `the first wait is about 1 s (got Retry-After ${wait})`);
  assert.equal(res.headers.getSetCookie().length, 0, 'no cookie on a throttled login');
});

test('a successful login clears the account counter', async () => {
  const u = await register();
  await failLogins(u.username, 5);
  assertStatus(await login(u.username, u.password, { ip: randomIp() }), 200);
  await failLogins(u.username, 5);

  const res = await login(u.username, u.password, { ip: randomIp() });

  assertTokenResponse(res, 200, { id: u.user.id });
});

test('the account counter uses the case-folded login, whatever form is typed', async () => {
  const u = await register();
  await failLogins(u.username, 6, [u.username, u.username.toUpperCase()]);

  const res = await login(u.username.toUpperCase(), u.password, { ip: randomIp() });

  assertError(res, 429, 'RATE_LIMITED');
});

test('a throttled account is never locked for good: after Retry-After the right password works', async () => {
  const u = await register();
  await failLogins(u.username, 6);
  const throttled = await login(u.username, u.password, { ip: randomIp() });
  assertError(throttled, 429, 'RATE_LIMITED');
  const wait = assertRetryAfter(throttled);

  await sleep(wait * 1000 + 250);
  const res = await login(u.username, u.password, { ip: randomIp() });

  assertTokenResponse(res, 200, { id: u.user.id });
});

test('unknown accounts are throttled exactly like known ones', async () => {
  const ghost = uniqueName('ghost');
  await failLogins(ghost, 6);

  const res = await login(ghost, 'wrong-password', { ip: randomIp() });

  assertError(res, 429, 'RATE_LIMITED');
});

test('thirty-one failures from one IP over different logins throttle that IP for everyone', async () => {
  const ip = randomIp();
  const victim = await register({ ip: randomIp() });
  for (let i = 1; i <= 31; i++) {
    const res = await login(uniqueName('probe'), 'wrong-password', { ip });
    assert.equal(res.status, 401, `failure ${i} of 31 is still answered (a 429 here means a limit below the per-IP allowance): ${res.status} ${res.text}`);
  }

  const next = await login(uniqueName('probe'), 'wrong-password', { ip });
  const victimFromThatIp = await login(victim.username, victim.password, { ip });
  const victimElsewhere = await login(victim.username, victim.password, { ip: randomIp() });

  assertError(next, 429, 'RATE_LIMITED');
  assertError(victimFromThatIp, 429, 'RATE_LIMITED');
  assertTokenResponse(victimElsewhere, 200, { id: victim.user.id });
});

test('password reset and one-time codes keep working while the login is throttled', async () => {
  const u = await register();
  // Mail first, so the throttle window is not spent waiting for the outbox.
  const before = await outbox(u.email);
  assertStatus(await api('POST', '/auth/password/forgot', { body: { email: u.email } }), 202);
  const resetMail = await nextMail(u.email, RESET_LINK_RE, before);
  await failLogins(u.username, 6);
  assertError(await login(u.username, u.password, { ip: randomIp() }), 429, 'RATE_LIMITED');
  const beforeOtp = await outbox(u.email);
  const otpRequest = await api('POST', '/auth/otp/request', { body: { email: u.email }, ip: randomIp() });
  const code = (await nextMail(u.email, OTP_RE, beforeOtp)).match[1];
  const newPassword = strongPassword();

  const otp = await api('POST', '/auth/otp/verify', { body: { email: u.email, code }, ip: randomIp() });
  const reset = await api('POST', '/auth/password/reset', {
    body: { token: decodeURIComponent(resetMail.match[2]), new_password: newPassword },
    ip: randomIp(),
  });

  assertStatus(otpRequest, 202);
  assertTokenResponse(otp, 200, { id: u.user.id });
  assertStatus(reset, 204);
  let res;
  for (let i = 0; i < 20; i++) {
    res = await login(u.username, newPassword, { ip: randomIp() });
    if (res.status !== 429) break;
    await sleep(assertRetryAfter(res) * 1000 + 100);
  }
  assertTokenResponse(res, 200, { id: u.user.id });
});

test('parallel guesses cannot outrun the account counter', async () => {
  const u = await register();
  const burst = Array.from({ length: 16 }, (_, i) =>
    login(u.username, `parallel-guess-${i}`, { ip: randomIp() }));

  const results = await Promise.all(burst);

  const checked = results.filter((r) => r.status === 401).length;
  const refused = results.filter((r) => r.status === 429).length;
  assert.equal(checked + refused, results.length, `only 401 or 429: ${results.map((r) => r.status)}`);
  assert.ok(checked <= 6, `at most the five free failures and the one that starts the wait are checked (got ${checked})`);
  // The account's counter as stored: the wait it set, whatever the machine's speed.
  const key = `login:${crypto.createHash('sha256').update(u.username.toLowerCase()).digest('hex')}`;
  const [rows] = await d1Live([['SELECT failures, last_failure_at, blocked_until FROM throttles WHERE key = ?', [key]]]);
  assert.equal(rows.length, 1, `one counter for the account: ${JSON.stringify(rows)}`);
  const [failures, lastFailureAt, blockedUntil] = rows[0].map(Number);
  assert.equal(failures, checked, 'every checked guess was counted, no more');
  assert.ok(blockedUntil >= lastFailureAt + 1000, `a wait of at least a second is in force: ${rows[0]}`);
  // While it lasts, even the right password waits (a slow machine may have let it pass).
  const sent = Date.now();
  const right = await login(u.username, u.password, { ip: randomIp() });
  if (sent + 100 < blockedUntil) assertError(right, 429, 'RATE_LIMITED');
  else assert.ok([200, 429].includes(right.status), `after the wait: ${right.status}`);
});

test('failures on a username do not reveal which email belongs to it', async () => {
  const u = await register();
  await failLogins(u.username, 6);

  const byEmail = await login(u.email, 'wrong-password', { ip: randomIp() });
  const byOtherEmail = await login(`${uniqueName('x')}@example.com`, 'wrong-password', { ip: randomIp() });

  assertError(byEmail, 401, 'INVALID_CREDENTIALS');
  assertError(byOtherEmail, 401, 'INVALID_CREDENTIALS');
});

test('failed sign-ins by others do not block a signed-in user from changing their password', async () => {
  const u = await register();
  await failLogins(u.username, 6);
  assertError(await login(u.username, u.password, { ip: randomIp() }), 429, 'RATE_LIMITED');

  const res = await api('POST', '/me/password', {
    token: u.access, body: { current_password: u.password, new_password: strongPassword() },
  });

  assertStatus(res, 204);
});
