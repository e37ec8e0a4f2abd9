// The edges of private rooms on tenant hosts (docs/teams.md): a one-time code opens a
// room only in the browser that set out from the tenant host (the handoff's state
// cookie); a room that does not exist answers exactly like a private one, so nobody
// learns which private rooms exist; another site's page cannot embed a private file
// with the visitor's grant; a private entrance serves its own files whose names merely
// start like /mod or /media; git answers of private rooms are kept by no cache.

import assert from 'node:assert/strict';
import {
  test, api, register, registerVerified, tenant, describeRes, cookiesFrom, APP_ORIGIN, sleep,
} from '../lib/client.mjs';
import { publishVersion, heldRequest, auditAll } from '../lib/teams.mjs';
import { assertStatus, assertValidation } from '../lib/expect.mjs';
import { createRoom, putFileOk } from '../lib/rooms.mjs';
import { patFor, infoRefs } from '../lib/git.mjs';
import {
  GRANT_COOKIE, grantCookie, withGrant, askGrant, issueCode, exchange, grantSetCookie, grantFor,
  assertSignInRedirect, assertPrivateHeaders, createOrg, addMember, marker, privateRoom, newState, stateCookie,
} from '../lib/private.mjs';


test('a one-time code opens the room only in the browser that set out from the tenant host', async () => {
  const u = await register();
  const t = u.username;
  const secret = await privateRoom(u, t);

  assertValidation(await askGrant(u, t, '/rooms/vault/', { state: null }), 'state');
  for (const state of ['short', 'a'.repeat(200), `${'a'.repeat(40)};x`, `${'a'.repeat(40)}=`]) {
    assertValidation(await askGrant(u, t, '/rooms/vault/', { state }), 'state');
  }

  const spent = async (res, what) => {
    assertStatus(res, 400, what);
    assert.equal(grantSetCookie(res), null, `${what}: no grant`);
    assert.match(res.text, /expired/, `${what}: the expired-link page`);
  };
  const a = await issueCode(u, t, '/rooms/vault/secret.txt');
  await spent(await exchange(t, a.code, { state: null }), 'no state cookie');
  const b = await issueCode(u, t, '/rooms/vault/secret.txt');
  await spent(await exchange(t, b.code, { state: newState() }), 'the state of another handoff');
  const c = await issueCode(u, t, '/rooms/vault/secret.txt');
  const [name] = stateCookie(c.state).split('=');
  await spent(await exchange(t, c.code, { state: null, headers: { cookie: `${name}=${newState()}` } }), 'the right cookie name, a wrong value');
  await spent(await exchange(t, c.code), 'a code tried once with a wrong state is spent');

  // Two tabs set out at once: each keeps its own state cookie, and both codes work.
  const tabs = await Promise.all([tenant(t, '/rooms/vault/'), tenant(t, '/rooms/vault/secret.txt')]);
  const states = tabs.map((res, i) => assertSignInRedirect(res, t, i ? '/rooms/vault/secret.txt' : '/rooms/vault/').searchParams.get('state'));
  assert.notEqual(states[0], states[1], 'every redirect has a fresh state');
  const jar = tabs.map((res) => `${cookiesFrom(res)[0].name}=${cookiesFrom(res)[0].value}`).join('; ');
  for (const [i, state] of states.entries()) {
    const { code } = await issueCode(u, t, '/rooms/vault/', { state });
    const res = await exchange(t, code, { state: null, headers: { cookie: jar } });
    assertStatus(res, 302, `tab ${i} trades its code`);
    const cleared = cookiesFrom(res).find((x) => x.name !== GRANT_COOKIE);
    assert.equal(cleared?.name, stateCookie(state).split('=')[0], `tab ${i}: its own state cookie is cleared`);
    assert.equal(cleared.attrs['max-age'], '0');
  }

  // The attack it stops: a member mints a code in their own browser and gets a victim
  // to open it; the victim's browser holds no matching state, so nothing changes.
  const owner = await register();
  const mallory = await register();
  const org = await createOrg(owner);
  await addMember(owner, org.slug, u.username, 'member');
  await addMember(owner, org.slug, mallory.username, 'member');
  const orgSecret = await privateRoom(owner, org.slug, 'plans');
  const victimGrant = await grantFor(u, org.slug, '/rooms/plans/');
  const bait = await issueCode(mallory, org.slug, '/rooms/plans/secret.txt');
  const victimSetOut = assertSignInRedirect(await tenant(org.slug, '/rooms/plans/x'), org.slug, '/rooms/plans/x').searchParams.get('state');
  const forced = await exchange(org.slug, bait.code, { state: victimSetOut, headers: { cookie: grantCookie(victimGrant) } });
  await spent(forced, 'a code minted in another browser');
  const still = await withGrant(org.slug, '/rooms/plans/secret.txt', victimGrant);
  assertStatus(still, 200, 'the victim keeps their own grant');
  assert.equal(still.text, `the ${orgSecret}`);
  assert.ok(!secret.includes(orgSecret));
});

/** What an answer shows of itself: status, header names and the redirect without its state. */
function shape(res) {
  const skip = new Set(['date', 'x-request-id', 'set-cookie', 'content-length', 'connection', 'keep-alive']);
  const location = res.headers.get('location');
  let to = null;
  if (location) {
    const url = new URL(location, APP_ORIGIN);
    url.searchParams.delete('state');
    url.searchParams.set('return', url.searchParams.get('return').replace(/ghost|vault/, 'ROOM'));
    to = url.href;
  }
  const names = [...res.headers.keys()].filter((k) => !skip.has(k)).sort();
  return { status: res.status, names, to, cookies: cookiesFrom(res).map((c) => c.name.slice(0, 19)) };
}

test('a room that does not exist answers exactly like a private one, until a grant shows which', async () => {
  const u = await registerVerified();
  const t = u.username;
  const secret = await privateRoom(u, t);
  const other = await register();
  const otherGrant = await grantFor(other, other.username, '/');

  const forms = ['', '/', '/secret.txt', '/index.html', '/snap-1700000000.html', '/tmp/a.txt', '/meta/state', '/docs/'];
  for (const form of forms) {
    for (const [method, headers] of [['GET', {}], ['HEAD', {}], ['GET', { range: 'bytes=0-3' }], ['GET', { cookie: grantCookie(otherGrant) }]]) {
      const what = `${method} /rooms/{vault,ghost}${form} ${JSON.stringify(headers)}`;
      const [real, ghost] = await Promise.all([
        tenant(t, `/rooms/vault${form}`, { method, headers }),
        tenant(t, `/rooms/ghost${form}`, { method, headers }),
      ]);
      assert.deepEqual(shape(ghost), shape(real), `${what}: the same answer`);
      assert.equal(real.status, 302, `${what}: sign in first`);
      assert.ok(!real.text.includes(secret), what);
    }
  }

  // Git: both ask for credentials, and a stranger's token gets 404 for both.
  const stranger = await registerVerified();
  const strangerPat = await patFor(stranger, 'read');
  for (const token of [undefined, strangerPat]) {
    const [real, ghost] = await Promise.all([
      infoRefs(t, 'vault', 'git-upload-pack', { token }),
      infoRefs(t, 'ghost', 'git-upload-pack', { token }),
    ]);
    assert.equal(real.status, token ? 404 : 401, `git ${token ? 'stranger' : 'anonymous'}: ${describeRes(real)}`);
    assert.deepEqual(shape(ghost), shape(real), `git ${token ? 'stranger' : 'anonymous'}: the same answer`);
  }

  // With a grant of this tenant the difference is the member's to see.
  const grant = await grantFor(u, t, '/');
  const ghost = await withGrant(t, '/rooms/ghost/', grant);
  assertStatus(ghost, 404, 'a member sees that the room does not exist');
  assertPrivateHeaders(ghost, 'the 404 behind a grant');
  assertStatus(await withGrant(t, '/rooms/vault/secret.txt', grant), 200, 'and the private room opens');
});

test('another site\'s page cannot embed a private file with the visitor\'s grant', async () => {
  const u = await register();
  const t = u.username;
  const secret = await privateRoom(u, t);
  const grant = await grantFor(u, t, '/rooms/vault/');
  const p = '/rooms/vault/secret.txt';
  // Tenant hosts are same-site with each other: a page on evil.<domain> makes these.
  for (const [site, mode, dest] of [['same-site', 'no-cors', 'image'], ['same-site', 'cors', 'empty'], ['cross-site', 'no-cors', 'script'], ['same-site', 'no-cors', 'style']]) {
    const res = await withGrant(t, p, grant, { headers: { 'sec-fetch-site': site, 'sec-fetch-mode': mode, 'sec-fetch-dest': dest } });
    assertSignInRedirect(res, t, p);
    assert.ok(!res.text.includes(secret), `${site} ${mode} ${dest}: no content`);
  }
  // The room's own pages, a visit from a link elsewhere, and clients without these headers.
  for (const headers of [
    { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
    { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
    { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
    {},
  ]) {
    const res = await withGrant(t, p, grant, { headers });
    assertStatus(res, 200, JSON.stringify(headers));
    assert.equal(res.text, `the ${secret}`);
    // Browsers that send no Sec-Fetch headers still refuse to hand the body to another origin.
    assertPrivateHeaders(res, JSON.stringify(headers));
  }
});

test('a private entrance serves its own files named like /mod… or /media…', async () => {
  const u = await register();
  const t = u.username;
  const secret = marker('lobby');
  await createRoom(u.access, t, { slug: 'lobby', visibility: 'private' });
  const files = { 'modal.html': `<p>${secret}</p>`, 'media-kit.txt': `kit ${secret}`, 'mods.txt': `mods ${secret}` };
  for (const [p, body] of Object.entries(files)) await putFileOk(u.access, t, 'lobby', p, body);
  assertStatus(await api('PATCH', `/tenants/${t}`, { token: u.access, body: { home_room: 'lobby' } }), 200, 'entrance');
  const grant = await grantFor(u, t, '/');
  for (const [p, body] of Object.entries(files)) {
    assertSignInRedirect(await tenant(t, `/${p}`), t, `/${p}`);
    const res = await withGrant(t, `/${p}`, grant);
    assertStatus(res, 200, `/${p} with a grant`);
    assert.equal(res.text, body);
  }
});

test('git answers are kept by no cache', async () => {
  const u = await registerVerified();
  const t = u.username;
  await privateRoom(u, t);
  const pat = await patFor(u, 'read');
  const res = await infoRefs(t, 'vault', 'git-upload-pack', { token: pat });
  assertStatus(res, 200, 'the owner lists the private refs');
  assert.equal(res.headers.get('cache-control'), 'private, no-store');
});

test('a private room lists its installed modules (the lock file is opened with the room key)', async () => {
  const u = await register();
  const t = u.username;
  assertStatus(await api('POST', `/tenants/${t}/modules`, { token: u.access, body: { name: 'kit' } }), 201, 'module');
  assertStatus(await publishVersion(u.access, t, 'kit', '1.0.0'), 201, 'publish');
  await createRoom(u.access, t, { slug: 'vault', visibility: 'private' });
  const installed = await api('PUT', `/tenants/${t}/rooms/vault/modules`, { token: u.access, body: { modules: [{ name: 'kit', version: '1.0.0' }] } });
  assertStatus(installed, 200, 'install into the private room');
  const listed = await api('GET', `/tenants/${t}/rooms/vault/modules`, { token: u.access });
  assertStatus(listed, 200);
  assert.deepEqual(listed.json.modules.map((m) => `${m.name}@${m.version}`), ['kit@1.0.0'], describeRes(listed));
});

test('the visibility event says what the room really was, even when another change got in between', async () => {
  const u = await register();
  const t = u.username;
  await createRoom(u.access, t, { slug: 'held' });
  await putFileOk(u.access, t, 'held', 's.txt', 'was public');
  // Read as public, body held back; meanwhile the room goes private; then "public".
  const held = heldRequest('PATCH', `/tenants/${t}/rooms/held`, u.access, { visibility: 'public' });
  await sleep(500);
  assertStatus(await api('PATCH', `/tenants/${t}/rooms/held`, { token: u.access, body: { visibility: 'private' } }), 200, 'private');
  held.release();
  assertStatus(await held.response, 200, 'the held PATCH');
  const events = (await auditAll(u.access, t)).filter((e) => e.action === 'room.visibility_changed' && e.target === 'held');
  // Both changes are there, each from what the room really was (event times are the
  // requests' arrival, so the held one may sort first).
  assert.deepEqual(events.map((e) => `${e.details.from}>${e.details.to}`).sort(), ['private>public', 'public>private'], JSON.stringify(events));
  const anon = await tenant(t, '/rooms/held/s.txt');
  assertStatus(anon, 200, 'and the room is public, as the newest change says');
});

test('private reads are logged per room: a new room under an old slug, and the entrance under its own slug', async () => {
  const u = await register();
  const t = u.username;
  await privateRoom(u, t, 'again');
  const grant = await grantFor(u, t, '/');
  assertStatus(await withGrant(t, '/rooms/again/secret.txt', grant), 200);
  assertStatus(await api('DELETE', `/tenants/${t}/rooms/again`, { token: u.access }), 204, 'delete');
  await privateRoom(u, t, 'again');
  assertStatus(await withGrant(t, '/rooms/again/secret.txt', grant), 200, 'the new room');
  await privateRoom(u, t, 'lobby');
  assertStatus(await api('PATCH', `/tenants/${t}`, { token: u.access, body: { home_room: 'lobby' } }), 200, 'entrance');
  assertStatus(await withGrant(t, '/secret.txt', grant), 200, 'the private entrance');
  const reads = (await auditAll(u.access, t)).filter((e) => e.action === 'room.private_read').map((e) => e.target);
  assert.deepEqual(reads.sort(), ['again', 'again', 'lobby'], `one read per room, by slug: ${reads}`);
});

test('a private page with a very long address still leads to a sign-in that works', async () => {
  const u = await register();
  const t = u.username;
  await privateRoom(u, t);
  const res = await tenant(t, `/rooms/vault/secret.txt?q=${'a'.repeat(2100)}`);
  const url = assertSignInRedirect(res, t, '/rooms/vault/secret.txt');
  const { code, state } = await issueCode(u, t, url.searchParams.get('return'), { state: url.searchParams.get('state') });
  assertStatus(await exchange(t, code, { state }), 302, 'the way back is one the app takes');
});
