// Contract assertions shared by the end-to-end tests.

import assert from 'node:assert/strict';
import { describeRes, cookieFrom } from './client.mjs';

/** Asserts the status, with the response in the message. */
export function assertStatus(res, status, what = '') {
  assert.equal(res.status, status, `${what ? `${what}: ` : ''}expected ${status}: ${describeRes(res)}`);
}

/**
 * Asserts an error response: status, JSON body {error:{code, message, fields?}},
 * x-request-id and nosniff. Returns the error object.
 */
export function assertError(res, status, code) {
  assertStatus(res, status);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/, `error body must be JSON: ${describeRes(res)}`);
  assert.ok(res.json && typeof res.json.error === 'object', `body must be {error:{...}}: ${describeRes(res)}`);
  const err = res.json.error;
  assert.equal(err.code, code, `error code: ${describeRes(res)}`);
  assert.equal(typeof err.message, 'string');
  assert.ok(err.message.length > 0, 'error message must not be empty');
  if (err.fields !== undefined) assert.equal(typeof err.fields, 'object');
  assert.ok(res.headers.get('x-request-id'), 'every response has x-request-id');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  if (status === 401) {
    assert.ok(res.headers.get('www-authenticate'), `401 must carry WWW-Authenticate: ${describeRes(res)}`);
  }
  if (status === 429) assertRetryAfter(res);
  return err;
}

/** 422 VALIDATION_FAILED naming `field` in `fields` (a non-empty list of reasons). */
export function assertValidation(res, field) {
  const err = assertError(res, 422, 'VALIDATION_FAILED');
  assert.ok(err.fields && typeof err.fields === 'object', `422 must carry fields: ${describeRes(res)}`);
  assert.ok(field in err.fields, `fields.${field} expected: ${describeRes(res)}`);
  const why = err.fields[field];
  assert.ok(Array.isArray(why) ? why.length > 0 : typeof why === 'string' && why.length > 0, `fields.${field} must say why`);
  return err;
}

/** 401 UNAUTHENTICATED with `WWW-Authenticate: Bearer...`. */
export function assertUnauthenticated(res) {
  assertError(res, 401, 'UNAUTHENTICATED');
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/i);
}

/** 429 with a whole-seconds Retry-After ≥ 1; returns it. */
export function assertRetryAfter(res) {
  const ra = res.headers.get('retry-after');
  assert.match(ra ?? '', /^\d+$/, `Retry-After must be whole seconds: ${ra}`);
  assert.ok(Number(ra) >= 1, `Retry-After must be >= 1, got ${ra}`);
  return Number(ra);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
export function assertTime(value, what = 'time') {
  assert.match(String(value), RFC3339, `${what} must be RFC 3339: ${value}`);
  assert.ok(!Number.isNaN(Date.parse(value)), `${what} must parse: ${value}`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function assertId(value, what = 'id') {
  assert.match(String(value), UUID, `${what} must be a UUID: ${value}`);
}

/** The user shape {id, username, email, email_verified, display_name, preferences, created_at}. */
export function assertUser(user, expected = {}) {
  assert.ok(user && typeof user === 'object', 'user object expected');
  assertId(user.id, 'user.id');
  assert.equal(typeof user.username, 'string');
  assert.equal(typeof user.email, 'string');
  assert.equal(typeof user.email_verified, 'boolean');
  assert.equal(typeof user.display_name, 'string');
  assert.ok(user.preferences && typeof user.preferences === 'object' && !Array.isArray(user.preferences), 'preferences must be an object');
  assertTime(user.created_at, 'user.created_at');
  assert.ok(!('password' in user) && !('password_hash' in user), 'no password material in user');
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(user[k], v, `user.${k}`);
}

/** A token response {access_token, token_type:"Bearer", expires_in:900, refresh_token, user}. */
export function assertTokenResponse(res, status = 200, expectedUser = {}) {
  assertStatus(res, status);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const b = res.json;
  assert.match(b.access_token ?? '', /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'access_token must be a JWT');
  assert.equal(b.token_type, 'Bearer');
  assert.equal(b.expires_in, 900);
  assert.equal(typeof b.refresh_token, 'string');
  assert.ok(b.refresh_token.length >= 40, 'refresh token must carry 256 bits');
  assertUser(b.user, expectedUser);
  assertRefreshCookie(res, b.refresh_token);
  return b;
}

/** The refresh cookie: HttpOnly, Secure, SameSite=Strict, Path=/, no Domain. */
export function assertRefreshCookie(res, expectedValue) {
  const c = cookieFrom(res);
  assert.ok(c, `a __Host-rooom_refresh cookie must be set: ${res.headers.getSetCookie().join(' | ')}`);
  assert.equal(c.attrs.httponly, true, `HttpOnly: ${c.raw}`);
  assert.equal(c.attrs.secure, true, `Secure: ${c.raw}`);
  assert.equal(String(c.attrs.samesite).toLowerCase(), 'strict', `SameSite=Strict: ${c.raw}`);
  assert.equal(c.attrs.path, '/', `Path=/: ${c.raw}`);
  assert.ok(!('domain' in c.attrs), `no Domain: ${c.raw}`);
  if (expectedValue !== undefined) assert.equal(decodeURIComponent(c.value), expectedValue, 'cookie carries the refresh token');
  return c;
}

/** The refresh cookie is cleared (empty/expired) but still valid as a __Host- cookie. */
export function assertRefreshCookieCleared(res) {
  const c = cookieFrom(res);
  assert.ok(c, `logout must clear the refresh cookie: ${res.headers.getSetCookie().join(' | ')}`);
  const expired = c.attrs['max-age'] === '0' || (c.attrs.expires && Date.parse(c.attrs.expires) < Date.now());
  assert.ok(expired, `cookie must be expired: ${c.raw}`);
  assert.equal(c.attrs.secure, true, `a __Host- cookie needs Secure to be cleared: ${c.raw}`);
  assert.equal(c.attrs.path, '/', `a __Host- cookie needs Path=/ to be cleared: ${c.raw}`);
}

/** Parses a Content-Security-Policy into {directive: [values]}. */
export function parseCsp(value) {
  const out = {};
  for (const part of String(value ?? '').split(';')) {
    const [name, ...vals] = part.trim().split(/\s+/);
    if (name) out[name.toLowerCase()] = vals;
  }
  return out;
}

/**
 * App/API security headers: nosniff, a Referrer-Policy among `referrerPolicies`, CSP
 * `default-src` no wider than 'self' ('self' or the stricter 'none'),
 * `frame-ancestors 'none'`, and no inline script.
 */
export function assertAppSecurityHeaders(res, referrerPolicies) {
  const allowed = [].concat(referrerPolicies);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(allowed.includes(res.headers.get('referrer-policy')), `Referrer-Policy ${res.headers.get('referrer-policy')} not in ${allowed}`);
  const raw = res.headers.get('content-security-policy');
  const csp = parseCsp(raw);
  assert.equal(csp['default-src']?.length, 1, `CSP default-src: ${raw}`);
  assert.ok(["'self'", "'none'"].includes(csp['default-src'][0]), `CSP default-src no wider than 'self': ${raw}`);
  assert.deepEqual(csp['frame-ancestors'], ["'none'"], `CSP frame-ancestors: ${raw}`);
  const scriptSrc = csp['script-src'] ?? csp['default-src'];
  assert.ok(!scriptSrc.includes("'unsafe-inline'") && !scriptSrc.includes('*'), `no inline or foreign script: ${raw}`);
}
