// Room files over the API: upload, replace, download (ETag, 304, Range), delete, the
// If-Match / If-None-Match preconditions, and parallel writers to one room.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test, api, register, tenant, describeRes } from '../lib/client.mjs';
import { assertStatus, assertError, assertTime } from '../lib/expect.mjs';
import {
  roomApi, createRoom, getRoom, getTenant, putFile, putFileOk, getFile, deleteFile, listFiles, usage, raw, roomKeys, totalSize,
} from '../lib/rooms.mjs';

/** A fresh user with one empty-ish room `r` (only its starter page). */
async function userWithRoom() {
  const u = await register();
  const room = await createRoom(u.access, u.username, { slug: 'r' });
  return { u, t: u.username, room };
}

test('a new file is 201 with its etag; it downloads byte for byte and is listed', async () => {
  const { u, t } = await userWithRoom();
  const bytes = crypto.randomBytes(5000);

  const res = await putFile(u.access, t, 'r', 'img/logo.png', bytes);

  assertStatus(res, 201);
  assert.equal(res.json.path, 'img/logo.png');
  assert.equal(res.json.size, 5000);
  assert.equal(res.json.content_type, 'image/png');
  assert.match(res.json.etag, /^"[^"]+"$/, 'a strong, quoted etag');
  assert.equal(res.headers.get('etag'), res.json.etag, 'ETag header = etag field');
  assertTime(res.json.updated_at, 'updated_at');
  const got = await getFile(u.access, t, 'r', 'img/logo.png');
  assertStatus(got, 200);
  assert.ok(got.body.equals(bytes), 'same bytes back');
  assert.equal(got.headers.get('etag'), res.json.etag);
  assert.equal(got.headers.get('content-type'), 'image/png');
  const item = (await listFiles(u.access, t, 'r')).find((f) => f.path === 'img/logo.png');
  assert.deepEqual(
    { path: item.path, size: item.size, etag: item.etag, content_type: item.content_type },
    { path: 'img/logo.png', size: 5000, etag: res.json.etag, content_type: 'image/png' },
  );
  assertTime(item.updated_at, 'list updated_at');
  const served = await tenant(t, '/rooms/r/img/logo.png');
  assertStatus(served, 200, 'served on the tenant host');
  assert.ok(served.body.equals(bytes));
});

test('replacing a file is 200 with a new etag; size and room totals follow', async () => {
  const { u, t } = await userWithRoom();
  const first = await putFileOk(u.access, t, 'r', 'notes.txt', 'first version');

  const res = await putFile(u.access, t, 'r', 'notes.txt', 'second, longer version');

  assertStatus(res, 200);
  assert.notEqual(res.json.etag, first.etag);
  assert.equal(res.json.size, 22);
  assert.equal((await getFile(u.access, t, 'r', 'notes.txt')).text, 'second, longer version');
  const files = await listFiles(u.access, t, 'r');
  assert.equal(files.filter((f) => f.path === 'notes.txt').length, 1, 'one entry, not two');
  const room = await getRoom(u.access, t, 'r');
  assert.equal(room.files, files.length);
  assert.equal(room.size, totalSize(files), 'room size = sum of its files');
});

test('an empty file is stored and served as empty', async () => {
  const { u, t } = await userWithRoom();

  const res = await putFile(u.access, t, 'r', 'empty.txt', '');

  assertStatus(res, 201);
  assert.equal(res.json.size, 0);
  const got = await getFile(u.access, t, 'r', 'empty.txt');
  assertStatus(got, 200);
  assert.equal(got.body.length, 0);
});

test('the content type comes from the extension, never from the request', async (t) => {
  const { u, t: slug } = await userWithRoom();
  const cases = [
    ['style.css', 'text/html', 'text/css; charset=utf-8'],
    ['page.html', 'image/png', 'text/html; charset=utf-8'],
    ['app.JS', 'text/plain', 'text/javascript; charset=utf-8'],
    ['evil.png', 'text/html', 'image/png'],
    ['data.unknownext', 'text/html', 'application/octet-stream'],
    ['README', 'text/html', 'application/octet-stream'],
    ['.htaccess', 'text/html', 'application/octet-stream'],
  ];
  for (const [path, claimed, expected] of cases) {
    await t.test(`${path} sent as ${claimed}`, async () => {
      const res = await putFile(u.access, slug, 'r', path, '<script>alert(1)</script>', { 'content-type': claimed });
      assertStatus(res, 201);
      assert.equal(res.json.content_type, expected);
      const got = await getFile(u.access, slug, 'r', path);
      assert.equal(got.headers.get('content-type'), expected);
      assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
    });
  }
});

test('If-Match and If-None-Match on PUT', async (t) => {
  const { u, t: slug } = await userWithRoom();
  const v1 = await putFileOk(u.access, slug, 'r', 'doc.txt', 'v1');
  const put = (body, headers, path = 'doc.txt') => putFile(u.access, slug, 'r', path, body, headers);

  await t.test('the current etag: 200', async () => {
    const res = await put('v2', { 'if-match': v1.etag });
    assertStatus(res, 200);
    assert.equal((await getFile(u.access, slug, 'r', 'doc.txt')).text, 'v2');
  });
  await t.test('a stale etag: 412 and the file is unchanged', async () => {
    assertError(await put('stale', { 'if-match': v1.etag }), 412, 'PRECONDITION_FAILED');
    assert.equal((await getFile(u.access, slug, 'r', 'doc.txt')).text, 'v2');
  });
  await t.test('an etag without quotes works too', async () => {
    const current = (await getFile(u.access, slug, 'r', 'doc.txt')).headers.get('etag');
    assertStatus(await put('v3', { 'if-match': current.replace(/"/g, '') }), 200);
  });
  await t.test('If-Match on a missing file: 412, nothing created', async () => {
    assertError(await put('x', { 'if-match': v1.etag }, 'missing.txt'), 412, 'PRECONDITION_FAILED');
    assertError(await put('x', { 'if-match': '*' }, 'missing.txt'), 412, 'PRECONDITION_FAILED');
    assertError(await getFile(u.access, slug, 'r', 'missing.txt'), 404, 'NOT_FOUND');
  });
  await t.test('If-Match with a list of etags, one of them current: 200', async () => {
    const current = (await getFile(u.access, slug, 'r', 'doc.txt')).headers.get('etag');
    assertStatus(await put('v3b', { 'if-match': `"nope", ${current}` }), 200);
  });
  await t.test('If-None-Match with the current etag: 412; with another: written', async () => {
    const current = (await getFile(u.access, slug, 'r', 'doc.txt')).headers.get('etag');
    assertError(await put('no', { 'if-none-match': current }), 412, 'PRECONDITION_FAILED');
    assertStatus(await put('v3c', { 'if-none-match': '"other"' }), 200);
  });
  await t.test('If-Match: * on an existing file: 200', async () => {
    assertStatus(await put('v4', { 'if-match': '*' }), 200);
  });
  await t.test('If-None-Match: * creates only', async () => {
    assertStatus(await put('new', { 'if-none-match': '*' }, 'fresh.txt'), 201);
    assertError(await put('again', { 'if-none-match': '*' }, 'fresh.txt'), 412, 'PRECONDITION_FAILED');
    assertError(await put('again', { 'if-none-match': '*' }), 412, 'PRECONDITION_FAILED');
    assert.equal((await getFile(u.access, slug, 'r', 'fresh.txt')).text, 'new');
    assert.equal((await getFile(u.access, slug, 'r', 'doc.txt')).text, 'v4');
  });
  await t.test('refused writes changed no usage', async () => {
    const files = await listFiles(u.access, slug, 'r');
    const tenantFiles = [...files, ...(await listFiles(u.access, slug, 'home'))];
    assert.deepEqual(files.map((f) => f.path), ['doc.txt', 'fresh.txt', 'index.html']);
    const now = await usage(u.access, slug);
    assert.equal(now.bytes, totalSize(tenantFiles));
    assert.equal(now.files, tenantFiles.length);
  });
});

test('GET answers 304 to a matching If-None-Match and 206 to a Range', async () => {
  const { u, t } = await userWithRoom();
  const text = '0123456789abcdefghij';
  const put = await putFileOk(u.access, t, 'r', 'range.txt', text);

  const notModified = await getFile(u.access, t, 'r', 'range.txt', { 'if-none-match': put.etag });
  assertStatus(notModified, 304);
  assert.equal(notModified.body.length, 0);
  assert.equal(notModified.headers.get('etag'), put.etag);
  assertStatus(await getFile(u.access, t, 'r', 'range.txt', { 'if-none-match': '"something-else"' }), 200);

  const part = await getFile(u.access, t, 'r', 'range.txt', { range: 'bytes=2-5' });
  assertStatus(part, 206);
  assert.equal(part.text, '2345');
  assert.equal(part.headers.get('content-range'), `bytes 2-5/${text.length}`);
  const suffix = await getFile(u.access, t, 'r', 'range.txt', { range: 'bytes=-3' });
  assertStatus(suffix, 206);
  assert.equal(suffix.text, 'hij');
  const beyond = await getFile(u.access, t, 'r', 'range.txt', { range: 'bytes=100-' });
  assertStatus(beyond, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${text.length}`);
  const head = await raw('HEAD', roomApi(t, 'r', '/files/range.txt'), { token: u.access });
  assertStatus(head, 200);
  assert.equal(head.body.length, 0);
  assert.equal(head.headers.get('etag'), put.etag);
});

test('DELETE: 204, then 404; a stale If-Match is 412 and keeps the file', async () => {
  const { u, t } = await userWithRoom();
  const tenantId = (await getTenant(u.access, t)).id;
  const old = await putFileOk(u.access, t, 'r', 'bye.txt', 'one');
  const current = await putFileOk(u.access, t, 'r', 'bye.txt', 'two', 200);
  const before = await usage(u.access, t);

  assertError(await deleteFile(u.access, t, 'r', 'bye.txt', { 'if-match': old.etag }), 412, 'PRECONDITION_FAILED');
  assert.equal((await getFile(u.access, t, 'r', 'bye.txt')).text, 'two');
  assert.deepEqual(await usage(u.access, t), before);

  const res = await deleteFile(u.access, t, 'r', 'bye.txt', { 'if-match': current.etag });

  assertStatus(res, 204);
  assertError(await getFile(u.access, t, 'r', 'bye.txt'), 404, 'NOT_FOUND');
  assert.ok(!(await listFiles(u.access, t, 'r')).some((f) => f.path === 'bye.txt'));
  assert.ok(!roomKeys(tenantId, (await getRoom(u.access, t, 'r')).id).some((k) => k.endsWith('/files/bye.txt')), 'gone from R2');
  const after = await usage(u.access, t);
  assert.equal(after.bytes, before.bytes - 3);
  assert.equal(after.files, before.files - 1);
  assertError(await deleteFile(u.access, t, 'r', 'bye.txt'), 404, 'NOT_FOUND');
  assertStatus(await tenant(t, '/rooms/r/bye.txt'), 404);
});

test('a PUT without Content-Length is 411 and stores nothing', async () => {
  const { u, t } = await userWithRoom();

  const res = await raw('PUT', roomApi(t, 'r', '/files/chunked.txt'), { token: u.access, body: 'streamed', chunked: true });

  assertError(res, 411, 'LENGTH_REQUIRED');
  assertError(await getFile(u.access, t, 'r', 'chunked.txt'), 404, 'NOT_FOUND');
});

test('nested and non-ASCII paths round-trip', async () => {
  const { u, t } = await userWithRoom();
  const encoded = 'docs/a%20b/%C3%BCber%20%E2%9C%93.txt';

  const res = await putFile(u.access, t, 'r', encoded, 'hello');

  assertStatus(res, 201);
  assert.equal(res.json.path, 'docs/a b/über ✓.txt');
  assert.ok((await listFiles(u.access, t, 'r')).some((f) => f.path === 'docs/a b/über ✓.txt'));
  assert.equal((await getFile(u.access, t, 'r', encoded)).text, 'hello');
  assert.equal((await tenant(t, `/rooms/r/${encoded}`)).text, 'hello');
});

test('16 parallel PUTs of different files to one room all land, and usage is exact', async () => {
  const { u, t } = await userWithRoom();
  const before = await usage(u.access, t);
  const bodies = Array.from({ length: 16 }, (_, i) => crypto.randomBytes(100 + i * 37));

  const results = await Promise.all(bodies.map((b, i) => putFile(u.access, t, 'r', `p/${i}.bin`, b)));

  for (const res of results) assertStatus(res, 201, describeRes(res));
  const files = await listFiles(u.access, t, 'r');
  assert.equal(files.length, 17, 'index.html + 16');
  for (const [i, b] of bodies.entries()) {
    const f = files.find((x) => x.path === `p/${i}.bin`);
    assert.ok(f, `p/${i}.bin listed`);
    assert.equal(f.size, b.length);
    assert.ok((await getFile(u.access, t, 'r', `p/${i}.bin`)).body.equals(b), `p/${i}.bin content`);
  }
  const sum = bodies.reduce((n, b) => n + b.length, 0);
  const after = await usage(u.access, t);
  assert.equal(after.bytes, before.bytes + sum);
  assert.equal(after.files, before.files + 16);
  const room = await getRoom(u.access, t, 'r');
  assert.equal(room.files, 17);
  assert.equal(room.size, totalSize(files));
});

test('12 parallel PUTs with the same If-Match: exactly one wins, and the file holds its bytes', async () => {
  const { u, t } = await userWithRoom();
  const base = await putFileOk(u.access, t, 'r', 'race.txt', 'original');
  const before = await usage(u.access, t);
  const bodies = Array.from({ length: 12 }, (_, i) => `writer ${i} `.repeat(i + 1));

  const results = await Promise.all(bodies.map((b) => putFile(u.access, t, 'r', 'race.txt', b, { 'if-match': base.etag })));

  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, ...Array(11).fill(412)], `statuses: ${statuses}`);
  for (const r of results.filter((x) => x.status === 412)) assertError(r, 412, 'PRECONDITION_FAILED');
  const winner = results.findIndex((r) => r.status === 200);
  const got = await getFile(u.access, t, 'r', 'race.txt');
  assert.equal(got.text, bodies[winner], 'the winner’s bytes');
  assert.equal(got.headers.get('etag'), results[winner].json.etag);
  const after = await usage(u.access, t);
  assert.equal(after.bytes, before.bytes - 'original'.length + bodies[winner].length, 'only the winner counted');
  assert.equal(after.files, before.files);
});

test('parallel create-only PUTs of one path: one 201, the rest 412', async () => {
  const { u, t } = await userWithRoom();
  const before = await usage(u.access, t);

  const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    putFile(u.access, t, 'r', 'once.txt', `claim ${i}`, { 'if-none-match': '*' })));

  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, ...Array(7).fill(412)], `statuses: ${statuses}`);
  const winner = results.findIndex((r) => r.status === 201);
  assert.equal((await getFile(u.access, t, 'r', 'once.txt')).text, `claim ${winner}`);
  const after = await usage(u.access, t);
  assert.equal(after.files, before.files + 1);
  assert.equal(after.bytes, before.bytes + `claim ${winner}`.length);
});

test('head.version moves with every file change', async () => {
  const { u, t } = await userWithRoom();
  const v0 = (await getRoom(u.access, t, 'r')).head.version;

  await putFileOk(u.access, t, 'r', 'a.txt', 'a');
  const v1 = (await getRoom(u.access, t, 'r')).head.version;
  await putFileOk(u.access, t, 'r', 'a.txt', 'aa', 200);
  const v2 = (await getRoom(u.access, t, 'r')).head.version;
  assertStatus(await deleteFile(u.access, t, 'r', 'a.txt'), 204);
  const v3 = (await getRoom(u.access, t, 'r')).head.version;
  assertError(await deleteFile(u.access, t, 'r', 'a.txt'), 404, 'NOT_FOUND');
  const v4 = (await getRoom(u.access, t, 'r')).head.version;

  assert.ok(v1 > v0 && v2 > v1 && v3 > v2, `versions ${v0} ${v1} ${v2} ${v3}`);
  assert.equal(v4, v3, 'a refused delete is no change');
});

test('reading and writing need a token; an unknown room is 404 for files', async () => {
  const { u, t } = await userWithRoom();
  assertStatus(await api('GET', roomApi(t, 'r', '/files')), 401);
  assertStatus(await raw('PUT', roomApi(t, 'r', '/files/x.txt'), { body: 'x' }), 401);
  assertStatus(await raw('GET', roomApi(t, 'r', '/files/index.html')), 401);
  assertError(await putFile(u.access, t, 'nope', 'x.txt', 'x'), 404, 'NOT_FOUND');
  assertError(await getFile(u.access, t, 'r', 'no/such/file.txt'), 404, 'NOT_FOUND');
  assert.deepEqual((await listFiles(u.access, t, 'r')).map((f) => f.path), ['index.html']);
});
