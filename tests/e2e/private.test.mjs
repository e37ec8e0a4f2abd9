// Private rooms (docs/teams.md): files and temporary files sealed at rest (no plaintext
// anywhere in the Worker's local state), exact reads and Range reads across the 64 KiB
// segments through the API and, with a grant, the tenant host; visibility flips both
// ways; anonymous requests to every URL form of a private room; a private entrance;
// listings.

import assert from 'node:assert/strict';
import { test, api, register, tenant, request, describeRes, BASE, PORT } from '../lib/client.mjs';
import { assertStatus } from '../lib/expect.mjs';
import { createRoom, putFileOk, getFile, putTmp, roomApi, listFiles } from '../lib/rooms.mjs';
import { rawRequest } from '../lib/tenant-content.mjs';
import {
  grantFor, withGrant, assertSignInRedirect, assertPrivateHeaders, setVisibility, sha256, marker,
  chainedBytes, scanState, assertMarkersGone, assertMarkersPresent, settle,
} from '../lib/private.mjs';

const SEG = 64 * 1024;
const BIN_SIZE = 200_000; // three full 64 KiB segments and a short last one

/** A room's files with unique markers: text, HTML, a multi-segment binary. */
function sampleFiles(label) {
  const m = {
    text: marker(`${label}-text`),
    html: marker(`${label}-html`),
    edge: marker(`${label}-bin-edge`), // written across the first segment boundary
    mid: marker(`${label}-bin-mid`),
    tmp: marker(`${label}-tmp`),
  };
  const files = {
    'notes.txt': Buffer.from(`plain words ${m.text} end\n`),
    'page.html': Buffer.from(`<!doctype html><meta charset=utf-8><title>p</title><p>${m.html}</p>\n`),
    'data/blob.bin': chainedBytes(BIN_SIZE, [{ at: SEG - 10, text: m.edge }, { at: 150_000, text: m.mid }]),
  };
  const tmp = Buffer.from(`temporary ${m.tmp}\n`);
  return { m, files, tmp, markers: Object.values(m) };
}

async function putSamples(u, t, room, sample) {
  for (const [p, bytes] of Object.entries(sample.files)) await putFileOk(u.access, t, room, p, bytes);
  const res = await putTmp(u.access, t, room, 'x.txt', sample.tmp, { ttl: 3600 });
  assertStatus(res, 201, 'PUT tmp/x.txt');
}

/** GET of a tmp file through the API. */
function getTmp(token, t, room, p, headers = {}) {
  return request(`${BASE}/api/v1${roomApi(t, room, `/tmp/${p}`)}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
}

const RANGES = [
  ['bytes=65530-65545', 65530, 65545], // across the first segment boundary
  ['bytes=0-0', 0, 0],
  ['bytes=-10', BIN_SIZE - 10, BIN_SIZE - 1],
  ['bytes=197000-198999', 197000, 198999], // inside the last segment
  ['bytes=196600-196620', 196600, 196620], // across the last boundary
  ['bytes=65536-131071', 65536, 131071], // exactly the second segment
  ['bytes=131000-', 131000, BIN_SIZE - 1], // open-ended over two boundaries
  ['bytes=100-150000', 100, 150000],
  ['bytes=65535-65536', 65535, 65536], // the two bytes around the boundary
  ['bytes=199999-', BIN_SIZE - 1, BIN_SIZE - 1],
  ['bytes=0-', 0, BIN_SIZE - 1],
  ['bytes=-300000', 0, BIN_SIZE - 1], // a suffix longer than the file is all of it
];

/** Range reads of the binary file, through `fetchIt(headers)`. */
async function checkRanges(fetchIt, bytes, what) {
  for (const [range, start, end] of RANGES) {
    const res = await fetchIt({ range });
    assertStatus(res, 206, `${what} ${range}`);
    assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${bytes.length}`, `${what} ${range} Content-Range`);
    const len = res.headers.get('content-length');
    if (len !== null) assert.equal(len, String(end - start + 1), `${what} ${range} Content-Length`);
    assert.equal(res.body.length, end - start + 1, `${what} ${range} body length`);
    assert.equal(sha256(res.body), sha256(bytes.subarray(start, end + 1)), `${what} ${range} bytes`);
  }
  const past = await fetchIt({ range: `bytes=${bytes.length}-` });
  assertStatus(past, 416, `${what} a range past the end`);
  assert.equal(past.headers.get('content-range'), `bytes */${bytes.length}`, `${what} 416 Content-Range`);
}

/** Every sample file reads back exactly through the API (GET, HEAD, ranges). */
async function checkApiReads(u, t, room, sample, what) {
  for (const [p, bytes] of Object.entries(sample.files)) {
    const res = await getFile(u.access, t, room, p);
    assertStatus(res, 200, `${what}: API GET ${p}`);
    assert.equal(sha256(res.body), sha256(bytes), `${what}: API GET ${p} gives the exact bytes`);
    const len = res.headers.get('content-length');
    if (len !== null) assert.equal(len, String(bytes.length), `${what}: API GET ${p} Content-Length`);
    const head = await request(`${BASE}/api/v1${roomApi(t, room, `/files/${p}`)}`, { method: 'HEAD', headers: { authorization: `Bearer ${u.access}` } });
    assertStatus(head, 200, `${what}: API HEAD ${p}`);
    assert.equal(head.headers.get('content-length'), String(bytes.length), `${what}: API HEAD ${p} gives the plaintext size`);
    assert.equal(head.body.length, 0);
    const etag = res.headers.get('etag');
    assert.ok(etag, `${what}: API GET ${p} has an ETag`);
    const again = await getFile(u.access, t, room, p, { 'if-none-match': etag });
    assertStatus(again, 304, `${what}: API If-None-Match ${p}`);
    assert.equal(again.body.length, 0);
  }
  const bin = sample.files['data/blob.bin'];
  await checkRanges((h) => getFile(u.access, t, room, 'data/blob.bin', h), bin, `${what}: API`);
  const tmp = await getTmp(u.access, t, room, 'x.txt');
  assertStatus(tmp, 200, `${what}: API GET tmp/x.txt`);
  assert.equal(sha256(tmp.body), sha256(sample.tmp), `${what}: tmp file bytes`);
}

/**
 * Every sample file reads back exactly on the tenant host through `get(path, headers,
 * method)`; `cacheControl` is what every answer must say.
 */
async function checkHostReads(get, room, sample, cacheControl, what) {
  for (const [p, bytes] of Object.entries(sample.files)) {
    const res = await get(`/rooms/${room}/${p}`);
    assertStatus(res, 200, `${what}: ${p}`);
    assert.equal(sha256(res.body), sha256(bytes), `${what}: ${p} gives the exact bytes`);
    assert.equal(res.headers.get('cache-control'), cacheControl, `${what}: ${p} Cache-Control`);
    const head = await get(`/rooms/${room}/${p}`, {}, 'HEAD');
    assertStatus(head, 200, `${what}: HEAD ${p}`);
    assert.equal(head.headers.get('content-length'), String(bytes.length), `${what}: HEAD ${p} gives the plaintext size`);
    assert.equal(head.body.length, 0);
    const etag = res.headers.get('etag');
    assert.ok(etag, `${what}: ${p} has an ETag`);
    const again = await get(`/rooms/${room}/${p}`, { 'if-none-match': etag });
    assertStatus(again, 304, `${what}: If-None-Match ${p}`);
    assert.equal(again.body.length, 0);
  }
  const page = await get(`/rooms/${room}/page.html`);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8', `${what}: the page is HTML`);
  await checkRanges((h) => get(`/rooms/${room}/data/blob.bin`, h), sample.files['data/blob.bin'], `${what}:`);
  const tmp = await get(`/rooms/${room}/tmp/x.txt`);
  assertStatus(tmp, 200, `${what}: tmp/x.txt`);
  assert.equal(sha256(tmp.body), sha256(sample.tmp), `${what}: tmp file bytes`);
  assert.equal(tmp.headers.get('cache-control'), cacheControl, `${what}: tmp Cache-Control`);
}

const grantGet = (t, grant) => (p, headers = {}, method = 'GET') => withGrant(t, p, grant, { method, headers });
const anonGet = (t) => (p, headers = {}, method = 'GET') => tenant(t, p, { method, headers });

/** Waits (one-second site memo) until an anonymous request for the room's file gets the 302. */
async function settlePrivate(t, room, markers) {
  await settle(
    () => tenant(t, `/rooms/${room}/notes.txt`),
    (res) => res.status === 302,
    (res) => {
      assert.ok([302, 404].includes(res.status), `a room turning private answers 302 or 404: ${describeRes(res)}`);
      for (const m of markers) assert.ok(!res.text.includes(m), `no marker while the room turns private: ${describeRes(res)}`);
    },
  );
}

/** Waits until an anonymous request for the room's file is served. */
async function settlePublic(t, room) {
  await settle(
    () => tenant(t, `/rooms/${room}/notes.txt`),
    (res) => res.status === 200,
    (res) => assert.ok([200, 302, 404].includes(res.status), `a room turning public: ${describeRes(res)}`),
  );
}

test('a private room stores files and tmp files sealed: no marker in the state directory, exact bytes and ranges for the owner', async () => {
  const u = await register();
  const t = u.username;
  await createRoom(u.access, t, { slug: 'vault', visibility: 'private' });
  const sample = sampleFiles('enc');

  const control = marker('public-control');
  await putFileOk(u.access, t, 'home', 'control.txt', `public ${control}`, 201);

  await putSamples(u, t, 'vault', sample);

  assertMarkersPresent([control], 'a public file is found in plaintext (the search works)');
  assert.deepEqual(scanState(sample.markers), {}, 'no plaintext marker anywhere in the state directory');
  const listed = Object.fromEntries((await listFiles(u.access, t, 'vault')).map((f) => [f.path, f.size]));
  for (const [p, bytes] of Object.entries(sample.files)) assert.equal(listed[p], bytes.length, `the list gives the plaintext size of ${p}`);
  await checkApiReads(u, t, 'vault', sample, 'private');
  const grant = await grantFor(u, t, '/rooms/vault/');
  await checkHostReads(grantGet(t, grant), 'vault', sample, 'private, no-store', 'tenant host with a grant');
  const anon = await tenant(t, '/rooms/vault/data/blob.bin', { headers: { range: 'bytes=0-100' } });
  assertSignInRedirect(anon, t, '/rooms/vault/data/blob.bin');
  assert.deepEqual(scanState(sample.markers), {}, 'still no plaintext after the reads');
});

test('sealed files of every size around the segment length read back exactly', async () => {
  const u = await register();
  const t = u.username;
  await createRoom(u.access, t, { slug: 'edges', visibility: 'private' });
  const sizes = [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG];
  const files = Object.fromEntries(sizes.map((n) => [`f${n}.bin`, chainedBytes(n)]));
  for (const [p, bytes] of Object.entries(files)) await putFileOk(u.access, t, 'edges', p, bytes);
  const grant = await grantFor(u, t, '/rooms/edges/');

  for (const [p, bytes] of Object.entries(files)) {
    const n = bytes.length;
    const readers = {
      API: (h = {}, method = 'GET') => request(`${BASE}/api/v1${roomApi(t, 'edges', `/files/${p}`)}`, { method, headers: { authorization: `Bearer ${u.access}`, ...h } }),
      'tenant host': (h = {}, method = 'GET') => withGrant(t, `/rooms/edges/${p}`, grant, { method, headers: h }),
    };
    for (const [via, read] of Object.entries(readers)) {
      const what = `${via} ${p}`;
      const whole = await read();
      assertStatus(whole, 200, what);
      assert.equal(sha256(whole.body), sha256(bytes), `${what}: exact bytes`);
      const head = await read({}, 'HEAD');
      assertStatus(head, 200, `${what} HEAD`);
      assert.equal(head.headers.get('content-length'), String(n), `${what}: HEAD gives the plaintext size`);
      if (n === 0) continue;
      for (const [range, start, end] of [['bytes=-1', n - 1, n - 1], ['bytes=0-0', 0, 0], [`bytes=${Math.max(0, n - SEG)}-`, Math.max(0, n - SEG), n - 1]]) {
        const res = await read({ range });
        assertStatus(res, 206, `${what} ${range}`);
        assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${n}`, `${what} ${range}`);
        assert.equal(sha256(res.body), sha256(bytes.subarray(start, end + 1)), `${what} ${range} bytes`);
      }
      const past = await read({ range: `bytes=${n}-` });
      assertStatus(past, 416, `${what} past the end`);
    }
  }
});

test('public → private seals every file (markers leave the state directory); private → public opens them again', async () => {
  const u = await register();
  const t = u.username;
  await createRoom(u.access, t, { slug: 'flip' });
  const sample = sampleFiles('flip');
  await putSamples(u, t, 'flip', sample);
  assertMarkersPresent(sample.markers, 'a public room is stored as plaintext (the search works)');
  await checkHostReads(anonGet(t), 'flip', sample, 'public, no-cache', 'public, anonymous');

  await setVisibility(u, t, 'flip', 'private');

  await assertMarkersGone(sample.markers, 'after making the room private');
  await checkApiReads(u, t, 'flip', sample, 'made private');
  await settlePrivate(t, 'flip', sample.markers);
  assertSignInRedirect(await tenant(t, '/rooms/flip/notes.txt'), t, '/rooms/flip/notes.txt');
  const grant = await grantFor(u, t, '/rooms/flip/notes.txt');
  await checkHostReads(grantGet(t, grant), 'flip', sample, 'private, no-store', 'made private, with a grant');

  await setVisibility(u, t, 'flip', 'public');

  await settlePublic(t, 'flip');
  await checkHostReads(anonGet(t), 'flip', sample, 'public, no-cache', 'public again, anonymous');
  await checkApiReads(u, t, 'flip', sample, 'public again');
  assertMarkersPresent(sample.markers, 'a public room is opened back to plaintext');
});

test('a room created private and made public is served anonymously with the same bytes', async () => {
  const u = await register();
  const t = u.username;
  await createRoom(u.access, t, { slug: 'born-private', visibility: 'private' });
  const sample = sampleFiles('born');
  await putSamples(u, t, 'born-private', sample);
  assert.deepEqual(scanState(sample.markers), {}, 'sealed while private');
  assertSignInRedirect(await tenant(t, '/rooms/born-private/notes.txt'), t, '/rooms/born-private/notes.txt');

  await setVisibility(u, t, 'born-private', 'public');

  await settlePublic(t, 'born-private');
  await checkHostReads(anonGet(t), 'born-private', sample, 'public, no-cache', 'made public, anonymous');
  await checkApiReads(u, t, 'born-private', sample, 'made public');
  assertMarkersPresent(sample.markers, 'opened to plaintext when made public');

  // And back to private: sealed again.
  await setVisibility(u, t, 'born-private', 'private');
  await assertMarkersGone(sample.markers, 'private a second time');
  await checkApiReads(u, t, 'born-private', sample, 'private again');
  await settlePrivate(t, 'born-private', sample.markers);
});

test('anonymous requests to every URL form of a private room reveal nothing', async () => {
  const u = await register();
  const t = u.username;
  const title = `Hush ${marker('title')}`;
  await createRoom(u.access, t, { slug: 'hush', title, visibility: 'private' });
  const secret = marker('secret');
  const metaMark = marker('meta');
  const tmpMark = marker('tmp');
  await putFileOk(u.access, t, 'hush', 'secret.txt', `the ${secret}`);
  await putFileOk(u.access, t, 'hush', 'index.html', `<h1>${secret}</h1>`, 200); // replaces the starter page
  await putFileOk(u.access, t, 'hush', 'docs/index.html', `<h1>${secret}</h1>`);
  await putFileOk(u.access, t, 'hush', 'snap-1700000000.html', `<h1>${secret}</h1>`);
  const meta = await api('PUT', roomApi(t, 'hush', '/meta/state'), { token: u.access, body: { secret: metaMark } });
  assertStatus(meta, 201, 'PUT meta/state');
  assertStatus(await putTmp(u.access, t, 'hush', 'share/x.txt', `tmp ${tmpMark}`, { ttl: 3600 }), 201, 'PUT tmp');
  // Also a public 404.html at the entrance, which 404s may show.
  await putFileOk(u.access, t, 'home', '404.html', '<h1>tenant-404</h1>');
  const forbidden = [secret, metaMark, tmpMark, title, 'Hush '];

  const paths = [
    '/rooms/hush', '/rooms/hush/', '/rooms/hush/index.html', '/rooms/hush/secret.txt', '/rooms/hush/missing.txt',
    '/rooms/hush/docs', '/rooms/hush/docs/', '/rooms/hush/meta/state', '/rooms/hush/meta/none', '/rooms/hush/tmp/share/x.txt',
    '/rooms/hush/snap-1700000000.html', '/rooms/hush.git/info/refs?service=git-upload-pack', '/rooms/hush/secret.txt?download=1',
    '/rooms/HUSH/secret.txt', '/rooms/hush/.rooom/modules.json',
  ];
  const variants = [
    ['GET', {}], ['HEAD', {}], ['GET', { range: 'bytes=0-3' }], ['GET', { range: 'bytes=-5' }], ['HEAD', { range: 'bytes=0-3' }],
    ['GET', { 'if-none-match': '*' }],
  ];
  for (const p of paths) {
    for (const [method, headers] of variants) {
      const res = await tenant(t, p, { method, headers });
      const what = `${method} ${p} ${JSON.stringify(headers)}`;
      // Git asks for credentials instead (401), as it does for a room that does not exist.
      const allowed = p.includes('.git/') ? [401] : [302, 404];
      assert.ok(allowed.includes(res.status), `${what}: ${allowed.join(' or ')}, got ${describeRes(res)}`);
      if (res.status === 302) assertSignInRedirect(res, t, p);
      else assert.equal(res.headers.get('location'), null, `${what}: a 404 does not redirect`);
      for (const f of forbidden) assert.ok(!res.text.includes(f), `${what}: the answer reveals ${f}: ${describeRes(res)}`);
      for (const [k, v] of res.headers) {
        for (const f of [secret, metaMark, tmpMark, title]) assert.ok(!v.includes(f), `${what}: header ${k} reveals ${f}`);
      }
    }
  }
  // Sent byte for byte: traversal into the private room from a public one.
  for (const p of ['/rooms/home/../hush/secret.txt', '/rooms/home/%2e%2e/hush/secret.txt', '/rooms/hush/./secret.txt', '/rooms/hush//secret.txt']) {
    const res = await rawRequest(`${t}.localhost:${PORT}`, p);
    assert.ok([302, 404].includes(res.status), `${p}: 302 or 404, got ${res.status}`);
    for (const f of forbidden) assert.ok(!res.text.includes(f), `${p} reveals ${f}`);
  }

  // The same URLs do hold content for a grant holder (so the checks above mean something).
  const grant = await grantFor(u, t, '/rooms/hush/');
  for (const [p, mark] of [['/rooms/hush/', secret], ['/rooms/hush/secret.txt', secret], ['/rooms/hush/meta/state', metaMark], ['/rooms/hush/tmp/share/x.txt', tmpMark], ['/rooms/hush/snap-1700000000.html', secret]]) {
    const res = await withGrant(t, p, grant);
    assertStatus(res, 200, `${p} with a grant`);
    assert.ok(res.text.includes(mark), `${p} with a grant serves the content: ${describeRes(res)}`);
    assertPrivateHeaders(res, p);
  }
});

test('a private entrance sends / and its files to sign in; 404s never show its pages', async () => {
  const u = await register();
  const t = u.username;
  const secret = marker('lobby');
  await createRoom(u.access, t, { slug: 'lobby', visibility: 'private' });
  await putFileOk(u.access, t, 'lobby', 'index.html', `<h1>${secret}</h1>`, 200);
  await putFileOk(u.access, t, 'lobby', 'hello.txt', `hi ${secret}`);
  await putFileOk(u.access, t, 'lobby', '404.html', `<h1>404 ${secret}</h1>`);

  const patched = await api('PATCH', `/tenants/${t}`, { token: u.access, body: { home_room: 'lobby' } });
  assertStatus(patched, 200, 'PATCH home_room');

  const root = await settle(() => tenant(t, '/'), (res) => res.status === 302, (res) => {
    assert.ok(!res.text.includes(secret), `/ never shows the private entrance: ${describeRes(res)}`);
  });
  assertSignInRedirect(root, t, '/');
  assertSignInRedirect(await tenant(t, '/hello.txt'), t, '/hello.txt');
  assertSignInRedirect(await tenant(t, '/index.html'), t, '/index.html');
  assertSignInRedirect(await tenant(t, '/', { method: 'HEAD' }), t, '/');
  assertSignInRedirect(await tenant(t, '/rooms/nothing/'), t, '/rooms/nothing/');
  for (const p of ['/mod/none/1.0.0/a.js', '/media/none.png']) {
    const res = await tenant(t, p);
    assertStatus(res, 404, p);
    assert.ok(!res.text.includes(secret), `${p}: the 404 is not the private entrance's 404.html`);
  }
  const listing = await tenant(t, '/_/rooms.json');
  assertStatus(listing, 200, 'the room listing still works');
  assert.ok(!listing.text.includes('lobby'), `the private entrance is not listed: ${listing.text}`);

  const grant = await grantFor(u, t, '/');
  const home = await withGrant(t, '/', grant);
  assertStatus(home, 200, '/ with a grant');
  assert.equal(home.text, `<h1>${secret}</h1>`);
  assertPrivateHeaders(home, '/');
  assert.equal((await withGrant(t, '/hello.txt', grant)).text, `hi ${secret}`);
});

test('private rooms are absent from /_/rooms.json and the entrance page; public ones are listed', async () => {
  const u = await register();
  const t = u.username;
  const openTitle = `Open ${marker('open')}`;
  const hiddenTitle = `Hidden ${marker('hidden')}`;
  await createRoom(u.access, t, { slug: 'open-room', title: openTitle });
  await createRoom(u.access, t, { slug: 'hidden-room', title: hiddenTitle, visibility: 'private' });

  const listing = await tenant(t, '/_/rooms.json');
  assertStatus(listing, 200);
  assert.deepEqual(listing.json.map((r) => r.slug).sort(), ['home', 'open-room'], `listing: ${listing.text}`);
  assert.ok(!listing.text.includes(hiddenTitle), 'the private title is not listed');
  assert.equal(listing.json.find((r) => r.slug === 'open-room').title, openTitle);
  const entrance = await tenant(t, '/');
  assertStatus(entrance, 200);
  assert.match(entrance.text, /\/_\/rooms\.json/, 'the entrance page lists rooms from /_/rooms.json');
  assert.ok(!entrance.text.includes('hidden-room') && !entrance.text.includes(hiddenTitle), 'the entrance page names no private room');

  await setVisibility(u, t, 'hidden-room', 'public');
  assert.ok((await tenant(t, '/_/rooms.json')).json.some((r) => r.slug === 'hidden-room'), 'listed once public');
  await setVisibility(u, t, 'open-room', 'private');
  const after = await tenant(t, '/_/rooms.json');
  assert.deepEqual(after.json.map((r) => r.slug).sort(), ['hidden-room', 'home'], `after the flips: ${after.text}`);
  assert.ok(!after.text.includes(openTitle), 'a room made private leaves the listing');
});
