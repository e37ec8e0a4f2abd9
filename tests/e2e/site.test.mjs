// Tenant hosts: the entrance page and the home room's files at the top level, rooms
// and their redirects, the tenant's own 404.html, private rooms, caching (ETag, 304),
// Range, HEAD, methods, security headers and the public room listing.

import assert from 'node:assert/strict';
import { test, api, register, tenant, request, PORT, APP_ORIGIN, describeRes } from '../lib/client.mjs';
import { assertStatus, parseCsp } from '../lib/expect.mjs';
import { createRoom, putFile, putFileRaw, rawRequest } from '../lib/tenant-content.mjs';

/** Headers every content response of a tenant host carries. */
function assertContent(res, contentType, what = '') {
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `nosniff ${what}`);
  assert.equal(res.headers.get('content-type'), contentType, `content type ${what}: ${describeRes(res)}`);
  assert.match(res.headers.get('etag') ?? '', /^(W\/)?"[^"]+"$/, `ETag ${what}`);
  assert.equal(res.headers.get('set-cookie'), null, `no Set-Cookie ${what}`);
}

function assertHtmlHeaders(res) {
  assert.ok(res.headers.get('referrer-policy'), 'HTML has a Referrer-Policy');
  assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
  assert.deepEqual(parseCsp(res.headers.get('content-security-policy'))['frame-ancestors'], ["'self'"]);
}

const HTML = 'text/html; charset=utf-8';

test('the entrance page is the home room index, with content and HTML headers; HEAD has no body', async () => {
  const u = await register({ display_name: 'Ada & Co' });

  const res = await tenant(u.username, '/', { headers: { cookie: 'a=b' } });

  assertStatus(res, 200);
  assertContent(res, HTML, '/');
  assertHtmlHeaders(res);
  assert.equal(res.headers.get('cache-control'), 'public, no-cache');
  assert.match(res.text, /Ada &amp; Co/, 'the display name, escaped');
  assert.match(res.text, /\/_\/rooms\.json/, 'the entrance page loads the room listing');
  const head = await tenant(u.username, '/', { method: 'HEAD' });
  assertStatus(head, 200);
  assert.equal(head.body.length, 0, 'HEAD has no body');
  assertContent(head, HTML, 'HEAD /');
  assert.equal(head.headers.get('etag'), res.headers.get('etag'), 'HEAD and GET agree on the ETag');
});

test('home room files are served at the top level, typed by extension whatever the upload said', async () => {
  const u = await register();
  await putFile(u, 'home', 'css/site.css', 'body { color: red }', { contentType: 'text/html' });
  await putFile(u, 'home', 'page.html', '<p>hi</p>', { contentType: 'image/png' });
  await putFile(u, 'home', 'notes', '<script>alert(1)</script>', { contentType: 'text/html' });
  await putFile(u, 'home', 'pic.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>');

  const css = await tenant(u.username, '/css/site.css');
  assertStatus(css, 200);
  assertContent(css, 'text/css; charset=utf-8', 'css');
  assert.equal(css.text, 'body { color: red }');
  assert.equal(css.headers.get('x-frame-options'), null, 'frame headers only on HTML');
  const page = await tenant(u.username, '/page.html');
  assertContent(page, HTML, 'page.html');
  assertHtmlHeaders(page);
  const bare = await tenant(u.username, '/notes');
  assertContent(bare, 'application/octet-stream', 'a file without extension is a download');
  assert.equal(bare.text, '<script>alert(1)</script>');
  assertContent(await tenant(u.username, '/pic.svg'), 'image/svg+xml; charset=utf-8', 'svg');
  assertStatus(await tenant(u.username, '/rooms/home/css/site.css'), 200, 'also under /rooms/home/');
});

test('only GET and HEAD are allowed on a tenant host', async () => {
  const u = await register();
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const res = await tenant(u.username, '/', { method, body: 'x' });
    assertStatus(res, 405, method);
    assert.match(res.headers.get('allow') ?? '', /GET/);
    assert.match(res.headers.get('allow') ?? '', /HEAD/);
    assert.equal(res.headers.get('set-cookie'), null);
  }
});

test('rooms: slash redirects keep the query, folders serve index.html', async () => {
  const u = await register();
  await createRoom(u, 'blog', { title: 'My <Blog>' });
  await putFile(u, 'blog', 'docs/index.html', '<h1>docs</h1>');
  await putFile(u, 'blog', 'docs/a b.txt', 'spaced');

  const bare = await tenant(u.username, '/rooms/blog');
  assertStatus(bare, 301);
  assert.equal(bare.headers.get('location'), '/rooms/blog/');
  const withQuery = await tenant(u.username, '/rooms/blog?x=1&y=%20z');
  assertStatus(withQuery, 301);
  assert.equal(withQuery.headers.get('location'), '/rooms/blog/?x=1&y=%20z');
  const index = await tenant(u.username, '/rooms/blog/');
  assertStatus(index, 200);
  assertContent(index, HTML, 'room index');
  assert.match(index.text, /My &lt;Blog&gt;/, 'starter page with the escaped title');
  assert.equal(index.text, (await tenant(u.username, '/rooms/blog/index.html')).text);
  const folder = await tenant(u.username, '/rooms/blog/docs?v=2');
  assertStatus(folder, 301);
  assert.equal(folder.headers.get('location'), '/rooms/blog/docs/?v=2');
  const docs = await tenant(u.username, '/rooms/blog/docs/');
  assertStatus(docs, 200);
  assert.equal(docs.text, '<h1>docs</h1>');
  assert.equal((await tenant(u.username, '/rooms/blog/docs/a%20b.txt')).text, 'spaced');
  assertStatus(await tenant(u.username, '/rooms/blog/nope'), 404, 'no redirect for a missing folder');
  for (const p of ['/rooms/', '/rooms//', '/rooms//index.html']) {
    const res = await tenant(u.username, p);
    assertStatus(res, 404, `${p} names no room (not the home room)`);
    assert.equal(res.headers.get('location'), null, p);
  }
  for (const p of ['/mod', '/media']) {
    const res = await tenant(u.username, `${p}?q=1`);
    assertStatus(res, 301, p);
    assert.equal(res.headers.get('location'), `${p}/?q=1`);
    assertContent(await tenant(u.username, `${p}/`), HTML, `${p}/`);
  }
});

test('missing things are 404, with the tenant 404.html once it has one', async () => {
  const u = await register();
  await createRoom(u, 'pub');
  const plain = await tenant(u.username, '/nothing-here');
  assertStatus(plain, 404);
  assert.doesNotMatch(plain.text, /custom-404-marker/);

  await putFile(u, 'home', '404.html', '<h1>custom-404-marker</h1>');

  for (const p of ['/nothing-here', '/rooms/pub/missing.css', '/mod/x/1.0.0/a.js', '/media/none.png', '/rooms/Not_A_Slug/']) {
    const res = await tenant(u.username, p);
    assertStatus(res, 404, p);
    assert.match(res.text, /custom-404-marker/, `${p} shows the tenant's 404.html`);
    assert.equal(res.headers.get('content-type'), HTML, p);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  }
  // A room that does not exist is answered like a private one (docs/teams.md), so the
  // answer never tells whether a private room of that name exists.
  for (const p of ['/rooms/nope/', '/rooms/nope']) {
    const res = await tenant(u.username, p);
    assertStatus(res, 302, p);
    assert.equal(new URL(res.headers.get('location')).pathname, '/grant', p);
  }
  const cond = await tenant(u.username, '/nothing-here', { headers: { 'if-none-match': '*' } });
  assertStatus(cond, 404, 'a 404 page is never a 304');
  const stranger = await request(`http://zz${u.username}.localhost:${PORT}/nothing-here`);
  assertStatus(stranger, 404, 'unknown tenant');
  assert.doesNotMatch(stranger.text, /custom-404-marker/, 'an unknown tenant does not show another tenant page');
});

test('private rooms are neither served nor listed, until made public', async () => {
  const u = await register();
  await createRoom(u, 'open', { title: 'Open Room' });
  await createRoom(u, 'hidden', { title: 'Hidden Room', visibility: 'private' });
  await putFile(u, 'hidden', 'secret.txt', 'top-secret-words');

  for (const p of ['/rooms/hidden', '/rooms/hidden/', '/rooms/hidden/index.html', '/rooms/hidden/secret.txt']) {
    const res = await tenant(u.username, p);
    assertStatus(res, 302, `${p}: off to sign in (docs/teams.md, the handoff)`);
    assert.doesNotMatch(res.text, /top-secret-words|Hidden Room/, p);
    const to = new URL(res.headers.get('location'));
    assert.equal(`${to.origin}${to.pathname}`, `${APP_ORIGIN}/grant`, p);
    assert.equal(to.searchParams.get('return'), p);
  }
  // Traversal out of a public room, sent byte for byte (URL parsing would resolve it).
  for (const p of ['/rooms/open/..%2Fhidden/secret.txt', '/rooms/open/%2e%2e/hidden/secret.txt', '/rooms/open/../hidden/secret.txt', '/rooms/open/./../hidden/']) {
    const res = await rawRequest(`${u.username}.localhost:${PORT}`, p);
    // workerd resolves `..` before the Worker sees the path, which then names the private
    // room itself: sign in first, like any other way in.
    assert.ok([302, 404].includes(res.status), `${p}: ${res.status}`);
    if (res.status === 302) assert.match(res.headers.location ?? '', /\/grant\?tenant=/, p);
    assert.doesNotMatch(res.text, /top-secret-words|Hidden Room/, p);
  }
  const listing = await tenant(u.username, '/_/rooms.json');
  assertStatus(listing, 200);
  assert.match(listing.headers.get('content-type') ?? '', /application\/json/);
  const slugs = listing.json.map((r) => r.slug).sort();
  assert.deepEqual(slugs, ['home', 'open']);
  const open = listing.json.find((r) => r.slug === 'open');
  assert.equal(open.title, 'Open Room');
  assert.equal(open.url, `http://${u.username}.localhost:${PORT}/rooms/open/`);
  assert.ok(!Number.isNaN(Date.parse(open.updated_at)), 'updated_at is a time');
  const viaApi = await api('GET', `/tenants/${u.username}/rooms/hidden/files/secret.txt`, { token: u.access });
  assert.equal(viaApi.text, 'top-secret-words', 'the owner still reads it through the API');

  const patched = await api('PATCH', `/tenants/${u.username}/rooms/hidden`, { token: u.access, body: { visibility: 'public' } });
  assertStatus(patched, 200);
  assert.equal((await tenant(u.username, '/rooms/hidden/secret.txt')).text, 'top-secret-words');
  assert.ok((await tenant(u.username, '/_/rooms.json')).json.some((r) => r.slug === 'hidden'));
  await api('PATCH', `/tenants/${u.username}/rooms/hidden`, { token: u.access, body: { visibility: 'private' } });
  assertStatus(await tenant(u.username, '/rooms/hidden/secret.txt'), 302, 'private again: sign in first');
});

test('a private home room hides the entrance page too', async () => {
  const u = await register();
  await putFile(u, 'home', 'hello.txt', 'hello');
  await api('PATCH', `/tenants/${u.username}/rooms/home`, { token: u.access, body: { visibility: 'private' } });
  for (const p of ['/', '/hello.txt']) {
    const res = await tenant(u.username, p);
    assertStatus(res, 302, `${p} needs a grant`);
    assert.doesNotMatch(res.text, /hello/);
    assert.match(res.headers.get('location'), /\/grant\?tenant=/);
  }
});

test('ETag and If-None-Match: 304 without a body, and a new ETag after a change', async () => {
  const u = await register();
  await putFile(u, 'home', 'a.txt', 'one');
  const first = await tenant(u.username, '/a.txt');
  const etag = first.headers.get('etag');
  assert.ok(etag);

  for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
    const again = await tenant(u.username, '/a.txt', { headers: { 'if-none-match': inm } });
    assertStatus(again, 304, `If-None-Match: ${inm}`);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.get('etag'), etag);
  }
  const head = await tenant(u.username, '/a.txt', { method: 'HEAD', headers: { 'if-none-match': etag } });
  assertStatus(head, 304, 'HEAD with a matching ETag');
  assertStatus(await tenant(u.username, '/a.txt', { headers: { 'if-none-match': '"other"' } }), 200);

  await putFile(u, 'home', 'a.txt', 'two');
  const changed = await tenant(u.username, '/a.txt', { headers: { 'if-none-match': etag } });
  assertStatus(changed, 200, 'the old ETag no longer matches');
  assert.equal(changed.text, 'two');
  assert.notEqual(changed.headers.get('etag'), etag);
});

test('Range requests: 206 slices, 416 past the end, If-Range with another ETag sends all', async () => {
  const u = await register();
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  await putFile(u, 'home', 'data.bin', bytes);
  const whole = await tenant(u.username, '/data.bin');
  assert.ok(whole.body.equals(bytes));
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  const etag = whole.headers.get('etag');

  const cases = [['bytes=0-99', 0, 99], ['bytes=990-', 990, 999], ['bytes=-10', 990, 999], ['bytes=500-5000', 500, 999]];
  for (const [range, start, end] of cases) {
    const res = await tenant(u.username, '/data.bin', { headers: { range } });
    assertStatus(res, 206, range);
    assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/1000`, range);
    assert.ok(res.body.equals(bytes.subarray(start, end + 1)), `${range} body`);
    assert.equal(res.headers.get('content-length'), String(end - start + 1));
    assert.equal(res.headers.get('etag'), etag);
  }
  const past = await tenant(u.username, '/data.bin', { headers: { range: 'bytes=1000-' } });
  assertStatus(past, 416);
  assert.equal(past.headers.get('content-range'), 'bytes */1000');
  const stale = await tenant(u.username, '/data.bin', { headers: { range: 'bytes=0-9', 'if-range': '"stale"' } });
  assertStatus(stale, 200, 'If-Range with another ETag');
  assert.ok(stale.body.equals(bytes));
  const fresh = await tenant(u.username, '/data.bin', { headers: { range: 'bytes=0-9', 'if-range': etag } });
  assertStatus(fresh, 206, 'If-Range with the current ETag');
  assert.ok(fresh.body.equals(bytes.subarray(0, 10)));
  const multi = await tenant(u.username, '/data.bin', { headers: { range: 'bytes=0-1,5-6' } });
  assertStatus(multi, 200, 'several ranges are answered with the whole file');
  assert.ok(multi.body.equals(bytes));
  const head = await tenant(u.username, '/data.bin', { method: 'HEAD' });
  assert.equal(head.body.length, 0);
  assert.equal(head.headers.get('content-length'), '1000', 'HEAD tells the size');
});

test('changing the home room changes the entrance page', async () => {
  const u = await register();
  await createRoom(u, 'lobby');
  await putFile(u, 'lobby', 'index.html', '<h1>lobby-marker</h1>');
  await putFile(u, 'lobby', 'style.css', 'p{}');

  const res = await api('PATCH', `/tenants/${u.username}`, { token: u.access, body: { home_room: 'lobby' } });

  assertStatus(res, 200);
  assert.equal((await tenant(u.username, '/')).text, '<h1>lobby-marker</h1>');
  assert.equal((await tenant(u.username, '/style.css')).text, 'p{}');
  assertStatus(await tenant(u.username, '/rooms/home/'), 200, 'the old home room is still a room');
});

test('one tenant host never serves another tenant files', async () => {
  const alice = await register();
  const bob = await register();
  await putFile(alice, 'home', 'only-alice.txt', 'alice');
  assertStatus(await tenant(bob.username, '/only-alice.txt'), 404);
  assertStatus(await tenant(bob.username, '/rooms/home/only-alice.txt'), 404);
  const raw = await putFileRaw(bob, 'home', 'x.txt', 'x', {});
  assertStatus(raw, 201);
  const cross = await api('PUT', `/tenants/${alice.username}/rooms/home/files/x.txt`, { token: bob.access, raw: 'x', headers: { 'content-type': 'text/plain' } });
  assertStatus(cross, 404, 'bob cannot write to alice');
  assertStatus(await tenant(alice.username, '/x.txt'), 404);
});
