// Registration: the token response, the provisioned tenant tree, validation, conflicts,
// request-body limits and the verification mail.

import assert from 'node:assert/strict';
import {
  test, api, tenant, register, me, uniqueName, emailFor, strongPassword, randomIp,
  verificationToken, latestMail, VERIFY_LINK_RE, refreshCookieHeader, BASE, PORT, describeRes,
} from '../lib/client.mjs';
import {
  assertStatus, assertError, assertValidation, assertTokenResponse, parseCsp,
} from '../lib/expect.mjs';

/** POST /auth/register with a fresh client IP (validation loops must not hit the rate limit). */
function tryRegister(body) {
  return api('POST', '/auth/register', { body, ip: randomIp() });
}

function validBody(over = {}) {
  const username = uniqueName();
  return { username, email: emailFor(username), password: strongPassword(), ...over };
}

test('registering returns 201 with tokens, the user and the new tenant', async () => {
  const body = validBody();

  const res = await api('POST', '/auth/register', { body });

  const b = assertTokenResponse(res, 201, {
    username: body.username,
    email: body.email,
    email_verified: false,
    display_name: body.username,
  });
  assert.equal(b.tenant?.slug, body.username);
  assert.equal(b.tenant?.url, `http://${body.username}.localhost:${PORT}/`);
  const meRes = await me(b.access_token);
  assertStatus(meRes, 200);
  assert.equal(meRes.json.id, b.user.id);
});

test('a display name given at registration is kept', async () => {
  const u = await register({ display_name: 'Ada L.' });

  assert.equal(u.user.display_name, 'Ada L.');
});

test('registration provisions the tenant tree on the tenant host', async () => {
  const u = await register();

  const home = await tenant(u.username, '/');
  const homeRoom = await tenant(u.username, '/rooms/home/');
  const mod = await tenant(u.username, '/mod/index.html');
  const media = await tenant(u.username, '/media/index.html');
  const rooms = await tenant(u.username, '/_/rooms.json');

  for (const res of [home, homeRoom, mod, media]) {
    assertStatus(res, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/, describeRes(res));
    assert.ok(res.headers.get('etag'), `ETag on ${res.url}`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.body.length > 0, 'page is not empty');
  }
  assert.equal(home.text, homeRoom.text, 'the entrance page is the home room');
  assert.deepEqual(parseCsp(home.headers.get('content-security-policy'))['frame-ancestors'], ["'self'"]);
  assert.ok(home.headers.get('referrer-policy'), 'tenant HTML carries a Referrer-Policy');
  assertStatus(rooms, 200);
  assert.match(rooms.headers.get('content-type') ?? '', /application\/json/);
  const list = Array.isArray(rooms.json) ? rooms.json : rooms.json?.rooms;
  assert.ok(Array.isArray(list), `rooms.json is a list (or {rooms:[...]}): ${rooms.text}`);
  assert.ok(list.some((r) => r.slug === 'home'), `the home room is listed: ${rooms.text}`);
});

test('the tenant host is matched case-insensitively', async () => {
  const u = await register();

  const res = await tenant(u.username, '/', { headers: { host: `${u.username.toUpperCase()}.LOCALHOST:${PORT}` } });

  assertStatus(res, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
});

test('a room path without a trailing slash redirects permanently to the slash form', async () => {
  const u = await register();

  const res = await tenant(u.username, '/rooms/home');

  assertStatus(res, 301);
  const target = new URL(res.headers.get('location') ?? '', `http://${u.username}.localhost:${PORT}/rooms/home`);
  assert.equal(target.pathname, '/rooms/home/');
  assert.equal(target.hostname, `${u.username}.localhost`, 'no redirect off the tenant host');
});

test('tenant pages answer conditional GET with 304 and HEAD without a body', async () => {
  const u = await register();
  const first = await tenant(u.username, '/');
  const etag = first.headers.get('etag');

  const cached = await tenant(u.username, '/', { headers: { 'if-none-match': etag } });
  const head = await tenant(u.username, '/', { method: 'HEAD' });

  assertStatus(cached, 304);
  assert.equal(cached.body.length, 0);
  assert.equal(cached.headers.get('etag'), etag);
  assertStatus(head, 200);
  assert.equal(head.body.length, 0, 'HEAD has no body');
  assert.equal(head.headers.get('etag'), etag);
  assert.match(head.headers.get('content-type') ?? '', /text\/html/);
});

test('tenant hosts never set cookies, even when a platform cookie is sent', async () => {
  const u = await register();
  const headers = { cookie: refreshCookieHeader(u.refresh), 'sec-fetch-site': 'same-site', origin: BASE };

  const pages = await Promise.all(['/', '/rooms/home/', '/mod/index.html', '/_/rooms.json', '/no-such-file'].map((p) => tenant(u.username, p, { headers })));

  for (const res of pages) {
    assert.ok(res.status < 500, describeRes(res));
    assert.deepEqual(res.headers.getSetCookie(), [], `no Set-Cookie on ${res.url}`);
  }
  assertStatus(pages[0], 200);
  assertStatus(pages[4], 404);
});

test('usernames and emails are case-folded', async () => {
  const name = uniqueName('alice');
  const mixed = name.replace(/^alice/, 'AlIcE');

  const res = await api('POST', '/auth/register', {
    body: { username: mixed, email: `${mixed}@Example.TEST`, password: strongPassword() },
  });

  assertStatus(res, 201);
  assert.equal(res.json.user.username, name);
  assert.equal(res.json.user.email, `${name}@example.test`);
  assert.equal(res.json.tenant.slug, name);
});

test('reserved usernames are refused with fields.username', async (t) => {
  for (const username of ['www', 'admin', 'api', 'app', 'rooom', 'WWW']) {
    await t.test(username, async () => {
      assertValidation(await tryRegister(validBody({ username, email: emailFor(uniqueName()) })), 'username');
    });
  }
});

test('malformed usernames are refused with fields.username', async (t) => {
  const bad = ['ab', '-abc', 'abc-', 'a--b', 'xn--abc', 'a_b', 'a.b', 'a b', 'x'.repeat(33), 'ålice', 'алиса', ''];
  for (const username of bad) {
    await t.test(JSON.stringify(username), async () => {
      assertValidation(await tryRegister(validBody({ username, email: emailFor(uniqueName()) })), 'username');
    });
  }
});

test('the longest allowed username (32 characters) is accepted', async () => {
  const username = uniqueName('l').padEnd(32, '0').slice(0, 32);

  const res = await tryRegister(validBody({ username, email: emailFor(uniqueName()) }));

  assertStatus(res, 201);
  assert.equal(res.json.user.username, username);
});

test('malformed emails are refused with fields.email', async (t) => {
  const bad = ['not-an-email', 'a@b', 'two@@example.test', 'sp ace@example.test', '@example.test', 'x@', `${'l'.repeat(65)}@example.test`, `a@${'d'.repeat(250)}.test`];
  for (const email of bad) {
    await t.test(email.slice(0, 40), async () => {
      assertValidation(await tryRegister(validBody({ email })), 'email');
    });
  }
});

test('passwords that are too short, too long or common are refused with fields.password', async (t) => {
  const cases = {
    'seven characters': 'Ab3$xY7',
    'four emoji (8 UTF-16 units, 4 characters)': '🔑🔒🗝🔐',
    'a common password': 'password123',
    '129 characters': 'p'.repeat(60) + 'Q'.repeat(69),
  };
  for (const [name, password] of Object.entries(cases)) {
    await t.test(name, async () => {
      assertValidation(await tryRegister(validBody({ password })), 'password');
    });
  }
  await t.test('the username as password', async () => {
    const body = validBody();
    assert.ok(body.username.length >= 8);
    assertValidation(await tryRegister({ ...body, password: body.username }), 'password');
  });
  await t.test('the email as password', async () => {
    const body = validBody();
    assertValidation(await tryRegister({ ...body, password: body.email }), 'password');
  });
});

test('passwords of 8 and of 128 characters are accepted, counted in Unicode characters', async () => {
  const eight = await tryRegister(validBody({ password: 'ñø€ü¥ßåç' }));
  const long = await tryRegister(validBody({ password: `${strongPassword()}${'z'.repeat(128)}`.slice(0, 128) }));

  assertStatus(eight, 201);
  assertStatus(long, 201);
});

test('a taken username answers 409 USERNAME_TAKEN, a taken email 409 EMAIL_TAKEN', async () => {
  const u = await register();

  const sameName = await api('POST', '/auth/register', { body: validBody({ username: u.username.toUpperCase() }) });
  const sameEmail = await api('POST', '/auth/register', { body: validBody({ email: u.email.toUpperCase() }) });

  const e1 = assertError(sameName, 409, 'USERNAME_TAKEN');
  assert.ok(e1.fields && 'username' in e1.fields, 'fields.username');
  const e2 = assertError(sameEmail, 409, 'EMAIL_TAKEN');
  assert.ok(e2.fields && 'email' in e2.fields, 'fields.email');
});

test('bodies that are not a JSON object answer 400 MALFORMED_JSON', async (t) => {
  for (const raw of ['{"username":', 'username=x&password=y', '[]', '"a string"', '42', 'null']) {
    await t.test(raw, async () => {
      assertError(await api('POST', '/auth/register', { raw, ip: randomIp() }), 400, 'MALFORMED_JSON');
    });
  }
});

test('a body over 64 KiB answers 413, one just under does not', async () => {
  const big = JSON.stringify({ ...validBody(), pad: 'x'.repeat(65 * 1024) });
  const almost = JSON.stringify({ ...validBody({ username: 'ab' }), pad: 'x'.repeat(60 * 1024) });

  const tooLarge = await api('POST', '/auth/register', { raw: big });
  const fine = await api('POST', '/auth/register', { raw: almost, ip: randomIp() });

  assertError(tooLarge, 413, 'PAYLOAD_TOO_LARGE');
  assert.ok([400, 422].includes(fine.status), `a 60 KiB body is read, not refused as too large: ${describeRes(fine)}`);
});

test('registration mails a verification link to the app host; the token verifies once', async () => {
  const u = await register();
  const { match } = await latestMail(u.email, VERIFY_LINK_RE);
  const token = await verificationToken(u.email);

  const first = await api('POST', '/auth/verify-email', { body: { token } });
  const after = await me(u.access);
  const again = await api('POST', '/auth/verify-email', { body: { token } });

  assert.equal(match[1], BASE, 'the link is built from APP_HOST');
  assertStatus(first, 204);
  assert.equal(first.body.length, 0);
  assert.equal(after.json.email_verified, true);
  assertError(again, 400, 'INVALID_TOKEN');
});

test('an unknown verification token answers 400 INVALID_TOKEN', async () => {
  const res = await api('POST', '/auth/verify-email', { body: { token: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
  const garbage = await api('POST', '/auth/verify-email', { body: { token: '../../etc/passwd' } });

  assertError(res, 400, 'INVALID_TOKEN');
  assertError(garbage, 400, 'INVALID_TOKEN');
});

test('only an existing public room redirects to its slash form; /rooms/ is 404, a missing room is sent to sign in like a private one', async () => {
  const u = await register();

  const bare = await tenant(u.username, '/rooms/');
  const missing = await tenant(u.username, '/rooms/no-such-room');
  const home = await tenant(u.username, '/rooms/home');

  assert.equal(bare.status, 404, describeRes(bare));
  assert.equal(missing.status, 302, describeRes(missing));
  assert.equal(new URL(missing.headers.get('location')).pathname, '/grant', 'to the sign-in handoff');
  assert.equal(home.status, 301, describeRes(home));
});
