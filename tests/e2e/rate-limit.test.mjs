// The Workers rate-limit binding AUTH_LIMITER (wrangler.toml: 60 requests per 60 s) guards
// every credential endpoint per endpoint and client IP (docs/accounts.md). Each case
// sends more than the limit from one IP with a body that is cheap to refuse, and expects
// a 429 with Retry-After before the end, while a fresh IP still gets through. The limiter
// counts in fixed one-minute windows, so a run may straddle a boundary: sending up to
// twice the limit guarantees one window goes over it.

import assert from 'node:assert/strict';
import { test, api, randomIp } from '../lib/client.mjs';
import { assertError, assertRetryAfter } from '../lib/expect.mjs';

const LIMIT = 60;
const CREDENTIAL_ENDPOINTS = [
  ['POST', '/auth/register'],
  ['POST', '/auth/verify-email'],
  ['POST', '/auth/login'],
  ['POST', '/auth/refresh'],
  ['POST', '/auth/otp/request'],
  ['POST', '/auth/otp/verify'],
  ['POST', '/auth/password/forgot'],
  ['POST', '/auth/password/reset'],
  ['POST', '/me/password'],
  ['DELETE', '/me'],
  ['POST', '/me/tokens'],
];

for (const [method, path] of CREDENTIAL_ENDPOINTS) {
  test(`${method} ${path} answers 429 with Retry-After past ${LIMIT} requests per minute from one IP`, async () => {
    const ip = randomIp();
    let limited = null;
    let sent = 0;
    while (!limited && sent < 2 * LIMIT + 5) {
      const res = await api(method, path, { body: {}, ip });
      sent += 1;
      if (res.status === 429) limited = res;
      else assert.notEqual(res.status, 500, `request ${sent} failed with a 500`);
    }

    assert.ok(limited, `no 429 after ${sent} requests`);
    assert.ok(sent > LIMIT / 2, `limited too early, after ${sent} requests`);
    assertError(limited, 429, 'RATE_LIMITED');
    assertRetryAfter(limited);
    const other = await api(method, path, { body: {}, ip: randomIp() });
    assert.notEqual(other.status, 429, 'another IP is not limited');
  });
}
