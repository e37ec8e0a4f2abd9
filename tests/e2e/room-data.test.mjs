// Room data: JSON documents under /rooms/{room}/meta/{key}, and temporary files under
// /rooms/{room}/tmp/{path}?ttl= that the room's alarm removes (bytes, usage) once they
// expire.

import assert from 'node:assert/strict';
import { test, api, register, tenant, tenantUrl, describeRes } from '../lib/client.mjs';
import { assertStatus, assertError, assertValidation, assertTime } from '../lib/expect.mjs';
import { roomApi, createRoom, getTenant, listFiles, putTmp, usage, raw, roomKeys, eventually } from '../lib/rooms.mjs';

async function userWithRoom(opts = {}) {
  const u = await register();
  const room = await createRoom(u.access, u.username, { slug: 'r', ...opts });
  const tenantId = (await getTenant(u.access, u.username)).id;
  return { u, t: u.username, room, tenantId };
}

const metaPut = (u, t, key, rawBody) => raw('PUT', roomApi(t, 'r', `/meta/${key}`), {
  token: u.access, body: rawBody, headers: { 'content-type': 'application/json' },
});

test('a data document is created (201), replaced (200), read back, listed and deleted', async () => {
  const { u, t } = await userWithRoom();
  const doc = { score: 42, names: ['ä', 'b'], nested: { ok: true, none: null } };

  const created = await api('PUT', roomApi(t, 'r', '/meta/game-state'), { token: u.access, body: doc });
  assertStatus(created, 201);
  assert.equal(created.json.key, 'game-state');
  assertTime(created.json.updated_at);
  const got = await api('GET', roomApi(t, 'r', '/meta/game-state'), { token: u.access });
  assertStatus(got, 200);
  assert.match(got.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(got.json, doc);

  const replaced = await api('PUT', roomApi(t, 'r', '/meta/game-state'), { token: u.access, body: { score: 43 } });
  assertStatus(replaced, 200);
  assert.deepEqual((await api('GET', roomApi(t, 'r', '/meta/game-state'), { token: u.access })).json, { score: 43 });
  assertStatus(await api('PUT', roomApi(t, 'r', '/meta/other.v1'), { token: u.access, body: [1, 2, 3] }), 201);

  const list = await api('GET', roomApi(t, 'r', '/meta'), { token: u.access });
  assertStatus(list, 200);
  assert.deepEqual(list.json.map((d) => d.key), ['game-state', 'other.v1']);
  for (const d of list.json) assert.equal(typeof d.size, 'number');

  assertStatus(await api('DELETE', roomApi(t, 'r', '/meta/game-state'), { token: u.access }), 204);
  assertError(await api('GET', roomApi(t, 'r', '/meta/game-state'), { token: u.access }), 404, 'NOT_FOUND');
  assertError(await api('DELETE', roomApi(t, 'r', '/meta/game-state'), { token: u.access }), 404, 'NOT_FOUND');
  const after = await api('GET', roomApi(t, 'r', '/meta'), { token: u.access });
  assert.deepEqual(after.json.map((d) => d.key), ['other.v1']);
  assert.deepEqual((await listFiles(u.access, t, 'r')).map((f) => f.path), ['index.html'], 'documents are not files');
});

test('any JSON value is a document: strings, numbers, null, arrays', async (t) => {
  const { u, t: slug } = await userWithRoom();
  for (const [key, value] of [['s', '"text"'], ['n', '-1.5e3'], ['z', 'null'], ['b', 'false'], ['a', '[]']]) {
    await t.test(value, async () => {
      assertStatus(await metaPut(u, slug, key, value), 201);
      const got = await api('GET', roomApi(slug, 'r', `/meta/${key}`), { token: u.access });
      assertStatus(got, 200);
      assert.deepEqual(JSON.parse(got.text), JSON.parse(value));
    });
  }
});

test('bad documents: 400 MALFORMED_JSON, 413 over 64 KiB, and nothing is stored', async () => {
  const { u, t } = await userWithRoom();

  for (const body of ['{', '{"a":}', 'not json', '', "{'a':1}"]) {
    assertError(await metaPut(u, t, 'bad', body), 400, 'MALFORMED_JSON');
  }
  const exactly = JSON.stringify('x'.repeat(64 * 1024 - 2));
  assert.equal(Buffer.byteLength(exactly), 65536);
  assertStatus(await metaPut(u, t, 'big', exactly), 201, '64 KiB is allowed');
  const over = JSON.stringify('x'.repeat(64 * 1024 - 1));
  assertError(await metaPut(u, t, 'bigger', over), 413, 'PAYLOAD_TOO_LARGE');
  assertError(await metaPut(u, t, 'big', over), 413, 'PAYLOAD_TOO_LARGE');
  const chunked = await raw('PUT', roomApi(t, 'r', '/meta/bigger'), { token: u.access, body: over, chunked: true });
  assertError(chunked, 413, 'PAYLOAD_TOO_LARGE');

  const list = await api('GET', roomApi(t, 'r', '/meta'), { token: u.access });
  assert.deepEqual(list.json.map((d) => d.key), ['big']);
  const big = await api('GET', roomApi(t, 'r', '/meta/big'), { token: u.access });
  assert.equal(big.json, JSON.parse(exactly), 'the refused replacement kept the old document');
});

test('document keys are [A-Za-z0-9._-]{1,128}; others are 422', async (t) => {
  const { u, t: slug } = await userWithRoom();
  for (const key of ['.hidden', 'a:b', 'a%20b', 'a+b', '%C3%A9', 'k'.repeat(129), 'a%2Fb']) {
    await t.test(key.length > 20 ? `${key.length} characters` : key, async () => {
      assertValidation(await metaPut(u, slug, key, '1'), 'key');
      assertValidation(await raw('GET', roomApi(slug, 'r', `/meta/${key}`), { token: u.access }), 'key');
      assertValidation(await raw('DELETE', roomApi(slug, 'r', `/meta/${key}`), { token: u.access }), 'key');
    });
  }
  await t.test('128 characters and every allowed character', async () => {
    assertStatus(await metaPut(u, slug, 'k'.repeat(128), '1'), 201);
    assertStatus(await metaPut(u, slug, 'Az09._-x', '2'), 201);
  });
});

test('a room holds at most 1,000 documents, also under parallel writes (507); replacing one still works', async () => {
  const { u, t } = await userWithRoom();
  const keys = Array.from({ length: 980 }, (_, i) => `d${i}`);
  for (let i = 0; i < keys.length; i += 70) {
    const batch = await Promise.all(keys.slice(i, i + 70).map((k) => metaPut(u, t, k, String(i))));
    for (const res of batch) assertStatus(res, 201);
  }

  const raced = await Promise.all(Array.from({ length: 40 }, (_, i) => metaPut(u, t, `late${i}`, '1')));

  const statuses = raced.map((r) => r.status).sort();
  assert.deepEqual(statuses, [...Array(20).fill(201), ...Array(20).fill(507)], `statuses: ${statuses}`);
  for (const r of raced.filter((x) => x.status === 507)) assertError(r, 507, 'QUOTA_EXCEEDED');
  assertError(await metaPut(u, t, 'one-too-many', '1'), 507, 'QUOTA_EXCEEDED');
  assertStatus(await metaPut(u, t, 'd7', '"replaced"'), 200, 'replacing needs no new slot');
  assertStatus(await api('DELETE', roomApi(t, 'r', '/meta/d8'), { token: u.access }), 204);
  assertStatus(await metaPut(u, t, 'one-too-many', '1'), 201, 'room again after a delete');
  const list = await api('GET', roomApi(t, 'r', '/meta'), { token: u.access });
  assert.equal(list.json.length, 1000);
});

test('a temporary file is stored, served publicly until it expires, and counted in usage', async () => {
  const { u, t, room, tenantId } = await userWithRoom();
  const before = await usage(u.access, t);
  const started = Date.now();

  const res = await putTmp(u.access, t, 'r', 'out/result.json', '{"ok":true}', { ttl: 3600, headers: { 'content-type': 'text/html' } });

  assertStatus(res, 201);
  assert.equal(res.json.path, 'out/result.json');
  assert.equal(res.json.size, 11);
  assert.equal(res.json.content_type, 'application/json; charset=utf-8');
  assert.match(res.json.etag, /^"[^"]+"$/);
  assertTime(res.json.expires_at);
  const expires = Date.parse(res.json.expires_at);
  assert.ok(Math.abs(expires - (started + 3600_000)) < 30_000, `expires_at about an hour out: ${res.json.expires_at}`);
  assert.equal(res.headers.get('location'), tenantUrl(t, '/rooms/r/tmp/out/result.json'));
  const served = await tenant(t, '/rooms/r/tmp/out/result.json');
  assertStatus(served, 200);
  assert.equal(served.text, '{"ok":true}');
  assert.match(served.headers.get('content-type') ?? '', /^application\/json/);
  const viaApi = await api('GET', roomApi(t, 'r', '/tmp/out/result.json'), { token: u.access });
  assertStatus(viaApi, 200);
  assert.equal(viaApi.text, '{"ok":true}');
  assert.deepEqual(roomKeys(tenantId, room.id).filter((k) => k.includes('/tmp/')), [`t/${tenantId}/r/${room.id}/tmp/out/result.json`]);
  assert.ok(!(await listFiles(u.access, t, 'r')).some((f) => f.path.includes('result')), 'not a room file');
  const during = await usage(u.access, t);
  assert.equal(during.bytes, before.bytes + 11);
  assert.equal(during.files, before.files + 1);

  const again = await putTmp(u.access, t, 'r', 'out/result.json', '{"ok":"again"}', { ttl: 60 });
  assertStatus(again, 201);
  const replaced = await usage(u.access, t);
  assert.equal(replaced.bytes, before.bytes + 14, 'a replaced temporary file counts once');
  assert.equal(replaced.files, before.files + 1);

  assertStatus(await api('DELETE', roomApi(t, 'r', '/tmp/out/result.json'), { token: u.access }), 204);
  assertStatus(await tenant(t, '/rooms/r/tmp/out/result.json'), 404);
  assertError(await api('DELETE', roomApi(t, 'r', '/tmp/out/result.json'), { token: u.access }), 404, 'NOT_FOUND');
  assert.deepEqual(roomKeys(tenantId, room.id).filter((k) => k.includes('/tmp/')), []);
  const after = await usage(u.access, t);
  assert.deepEqual({ bytes: after.bytes, files: after.files }, { bytes: before.bytes, files: before.files });
});

test('without ?ttl a temporary file lives one day; ttl must be 1..604800 whole seconds', async (t) => {
  const { u, t: slug } = await userWithRoom();
  await t.test('default', async () => {
    const started = Date.now();
    const res = await putTmp(u.access, slug, 'r', 'day.txt', 'x');
    assertStatus(res, 201);
    assert.ok(Math.abs(Date.parse(res.json.expires_at) - (started + 86_400_000)) < 30_000, res.json.expires_at);
  });
  await t.test('7 days is the most', async () => {
    const started = Date.now();
    const res = await putTmp(u.access, slug, 'r', 'week.txt', 'x', { ttl: 604800 });
    assertStatus(res, 201);
    assert.ok(Math.abs(Date.parse(res.json.expires_at) - (started + 604_800_000)) < 30_000, res.json.expires_at);
  });
  for (const ttl of ['0', '-1', '604801', '1.5', 'abc', '', '1e3']) {
    await t.test(`ttl=${ttl}`, async () => {
      assertValidation(await putTmp(u.access, slug, 'r', `bad-${ttl}.txt`, 'x', { ttl }), 'ttl');
    });
  }
  await t.test('a PUT without Content-Length is 411', async () => {
    assertError(await raw('PUT', roomApi(slug, 'r', '/tmp/chunked.txt'), { token: u.access, body: 'x', chunked: true }), 411, 'LENGTH_REQUIRED');
  });
  await t.test('only the accepted ones were stored', async () => {
    const files = (await usage(u.access, slug)).files;
    assert.equal(files, 2 + 2, 'two starter pages and two temporary files');
  });
});

test('an expired temporary file disappears: no longer served, gone from R2, usage given back', async () => {
  const { u, t, room, tenantId } = await userWithRoom();
  const before = await usage(u.access, t);
  const keep = await putTmp(u.access, t, 'r', 'keep.txt', 'stays an hour', { ttl: 3600 });
  assertStatus(keep, 201);

  const res = await putTmp(u.access, t, 'r', 'flash.txt', 'gone soon', { ttl: 1 });
  assertStatus(res, 201);
  const key = `t/${tenantId}/r/${room.id}/tmp/flash.txt`;
  assert.ok(roomKeys(tenantId, room.id).includes(key));

  await eventually(async () => (await tenant(t, '/rooms/r/tmp/flash.txt')).status === 404, { timeout: 5_000, what: 'expired file no longer served' });
  await eventually(() => !roomKeys(tenantId, room.id).includes(key), { timeout: 15_000, what: 'the alarm removed the R2 object' });
  const after = await eventually(async () => {
    const now = await usage(u.access, t);
    return now.files === before.files + 1 ? now : null;
  }, { timeout: 5_000, what: 'usage given back' });
  assert.equal(after.bytes, before.bytes + 'stays an hour'.length);
  assertError(await api('GET', roomApi(t, 'r', '/tmp/flash.txt'), { token: u.access }), 404, 'NOT_FOUND');
  assertStatus(await tenant(t, '/rooms/r/tmp/keep.txt'), 200, 'the other temporary file is still there');
  assert.ok(roomKeys(tenantId, room.id).includes(`t/${tenantId}/r/${room.id}/tmp/keep.txt`));
});

test('replacing a temporary file with a longer ttl keeps it past the first expiry', async () => {
  const { u, t, room, tenantId } = await userWithRoom();
  assertStatus(await putTmp(u.access, t, 'r', 'lease.txt', 'short', { ttl: 1 }), 201);
  assertStatus(await putTmp(u.access, t, 'r', 'lease.txt', 'renewed', { ttl: 3600 }), 201);
  assertStatus(await putTmp(u.access, t, 'r', 'marker.txt', 'x', { ttl: 1 }), 201);
  const key = (p) => `t/${tenantId}/r/${room.id}/tmp/${p}`;

  await eventually(() => !roomKeys(tenantId, room.id).includes(key('marker.txt')), { timeout: 15_000, what: 'the alarm ran' });

  assert.ok(roomKeys(tenantId, room.id).includes(key('lease.txt')), 'the renewed file is kept');
  const served = await tenant(t, '/rooms/r/tmp/lease.txt');
  assertStatus(served, 200);
  assert.equal(served.text, 'renewed');
});

test('several temporary files expire in turn', async () => {
  const { u, t, room, tenantId } = await userWithRoom();
  const before = await usage(u.access, t);
  for (const [name, ttl] of [['a.txt', 1], ['b.txt', 2], ['c.txt', 3]]) {
    assertStatus(await putTmp(u.access, t, 'r', name, name, { ttl }), 201);
  }
  const tmpKeys = () => roomKeys(tenantId, room.id).filter((k) => k.includes('/tmp/'));
  assert.equal(tmpKeys().length, 3);

  await eventually(() => tmpKeys().length === 0, { timeout: 20_000, what: 'all three removed' });

  const after = await eventually(async () => {
    const now = await usage(u.access, t);
    return now.files === before.files ? now : null;
  }, { timeout: 5_000, what: 'usage given back' });
  assert.equal(after.bytes, before.bytes);
});

test('room data of a public room is public on the tenant host; a private room’s is not', async () => {
  const { u, t } = await userWithRoom();
  await createRoom(u.access, t, { slug: 'secret', visibility: 'private' });
  assertStatus(await api('PUT', roomApi(t, 'r', '/meta/board'), { token: u.access, body: { hi: 1 } }), 201);
  assertStatus(await api('PUT', roomApi(t, 'secret', '/meta/board'), { token: u.access, body: { hidden: 1 } }), 201);
  assertStatus(await putTmp(u.access, t, 'secret', 'x.txt', 'private bytes', { ttl: 600 }), 201);

  const pub = await tenant(t, '/rooms/r/meta/board');
  assertStatus(pub, 200);
  assert.deepEqual(JSON.parse(pub.text), { hi: 1 });
  for (const p of ['/rooms/secret/meta/board', '/rooms/secret/tmp/x.txt']) {
    const res = await tenant(t, p);
    assert.notEqual(res.status, 200, describeRes(res));
    assert.ok(!res.text.includes('hidden') && !res.text.includes('private bytes'), describeRes(res));
  }
  assertStatus(await tenant(t, '/rooms/r/meta/nope'), 404);
});
