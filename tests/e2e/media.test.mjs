// The media library: uploads (plain and multipart), downloads through the API and the
// tenant host (Range, ETag), listing with prefix and cursor, deletes that remove the R2
// object, and usage that follows every change exactly.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { test, api, register, registerVerified, tenant, currentIp, PORT, APP_HOST } from '../lib/client.mjs';
import { assertStatus, assertError, assertValidation, assertTime } from '../lib/expect.mjs';
import { png, sha256 } from '../lib/archive.mjs';
import { putMedia, putMediaRaw, usage, tenantId, mediaId, keysUnder, rawRequest } from '../lib/tenant-content.mjs';

const MiB = 1024 * 1024;
const mediaPath = (u, p) => `/tenants/${u.username}/media/${p}`;

test('upload an image: 201 item, typed by extension; overwrite is 200; served by API and tenant host', async () => {
  const u = await register();
  const before = await usage(u);
  const image = png(4, 3);

  const res = await putMediaRaw(u, 'img/dot.png', image, { contentType: 'text/html' });

  assertStatus(res, 201);
  const item = res.json;
  assert.equal(item.path, 'img/dot.png');
  assert.equal(item.size, image.length);
  assert.equal(item.content_type, 'image/png', 'the upload\'s own Content-Type is ignored');
  assert.match(item.etag, /^"[^"]+"$/);
  assert.equal(res.headers.get('etag'), item.etag);
  assertTime(item.created_at, 'created_at');
  assert.equal(item.url, `http://${u.username}.localhost:${PORT}/media/img/dot.png`);
  const viaApi = await api('GET', mediaPath(u, 'img/dot.png'), { token: u.access });
  assertStatus(viaApi, 200);
  assert.ok(viaApi.body.equals(image));
  assert.equal(viaApi.headers.get('content-type'), 'image/png');
  const pub = await tenant(u.username, '/media/img/dot.png');
  assertStatus(pub, 200);
  assert.ok(pub.body.equals(image));
  assert.equal(pub.headers.get('content-type'), 'image/png');
  assert.equal(pub.headers.get('cache-control'), 'public, no-cache');
  assert.equal(pub.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(pub.headers.get('etag'), item.etag);
  assertStatus(await tenant(u.username, '/media/img/dot.png', { headers: { 'if-none-match': item.etag } }), 304);
  let now = await usage(u);
  assert.equal(now.bytes - before.bytes, image.length);
  assert.equal(now.files - before.files, 1);

  const bigger = png(40, 30);
  const over = await putMediaRaw(u, 'img/dot.png', bigger);
  assertStatus(over, 200, 'overwriting answers 200');
  assert.notEqual(over.json.etag, item.etag);
  assert.ok((await tenant(u.username, '/media/img/dot.png')).body.equals(bigger));
  now = await usage(u);
  assert.equal(now.bytes - before.bytes, bigger.length, 'usage is the new size only');
  assert.equal(now.files - before.files, 1);
  const prefix = `t/${tenantId(u.username)}/media/`;
  assert.deepEqual(keysUnder(prefix), [`${prefix}${mediaId(u.username, 'img/dot.png')}`], 'the replaced bytes are gone from R2');
});

test('non-ASCII and spaced paths are stored in NFC and served at their encoded URL', async () => {
  const u = await register();
  const res = await putMediaRaw(u, 'fotos/u\u0308ber x.jpg', 'jpeg bytes');
  assertStatus(res, 201);
  assert.equal(res.json.path, 'fotos/\u00fcber x.jpg', 'NFC');
  assert.equal(res.json.url, `http://${u.username}.localhost:${PORT}/media/fotos/%C3%BCber%20x.jpg`);
  const got = await tenant(u.username, '/media/fotos/%C3%BCber%20x.jpg');
  assertStatus(got, 200);
  assert.equal(got.text, 'jpeg bytes');
  assert.equal(got.headers.get('content-type'), 'image/jpeg');
  assertStatus(await tenant(u.username, '/media/fotos/u%CC%88ber%20x.jpg'), 200, 'the NFD spelling names the same file');
});

test('Range and If-Match on media; a stale If-Match is 412', async () => {
  const u = await register();
  const bytes = crypto.randomBytes(4096);
  const item = await putMedia(u, 'clip.mp4', bytes);
  const part = await tenant(u.username, '/media/clip.mp4', { headers: { range: 'bytes=1000-1999' } });
  assertStatus(part, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 1000-1999/4096');
  assert.ok(part.body.equals(bytes.subarray(1000, 2000)));
  assert.equal(part.headers.get('content-type'), 'video/mp4');
  const apiPart = await api('GET', mediaPath(u, 'clip.mp4'), { token: u.access, headers: { range: 'bytes=-96' } });
  assertStatus(apiPart, 206);
  assert.ok(apiPart.body.equals(bytes.subarray(4000)));
  const past = await tenant(u.username, '/media/clip.mp4', { headers: { range: 'bytes=4096-' } });
  assertStatus(past, 416);
  assert.equal(past.headers.get('content-range'), 'bytes */4096');

  assertError(await putMediaRaw(u, 'clip.mp4', 'x', { headers: { 'if-match': '"stale"' } }), 412, 'PRECONDITION_FAILED');
  assertError(await putMediaRaw(u, 'clip.mp4', 'x', { headers: { 'if-none-match': '*' } }), 412, 'PRECONDITION_FAILED');
  assertStatus(await putMediaRaw(u, 'clip.mp4', 'y', { headers: { 'if-match': item.etag } }), 200);
  assert.equal((await tenant(u.username, '/media/clip.mp4')).text, 'y');
});

test('delete: 204, the R2 object is gone, usage given back, 404 afterwards', async () => {
  const u = await register();
  const before = await usage(u);
  await putMedia(u, 'docs/report.pdf', crypto.randomBytes(3000));
  const key = `t/${tenantId(u.username)}/media/${mediaId(u.username, 'docs/report.pdf')}`;
  assert.deepEqual(keysUnder(key), [key]);

  const res = await api('DELETE', mediaPath(u, 'docs/report.pdf'), { token: u.access });

  assertStatus(res, 204);
  assert.deepEqual(keysUnder(key), []);
  const after = await usage(u);
  assert.equal(after.bytes, before.bytes);
  assert.equal(after.files, before.files);
  assertStatus(await tenant(u.username, '/media/docs/report.pdf'), 404);
  assertStatus(await api('GET', mediaPath(u, 'docs/report.pdf'), { token: u.access }), 404);
  assertStatus(await api('DELETE', mediaPath(u, 'docs/report.pdf'), { token: u.access }), 404);
});

test('listing pages through items with limit and cursor, filtered by prefix; the public listing too', async () => {
  const u = await register();
  const names = ['a.png', 'b.png', 'c.png', 'd d.png', 'e.png', 'f.png', 'g.png'].map((n) => `gallery/${n}`);
  for (const p of [...names].reverse()) await putMedia(u, p, png(2, 2));
  await putMedia(u, 'gallery.txt', 'not in the folder');
  await putMedia(u, 'other/x.txt', 'elsewhere');

  const seen = [];
  const sizes = [];
  let cursor = null;
  for (let page = 0; page < 5; page++) {
    const q = `?prefix=gallery/&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await api('GET', `/tenants/${u.username}/media${q}`, { token: u.access });
    assertStatus(res, 200);
    sizes.push(res.json.items.length);
    seen.push(...res.json.items.map((i) => i.path));
    for (const i of res.json.items) {
      assert.equal(i.content_type, 'image/png');
      assert.ok(i.etag && i.created_at && i.size > 0);
    }
    cursor = res.json.cursor;
    if (!cursor) break;
  }
  assert.deepEqual(sizes, [3, 3, 1]);
  assert.deepEqual(seen, names, 'every item once, in path order');
  const all = await api('GET', `/tenants/${u.username}/media`, { token: u.access });
  assert.equal(all.json.items.length, 9);
  assert.equal(all.json.cursor, null);
  const spaced = all.json.items.find((i) => i.path === 'gallery/d d.png');
  assert.equal(spaced.url, `http://${u.username}.localhost:${PORT}/media/gallery/d%20d.png`);
  assertStatus(await tenant(u.username, new URL(spaced.url).pathname), 200, 'the listed URL serves the file');
  assertValidation(await api('GET', `/tenants/${u.username}/media?cursor=!!!`, { token: u.access }), 'cursor');
  const loose = await api('GET', `/tenants/${u.username}/media?prefix=gallery`, { token: u.access });
  assert.equal(loose.json.items.length, 8, 'a prefix is a plain string prefix: gallery.txt too');
  for (const wild of ['g_llery/', 'g%25', '%25']) {
    const none = await api('GET', `/tenants/${u.username}/media?prefix=${wild}`, { token: u.access });
    assert.deepEqual(none.json.items, [], `prefix ${wild} is literal, not a pattern`);
  }

  const pub = await tenant(u.username, '/_/media.json?prefix=other/');
  assertStatus(pub, 200);
  assert.deepEqual(pub.json.items.map((i) => i.path), ['other/x.txt']);
  assert.equal(pub.json.cursor, null);
  assert.equal(pub.json.items[0].url, `http://${u.username}.localhost:${PORT}/media/other/x.txt`);
  const stranger = await register();
  assertStatus(await api('GET', `/tenants/${u.username}/media`, { token: stranger.access }), 404);
});

test('uploads need a Content-Length and a plain path', async () => {
  const u = await register();
  const status = await new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: PORT, method: 'PUT', path: `/api/v1/tenants/${u.username}/media/chunked.bin`,
      headers: { host: APP_HOST, authorization: `Bearer ${u.access}`, 'transfer-encoding': 'chunked', 'cf-connecting-ip': currentIp() },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.write('abc');
    req.end('def');
  });
  assert.equal(status, 411, 'a chunked upload without Content-Length');
  for (const bad of ['a//b.png', 'x%2Fy.png', 'x%5Cy.png', 'a%00.png']) {
    assertValidation(await api('PUT', mediaPath(u, bad), { token: u.access, raw: 'x', headers: { 'content-type': 'text/plain' } }), 'path');
  }
  assert.deepEqual((await api('GET', `/tenants/${u.username}/media`, { token: u.access })).json.items, [], 'nothing was stored');
  // Dot segments are resolved as URLs are, before routing: they cannot climb into
  // another tenant (sent byte for byte; URL parsing in the client would resolve them).
  const other = await register();
  for (const sneaky of [`../../${other.username}/media/x.png`, `%2e%2e/%2e%2e/${other.username}/media/x.png`]) {
    const res = await rawRequest(APP_HOST, `/api/v1${mediaPath(u, sneaky)}`, { method: 'PUT', headers: { authorization: `Bearer ${u.access}`, 'content-length': '1' }, body: 'x' });
    assert.equal(res.status, 404, `${sneaky}: ${res.text}`);
  }
  assert.deepEqual((await api('GET', `/tenants/${other.username}/media`, { token: other.access })).json.items, []);
});

async function startUpload(u, p) {
  const res = await api('POST', `${mediaPath(u, p)}/uploads`, { token: u.access });
  assertStatus(res, 201);
  assert.ok(res.json.id);
  return res.json.id;
}

const putPart = (u, p, id, n, bytes) =>
  api('PUT', `${mediaPath(u, p)}/uploads/${id}/${n}`, { token: u.access, raw: bytes, headers: { 'content-type': 'application/octet-stream' } });

test('multipart upload: two 5 MiB parts and a 1 MiB tail arrive intact; Range across the seam; usage exact', async () => {
  const u = await register();
  await putMedia(u, 'video/big.webm', crypto.randomBytes(1000));
  const before = await usage(u);
  const parts = [crypto.randomBytes(5 * MiB), crypto.randomBytes(5 * MiB), crypto.randomBytes(1 * MiB)];
  const whole = Buffer.concat(parts);

  const id = await startUpload(u, 'video/big.webm');
  for (const n of [2, 1, 3]) {
    const res = await putPart(u, 'video/big.webm', id, n, parts[n - 1]);
    assertStatus(res, 200, `part ${n}`);
    assert.equal(res.json.part, n);
    assert.equal(res.json.size, parts[n - 1].length);
    assert.ok(res.json.etag);
  }
  assert.equal((await tenant(u.username, '/media/video/big.webm')).body.length, 1000, 'the old file is served until completion');
  const done = await api('POST', `${mediaPath(u, 'video/big.webm')}/uploads/${id}/complete`, { token: u.access });

  assertStatus(done, 200, 'completing over an existing file replaces it, as a PUT would');
  assert.equal(done.json.path, 'video/big.webm');
  assert.equal(done.json.size, whole.length);
  assert.equal(done.json.content_type, 'video/webm');
  const got = await tenant(u.username, '/media/video/big.webm', { timeout: 120_000 });
  assertStatus(got, 200);
  assert.equal(got.body.length, whole.length);
  assert.equal(sha256(got.body), sha256(whole), 'what came back is what went up');
  const seam = await tenant(u.username, '/media/video/big.webm', { headers: { range: `bytes=${5 * MiB - 100}-${5 * MiB + 99}` } });
  assertStatus(seam, 206);
  assert.equal(seam.headers.get('content-range'), `bytes ${5 * MiB - 100}-${5 * MiB + 99}/${whole.length}`);
  assert.ok(seam.body.equals(whole.subarray(5 * MiB - 100, 5 * MiB + 100)), 'the seam between parts 1 and 2');
  const after = await usage(u);
  assert.equal(after.bytes - before.bytes, whole.length - 1000, 'usage: the new size replaces the old');
  assert.equal(after.files, before.files, 'still one file at that path');
  const prefix = `t/${tenantId(u.username)}/media/`;
  assert.deepEqual(keysUnder(prefix), [`${prefix}${mediaId(u.username, 'video/big.webm')}`], 'only the new object remains');
  assertStatus(await api('POST', `${mediaPath(u, 'video/big.webm')}/uploads/${id}/complete`, { token: u.access }), 404, 'an upload completes once');
});

test('multipart: an undersized middle part is 422; abort ends the upload; bad part numbers are refused', async () => {
  const u = await register();
  const before = await usage(u);
  const id = await startUpload(u, 'a/b.bin');
  assertValidation(await putPart(u, 'a/b.bin', id, 0, Buffer.from('x')), 'part');
  assertValidation(await putPart(u, 'a/b.bin', id, 10001, Buffer.from('x')), 'part');
  assertValidation(await putPart(u, 'a/b.bin', id, 'one', Buffer.from('x')), 'part');
  assertValidation(await api('POST', `${mediaPath(u, 'a/b.bin')}/uploads/${id}/complete`, { token: u.access }), 'parts');
  assertStatus(await putPart(u, 'a/b.bin', id, 1, crypto.randomBytes(5 * MiB)), 200);
  assertStatus(await putPart(u, 'a/b.bin', id, 2, crypto.randomBytes(MiB)), 200);
  assertStatus(await putPart(u, 'a/b.bin', id, 3, crypto.randomBytes(MiB)), 200);

  assertValidation(await api('POST', `${mediaPath(u, 'a/b.bin')}/uploads/${id}/complete`, { token: u.access }), 'parts');
  const stranger = await register();
  assertStatus(await api('DELETE', `${mediaPath(u, 'a/b.bin')}/uploads/${id}`, { token: stranger.access }), 404);
  assertStatus(await api('DELETE', `${mediaPath(stranger, 'a/b.bin')}/uploads/${id}`, { token: stranger.access }), 404, 'another tenant cannot name it');
  assertStatus(await api('DELETE', `${mediaPath(u, 'a/other.bin')}/uploads/${id}`, { token: u.access }), 404, 'the path is part of its name');

  assertStatus(await api('DELETE', `${mediaPath(u, 'a/b.bin')}/uploads/${id}`, { token: u.access }), 204);

  assertStatus(await putPart(u, 'a/b.bin', id, 1, Buffer.from('x')), 404);
  assertStatus(await api('POST', `${mediaPath(u, 'a/b.bin')}/uploads/${id}/complete`, { token: u.access }), 404);
  assertStatus(await tenant(u.username, '/media/a/b.bin'), 404);
  assert.deepEqual(await usage(u), before, 'an aborted upload costs nothing');
  assert.deepEqual(keysUnder(`t/${tenantId(u.username)}/media/`), []);
});

test('multipart: a single small part is a whole file', async () => {
  const u = await register();
  const id = await startUpload(u, 'tiny.txt');
  assertStatus(await putPart(u, 'tiny.txt', id, 1, Buffer.from('just this')), 200);
  const done = await api('POST', `${mediaPath(u, 'tiny.txt')}/uploads/${id}/complete`, { token: u.access });
  assertStatus(done, 201);
  assert.equal(done.json.size, 9);
  const got = await tenant(u.username, '/media/tiny.txt');
  assert.equal(got.text, 'just this');
  assert.equal(got.headers.get('content-type'), 'text/plain; charset=utf-8');
});

test('a tenant may hold at most 20 open uploads; aborting frees a place', async () => {
  const u = await register();
  const ids = [];
  for (let i = 0; i < 20; i++) ids.push(await startUpload(u, `many/${i}.bin`));

  const refused = await api('POST', `${mediaPath(u, 'many/20.bin')}/uploads`, { token: u.access });

  assertError(refused, 429, 'TOO_MANY_UPLOADS');
  assertStatus(await api('DELETE', `${mediaPath(u, 'many/0.bin')}/uploads/${ids[0]}`, { token: u.access }), 204);
  await startUpload(u, 'many/20.bin');
});

test('multipart: unequal non-final parts are refused by storage (422), usage untouched; a resent part fixes it', async () => {
  const u = await register();
  const before = await usage(u);
  const id = await startUpload(u, 'mixed.bin');
  const parts = [crypto.randomBytes(5 * MiB), crypto.randomBytes(6 * MiB), crypto.randomBytes(MiB)];
  for (const [i, bytes] of parts.entries()) assertStatus(await putPart(u, 'mixed.bin', id, i + 1, bytes), 200);

  assertError(await api('POST', `${mediaPath(u, 'mixed.bin')}/uploads/${id}/complete`, { token: u.access }), 422, 'UPLOAD_REJECTED');

  assert.deepEqual(await usage(u), before, 'a refused completion reserves nothing');
  assertStatus(await tenant(u.username, '/media/mixed.bin'), 404);
  parts[1] = crypto.randomBytes(5 * MiB);
  assertStatus(await putPart(u, 'mixed.bin', id, 2, parts[1]), 200, 'a part can be sent again');
  const done = await api('POST', `${mediaPath(u, 'mixed.bin')}/uploads/${id}/complete`, { token: u.access });
  assertStatus(done, 201);
  const whole = Buffer.concat(parts);
  assert.equal(sha256((await tenant(u.username, '/media/mixed.bin')).body), sha256(whole));
  assert.equal((await usage(u)).bytes - before.bytes, whole.length);
});

test('tokens: a room-scoped token cannot touch media, a read token cannot write, a write token can', async () => {
  const u = await registerVerified(); // personal access tokens need a confirmed email
  const pat = async (body) => {
    const res = await api('POST', '/me/tokens', { token: u.access, body: { name: 'ci', ...body } });
    assertStatus(res, 201, 'token created');
    return res.json.token;
  };
  const roomToken = await pat({ scope: 'write', tenant: u.username, room: 'home' });
  const readToken = await pat({ scope: 'read' });
  const writeToken = await pat({ scope: 'write' });
  const put = (token, p) => api('PUT', mediaPath(u, p), { token, raw: 'x', headers: { 'content-type': 'text/plain' } });

  assertError(await put(roomToken, 'a.txt'), 403, 'INSUFFICIENT_SCOPE');
  assertError(await api('POST', `${mediaPath(u, 'a.txt')}/uploads`, { token: roomToken }), 403, 'INSUFFICIENT_SCOPE');
  assertStatus(await put(readToken, 'a.txt'), 403);
  assertStatus(await put(writeToken, 'a.txt'), 201);
  assertStatus(await api('GET', mediaPath(u, 'a.txt'), { token: readToken }), 200, 'a read token reads');
  assertStatus(await api('DELETE', mediaPath(u, 'a.txt'), { token: readToken }), 403);
  assertStatus(await api('DELETE', mediaPath(u, 'a.txt'), { token: roomToken }), 403);
  assertStatus(await tenant(u.username, '/media/a.txt'), 200, 'refused deletes deleted nothing');
});
