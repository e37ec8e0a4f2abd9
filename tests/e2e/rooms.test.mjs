// Rooms: created with a starter page, validated, renamed without losing files, deleted
// with every byte they held, and the entrance (home) room protected until replaced.

import assert from 'node:assert/strict';
import { test, api, register, tenant, tenantUrl, describeRes } from '../lib/client.mjs';
import { assertStatus, assertError, assertValidation, assertId, assertTime, assertUnauthenticated } from '../lib/expect.mjs';
import {
  roomApi, createRoom, getTenant, getRoom, listFiles, putFile, putFileOk, getFile, putTmp, usage, roomKeys, tenantKeys, totalSize, packKeys } from '../lib/rooms.mjs';

test('a new room has the documented shape, a starter page, and is listed and served', async () => {
  const u = await register();
  const t = u.username;

  const res = await api('POST', `/tenants/${t}/rooms`, { token: u.access, body: { slug: 'garden', title: 'Tom & <Jerry>' } });

  assertStatus(res, 201);
  const room = res.json;
  assertId(room.id, 'room.id');
  assert.equal(room.slug, 'garden');
  assert.equal(room.title, 'Tom & <Jerry>');
  assert.equal(room.visibility, 'public', 'public by default');
  assert.equal(typeof room.head?.version, 'number');
  assertTime(room.created_at, 'created_at');
  assertTime(room.updated_at, 'updated_at');
  assert.equal(room.url, tenantUrl(t, '/rooms/garden/'));
  const files = await listFiles(u.access, t, 'garden');
  assert.deepEqual(files.map((f) => f.path), ['index.html'], 'a starter index.html and nothing else');
  assert.equal(room.files, 1);
  assert.equal(room.size, files[0].size, 'size counts the starter page');
  assert.match(files[0].content_type, /^text\/html/);
  const page = await tenant(t, '/rooms/garden/');
  assertStatus(page, 200, 'the starter page is served');
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.ok(page.text.includes('Tom &amp; &lt;Jerry&gt;'), `the title is HTML-escaped: ${page.text.slice(0, 400)}`);
  assert.ok(!page.text.includes('<Jerry>'), 'no raw markup from the title');
  assert.equal(page.body.length, files[0].size);
  const list = await api('GET', `/tenants/${t}/rooms`, { token: u.access });
  assertStatus(list, 200);
  assert.deepEqual(list.json.map((r) => r.slug).sort(), ['garden', 'home']);
  assert.deepEqual(list.json.find((r) => r.slug === 'garden'), room, 'the list shows the same room');
  assert.deepEqual(await getRoom(u.access, t, 'garden'), room);
});

test('a title defaults to the slug; slugs are case-folded; private rooms are not served publicly', async () => {
  const u = await register();
  const t = u.username;

  const plain = await createRoom(u.access, t, { slug: 'Notes' });
  const secret = await createRoom(u.access, t, { slug: 'diary', visibility: 'private' });

  assert.equal(plain.slug, 'notes');
  assert.equal(plain.title, 'notes');
  assert.equal(secret.visibility, 'private');
  assertStatus(await tenant(t, '/rooms/notes/'), 200);
  const hidden = await tenant(t, '/rooms/diary/');
  assert.notEqual(hidden.status, 200, describeRes(hidden));
  assert.ok(!hidden.text.includes('waiting for its first words'), 'the private starter page does not leak');
  const files = await listFiles(u.access, t, 'diary');
  assert.deepEqual(files.map((f) => f.path), ['index.html'], 'the owner sees the private room through the API');
});

test('a taken slug is 409 ROOM_TAKEN and leaves nothing behind', async (t) => {
  const u = await register();
  const slug = u.username;
  await createRoom(u.access, slug, { slug: 'garden' });
  const { id } = await getTenant(u.access, slug);
  const before = { usage: await usage(u.access, slug), keys: tenantKeys(id) };

  for (const taken of ['garden', 'GARDEN', 'home']) {
    await t.test(taken, async () => {
      const err = assertError(await api('POST', `/tenants/${slug}/rooms`, { token: u.access, body: { slug: taken } }), 409, 'ROOM_TAKEN');
      assert.ok(err.fields?.slug, JSON.stringify(err));
    });
  }
  await t.test('nothing changed', async () => {
    assert.deepEqual(await usage(u.access, slug), before.usage);
    assert.deepEqual(tenantKeys(id), before.keys, 'no stray starter page in R2');
    const list = await api('GET', `/tenants/${slug}/rooms`, { token: u.access });
    assert.equal(list.json.length, 2);
  });
});

test('parallel creates of one slug: one 201, the rest 409, no stray starter pages', async () => {
  const u = await register();
  const t = u.username;
  const tenantId = (await getTenant(u.access, t)).id;

  const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
    api('POST', `/tenants/${t}/rooms`, { token: u.access, body: { slug: 'popular', title: `Take ${i}` } })));

  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409], `statuses: ${statuses}`);
  const winner = results.find((r) => r.status === 201).json;
  assert.equal((await getRoom(u.access, t, 'popular')).id, winner.id);
  const roomPrefixes = new Set(tenantKeys(tenantId).filter((k) => k.includes('/r/')).map((k) => k.split('/')[3]));
  assert.equal(roomPrefixes.size, 2, 'R2 holds the home room and the winner only');
  const now = await usage(u.access, t);
  assert.equal(now.rooms, 2);
  assert.equal(now.files, 2);
});

test('invalid room settings are refused with 422 naming the field', async (t) => {
  const u = await register();
  const slug = u.username;
  const before = await usage(u.access, slug);
  const cases = [
    ['no slug', {}, 'slug'],
    ['an empty slug', { slug: '' }, 'slug'],
    ['a slug with a leading dash', { slug: '-a' }, 'slug'],
    ['a slug with a trailing dash', { slug: 'a-' }, 'slug'],
    ['a slug with an underscore', { slug: 'a_b' }, 'slug'],
    ['a slug with a dot', { slug: 'a.git' }, 'slug'],
    ['a slug with a slash', { slug: 'a/b' }, 'slug'],
    ['a slug of 65 characters', { slug: 'a'.repeat(65) }, 'slug'],
    ['a non-ASCII slug', { slug: 'grün' }, 'slug'],
    ['a slug that is not a string', { slug: 42 }, 'slug'],
    ['an empty title', { slug: 'ok', title: '' }, 'title'],
    ['a blank title', { slug: 'ok', title: '   ' }, 'title'],
    ['a title of 101 characters', { slug: 'ok', title: 'é'.repeat(101) }, 'title'],
    ['a title with a newline', { slug: 'ok', title: 'a\nb' }, 'title'],
    ['a title that is not a string', { slug: 'ok', title: ['x'] }, 'title'],
    ['visibility "Public"', { slug: 'ok', visibility: 'Public' }, 'visibility'],
    ['visibility "secret"', { slug: 'ok', visibility: 'secret' }, 'visibility'],
    ['visibility true', { slug: 'ok', visibility: true }, 'visibility'],
  ];
  for (const [name, body, field] of cases) {
    await t.test(name, async () => {
      assertValidation(await api('POST', `/tenants/${slug}/rooms`, { token: u.access, body }), field);
    });
  }
  await t.test('limits that are allowed', async () => {
    await createRoom(u.access, slug, { slug: 'a'.repeat(64), title: 'é'.repeat(100) });
    await createRoom(u.access, slug, { slug: 'x' });
  });
  await t.test('no room was created by a refused request', async () => {
    const list = await api('GET', `/tenants/${slug}/rooms`, { token: u.access });
    assert.deepEqual(list.json.map((r) => r.slug).sort(), ['a'.repeat(64), 'home', 'x']);
    assert.equal((await usage(u.access, slug)).files, before.files + 2);
  });
});

test('PATCH changes title and visibility; a new slug keeps every file', async () => {
  const u = await register();
  const t = u.username;
  const room = await createRoom(u.access, t, { slug: 'old' });
  await putFileOk(u.access, t, 'old', 'css/site.css', 'body{color:red}');
  const keysBefore = roomKeys((await getTenant(u.access, t)).id, room.id);

  const res = await api('PATCH', roomApi(t, 'old'), { token: u.access, body: { slug: 'new', title: 'Renamed', visibility: 'private' } });

  assertStatus(res, 200);
  assert.equal(res.json.id, room.id, 'the same room');
  assert.equal(res.json.slug, 'new');
  assert.equal(res.json.title, 'Renamed');
  assert.equal(res.json.visibility, 'private');
  assert.equal(res.json.url, tenantUrl(t, '/rooms/new/'));
  assertError(await api('GET', roomApi(t, 'old'), { token: u.access }), 404, 'NOT_FOUND');
  assertError(await api('GET', roomApi(t, 'old', '/files'), { token: u.access }), 404, 'NOT_FOUND');
  const files = await listFiles(u.access, t, 'new');
  assert.deepEqual(files.map((f) => f.path), ['css/site.css', 'index.html']);
  const css = await getFile(u.access, t, 'new', 'css/site.css');
  assertStatus(css, 200);
  assert.equal(css.text, 'body{color:red}');
  assert.deepEqual(roomKeys((await getTenant(u.access, t)).id, room.id), keysBefore, 'R2 keys use the id, not the slug');

  const back = await api('PATCH', roomApi(t, 'new'), { token: u.access, body: { visibility: 'public' } });
  assertStatus(back, 200);
  assert.equal(back.json.title, 'Renamed', 'fields not sent are kept');
  assert.equal(back.json.slug, 'new');
  assertStatus(await tenant(t, '/rooms/new/css/site.css'), 200, 'served under the new slug');
  assertStatus(await tenant(t, '/rooms/old/css/site.css'), 302, 'not under the old one: answered like a private room, sign in first');
});

test('PATCH refuses a taken slug (409) and invalid fields (422) and changes nothing', async () => {
  const u = await register();
  const t = u.username;
  const a = await createRoom(u.access, t, { slug: 'a', title: 'A' });
  await createRoom(u.access, t, { slug: 'b' });

  const taken = await api('PATCH', roomApi(t, 'a'), { token: u.access, body: { slug: 'b', title: 'Changed' } });
  assertError(taken, 409, 'ROOM_TAKEN');
  assertValidation(await api('PATCH', roomApi(t, 'a'), { token: u.access, body: { slug: 'B_' } }), 'slug');
  assertValidation(await api('PATCH', roomApi(t, 'a'), { token: u.access, body: { title: '' } }), 'title');
  assertValidation(await api('PATCH', roomApi(t, 'a'), { token: u.access, body: { visibility: 'hidden' } }), 'visibility');
  assertError(await api('PATCH', roomApi(t, 'nope'), { token: u.access, body: { title: 'x' } }), 404, 'NOT_FOUND');

  const now = await getRoom(u.access, t, 'a');
  assert.equal(now.title, 'A', 'the refused PATCH changed no field');
  assert.equal(now.visibility, a.visibility);
});

test('deleting a room removes its files, temporary files and R2 objects and gives its usage back', async () => {
  const u = await register();
  const t = u.username;
  const tenantId = (await getTenant(u.access, t)).id;
  const before = await usage(u.access, t);
  const room = await createRoom(u.access, t, { slug: 'gone' });
  await putFileOk(u.access, t, 'gone', 'a.txt', 'a'.repeat(100));
  await putFileOk(u.access, t, 'gone', 'deep/b/c.bin', Buffer.alloc(3000, 7));
  assertStatus(await putTmp(u.access, t, 'gone', 'scratch.json', '{"x":1}', { ttl: 3600 }), 201);
  assertStatus(await api('PUT', roomApi(t, 'gone', '/meta/state'), { token: u.access, body: { n: 1 } }), 201);
  assert.equal(roomKeys(tenantId, room.id).length, 4, 'index, two files and a temporary file in R2');
  assert.equal(packKeys(tenantId, room.id).length, 3, 'a git pack per commit: creation and two writes');
  const during = await usage(u.access, t);
  assert.equal(during.files, before.files + 4);
  assert.equal(during.rooms, before.rooms + 1);

  const res = await api('DELETE', roomApi(t, 'gone'), { token: u.access });

  assertStatus(res, 204);
  assert.equal(res.body.length, 0);
  assert.deepEqual(roomKeys(tenantId, room.id), [], 'no R2 object of the room is left');
  assert.deepEqual(packKeys(tenantId, room.id), [], 'nor any of its git packs');
  const after = await usage(u.access, t);
  assert.deepEqual({ bytes: after.bytes, files: after.files, rooms: after.rooms }, { bytes: before.bytes, files: before.files, rooms: before.rooms });
  assertError(await api('GET', roomApi(t, 'gone'), { token: u.access }), 404, 'NOT_FOUND');
  assertError(await api('GET', roomApi(t, 'gone', '/files'), { token: u.access }), 404, 'NOT_FOUND');
  assertError(await api('DELETE', roomApi(t, 'gone'), { token: u.access }), 404, 'NOT_FOUND');
  assertStatus(await tenant(t, '/rooms/gone/a.txt'), 302, 'a deleted room answers like a private one');
  assertStatus(await tenant(t, '/rooms/gone/tmp/scratch.json'), 302);
});

test('deleting a room while files are being written leaves nothing behind', async () => {
  const u = await register();
  const t = u.username;
  const tenantId = (await getTenant(u.access, t)).id;
  const before = await usage(u.access, t);
  const room = await createRoom(u.access, t, { slug: 'busy' });
  await putFileOk(u.access, t, 'busy', 'first.txt', 'first');

  const writes = Array.from({ length: 12 }, (_, i) => putTmpOrFile(u, t, i));
  const [deleted, ...results] = await Promise.all([api('DELETE', roomApi(t, 'busy'), { token: u.access }), ...writes]);

  assertStatus(deleted, 204);
  for (const res of results) assert.ok([201, 404].includes(res.status), `a write either landed before the delete or found no room: ${describeRes(res)}`);
  assert.deepEqual(roomKeys(tenantId, room.id), [], 'no object of the room is left');
  const after = await usage(u.access, t);
  assert.deepEqual({ bytes: after.bytes, files: after.files, rooms: after.rooms }, { bytes: before.bytes, files: before.files, rooms: before.rooms });
});

/** The i-th write of the test above: files and temporary files, alternately. */
function putTmpOrFile(u, t, i) {
  return i % 2 === 0
    ? putFile(u.access, t, 'busy', `f${i}.txt`, 'x'.repeat(100 + i))
    : putTmp(u.access, t, 'busy', `t${i}.txt`, 'y'.repeat(50 + i), { ttl: 3600 });
}

test('a room re-created under a deleted slug starts empty', async () => {
  const u = await register();
  const t = u.username;
  const first = await createRoom(u.access, t, { slug: 'again' });
  await putFileOk(u.access, t, 'again', 'old.txt', 'old');
  assertStatus(await api('PUT', roomApi(t, 'again', '/meta/k'), { token: u.access, body: [1] }), 201);
  assertStatus(await api('DELETE', roomApi(t, 'again'), { token: u.access }), 204);

  const second = await createRoom(u.access, t, { slug: 'again' });

  assert.notEqual(second.id, first.id);
  assert.deepEqual((await listFiles(u.access, t, 'again')).map((f) => f.path), ['index.html']);
  assertError(await getFile(u.access, t, 'again', 'old.txt'), 404, 'NOT_FOUND');
  assertError(await api('GET', roomApi(t, 'again', '/meta/k'), { token: u.access }), 404, 'NOT_FOUND');
  const meta = await api('GET', roomApi(t, 'again', '/meta'), { token: u.access });
  assertStatus(meta, 200);
  assert.deepEqual(meta.json, []);
});

test('the home room cannot be deleted until another room is the entrance', async () => {
  const u = await register();
  const t = u.username;
  assert.equal((await getTenant(u.access, t)).home_room, 'home');
  await createRoom(u.access, t, { slug: 'lobby', title: 'The Lobby Room' });

  const refused = await api('DELETE', roomApi(t, 'home'), { token: u.access });

  assertError(refused, 409, 'ROOM_IS_HOME');
  assertStatus(await getFile(u.access, t, 'home', 'index.html'), 200, 'home is intact');
  assertValidation(await api('PATCH', `/tenants/${t}`, { token: u.access, body: { home_room: 'nope' } }), 'home_room');
  assertValidation(await api('PATCH', `/tenants/${t}`, { token: u.access, body: { home_room: 'Not A Slug!' } }), 'home_room');
  assert.equal((await getTenant(u.access, t)).home_room, 'home', 'a refused PATCH keeps the entrance');

  const moved = await api('PATCH', `/tenants/${t}`, { token: u.access, body: { home_room: 'lobby' } });

  assertStatus(moved, 200);
  assert.equal(moved.json.home_room, 'lobby');
  const entrance = await tenant(t, '/');
  assertStatus(entrance, 200);
  assert.ok(entrance.text.includes('The Lobby Room'), 'the entrance now serves the lobby');
  assertStatus(await api('DELETE', roomApi(t, 'home'), { token: u.access }), 204, 'the old home can go now');
  assertError(await api('DELETE', roomApi(t, 'lobby'), { token: u.access }), 409, 'ROOM_IS_HOME');
});

test('renaming the home room keeps it the entrance', async () => {
  const u = await register();
  const t = u.username;
  const index = await tenant(t, '/');
  assertStatus(index, 200);

  assertStatus(await api('PATCH', roomApi(t, 'home'), { token: u.access, body: { slug: 'start' } }), 200);

  assert.equal((await getTenant(u.access, t)).home_room, 'start');
  const again = await tenant(t, '/');
  assertStatus(again, 200);
  assert.equal(again.text, index.text);
  assertError(await api('DELETE', roomApi(t, 'start'), { token: u.access }), 409, 'ROOM_IS_HOME');
});

test('unknown rooms and tenants are 404; no credentials is 401', async () => {
  const u = await register();
  const t = u.username;
  for (const [method, p] of [
    ['GET', roomApi(t, 'nope')],
    ['DELETE', roomApi(t, 'nope')],
    ['GET', roomApi(t, 'nope', '/files')],
    ['GET', roomApi(t, 'nope', '/files/index.html')],
    ['GET', '/tenants/nosuchtenant0/rooms'],
    ['GET', '/tenants/NOT_A_NAME/rooms'],
  ]) {
    assertError(await api(method, p, { token: u.access }), 404, 'NOT_FOUND');
  }
  assertUnauthenticated(await api('GET', `/tenants/${t}/rooms`));
  assertUnauthenticated(await api('POST', `/tenants/${t}/rooms`, { body: { slug: 'x' } }));
  const list = await api('GET', `/tenants/${t}/rooms`, { token: u.access });
  assert.equal(list.json.length, 1, 'the unauthenticated POST created nothing');
  assert.equal(totalSize(await listFiles(u.access, t, 'home')), (await usage(u.access, t)).bytes);
});
