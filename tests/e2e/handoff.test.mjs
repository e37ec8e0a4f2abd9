// The sign-in handoff that opens private rooms on tenant hosts (docs/teams.md): the
// redirect to the app, POST /grants, the one-time code traded at /_/grant for the
// __Host-rooom_grant cookie, who it opens a room for (owner, members, not strangers,
// not after removal or sign-out, not on another tenant's host), codes (once, own host,
// expiry), forged cookies, the return address (no open redirect), headers and the audit
// log.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  test, api, register, registerVerified, loginOk, tenant, describeRes, decodeJwt, mintJwt,
  refreshCookieHeader, cookiesFrom, APP_ORIGIN, sleep,
} from '../lib/client.mjs';
import { assertStatus, assertError, assertValidation } from '../lib/expect.mjs';
import { createRoom, putFileOk, getTenant } from '../lib/rooms.mjs';
import { d1Live } from '../lib/d1.mjs';
import {
  GRANT_COOKIE, GRANT_MAX_AGE, tenantOrigin, grantCookie, withGrant, askGrant, issueCode, exchange, grantSetCookie,
  grantFor, assertSignInRedirect, assertPrivateHeaders, createOrg, addMember, marker, privateRoom, newState, stateDigest, stateCookie,
} from '../lib/private.mjs';


/** The grant opens the room: 200 with the content and private headers. */
async function assertOpens(t, grant, secret, p = '/rooms/vault/secret.txt', what = '') {
  const res = await withGrant(t, p, grant);
  assertStatus(res, 200, `${what} ${p} with a grant`);
  assert.equal(res.text, `the ${secret}`, `${what} the content`);
  assertPrivateHeaders(res, what);
  return res;
}

/** The grant does not open the room: 302 to sign in, nothing of the content. */
async function assertClosed(t, grant, secret, p = '/rooms/vault/secret.txt', what = '') {
  const res = await withGrant(t, p, grant);
  assertSignInRedirect(res, t, p);
  assert.ok(!res.text.includes(secret), `${what}: no content`);
  return res;
}

test('the whole handoff: tenant host → app → one-time code → grant cookie → the room', async () => {
  const u = await register();
  const t = u.username;
  const secret = await privateRoom(u, t);
  const wanted = '/rooms/vault/secret.txt?v=1&w=a%20b';

  const first = await tenant(t, wanted);
  const signIn = assertSignInRedirect(first, t, wanted);
  const ret = signIn.searchParams.get('return');
  const state = signIn.searchParams.get('state');
  const { location, code } = await issueCode(u, signIn.searchParams.get('tenant'), ret, { state });
  const browserCookie = cookiesFrom(first)[0];
  const traded = await tenant(t, new URL(location).pathname + new URL(location).search, {
    headers: { cookie: `${browserCookie.name}=${browserCookie.value}` },
  });

  assertStatus(traded, 302, 'the code is traded for a grant');
  assert.equal(traded.headers.get('location'), `${tenantOrigin(t)}${wanted}`, 'back to the page asked for, on the tenant origin');
  const c = grantSetCookie(traded);
  assert.ok(c?.value, `a grant cookie: ${traded.headers.getSetCookie().join(' | ')}`);
  assert.ok(!c.value.includes(code), 'the cookie is not the code');
  const page = await withGrant(t, wanted, c.value);
  assertStatus(page, 200);
  assert.equal(page.text, `the ${secret}`);
  assertPrivateHeaders(page, 'the page');
  const folder = await withGrant(t, '/rooms/vault', c.value);
  assertStatus(folder, 301, 'with a grant the bare room URL gets its slash');
  assert.equal(folder.headers.get('location'), '/rooms/vault/');
  const missing = await withGrant(t, '/rooms/vault/none.txt', c.value);
  assertStatus(missing, 404, 'a missing file in the private room');
  assert.ok(!missing.text.includes(secret));
  assert.match(missing.headers.get('cache-control') ?? '', /no-store/, 'even its 404 is not stored');
});

test('members of an organisation of any role are let in; a stranger gets 404 and no code', async () => {
  const owner = await register();
  const viewer = await register();
  const member = await register();
  const stranger = await register();
  const org = await createOrg(owner);
  await addMember(owner, org.slug, viewer.username, 'viewer');
  await addMember(owner, org.slug, member.username, 'member');
  const secret = await privateRoom(owner, org.slug);

  await assertOpens(org.slug, await grantFor(owner, org.slug, '/rooms/vault/'), secret, undefined, 'owner');
  await assertOpens(org.slug, await grantFor(viewer, org.slug, '/rooms/vault/'), secret, undefined, 'viewer');
  await assertOpens(org.slug, await grantFor(member, org.slug, '/rooms/vault/'), secret, undefined, 'member');

  const res = await askGrant(stranger, org.slug, '/rooms/vault/');
  assertError(res, 404, 'NOT_FOUND');
  assert.ok(!('location' in (res.json ?? {})) && !/code=/.test(res.text), `no code for a stranger: ${res.text}`);
  assertError(await askGrant(stranger, `zz${org.slug}`, '/'), 404, 'NOT_FOUND');
  const own = await askGrant(stranger, stranger.username, '/');
  assertStatus(own, 201, 'the same user gets a code for a tenant of their own');
});

test('removing a member closes the room at once for their grant', async () => {
  const owner = await register();
  const m = await register();
  const org = await createOrg(owner);
  await addMember(owner, org.slug, m.username, 'member');
  const secret = await privateRoom(owner, org.slug);
  const grant = await grantFor(m, org.slug, '/rooms/vault/');
  await assertOpens(org.slug, grant, secret, undefined, 'while a member');

  const removed = await api('DELETE', `/tenants/${org.slug}/members/${m.username}`, { token: owner.access });
  assertStatus(removed, 204, 'remove the member');

  await assertClosed(org.slug, grant, secret, undefined, 'after removal');
  await assertClosed(org.slug, grant, secret, '/rooms/vault/', 'after removal');
  assertError(await askGrant(m, org.slug, '/rooms/vault/'), 404, 'NOT_FOUND');
});

test('signing out closes the room for that session\'s grant only', async () => {
  const u = await register();
  const t = u.username;
  const other = await loginOk(u.username, u.password);
  const secret = await privateRoom(u, t);
  const grant = await grantFor(u, t, '/rooms/vault/');
  const otherGrant = await grantFor(other, t, '/rooms/vault/');
  await assertOpens(t, grant, secret, undefined, 'before sign-out');

  assertStatus(await api('POST', '/auth/logout', { token: u.access }), 204, 'logout');

  await assertClosed(t, grant, secret, undefined, 'after sign-out');
  await assertOpens(t, otherGrant, secret, undefined, 'the grant of another live session');
});

test('a grant of one tenant opens nothing on another tenant\'s host, even for a member of both', async () => {
  const u = await register();
  const org = await createOrg(u);
  const mine = await privateRoom(u, u.username);
  const theirs = await privateRoom(u, org.slug);
  const personal = await grantFor(u, u.username, '/rooms/vault/');
  const orgGrant = await grantFor(u, org.slug, '/rooms/vault/');

  await assertClosed(org.slug, personal, theirs, undefined, 'personal grant on the organisation host');
  await assertClosed(u.username, orgGrant, mine, undefined, 'organisation grant on the personal host');
  await assertOpens(u.username, personal, mine, undefined, 'personal grant at home');
  await assertOpens(org.slug, orgGrant, theirs, undefined, 'organisation grant at home');
});

test('a code works once: the second exchange is a 400 without a cookie; racing exchanges let one through', async () => {
  const u = await register();
  const t = u.username;
  const secret = await privateRoom(u, t);
  const { code } = await issueCode(u, t, '/rooms/vault/secret.txt');

  const first = await exchange(t, code);
  const second = await exchange(t, code);

  assertStatus(first, 302, 'first exchange');
  assertStatus(second, 400, 'the same code again');
  assert.equal(grantSetCookie(second), null, 'no grant for a used code');
  assert.deepEqual(second.headers.getSetCookie(), [], 'no cookie at all');
  assert.equal(second.headers.get('location'), null);
  assert.ok(!second.text.includes(secret));
  await assertOpens(t, grantSetCookie(first).value, secret, undefined, 'the first exchange\'s grant');

  const race = await issueCode(u, t, '/rooms/vault/');
  const results = await Promise.all([exchange(t, race.code), exchange(t, race.code), exchange(t, race.code)]);
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [302, 400, 400], `exactly one racing exchange wins: ${statuses}`);
  assert.equal(results.filter((r) => grantSetCookie(r)).length, 1, 'exactly one grant');
});

test('a code is bound to its tenant: another tenant\'s host refuses it without using it up', async () => {
  const u = await register();
  const other = await register();
  const t = u.username;
  const secret = await privateRoom(u, t);
  const { code } = await issueCode(u, t, '/rooms/vault/secret.txt');

  const wrong = await exchange(other.username, code);

  assertStatus(wrong, 400, 'the code on another tenant\'s host');
  assert.deepEqual(wrong.headers.getSetCookie(), [], 'no cookie on the wrong host');
  const right = await exchange(t, code);
  assertStatus(right, 302, 'the code still works on its own host');
  assert.equal(right.headers.get('location'), `${tenantOrigin(t)}/rooms/vault/secret.txt`);
  await assertOpens(t, grantSetCookie(right).value, secret);
});

test('expired, unknown and malformed codes are a 400 page', async () => {
  const u = await register();
  const t = u.username;
  const secret = await privateRoom(u, t);
  const tenantId = (await getTenant(u.access, t)).id;
  const sessionId = decodeJwt(u.access).payload.sid;
  assert.ok(tenantId && sessionId && u.user.id, 'ids for the seeded codes');
  const expired = crypto.randomBytes(32).toString('base64url');
  const fresh = crypto.randomBytes(32).toString('base64url');
  const digest = (c) => crypto.createHash('sha256').update(c).digest('hex');
  const now = Date.now();
  const insert = (c, expiresAt) => [
    `INSERT INTO grant_codes (code_hash, user_id, session_id, tenant_id, return_path, state_hash, expires_at) VALUES (?, ?, ?, ?, ?, ?, ${expiresAt})`,
    [digest(c), u.user.id, sessionId, tenantId, '/rooms/vault/secret.txt', stateDigest(state)],
  ];
  const state = newState();
  await d1Live([insert(expired, now - 1000), insert(fresh, now + 60_000)]);

  const late = await exchange(t, expired, { state });

  assertStatus(late, 400, 'an expired code');
  assert.deepEqual(late.headers.getSetCookie(), [], 'no cookie for an expired code');
  const ok = await exchange(t, fresh, { state });
  assertStatus(ok, 302, 'a seeded code that has not expired works (the seeding is right)');
  await assertOpens(t, grantSetCookie(ok).value, secret);
  for (const p of ['/_/grant', '/_/grant?code=', '/_/grant?code=nope', `/_/grant?code=${'a'.repeat(5000)}`, `/_/grant?code=${digest(fresh)}`]) {
    const res = await tenant(t, p);
    assertStatus(res, 400, p);
    assert.deepEqual(res.headers.getSetCookie(), [], `${p}: no cookie`);
  }
});

test('forged, tampered and foreign cookies do not open a private room', async () => {
  const u = await register();
  const other = await register();
  const t = u.username;
  const secret = await privateRoom(u, t);
  const grant = await grantFor(u, t, '/rooms/vault/');
  const otherGrant = await grantFor(other, other.username, '/');
  await assertOpens(t, grant, secret, undefined, 'the real grant');
  const [h, p, s] = grant.split('.');
  const claims = decodeJwt(grant).payload;
  const mid = Math.floor(s.length / 2);
  const flipped = `${s.slice(0, mid)}${s[mid] === 'A' ? 'B' : 'A'}${s.slice(mid + 1)}`;
  const rePayload = (patch) => Buffer.from(JSON.stringify({ ...claims, ...patch })).toString('base64url');
  const otherClaims = decodeJwt(otherGrant).payload;
  const forged = {
    'a flipped signature byte': `${h}.${p}.${flipped}`,
    'no signature': `${h}.${p}.`,
    'alg none': mintJwt(claims, { alg: 'none' }),
    'a payload for another user, old signature': `${h}.${rePayload({ sub: otherClaims.sub ?? 'x', sid: otherClaims.sid ?? 'x' })}.${s}`,
    'a later expiry, old signature': `${h}.${rePayload({ exp: (claims.exp ?? 0) + 86400 * 365 })}.${s}`,
    'another tenant\'s grant with this tenant id, old signature': `${otherGrant.split('.')[0]}.${Buffer.from(JSON.stringify({ ...otherClaims, tid: claims.tid })).toString('base64url')}.${otherGrant.split('.')[2]}`,
    'the access token': u.access,
    'the refresh token': u.refresh,
    garbage: 'x',
    empty: '',
  };
  for (const [what, value] of Object.entries(forged)) {
    const res = await tenant(t, '/rooms/vault/secret.txt', { headers: { cookie: grantCookie(value) } });
    assertSignInRedirect(res, t, '/rooms/vault/secret.txt');
    assert.ok(!res.text.includes(secret), `${what}: no content`);
  }
  for (const cookie of [`rooom_grant=${grant}`, `__Secure-rooom_grant=${grant}`, `__host-rooom_grant=${grant}`]) {
    const res = await tenant(t, '/rooms/vault/secret.txt', { headers: { cookie } });
    assertSignInRedirect(res, t, '/rooms/vault/secret.txt');
  }
});

test('a personal access token cannot ask for a grant: 403 SESSION_REQUIRED', async () => {
  const u = await registerVerified();
  await privateRoom(u, u.username);
  for (const scope of ['write', 'read']) {
    const pat = await api('POST', '/me/tokens', { token: u.access, body: { name: `pat-${scope}`, scope } });
    assertStatus(pat, 201, `create a ${scope} token`);

    const res = await askGrant(u, u.username, '/rooms/vault/', { token: pat.json.token });

    assertError(res, 403, 'SESSION_REQUIRED');
    assert.ok(!/code=/.test(res.text), 'no code');
  }
  assertStatus(await askGrant(u, u.username, '/rooms/vault/'), 201, 'the session itself may');
});

test('the return address must be a path: no other host, scheme, backslash, control characters or spaces', async () => {
  const u = await register();
  const t = u.username;
  await privateRoom(u, t);
  const bad = [
    'https://evil.example/', 'http://evil.example', '//evil.example/x', '///evil.example', '/\\evil.example', '\\evil.example',
    '/\t/evil.example', '/\n/evil.example', '/\r\nLocation: https://evil.example', '/a\u0000b', '/a\u007fb', '/\u0085x', '/a b', 'javascript:alert(1)',
    'rooms/vault/', '', `/${'a'.repeat(3000)}`,
  ];
  for (const ret of bad) {
    const res = await askGrant(u, t, ret);
    assert.equal(res.status, 422, `return ${JSON.stringify(ret).slice(0, 60)} must be refused: ${describeRes(res)}`);
    assertValidation(res, 'return');
    assert.ok(!/code=/.test(res.text), `no code for ${JSON.stringify(ret)}`);
  }
  for (const body of [{ tenant: t }, { tenant: t, return: 42 }, { tenant: t, return: ['/'] }, { tenant: t, return: null }]) {
    assertValidation(await api('POST', '/grants', { token: u.access, body }), 'return');
  }
});

test('accepted return addresses always lead back to the tenant\'s own origin', async () => {
  const u = await register();
  const t = u.username;
  await privateRoom(u, t);
  const origin = tenantOrigin(t);
  const accepted = [
    '/', '/rooms/vault/', '/rooms/vault/secret.txt?x=1&y=https://evil.example/#top', '/%09/evil.example', '/%0d%0aSet-Cookie:%20x=1',
    '/%2F%2Fevil.example', '/%5Cevil.example', '/.//evil.example', '/@evil.example', '/rooms/vault/caf%C3%A9.html',
  ];
  for (const ret of accepted) {
    const { code } = await issueCode(u, t, ret);
    const res = await exchange(t, code);
    assertStatus(res, 302, `exchange for ${ret}`);
    const location = res.headers.get('location') ?? '';
    assert.ok(location.startsWith(`${origin}/`), `${ret}: ${location} starts with ${origin}/`);
    assert.equal(location, `${origin}${ret}`, `${ret}: the tenant origin plus the stored path`);
    assert.equal(new URL(location).origin, origin, `${ret}: the redirect stays on the tenant origin`);
    const names = cookiesFrom(res).map((c) => c.name);
    assert.deepEqual(names.slice(0, 1), [GRANT_COOKIE], `${ret}: the grant cookie: ${res.headers.getSetCookie().join(' | ')}`);
    assert.deepEqual(names.slice(1).map((n) => n.slice(0, 19)), ['__Host-rooom_state_'], `${ret}: and the spent state, cleared`);
  }
  // The exchange's redirect comes from the stored path, never from the request.
  const { code, state } = await issueCode(u, t, '/rooms/vault/');
  const res = await tenant(t, `/_/grant?code=${encodeURIComponent(code)}&return=https://evil.example/&next=//evil.example`, {
    headers: { cookie: stateCookie(state) },
  });
  assertStatus(res, 302, 'extra query parameters do not matter');
  assert.equal(res.headers.get('location'), `${origin}/rooms/vault/`, 'the stored path wins');
});

test('the tenant host sends private requests to the app\'s /grant with the path URL-encoded in return', async () => {
  const u = await register();
  const t = u.username;
  await privateRoom(u, t);
  for (const p of ['/rooms/vault', '/rooms/vault/', '/rooms/vault/a%20b.txt', '/rooms/vault/caf%C3%A9/x.html?q=a%26b&r=%2F&s=1', '/rooms/vault/x?next=//evil.example']) {
    const res = await tenant(t, p);
    const url = assertSignInRedirect(res, t, p);
    const location = res.headers.get('location');
    assert.ok(location.startsWith(`${APP_ORIGIN}/grant?`), `${p}: to the app's /grant: ${location}`);
    const rawReturn = /[?&]return=([^&#]*)/.exec(url.search)?.[1] ?? '';
    assert.ok(!rawReturn.includes('/') && !rawReturn.includes('?'), `${p}: the path is URL-encoded in return: ${location}`);
    assert.equal(url.hash, '', `${p}: no fragment in the sign-in address`);
  }
});

test('headers: the grant cookie is a host-only __Host- cookie for 12 hours at most; served pages are private', async () => {
  const u = await register();
  const t = u.username;
  const secret = await privateRoom(u, t);
  const { code } = await issueCode(u, t, '/rooms/vault/secret.txt');

  const res = await exchange(t, code);

  assertStatus(res, 302);
  const cookies = cookiesFrom(res);
  assert.equal(cookies.length, 2, `the grant and the cleared state: ${res.headers.getSetCookie().join(' | ')}`);
  const [c, spent] = cookies;
  assert.equal(c.name, GRANT_COOKIE, 'the __Host- prefixed grant cookie');
  assert.ok(spent.name.startsWith('__Host-rooom_state_') && spent.value === '' && spent.attrs['max-age'] === '0', `the state is deleted: ${spent.raw}`);
  assert.equal(c.attrs.httponly, true, `HttpOnly: ${c.raw}`);
  assert.equal(c.attrs.secure, true, `Secure: ${c.raw}`);
  assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax', `SameSite=Lax: ${c.raw}`);
  assert.equal(c.attrs.path, '/', `Path=/: ${c.raw}`);
  assert.ok(!('domain' in c.attrs), `no Domain: ${c.raw}`);
  const maxAge = Number(c.attrs['max-age']);
  assert.ok(Number.isInteger(maxAge) && maxAge > 0 && maxAge <= GRANT_MAX_AGE, `0 < Max-Age <= ${GRANT_MAX_AGE}: ${c.raw}`);
  if (c.attrs.expires) assert.ok(Date.parse(c.attrs.expires) <= Date.now() + (GRANT_MAX_AGE + 60) * 1000, `Expires within 12 h: ${c.raw}`);
  assert.match(res.headers.get('cache-control') ?? '', /no-store/, 'the exchange is not stored');
  const page = await assertOpens(t, c.value, secret);
  const head = await withGrant(t, '/rooms/vault/secret.txt', c.value, { method: 'HEAD' });
  assertStatus(head, 200);
  assertPrivateHeaders(head, 'HEAD');
  const range = await withGrant(t, '/rooms/vault/secret.txt', c.value, { headers: { range: 'bytes=0-2' } });
  assertStatus(range, 206);
  assertPrivateHeaders(range, 'Range');
  const notModified = await withGrant(t, '/rooms/vault/secret.txt', c.value, { headers: { 'if-none-match': page.headers.get('etag') } });
  assertStatus(notModified, 304);
  assert.equal(notModified.headers.get('cache-control'), 'private, no-store', '304 is private too');
});

test('a tenant host never sets another cookie, and the app\'s credentials do not open a private room', async () => {
  const u = await register();
  const t = u.username;
  const secret = await privateRoom(u, t);
  await putFileOk(u.access, t, 'home', 'pub.txt', 'public');
  const grant = await grantFor(u, t, '/rooms/vault/');
  const { code, state } = await issueCode(u, t, '/');
  const requests = [
    ['/', {}], ['/pub.txt', {}], ['/rooms/vault/secret.txt', {}], ['/rooms/vault/secret.txt', { cookie: grantCookie(grant) }],
    ['/rooms/vault/none', { cookie: grantCookie(grant) }], ['/rooms/none/', {}], ['/_/rooms.json', {}], ['/mod/', {}], ['/media/', {}],
    ['/_/grant?code=nope', {}], [`/_/grant?code=${encodeURIComponent(code)}`, { cookie: stateCookie(state) }],
    [`/_/grant?code=${encodeURIComponent(code)}`, { cookie: stateCookie(state) }],
    ['/rooms/vault/secret.txt', { cookie: refreshCookieHeader(u.cookie?.value ?? u.refresh) }],
  ];
  let traded = 0;
  for (const [p, headers] of requests) {
    const res = await tenant(t, p, { headers });
    const names = cookiesFrom(res).map((x) => x.name);
    const toSignIn = res.status === 302 && new URL(res.headers.get('location'), APP_ORIGIN).origin === APP_ORIGIN;
    if (p.startsWith('/_/grant') && res.status === 302) {
      traded += 1;
      assert.deepEqual(names, [GRANT_COOKIE, stateCookie(state).split('=')[0]], `${p}: the grant, and the spent state cleared`);
      assert.equal(cookiesFrom(res)[1].attrs['max-age'], '0', 'the state cookie is deleted');
    } else if (toSignIn) {
      assertSignInRedirect(res, t, p);
    } else {
      assert.deepEqual(names, [], `${p} ${JSON.stringify(headers)}: no cookie (status ${res.status})`);
    }
  }
  assert.equal(traded, 1, 'the code was traded once');

  const appCreds = {
    'the refresh cookie': { cookie: refreshCookieHeader(u.cookie?.value ?? u.refresh) },
    'the access token as Bearer': { authorization: `Bearer ${u.access}` },
    'the access token as a grant-like cookie': { cookie: `__Host-rooom_access=${u.access}; __Host-rooom_refresh=${u.refresh}` },
  };
  for (const [what, headers] of Object.entries(appCreds)) {
    const res = await tenant(t, '/rooms/vault/secret.txt', { headers });
    assertSignInRedirect(res, t, '/rooms/vault/secret.txt');
    assert.ok(!res.text.includes(secret), `${what}: no content`);
  }
  const login = await loginOk(u.username, u.password);
  assert.ok(login.cookie && !('domain' in login.cookie.attrs), 'the app\'s refresh cookie is host-only (no Domain)');
});

/** room.private_read events of tenant `t`, read by its owner. */
async function privateReads(owner, t) {
  const res = await api('GET', `/tenants/${t}/audit?limit=200`, { token: owner.access });
  assertStatus(res, 200, 'audit log');
  return { events: res.json.items.filter((e) => e.action === 'room.private_read'), text: res.text };
}

test('audit: the first read of a private room through each grant is logged, once', async () => {
  const owner = await register();
  const m = await register();
  const org = await createOrg(owner);
  await addMember(owner, org.slug, m.username, 'viewer');
  const secret = await privateRoom(owner, org.slug, 'vault');
  await privateRoom(owner, org.slug, 'annex');
  const grant = await grantFor(m, org.slug, '/rooms/vault/');
  assert.equal((await privateReads(owner, org.slug)).events.length, 0, 'no read logged before the first read');

  await assertOpens(org.slug, grant, secret);

  const byM = (events, room) => events.filter((e) => e.target === room && e.actor?.username === m.username);
  let log = await privateReads(owner, org.slug);
  assert.equal(byM(log.events, 'vault').length, 1, `one room.private_read for vault by ${m.username}: ${log.text}`);
  await assertOpens(org.slug, grant, secret);
  await withGrant(org.slug, '/rooms/vault/', grant);
  await withGrant(org.slug, '/rooms/vault/secret.txt', grant, { method: 'HEAD' });
  await sleep(300);
  log = await privateReads(owner, org.slug);
  assert.equal(byM(log.events, 'vault').length, 1, `reading again through the same grant adds nothing: ${log.text}`);

  assertStatus(await withGrant(org.slug, '/rooms/annex/secret.txt', grant), 200, 'the grant opens every private room of the tenant');
  log = await privateReads(owner, org.slug);
  assert.equal(byM(log.events, 'annex').length, 1, `the first read of another room is logged: ${log.text}`);

  const second = await grantFor(m, org.slug, '/rooms/vault/');
  await assertOpens(org.slug, second, secret);
  log = await privateReads(owner, org.slug);
  assert.equal(byM(log.events, 'vault').length, 2, `a new grant's first read is logged again: ${log.text}`);
  for (const g of [grant, second]) assert.ok(!log.text.includes(g), 'the log holds no grant');
  assert.ok(!log.text.includes(secret), 'the log holds no content');
});
