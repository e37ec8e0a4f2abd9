// File paths: every unsafe spelling is refused with 422 (never a 500, never a write
// outside the room), on files and temporary files alike; the length limits hold at the
// byte; one name has one spelling. Raw requests send each path byte for byte.

import assert from 'node:assert/strict';
import { test, register, tenant, describeRes } from '../lib/client.mjs';
import { assertStatus, assertValidation } from '../lib/expect.mjs';
import { roomApi, createRoom, getTenant, listFiles, usage, raw, tenantKeys, putFile } from '../lib/rooms.mjs';
import { r2Keys } from '../lib/r2.mjs';

// Spellings the Worker itself sees and must refuse.
const REFUSED = [
  ['an empty segment', 'a//b.txt'],
  ['a leading slash', '/abs.txt'],
  ['a trailing slash', 'dir/'],
  ['an encoded slash', 'a%2Fb.txt'],
  ['an encoded slash, lower case', 'a%2fb.txt'],
  ['an encoded slash after ..', '..%2Fescape.txt'],
  ['an encoded backslash', 'a%5Cb.txt'],
  ['an encoded backslash, lower case', '..%5cescape.txt'],
  ['NUL', 'a%00b.txt'],
  ['a newline', 'a%0Ab.txt'],
  ['a carriage return', 'a%0Db.txt'],
  ['a tab', 'a%09b.txt'],
  ['DEL', 'a%7Fb.txt'],
  ['a C1 control (U+0085)', 'a%C2%85b.txt'],
  ['a double-encoded ..', '%252e%252e/escape.txt'],
  ['a double-encoded slash', 'a%252Fb.txt'],
  ['a percent sign', '100%25.txt'],
  ['a question mark', 'what%3F.txt'],
  ['a hash', 'a%23b.txt'],
  ['invalid UTF-8 (%FF)', '%FF.txt'],
  ['invalid UTF-8 (overlong /)', 'a%C0%AFb.txt'],
  ['a truncated UTF-8 sequence', 'a%C3.txt'],
  ['a broken escape', 'a%zz.txt'],
  ['a cut-off escape', 'a%2'],
  ['a segment of 201 bytes', 's'.repeat(201)],
  ['a segment of 201 UTF-8 bytes', `${'%C3%A9'.repeat(100)}s`],
  ['a path of 901 bytes', [...Array(4).fill('s'.repeat(199)), 's'.repeat(101)].join('/')],
];

// Spellings the runtime's URL parser normalises before the Worker sees them (WHATWG:
// `..`, `.`, `%2e`, and `\` as `/`). Whatever happens, nothing may land outside.
const NORMALISED = [
  'a/../b.txt',
  './c.txt',
  'a/./d.txt',
  '%2e%2e/e.txt',
  '%2E%2E/%2e%2E/f.txt',
  '.%2e/g.txt',
  'x/%2e/h.txt',
  'a\\i.txt',
  '..\\j.txt',
  '..',
  '%2e%2e',
];

async function setUp() {
  const alice = await register();
  const bob = await register();
  const room = await createRoom(alice.access, alice.username, { slug: 'r' });
  const aliceId = (await getTenant(alice.access, alice.username)).id;
  const bobId = (await getTenant(bob.access, bob.username)).id;
  return { alice, bob, a: alice.username, room, aliceId, bobId };
}

test('every unsafe path is refused with 422 on PUT, GET and DELETE of files and tmp', async (t) => {
  const { alice, a, aliceId } = await setUp();
  const before = { usage: await usage(alice.access, a), keys: tenantKeys(aliceId) };

  for (const [name, p] of REFUSED) {
    await t.test(name, async () => {
      const calls = [
        ['PUT', `/files/${p}`],
        ['GET', `/files/${p}`],
        ['DELETE', `/files/${p}`],
        ['PUT', `/tmp/${p}`],
        ['GET', `/tmp/${p}`],
        ['DELETE', `/tmp/${p}`],
      ];
      const answers = await Promise.all(calls.map(([method, suffix]) =>
        raw(method, roomApi(a, 'r', suffix), { token: alice.access, body: method === 'PUT' ? 'x' : undefined })));
      for (const res of answers) assertValidation(res, 'path');
      const site = await tenant(a, `/rooms/r/${p}`);
      assert.ok(site.status < 500 && site.status !== 200, `tenant host must not serve or fail on it: ${describeRes(site)}`);
    });
  }
  await t.test('nothing was written', async () => {
    assert.deepEqual((await listFiles(alice.access, a, 'r')).map((f) => f.path), ['index.html']);
    assert.deepEqual(await usage(alice.access, a), before.usage);
    assert.deepEqual(tenantKeys(aliceId), before.keys);
  });
});

test('paths under tmp/ and meta/ are room data, not files: 422', async (t) => {
  const { alice, a } = await setUp();
  for (const p of ['tmp/x.txt', 'meta/x.json', 'tmp', 'meta', 'tmp/deep/er.txt']) {
    await t.test(p, async () => {
      assertValidation(await raw('PUT', roomApi(a, 'r', `/files/${p}`), { token: alice.access, body: 'x' }), 'path');
    });
  }
  await t.test('look-alikes are ordinary files', async () => {
    for (const p of ['tmpl/x.txt', 'metadata.json', 'x/tmp/y.txt']) {
      assertStatus(await raw('PUT', roomApi(a, 'r', `/files/${p}`), { token: alice.access, body: 'x' }), 201, p);
    }
  });
});

test('normalised dot segments and backslashes never write outside the room', async (t) => {
  const { alice, a, room, aliceId } = await setUp();
  const inside = `t/${aliceId}/r/${room.id}/files/`;
  for (const p of NORMALISED) {
    await t.test(p, async () => {
      const res = await raw('PUT', roomApi(a, 'r', `/files/${p}`), { token: alice.access, body: 'x' });
      assert.ok(res.status < 500, describeRes(res));
      if (res.status === 200 || res.status === 201) {
        assert.ok(!res.json.path.split('/').some((s) => s === '..' || s === '.' || s === ''), `stored under a clean name: ${describeRes(res)}`);
        assert.ok(!res.json.path.includes('\\'), describeRes(res));
      } else {
        assert.ok(res.status >= 400, describeRes(res));
      }
    });
  }
  await t.test('every key of the tenant is under its own rooms and pages', async () => {
    const home = (await listFiles(alice.access, a, 'home')).length;
    const files = await listFiles(alice.access, a, 'r');
    const keys = tenantKeys(aliceId);
    const roomFileKeys = keys.filter((k) => k.startsWith(inside));
    assert.deepEqual(roomFileKeys.map((k) => k.slice(inside.length)).sort(), files.map((f) => f.path).sort(), 'R2 and the file list agree');
    for (const k of keys) {
      assert.match(k, new RegExp(`^t/${aliceId}/(r/[0-9a-f-]{36}/files/|pages/)`), `unexpected key ${k}`);
      assert.ok(!k.split('/').some((s) => s === '..' || s === '.'), `dot segment in key ${k}`);
    }
    assert.equal(keys.filter((k) => /\/r\/[0-9a-f-]{36}\/files\//.test(k)).length, files.length + home);
  });
});

test('dot segments cannot reach another tenant', async () => {
  const { alice, bob, a, bobId } = await setUp();
  const bobBefore = { keys: tenantKeys(bobId), files: await listFiles(bob.access, bob.username, 'home') };
  const b = bob.username;
  const escapes = [
    `../../../../${b}/rooms/home/files/pwn.txt`,
    `%2e%2e/%2e%2e/%2e%2e/%2e%2e/${b}/rooms/home/files/pwn.txt`,
    `..\\..\\..\\..\\${b}\\rooms\\home\\files\\pwn.txt`,
    `../../../../../../../t/${bobId}/r/pwn.txt`,
  ];

  for (const p of escapes) {
    const res = await raw('PUT', roomApi(a, 'r', `/files/${p}`), { token: alice.access, body: 'pwned' });
    assert.ok(res.status >= 400 && res.status < 500, `must be refused: ${describeRes(res)}`);
  }

  assert.deepEqual(tenantKeys(bobId), bobBefore.keys, 'bob’s R2 objects are untouched');
  assert.deepEqual(await listFiles(bob.access, b, 'home'), bobBefore.files);
  assert.ok(!r2Keys().some((k) => k.includes('pwn')), 'no object named pwn anywhere');
});

test('segment and path lengths are limited in bytes, inclusively', async () => {
  const { alice, a, aliceId } = await setUp();
  const seg200 = 's'.repeat(200);
  const utf200 = '%C3%A9'.repeat(100);
  const path900 = [...Array(4).fill('s'.repeat(199)), 's'.repeat(100)].join('/');
  assert.equal(path900.length, 900);

  for (const p of [seg200, utf200, path900]) {
    const res = await raw('PUT', roomApi(a, 'r', `/files/${p}`), { token: alice.access, body: 'ok' });
    assertStatus(res, 201, `${p.slice(0, 20)}… (${p.length})`);
    const tmp = await raw('PUT', roomApi(a, 'r', `/tmp/${p}`), { token: alice.access, body: 'ok' });
    assertStatus(tmp, 201, `tmp ${p.slice(0, 20)}…`);
  }

  const files = await listFiles(alice.access, a, 'r');
  assert.ok(files.some((f) => f.path === 'é'.repeat(100)));
  assert.ok(files.some((f) => f.path === path900));
  const got = await raw('GET', roomApi(a, 'r', `/files/${path900}`), { token: alice.access });
  assertStatus(got, 200);
  assert.equal(got.text, 'ok');
  for (const k of tenantKeys(aliceId)) {
    assert.ok(Buffer.byteLength(k) <= 1024, `R2 keys stay within 1,024 bytes: ${Buffer.byteLength(k)}`);
  }
});

test('a name has one spelling: NFD and NFC are the same file', async () => {
  const { alice, a } = await setUp();

  const nfd = await putFile(alice.access, a, 'r', 'cafe%CC%81.txt', 'decomposed');
  const nfc = await putFile(alice.access, a, 'r', 'caf%C3%A9.txt', 'composed');

  assertStatus(nfd, 201);
  assert.equal(nfd.json.path, 'café.txt');
  assertStatus(nfc, 200, 'the second spelling replaces the first');
  const files = (await listFiles(alice.access, a, 'r')).filter((f) => f.path.normalize('NFC') === 'café.txt');
  assert.equal(files.length, 1);
  assert.equal(files[0].path, 'café.txt');
  const viaNfd = await raw('GET', roomApi(a, 'r', '/files/cafe%CC%81.txt'), { token: alice.access });
  assert.equal(viaNfd.text, 'composed');
});
