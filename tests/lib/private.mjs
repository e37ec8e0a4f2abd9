// Helpers for the private-room tests (docs/teams.md): the sign-in handoff (grant codes
// and the grant cookie), organisations and members, non-repeating test bytes, and a
// raw-byte search of the Worker's local state directory for plaintext markers.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  api, request, tenantUrl, describeRes, cookiesFrom, uniqueName, STATE_DIR, APP_ORIGIN, PORT, sleep,
} from './client.mjs';
import { assertStatus } from './expect.mjs';
import { createRoom, putFileOk } from './rooms.mjs';

export const GRANT_COOKIE = '__Host-rooom_grant';
export const GRANT_MAX_AGE = 43200;

/** `http://<t>.localhost:<port>` (no trailing slash). */
export function tenantOrigin(t) {
  return `http://${t}.localhost:${PORT}`;
}

/** A `Cookie` header value carrying a grant. */
export function grantCookie(value) {
  return `${GRANT_COOKIE}=${value}`;
}

/** GET (or HEAD, …) on a tenant host with a grant cookie. */
export function withGrant(t, p, grant, { method = 'GET', headers = {} } = {}) {
  return request(tenantUrl(t, p), { method, headers: { cookie: grantCookie(grant), ...headers } });
}

export const STATE_COOKIE_PREFIX = '__Host-rooom_state_';

/** A handoff state as a tenant host makes one (256 random bits, base64url). */
export function newState() {
  return crypto.randomBytes(32).toString('base64url');
}

/** The digest the app stores for a state. */
export function stateDigest(state) {
  return crypto.createHash('sha256').update(state).digest('hex');
}

/** The `name=value` of the state cookie a tenant host sets for `state`. */
export function stateCookie(state) {
  return `${STATE_COOKIE_PREFIX}${stateDigest(state).slice(0, 12)}=${state}`;
}

// The state each code of issueCode was minted with: exchange() presents its cookie,
// as the browser that set out from the tenant host would.
const stateOfCode = new Map();

/**
 * POST /grants {tenant, return, state} with the user's access token; the raw response.
 * `state: null` leaves the state out.
 */
export function askGrant(user, t, returnPath, { token, state = newState() } = {}) {
  const body = { tenant: t, return: returnPath };
  if (state !== null) body.state = state;
  return api('POST', '/grants', { token: token ?? user.access, body });
}

/**
 * POST /grants and assert the 201 `{location}` (on the tenant's own host, `/_/grant?code=…`).
 * Returns {location, code, url}.
 */
export async function issueCode(user, t, returnPath, opts = {}) {
  const state = opts.state ?? newState();
  const res = await askGrant(user, t, returnPath, { ...opts, state });
  assertStatus(res, 201, `POST /grants for ${t} ${returnPath}`);
  const location = res.json?.location;
  assert.equal(typeof location, 'string', `{location} expected: ${describeRes(res)}`);
  const url = new URL(location);
  assert.equal(url.origin, tenantOrigin(t), `the code goes to the tenant's own host: ${location}`);
  assert.equal(url.pathname, '/_/grant', `the code is traded at /_/grant: ${location}`);
  const code = url.searchParams.get('code');
  assert.ok(code && code.length >= 16, `a one-time code in the location: ${location}`);
  stateOfCode.set(code, state);
  return { location, code, url, state };
}

/**
 * GET `/_/grant?code=<code>` on tenant `t`'s host; the raw response. The request carries
 * the state cookie the code was minted with (issueCode), unless `state` says otherwise
 * (`null`: no state cookie).
 */
export function exchange(t, code, { state = stateOfCode.get(code), headers = {}, ...opts } = {}) {
  const cookie = [headers.cookie, state ? stateCookie(state) : null].filter(Boolean).join('; ');
  return request(tenantUrl(t, `/_/grant?code=${encodeURIComponent(code)}`), {
    ...opts, headers: { ...headers, cookie: cookie || undefined },
  });
}

/** The grant Set-Cookie of a response, or null. */
export function grantSetCookie(res) {
  return cookiesFrom(res).find((c) => c.name === GRANT_COOKIE) ?? null;
}

/**
 * The whole handoff for `user` on tenant `t`: POST /grants, then the exchange on the
 * tenant host (302 back to `t`'s origin + `returnPath`, with the grant cookie).
 * Returns the cookie value.
 */
export async function grantFor(user, t, returnPath = '/') {
  const { code } = await issueCode(user, t, returnPath);
  const res = await exchange(t, code);
  assertStatus(res, 302, `exchange of a fresh code on ${t}`);
  assert.equal(res.headers.get('location'), `${tenantOrigin(t)}${returnPath}`, 'back to the return path on the tenant origin');
  const c = grantSetCookie(res);
  assert.ok(c && c.value, `the exchange sets ${GRANT_COOKIE}: ${res.headers.getSetCookie().join(' | ')}`);
  return c.value;
}

/** The anonymous answer of a private room: 302 to `<app>/grant?tenant=<t>&return=<path>`. Returns the URL. */
export function assertSignInRedirect(res, t, returnPath) {
  assertStatus(res, 302, 'a private room sends the visitor to sign in');
  const location = res.headers.get('location') ?? '';
  const url = new URL(location);
  assert.equal(url.origin, APP_ORIGIN, `the sign-in is on the app origin: ${location}`);
  assert.equal(url.pathname, '/grant', `the sign-in page is /grant: ${location}`);
  assert.equal(url.searchParams.get('tenant'), t, `tenant=${t}: ${location}`);
  if (returnPath !== undefined) assert.equal(url.searchParams.get('return'), returnPath, `return=${returnPath}: ${location}`);
  const cc = res.headers.get('cache-control') ?? '';
  assert.match(cc, /\bprivate\b/, `a sign-in redirect is private: ${cc}`);
  assert.match(cc, /\bno-store\b/, `a sign-in redirect is no-store: ${cc}`);
  assertStateCookie(res, url.searchParams.get('state'));
  return url;
}

/**
 * The one cookie of a sign-in redirect: the handoff state of the redirect's URL, host-only
 * (`__Host-`, Path=/, no Domain), HttpOnly, Secure, SameSite=Lax, short-lived.
 */
export function assertStateCookie(res, state) {
  assert.match(state ?? '', /^[A-Za-z0-9_-]{43}$/, `a random state in the sign-in URL: ${state}`);
  const cookies = cookiesFrom(res);
  assert.equal(cookies.length, 1, `only the state cookie: ${res.headers.getSetCookie().join(' | ')}`);
  const [c] = cookies;
  assert.equal(`${c.name}=${c.value}`, stateCookie(state), 'the cookie holds the state of the URL');
  assert.equal(c.attrs.path, '/');
  assert.equal(c.attrs.domain, undefined, 'host-only');
  assert.ok(c.attrs.httponly && c.attrs.secure, `HttpOnly and Secure: ${c.raw}`);
  assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax');
  assert.ok(Number(c.attrs['max-age']) > 0 && Number(c.attrs['max-age']) <= 3600, `short-lived: ${c.raw}`);
}

/** The headers of a response served through a grant. */
export function assertPrivateHeaders(res, what = '') {
  assert.equal(res.headers.get('cache-control'), 'private, no-store', `Cache-Control ${what}`);
  const vary = (res.headers.get('vary') ?? '').split(',').map((v) => v.trim().toLowerCase());
  assert.ok(vary.includes('cookie'), `Vary includes Cookie ${what}: ${res.headers.get('vary')}`);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', `Referrer-Policy ${what}`);
  assert.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin', `CORP ${what}`);
}

// ---------------------------------------------------------------- organisations

/** POST /tenants {slug}; fails unless 201. Returns the tenant. */
export async function createOrg(owner, slug = uniqueName('org')) {
  const res = await api('POST', '/tenants', { token: owner.access, body: { slug } });
  assertStatus(res, 201, `create organisation ${slug}`);
  return res.json;
}

/** POST /tenants/{t}/members {username, role}; fails unless 201. */
export async function addMember(owner, t, username, role) {
  const res = await api('POST', `/tenants/${t}/members`, { token: owner.access, body: { username, role } });
  assertStatus(res, 201, `add ${username} as ${role} to ${t}`);
  return res.json;
}

/** PATCH /tenants/{t}/rooms/{room} {visibility}; fails unless 200. */
export async function setVisibility(user, t, room, visibility) {
  const res = await api('PATCH', `/tenants/${t}/rooms/${room}`, { token: user.access, body: { visibility } });
  assertStatus(res, 200, `make ${t}/${room} ${visibility}`);
  assert.equal(res.json?.visibility, visibility, `the room is now ${visibility}: ${describeRes(res)}`);
  return res.json;
}

// ---------------------------------------------------------------- bytes

export const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

/** A unique ASCII marker string. */
export function marker(label) {
  return `MARK-${label}-${crypto.randomBytes(12).toString('hex')}`;
}

/**
 * `size` non-repeating bytes: 32-byte blocks b[i] = sha256(seed ‖ b[i-1]), with each
 * `{at, text}` of `inserts` written over them.
 */
export function chainedBytes(size, inserts = []) {
  const out = Buffer.alloc(size);
  let block = crypto.randomBytes(32);
  for (let off = 0; off < size; off += 32) {
    block = crypto.createHash('sha256').update(block).update(String(off)).digest();
    block.copy(out, off, 0, Math.min(32, size - off));
  }
  for (const { at, text } of inserts) out.write(text, at, 'latin1');
  return out;
}

// ---------------------------------------------------------------- the state directory

function* walk(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return;
    throw e;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

/**
 * Searches every file under ROOOM_STATE_DIR, as raw bytes, for each marker.
 * Returns {marker: [files holding it]} for the markers found (empty object: none).
 */
export function scanState(markers) {
  if (!STATE_DIR) throw new Error('ROOOM_STATE_DIR is not set: run the suite through `node tests/run.mjs`');
  const needles = markers.map((m) => [m, Buffer.from(m, 'utf8')]);
  const found = {};
  let files = 0;
  for (const file of walk(STATE_DIR)) {
    let buf;
    try {
      buf = fs.readFileSync(file);
    } catch (e) {
      if (e.code === 'ENOENT' || e.code === 'EISDIR') continue; // removed while we looked
      throw e;
    }
    files += 1;
    for (const [m, needle] of needles) {
      if (buf.indexOf(needle) >= 0) (found[m] ??= []).push(path.relative(STATE_DIR, file));
    }
  }
  if (files === 0) throw new Error(`no files at all under ${STATE_DIR}`);
  return found;
}

/** Polls the state directory until no marker is found; fails with what is left after `timeout`. */
export async function assertMarkersGone(markers, what, { timeout = 6000 } = {}) {
  const deadline = Date.now() + timeout;
  let found;
  for (;;) {
    found = scanState(markers);
    if (Object.keys(found).length === 0) return;
    if (Date.now() > deadline) break;
    await sleep(250);
  }
  assert.fail(`${what}: plaintext markers still in the state directory: ${JSON.stringify(found)}`);
}

/** Asserts every marker is found in the state directory (the search works). */
export function assertMarkersPresent(markers, what) {
  const found = scanState(markers);
  const missing = markers.filter((m) => !found[m]);
  assert.deepEqual(missing, [], `${what}: markers expected in plaintext in the state directory`);
}

/**
 * Polls a tenant-host request until `done(res)` holds (the one-second site memo may
 * still answer the old way). Every answer on the way must pass `check(res)`.
 */
export async function settle(fetchIt, done, check = () => {}, { timeout = 4000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const res = await fetchIt();
    check(res);
    if (done(res)) return res;
    if (Date.now() > deadline) assert.fail(`did not settle within ${timeout} ms: ${describeRes(res)}`);
    await sleep(150);
  }
}

/** A private room `slug` of `t` holding `secret.txt` ("the <marker>"); the marker. */
export async function privateRoom(owner, t, slug = 'vault') {
  const secret = marker(slug);
  await createRoom(owner.access, t, { slug, visibility: 'private' });
  await putFileOk(owner.access, t, slug, 'secret.txt', `the ${secret}`);
  return secret;
}
