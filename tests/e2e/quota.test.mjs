// Usage and quotas: the counters are exact across writes, overwrites and deletes; the
// plan's bytes, files, per-file size and rooms are enforced (507/413) without leaving
// anything behind; and nobody reaches a tenant they are not in, or further than their
// token allows.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test, before, api, register, registerVerified } from '../lib/client.mjs';
import { assertStatus, assertError } from '../lib/expect.mjs';
import { d1Live } from '../lib/d1.mjs';
import {
  roomApi, createRoom, getTenant, putFile, putFileOk, getFile, deleteFile, listFiles, putTmp, usage, putSized,
  tenantKeys, roomKeys, usageSql, totalSize,
} from '../lib/rooms.mjs';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const RACE_ROOMS = Array.from({ length: 8 }, (_, i) => `r${i}`);

// Tenants brought near a limit, and a tenant with extra members (there is no API for
// members yet): prepared here and seeded through the Worker's own D1 (`d1Live`).
const fx = {};
before(async () => {
  const [full, counted, racing, alice, bob, carol] = await Promise.all([
    register(), register(), register(), registerVerified(), registerVerified(), registerVerified(),
  ]);
  await createRoom(full.access, full.username, { slug: 'r' });
  await putFileOk(full.access, full.username, 'r', 'keep.txt', 'ten bytes!');
  await createRoom(counted.access, counted.username, { slug: 'r' });
  await Promise.all(RACE_ROOMS.map((slug) => createRoom(racing.access, racing.username, { slug })));
  await createRoom(alice.access, alice.username, { slug: 'private', visibility: 'private' });
  const aliceId = (await getTenant(alice.access, alice.username)).id;
  await d1Live([
    usageSql(full.username, { bytes: GIB - 10 }),
    usageSql(counted.username, { files: 15000 }),
    usageSql(racing.username, { bytes: GIB - 100 }),
    ["INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?, ?, 'viewer', 0), (?, ?, 'member', 0)",
      [aliceId, bob.user.id, aliceId, carol.user.id]],
  ]);
  Object.assign(fx, { full, counted, racing, alice, bob, carol });
});

/** The sum of every room's files: what usage must say when there are no tmp files. */
async function storedFiles(token, t) {
  const rooms = (await api('GET', `/tenants/${t}/rooms`, { token })).json;
  const lists = await Promise.all(rooms.map((r) => listFiles(token, t, r.slug)));
  const all = lists.flat();
  return { bytes: totalSize(all), files: all.length, rooms: rooms.length };
}

async function expectUsage(token, t, extra = { bytes: 0, files: 0 }) {
  const want = await storedFiles(token, t);
  const got = await usage(token, t);
  assert.deepEqual(
    { bytes: got.bytes, files: got.files, rooms: got.rooms },
    { bytes: want.bytes + extra.bytes, files: want.files + extra.files, rooms: want.rooms },
    'usage = what is stored',
  );
  return got;
}

test('a new tenant’s usage: its entrance page, one room, the free plan’s limits', async () => {
  const u = await register();

  const got = await usage(u.access, u.username);

  assert.equal(got.plan, 'free');
  assert.deepEqual(got.limits, { bytes: GIB, files: 15000, file_bytes: 100 * MIB, rooms: 100 });
  const home = await listFiles(u.access, u.username, 'home');
  assert.deepEqual({ bytes: got.bytes, files: got.files, rooms: got.rooms }, { bytes: totalSize(home), files: 1, rooms: 1 });
});

test('usage stays exact across creates, overwrites, deletes, temporary files and room deletion', async () => {
  const u = await register();
  const t = u.username;
  const base = await usage(u.access, t);

  await createRoom(u.access, t, { slug: 'one' });
  await createRoom(u.access, t, { slug: 'two' });
  await expectUsage(u.access, t);
  await putFileOk(u.access, t, 'one', 'a.bin', crypto.randomBytes(1000));
  await putFileOk(u.access, t, 'one', 'b.bin', crypto.randomBytes(2500));
  await putFileOk(u.access, t, 'two', 'c.bin', crypto.randomBytes(700));
  await expectUsage(u.access, t);
  await putFileOk(u.access, t, 'one', 'a.bin', crypto.randomBytes(4000), 200);
  await putFileOk(u.access, t, 'one', 'b.bin', crypto.randomBytes(10), 200);
  await putFileOk(u.access, t, 'home', 'index.html', '<h1>mine</h1>', 200);
  await expectUsage(u.access, t);
  assertStatus(await deleteFile(u.access, t, 'one', 'b.bin'), 204);
  assertStatus(await putTmp(u.access, t, 'two', 'scratch.bin', crypto.randomBytes(333), { ttl: 3600 }), 201);
  await expectUsage(u.access, t, { bytes: 333, files: 1 });
  assertStatus(await api('DELETE', roomApi(t, 'two', '/tmp/scratch.bin'), { token: u.access }), 204);
  await expectUsage(u.access, t);
  assertStatus(await api('DELETE', roomApi(t, 'one'), { token: u.access }), 204);
  assertStatus(await api('DELETE', roomApi(t, 'two'), { token: u.access }), 204);

  const end = await expectUsage(u.access, t);
  assert.equal(end.rooms, base.rooms);
  assert.equal(end.files, base.files);
  assert.equal(end.bytes, 13, 'only the rewritten home page is left');
});

test('usage, index and R2 agree after a burst of parallel overwrites and deletes', async () => {
  const u = await register();
  const t = u.username;
  const room = await createRoom(u.access, t, { slug: 'mix' });
  const tenantId = (await getTenant(u.access, t)).id;

  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => {
    const path = `f${i % 5}.bin`;
    return i % 3 === 2 ? deleteFile(u.access, t, 'mix', path) : putFile(u.access, t, 'mix', path, crypto.randomBytes(50 + i * 13));
  }));

  for (const r of results) assert.ok([200, 201, 204, 404].includes(r.status), `${r.method} ${r.url} -> ${r.status} ${r.text}`);
  await expectUsage(u.access, t);
  const files = await listFiles(u.access, t, 'mix');
  const prefix = `t/${tenantId}/r/${room.id}/files/`;
  assert.deepEqual(roomKeys(tenantId, room.id).map((k) => k.slice(prefix.length)), files.map((f) => f.path).sort());
  for (const f of files) {
    const got = await getFile(u.access, t, 'mix', f.path);
    assert.equal(got.body.length, f.size, `${f.path} size`);
    assert.equal(got.headers.get('etag'), f.etag, `${f.path} etag`);
  }
});

test('the byte quota: a write that would pass it is 507 and changes nothing; up to it is fine', async () => {
  const u = fx.full;
  const t = u.username;
  const tenantId = (await getTenant(u.access, t)).id;
  assert.equal((await usage(u.access, t)).bytes, GIB - 10, 'seeded');
  const snapshot = async () => ({ usage: await usage(u.access, t), files: await listFiles(u.access, t, 'r'), keys: tenantKeys(tenantId) });
  const before = await snapshot();

  assertError(await putFile(u.access, t, 'r', 'new.txt', 'x'.repeat(11)), 507, 'QUOTA_EXCEEDED');
  assertError(await putTmp(u.access, t, 'r', 'new.txt', 'x'.repeat(11)), 507, 'QUOTA_EXCEEDED');
  assertError(await putFile(u.access, t, 'r', 'keep.txt', 'x'.repeat(21)), 507, 'QUOTA_EXCEEDED');
  assertError(await api('POST', `/tenants/${t}/rooms`, { token: u.access, body: { slug: 'more' } }), 507, 'QUOTA_EXCEEDED');
  assert.deepEqual(await snapshot(), before, 'refused writes leave usage, files and R2 alone');
  assert.equal((await getFile(u.access, t, 'r', 'keep.txt')).text, 'ten bytes!');

  assertStatus(await putFile(u.access, t, 'r', 'keep.txt', 'x'.repeat(20)), 200, 'growing by exactly what is left');
  assert.equal((await usage(u.access, t)).bytes, GIB);
  assertError(await putFile(u.access, t, 'r', 'one-more.txt', 'x'), 507, 'QUOTA_EXCEEDED');
  assertStatus(await putFile(u.access, t, 'r', 'keep.txt', 'y'.repeat(20)), 200, 'same size at the limit');
  assertStatus(await putFile(u.access, t, 'r', 'empty.txt', ''), 201, 'an empty file needs no bytes');
  assertStatus(await putFile(u.access, t, 'r', 'keep.txt', 'short'), 200, 'shrinking is always allowed');
  assert.equal((await usage(u.access, t)).bytes, GIB - 15);
  assertStatus(await deleteFile(u.access, t, 'r', 'keep.txt'), 204);
  assert.equal((await usage(u.access, t)).bytes, GIB - 20);
});

test('the file-count quota: a new file past it is 507; overwrites and deletes still work', async () => {
  const u = fx.counted;
  const t = u.username;
  assert.equal((await usage(u.access, t)).files, 15000, 'seeded');
  const before = await listFiles(u.access, t, 'r');

  assertError(await putFile(u.access, t, 'r', 'new.txt', 'x'), 507, 'QUOTA_EXCEEDED');
  assertError(await putTmp(u.access, t, 'r', 'new.txt', 'x'), 507, 'QUOTA_EXCEEDED');
  assertError(await api('POST', `/tenants/${t}/rooms`, { token: u.access, body: { slug: 'more' } }), 507, 'QUOTA_EXCEEDED');
  assert.deepEqual(await listFiles(u.access, t, 'r'), before);
  assert.equal((await usage(u.access, t)).files, 15000);

  assertStatus(await putFile(u.access, t, 'r', 'index.html', 'replaced'), 200, 'an overwrite adds no file');
  assertStatus(await deleteFile(u.access, t, 'r', 'index.html'), 204);
  assertStatus(await putFile(u.access, t, 'r', 'new.txt', 'x'), 201, 'room again after a delete');
  assert.equal((await usage(u.access, t)).files, 15000);
});

test('parallel writers in different rooms cannot pass the byte quota together', async () => {
  const u = fx.racing;
  const t = u.username;
  const slugs = RACE_ROOMS;
  assert.equal((await usage(u.access, t)).bytes, GIB - 100, 'seeded');

  const results = await Promise.all(slugs.map((slug) => putFile(u.access, t, slug, 'f.bin', Buffer.alloc(30, 1))));

  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 201, 201, 507, 507, 507, 507, 507], `statuses: ${statuses}`);
  assert.equal((await usage(u.access, t)).bytes, GIB - 10);
  const landed = (await Promise.all(slugs.map((s) => listFiles(u.access, t, s)))).flat().filter((f) => f.path === 'f.bin');
  assert.equal(landed.length, 3);
});

test('one file over 100 MiB is 413 FILE_TOO_LARGE; exactly 100 MiB is stored', async () => {
  const u = await register();
  const t = u.username;
  await createRoom(u.access, t, { slug: 'r' });
  const tenantId = (await getTenant(u.access, t)).id;
  const before = { usage: await usage(u.access, t), keys: tenantKeys(tenantId) };

  assertError(await putSized(roomApi(t, 'r', '/files/huge.bin'), 100 * MIB + 1, { token: u.access }), 413, 'FILE_TOO_LARGE');
  assertError(await putSized(roomApi(t, 'r', '/tmp/huge.bin'), 100 * MIB + 1, { token: u.access }), 413, 'FILE_TOO_LARGE');
  assert.deepEqual({ usage: await usage(u.access, t), keys: tenantKeys(tenantId) }, before);

  const ok = await putSized(roomApi(t, 'r', '/files/max.bin'), 100 * MIB, { token: u.access });
  assertStatus(ok, 201);
  assert.equal(ok.json.size, 100 * MIB);
  assert.equal((await usage(u.access, t)).bytes, before.usage.bytes + 100 * MIB);
  const tail = await getFile(u.access, t, 'r', 'max.bin', { range: `bytes=${100 * MIB - 4}-` });
  assertStatus(tail, 206);
  assert.ok(tail.body.equals(Buffer.alloc(4)), 'the last bytes arrived');
  assertStatus(await deleteFile(u.access, t, 'r', 'max.bin'), 204);
  assert.deepEqual(await usage(u.access, t), before.usage);
});

test('the free plan has 100 rooms: parallel creates stop at 100, the 101st is 507, no starter page is left behind', async () => {
  const u = await register();
  const t = u.username;
  const tenantId = (await getTenant(u.access, t)).id;
  const slugs = Array.from({ length: 97 }, (_, i) => `room-${i}`);
  for (let i = 0; i < slugs.length; i += 10) {
    await Promise.all(slugs.slice(i, i + 10).map((slug) => createRoom(u.access, t, { slug })));
  }
  assert.equal((await usage(u.access, t)).rooms, 98);

  const raced = await Promise.all(Array.from({ length: 5 }, (_, i) =>
    api('POST', `/tenants/${t}/rooms`, { token: u.access, body: { slug: `race-${i}` } })));

  const statuses = raced.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 201, 507, 507, 507], `statuses: ${statuses}`);
  for (const r of raced.filter((x) => x.status === 507)) assertError(r, 507, 'QUOTA_EXCEEDED');
  const before = { usage: await usage(u.access, t), keys: tenantKeys(tenantId) };
  assert.equal(before.usage.rooms, 100);
  const starterPages = before.keys.filter((k) => k.endsWith('/files/index.html'));
  assert.equal(starterPages.length, 100, 'every room has its page; the refused ones left none');
  assert.equal(before.usage.files, 100);

  assertError(await api('POST', `/tenants/${t}/rooms`, { token: u.access, body: { slug: 'one-too-many' } }), 507, 'QUOTA_EXCEEDED');

  assert.deepEqual({ usage: await usage(u.access, t), keys: tenantKeys(tenantId) }, before);
  assertError(await api('GET', roomApi(t, 'one-too-many'), { token: u.access }), 404, 'NOT_FOUND');
  assertStatus(await api('DELETE', roomApi(t, 'room-0'), { token: u.access }), 204);
  await createRoom(u.access, t, { slug: 'one-too-many' });
  assert.equal((await usage(u.access, t)).rooms, 100);
});

test('a stranger can neither read nor change anything of another tenant (404), and nothing changes', async (t) => {
  const alice = await register();
  const bob = await registerVerified();
  const a = alice.username;
  await createRoom(alice.access, a, { slug: 'diary', visibility: 'private' });
  await putFileOk(alice.access, a, 'diary', 'secret.txt', 'dear diary');
  assertStatus(await api('PUT', roomApi(a, 'diary', '/meta/mood'), { token: alice.access, body: { m: 'ok' } }), 201);
  assertStatus(await putTmp(alice.access, a, 'diary', 'draft.txt', 'wip', { ttl: 3600 }), 201);
  const snapshot = async () => ({
    usage: await usage(alice.access, a),
    rooms: (await api('GET', `/tenants/${a}/rooms`, { token: alice.access })).json,
    files: await listFiles(alice.access, a, 'diary'),
    meta: (await api('GET', roomApi(a, 'diary', '/meta'), { token: alice.access })).json,
    tenant: await getTenant(alice.access, a),
  });
  const before = await snapshot();
  const bobPat = (await api('POST', '/me/tokens', { token: bob.access, body: { name: 'b', scope: 'write' } })).json.token;
  assert.ok(bobPat, 'bob has a write token');

  const calls = [
    ['GET', `/tenants/${a}`], ['PATCH', `/tenants/${a}`, { home_room: 'diary' }], ['GET', `/tenants/${a}/usage`],
    ['GET', `/tenants/${a}/rooms`], ['POST', `/tenants/${a}/rooms`, { slug: 'bobs' }],
    ['GET', roomApi(a, 'diary')], ['PATCH', roomApi(a, 'diary'), { visibility: 'public' }], ['DELETE', roomApi(a, 'diary')],
    ['GET', roomApi(a, 'diary', '/files')], ['GET', roomApi(a, 'diary', '/files/secret.txt')],
    ['PUT', roomApi(a, 'diary', '/files/secret.txt'), 'owned'], ['DELETE', roomApi(a, 'diary', '/files/secret.txt')],
    ['GET', roomApi(a, 'diary', '/meta')], ['GET', roomApi(a, 'diary', '/meta/mood')],
    ['PUT', roomApi(a, 'diary', '/meta/mood'), { m: 'bob' }], ['DELETE', roomApi(a, 'diary', '/meta/mood')],
    ['GET', roomApi(a, 'diary', '/tmp/draft.txt')], ['PUT', roomApi(a, 'diary', '/tmp/draft.txt'), 'bob'],
    ['DELETE', roomApi(a, 'diary', '/tmp/draft.txt')],
  ];
  for (const [who, token] of [['access token', bob.access], ['write PAT', bobPat]]) {
    for (const [method, p, body] of calls) {
      await t.test(`${who}: ${method} ${p.replace(a, '{alice}')}`, async () => {
        const opts = { token, ...(typeof body === 'string' ? { raw: body, headers: { 'content-type': 'text/plain' } } : { body }) };
        assertError(await api(method, p, opts), 404, 'NOT_FOUND');
      });
    }
  }
  await t.test('alice’s data is unchanged', async () => {
    assert.deepEqual(await snapshot(), before);
    assert.equal((await getFile(alice.access, a, 'diary', 'secret.txt')).text, 'dear diary');
  });
});

test('token scopes: read-only tokens cannot write (403); tenant- and room-scoped tokens reach no further', async (t) => {
  const alice = await registerVerified();
  const a = alice.username;
  await createRoom(alice.access, a, { slug: 'garden' });
  const pat = async (body) => {
    const res = await api('POST', '/me/tokens', { token: alice.access, body: { name: 'e2e', ...body } });
    assertStatus(res, 201);
    return res.json.token;
  };
  const read = await pat({ scope: 'read' });
  const tenantWrite = await pat({ scope: 'write', tenant: a });
  const roomWrite = await pat({ scope: 'write', tenant: a, room: 'garden' });

  await t.test('a read token reads but cannot write', async () => {
    assertStatus(await api('GET', roomApi(a, 'garden', '/files'), { token: read }), 200);
    assertStatus(await getFile(read, a, 'garden', 'index.html'), 200);
    assertStatus(await api('GET', `/tenants/${a}/usage`, { token: read }), 200);
    for (const res of [
      await putFile(read, a, 'garden', 'x.txt', 'x'),
      await deleteFile(read, a, 'garden', 'index.html'),
      await api('POST', `/tenants/${a}/rooms`, { token: read, body: { slug: 'nope' } }),
      await api('PATCH', roomApi(a, 'garden'), { token: read, body: { title: 'nope' } }),
      await api('DELETE', roomApi(a, 'garden'), { token: read }),
      await api('PUT', roomApi(a, 'garden', '/meta/k'), { token: read, body: 1 }),
      await putTmp(read, a, 'garden', 'x.txt', 'x'),
    ]) assertError(res, 403, 'INSUFFICIENT_SCOPE');
    assert.deepEqual((await listFiles(alice.access, a, 'garden')).map((f) => f.path), ['index.html']);
  });
  await t.test('a write token scoped to the tenant writes there', async () => {
    assertStatus(await putFile(tenantWrite, a, 'garden', 'by-pat.txt', 'x'), 201);
    assertStatus(await api('POST', `/tenants/${a}/rooms`, { token: tenantWrite, body: { slug: 'pat-room' } }), 201);
  });
  await t.test('a room-scoped token reaches only its room', async () => {
    assertStatus(await putFile(roomWrite, a, 'garden', 'by-room-pat.txt', 'x'), 201);
    assertStatus(await api('PUT', roomApi(a, 'garden', '/meta/k'), { token: roomWrite, body: 1 }), 201);
    const listed = await api('GET', `/tenants/${a}/rooms`, { token: roomWrite });
    assertStatus(listed, 200);
    assert.deepEqual(listed.json.map((r) => r.slug), ['garden'], 'other rooms are not even listed');
    for (const res of [
      await putFile(roomWrite, a, 'home', 'x.txt', 'x'),
      await getFile(roomWrite, a, 'home', 'index.html'),
      await api('GET', roomApi(a, 'home', '/files'), { token: roomWrite }),
      await api('GET', roomApi(a, 'home'), { token: roomWrite }),
      await api('PUT', roomApi(a, 'home', '/meta/k'), { token: roomWrite, body: 1 }),
      await api('DELETE', roomApi(a, 'pat-room'), { token: roomWrite }),
      await api('POST', `/tenants/${a}/rooms`, { token: roomWrite, body: { slug: 'nope' } }),
      await api('PATCH', `/tenants/${a}`, { token: roomWrite, body: { home_room: 'garden' } }),
    ]) assertError(res, 403, 'INSUFFICIENT_SCOPE');
    assert.deepEqual((await listFiles(alice.access, a, 'home')).map((f) => f.path), ['index.html']);
    assertStatus(await api('GET', roomApi(a, 'pat-room'), { token: alice.access }), 200, 'pat-room still exists');
    assert.equal((await getTenant(alice.access, a)).home_room, 'home');
  });
});

test('membership decides: a viewer reads (private rooms too) but cannot write; a member writes; a token scoped to another tenant gets 404', async () => {
  const { alice, bob, carol } = fx;
  const a = alice.username;

  assertStatus(await api('GET', roomApi(a, 'private', '/files'), { token: bob.access }), 200, 'a viewer reads a private room');
  assertError(await putFile(bob.access, a, 'private', 'x.txt', 'x'), 403, 'FORBIDDEN');
  assertError(await api('POST', `/tenants/${a}/rooms`, { token: bob.access, body: { slug: 'bobs' } }), 403, 'FORBIDDEN');
  assertError(await api('PUT', roomApi(a, 'private', '/meta/k'), { token: bob.access, body: 1 }), 403, 'FORBIDDEN');
  assertError(await api('DELETE', roomApi(a, 'private'), { token: bob.access }), 403, 'FORBIDDEN');
  assertStatus(await putFile(carol.access, a, 'private', 'by-carol.txt', 'hi'), 201, 'a member writes');

  const ownScoped = await api('POST', '/me/tokens', { token: bob.access, body: { name: 'own', scope: 'write', tenant: bob.username } });
  assertStatus(ownScoped, 201);
  assertError(await api('GET', roomApi(a, 'private', '/files'), { token: ownScoped.json.token }), 404, 'NOT_FOUND');
  assertError(await putFile(ownScoped.json.token, a, 'private', 'y.txt', 'y'), 404, 'NOT_FOUND');
  assertStatus(await putFile(ownScoped.json.token, bob.username, 'home', 'y.txt', 'y'), 201, 'it works in its own tenant');
  assert.deepEqual((await listFiles(alice.access, a, 'private')).map((f) => f.path), ['by-carol.txt', 'index.html']);
});
