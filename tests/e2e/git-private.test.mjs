// Git in private rooms: a room's packs in R2 (`t/<tenant id>/r/<room id>/git/pack-*.pack`)
// are sealed at rest while the room is private (custom metadata enc/iv/size, no plaintext,
// no `PACK` header) and plain again when it is public; visibility changes convert the
// packs as well as the files, and clones keep working across them with the same
// commits; large files (streamed into packs of their own) clone byte-identical in both
// kinds of room; snapshot pages of private rooms need a grant; restore in a private room
// writes sealed packs too.
//
// The R2 objects are read straight from the Worker's local state (Miniflare): the rows of
// `_mf_objects` in $ROOOM_STATE_DIR/v3/r2/miniflare-R2BucketObject/*.sqlite (key, blob_id,
// size, custom_metadata) and the blob files under $ROOOM_STATE_DIR/v3/r2/<bucket>/blobs/.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test, api, registerVerified, tenant, describeRes, sleep, STATE_DIR } from '../lib/client.mjs';
import { assertStatus } from '../lib/expect.mjs';
import { roomApi, createRoom, putFile, getFile, getTenant } from '../lib/rooms.mjs';
import { r2MetadataDir } from '../lib/r2.mjs';
import { sqlite3 } from '../lib/sqlite.mjs';
import {
  patFor, gitUrl, gitSandbox, readTree, writeFiles, encPath, headCommit, history, infoRefs, HEX40,
} from '../lib/git.mjs';
import {
  grantFor, withGrant, assertSignInRedirect, setVisibility, createOrg, addMember, sha256, marker, chainedBytes,
} from '../lib/private.mjs';

const MIB = 1 << 20;
const BIG = 9 * MIB; // over the 8 MiB in-memory threshold: the blob streams into a pack of its own
const PACK_MAGIC = Buffer.from('PACK');

// ---------------------------------------------------------------- R2 objects in the local state

/** `sqlite3 -json` on one file; rows as objects. */
function sqliteJson(file, sql) {
  const out = execFileSync(sqlite3(), ['-readonly', '-json', '-cmd', '.timeout 5000', file, sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * MIB,
  });
  return out.trim() ? JSON.parse(out) : [];
}

const sqlText = (s) => `'${String(s).replace(/'/g, "''")}'`;

/** Where a blob id's bytes are: `<state>/v3/r2/<bucket>/blobs/<id>`. */
function blobFile(blobId) {
  const r2 = path.join(STATE_DIR, 'v3', 'r2');
  for (const ns of fs.readdirSync(r2)) {
    const f = path.join(r2, ns, 'blobs', blobId);
    if (fs.existsSync(f)) return f;
  }
  throw new Error(`R2 blob ${blobId} not found under ${r2}`);
}

/**
 * Every R2 object whose key starts with `prefix`: {key, size, custom, bytes}, sorted by
 * key. Multipart objects are put together from their parts.
 */
function r2Objects(prefix) {
  const dir = r2MetadataDir();
  const out = [];
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.sqlite')) continue;
    const file = path.join(dir, f);
    let rows;
    try {
      rows = sqliteJson(file, `SELECT key, blob_id, size, custom_metadata FROM _mf_objects WHERE substr(key, 1, ${Buffer.byteLength(prefix)}) = ${sqlText(prefix)} ORDER BY key;`);
    } catch (e) {
      if (/no such table/.test(String(e.stderr))) continue;
      throw new Error(`sqlite3 failed on ${f}: ${e.stderr || e.message}`);
    }
    for (const row of rows) {
      let bytes;
      if (row.blob_id) {
        bytes = fs.readFileSync(blobFile(row.blob_id));
      } else {
        const parts = sqliteJson(file, `SELECT blob_id FROM _mf_multipart_parts WHERE object_key = ${sqlText(row.key)} ORDER BY part_number;`);
        bytes = Buffer.concat(parts.map((p) => fs.readFileSync(blobFile(p.blob_id))));
      }
      let custom = {};
      try { custom = JSON.parse(row.custom_metadata || '{}'); } catch { custom = { unparsable: row.custom_metadata }; }
      out.push({ key: row.key, size: Number(row.size), custom, bytes });
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The R2 prefix of a room's git packs. */
const gitPrefix = (tenantId, roomId) => `t/${tenantId}/r/${roomId}/git/`;
const roomPrefix = (tenantId, roomId) => `t/${tenantId}/r/${roomId}/`;

/** The room's git objects; fails unless there is at least one and all are `pack-*.pack`. */
function gitObjects(tenantId, roomId, what) {
  const objs = r2Objects(gitPrefix(tenantId, roomId));
  assert.ok(objs.length > 0, `${what}: the room has packs under ${gitPrefix(tenantId, roomId)}`);
  for (const o of objs) assert.match(o.key.slice(gitPrefix(tenantId, roomId).length), /^pack-[^/]+\.pack$/, `${what}: ${o.key} is a pack`);
  return objs;
}

const describeObj = (o) => `${o.key} (${o.size} bytes, metadata ${JSON.stringify(o.custom)}, starts ${JSON.stringify(o.bytes.subarray(0, 12).toString('latin1'))})`;

/** Sealed at rest: enc/iv/size metadata, ciphertext longer than the plaintext, no PACK header, no marker. */
function assertSealed(o, markers, what) {
  const d = describeObj(o);
  assert.equal(o.custom.enc, '1', `${what}: ${o.key} must be sealed (custom metadata enc=1): ${d}`);
  assert.ok(typeof o.custom.iv === 'string' && o.custom.iv.length > 0, `${what}: ${o.key} has its header (iv): ${d}`);
  assert.match(String(o.custom.size ?? ''), /^\d+$/, `${what}: ${o.key} has its plaintext size: ${d}`);
  assert.equal(o.bytes.length, o.size, `${what}: ${o.key} blob length equals the stored size`);
  assert.ok(o.size > Number(o.custom.size), `${what}: ${o.key} ciphertext (${o.size}) is longer than the plaintext (${o.custom.size})`);
  assert.ok(!o.bytes.subarray(0, 4).equals(PACK_MAGIC), `${what}: ${o.key} starts with PACK: plaintext at rest: ${d}`);
  for (const m of markers) assert.equal(o.bytes.indexOf(Buffer.from(m)), -1, `${what}: ${o.key} holds the plaintext marker ${m}: ${d}`);
}

/**
 * The entries of a plain pack: [{type, size, data}] (data inflated; deltas as they are).
 * Fails unless every entry inflates to its size and they end exactly at the trailer.
 */
function packEntries(buf, what) {
  const count = buf.readUInt32BE(8);
  const end = buf.length - 20;
  const out = [];
  let pos = 12;
  for (let i = 0; i < count; i++) {
    assert.ok(pos < end, `${what}: entry ${i} of ${count} starts inside the pack`);
    let c = buf[pos++];
    const type = (c >> 4) & 7;
    let size = c & 15;
    let shift = 4;
    while (c & 0x80) {
      c = buf[pos++];
      size += (c & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (type === 6) { // ofs-delta: a varint offset
      do { c = buf[pos++]; } while (c & 0x80);
    } else if (type === 7) { // ref-delta: a base id
      pos += 20;
    }
    let inflated;
    try {
      inflated = zlib.inflateSync(buf.subarray(pos, end), { info: true });
    } catch (e) {
      assert.fail(`${what}: entry ${i} (type ${type}) at ${pos} does not inflate: ${e.message}`);
    }
    assert.equal(inflated.buffer.length, size, `${what}: entry ${i} inflates to its size`);
    pos += inflated.engine.bytesWritten;
    out.push({ type, size, data: inflated.buffer });
  }
  assert.equal(pos, end, `${what}: the ${count} entries end at the trailer`);
  return out;
}

/** Plain at rest: no sealing metadata, a version-2 pack with a valid SHA-1 trailer whose entries all inflate. */
function assertPlainPack(o, what) {
  const d = describeObj(o);
  for (const k of ['enc', 'iv', 'size']) assert.ok(!(k in o.custom), `${what}: ${o.key} must not carry sealing metadata "${k}": ${d}`);
  assert.ok(o.bytes.subarray(0, 4).equals(PACK_MAGIC), `${what}: ${o.key} must start with PACK: ${d}`);
  assert.equal(o.bytes.readUInt32BE(4), 2, `${what}: ${o.key} is a version 2 pack: ${d}`);
  const body = o.bytes.subarray(0, o.bytes.length - 20);
  const trailer = o.bytes.subarray(o.bytes.length - 20);
  assert.equal(crypto.createHash('sha1').update(body).digest('hex'), trailer.toString('hex'), `${what}: ${o.key} has a valid pack checksum`);
  return packEntries(o.bytes, `${what}: ${o.key}`);
}

/** Markers found in the inflated objects of plain packs (for controls: what sealing must hide). */
function markersInPlain(objs, markers) {
  const datas = objs.flatMap((o) => packEntries(o.bytes, o.key).map((e) => e.data));
  return markers.filter((m) => datas.some((d) => d.indexOf(Buffer.from(m)) >= 0));
}

/** Markers found literally in the stored bytes. */
function markersIn(objs, markers) {
  return markers.filter((m) => objs.some((o) => o.bytes.indexOf(Buffer.from(m)) >= 0));
}

// ---------------------------------------------------------------- fixtures

/** A verified user with write and read tokens; its personal tenant and that tenant's id. */
async function owner() {
  const u = await registerVerified();
  const t = u.username;
  const write = await patFor(u, 'write');
  const read = await patFor(u, 'read');
  const tenantId = (await getTenant(u.access, t)).id;
  assert.ok(tenantId, 'the tenant has an id');
  return { u, t, write, read, tenantId };
}

/** PUT a room file through the API; fails unless 200/201. */
async function put(u, t, slug, p, bytes, headers = {}) {
  const res = await putFile(u.access, t, slug, encPath(p), bytes, headers);
  assert.ok([200, 201].includes(res.status), `PUT ${p} (${bytes.length} bytes): ${describeRes(res)}`);
  return res.json;
}

/** Room JSON (for its id). */
async function roomOf(u, t, slug) {
  const res = await api('GET', roomApi(t, slug), { token: u.access });
  assertStatus(res, 200, `room ${t}/${slug}`);
  assert.ok(res.json?.id, `the room has an id: ${describeRes(res)}`);
  return res.json;
}

/** The API's bytes of one room file. */
async function apiBytes(u, t, slug, p) {
  const res = await getFile(u.access, t, slug, encPath(p));
  assertStatus(res, 200, `API GET ${p}`);
  return res.body;
}

/** `size` pseudo-random bytes (incompressible, so a plain pack keeps the marker literally) with a marker inside. */
function markedBytes(size, mark) {
  return chainedBytes(size, [{ at: Math.floor(size / 3), text: mark }]);
}

function commitAll(sb, dir, message) {
  sb.git(['add', '-A'], { cwd: dir });
  sb.git(['commit', '-q', '-m', message], { cwd: dir });
  return sb.git(['rev-parse', 'HEAD'], { cwd: dir });
}

const lines = (text) => text.split('\n').filter((l) => l.length > 0);

/** Sleeps until the wall clock is past second `ts` (plus a margin). */
async function untilAfterSecond(ts) {
  const wait = (ts + 1) * 1000 + 300 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** Polls the anonymous upload-pack advertisement until it answers `status` (the site memo lasts about a second). */
async function settleAnon(t, slug, status, { timeout = 5000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const res = await infoRefs(t, slug, 'git-upload-pack');
    assert.ok([200, 401].includes(res.status), `anonymous info/refs while the visibility changes: ${describeRes(res)}`);
    if (res.status === status) return res;
    if (Date.now() > deadline) assert.fail(`anonymous info/refs did not answer ${status} within ${timeout} ms: ${describeRes(res)}`);
    await sleep(150);
  }
}

/** Asserts a clone holds exactly `files` ({path: bytes}). */
function assertTree(dir, files, what) {
  const tree = readTree(dir);
  assert.deepEqual(Object.keys(tree).sort(), Object.keys(files).sort(), `${what}: exactly the room's files`);
  for (const [p, bytes] of Object.entries(files)) {
    assert.equal(sha256(tree[p]), sha256(bytes), `${what}: ${p} is byte-identical (${tree[p].length} vs ${bytes.length} bytes)`);
  }
}

// ---------------------------------------------------------------- 1. a private room's packs

test('private room: after web edits and a member\'s push every git pack in R2 is sealed; the owner\'s read token clones byte-identical files, fsck clean', { timeout: 240_000 }, async (t) => {
  const boss = await registerVerified();
  const org = await createOrg(boss);
  const tn = org.slug;
  const tenantId = org.id ?? (await getTenant(boss.access, tn)).id;
  assert.ok(tenantId, `the organisation has an id: ${JSON.stringify(org)}`);
  const bossRead = await patFor(boss, 'read');
  const member = await registerVerified();
  await addMember(boss, tn, member.username, 'member');
  const memberWrite = await patFor(member, 'write');
  const sb = gitSandbox(t);

  const slug = 'secret';
  await createRoom(boss.access, tn, { slug, visibility: 'private' });
  const room = await roomOf(boss, tn, slug);
  const m = { web: marker('web'), web2: marker('web2'), big: marker('big'), push: marker('push'), html: marker('html') };
  const files = {
    'notes/web.bin': markedBytes(96 * 1024, m.web),
    'second.bin': markedBytes(40 * 1024, m.web2),
    // Over 8 MiB: streamed into a pack of its own, stored deflate blocks (the marker would be literal in a plain pack).
    'media/big.bin': markedBytes(BIG, m.big),
    'page.html': Buffer.from(`<!doctype html><title>x</title><p>${m.html}</p>\n`),
  };
  for (const [p, bytes] of Object.entries(files)) await put(boss, tn, slug, p, bytes);

  // Control: the same kind of file in a public room of the same tenant is found in its plain pack.
  const control = marker('control');
  await createRoom(boss.access, tn, { slug: 'open' });
  const openRoom = await roomOf(boss, tn, 'open');
  await put(boss, tn, 'open', 'control.bin', markedBytes(96 * 1024, control));
  const openPacks = gitObjects(tenantId, openRoom.id, 'public control room');
  for (const o of openPacks) assertPlainPack(o, 'public control room');
  assert.deepEqual(markersInPlain(openPacks, [control]), [control], 'a plain pack holds the marked file (the control works)');

  // A member pushes a commit with another marked file.
  const dir = sb.clone(gitUrl(tn, slug, memberWrite));
  const pushed = { 'pushed/data.bin': markedBytes(80 * 1024, m.push), 'pushed/readme.txt': Buffer.from(`pushed by a member ${m.push}\n`) };
  writeFiles(dir, pushed);
  const mine = commitAll(sb, dir, 'Member push');
  sb.git(['push', 'origin', 'main'], { cwd: dir, timeout: 120_000 });
  assert.equal(await headCommit(boss.access, tn, slug), mine, 'the push moved main');

  const markers = Object.values(m);
  const packs = gitObjects(tenantId, room.id, 'private room');
  assert.ok(packs.length >= 6, `a pack per commit (create, four edits, the push) and one for the big blob: ${packs.map((o) => o.key).join(', ')}`);
  for (const o of packs) assertSealed(o, markers, 'private room');
  // Nothing else of the room holds plaintext either (live files are sealed too).
  for (const o of r2Objects(roomPrefix(tenantId, room.id))) assertSealed(o, markers, 'private room object');

  const cloned = sb.clone(gitUrl(tn, slug, bossRead));
  const expected = { ...files, ...pushed, 'index.html': await apiBytes(boss, tn, slug, 'index.html') };
  assertTree(cloned, expected, 'the owner\'s read-token clone');
  assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: cloned }), mine);
  assert.deepEqual(lines(sb.git(['log', '--format=%s'], { cwd: cloned })),
    ['Member push', 'Update page.html', 'Update media/big.bin', 'Update second.bin', 'Update notes/web.bin', 'Create room']);
  sb.fsck(cloned);
});

// ---------------------------------------------------------------- 2. visibility round trip

test('visibility round trip: public packs are plain, private seals them (token clone same main, anonymous 401), public opens them again (anonymous clone, fsck), history unchanged', { timeout: 240_000 }, async (t) => {
  const { u, t: tn, write, read, tenantId } = await owner();
  const sb = gitSandbox(t);
  const slug = 'flip';
  await createRoom(u.access, tn, { slug });
  const room = await roomOf(u, tn, slug);
  const m = { web: marker('flip-web'), big: marker('flip-big'), push: marker('flip-push') };
  const files = { 'web.bin': markedBytes(100 * 1024, m.web), 'big.bin': markedBytes(BIG, m.big), 'notes.txt': Buffer.from('public notes\n') };
  for (const [p, bytes] of Object.entries(files)) await put(u, tn, slug, p, bytes, { 'x-commit-message': `web ${p}` });
  const dir = sb.clone(gitUrl(tn, slug, write));
  const pushed = { 'pushed.bin': markedBytes(70 * 1024, m.push) };
  writeFiles(dir, pushed);
  const tip = commitAll(sb, dir, 'Pushed while public');
  sb.git(['push', 'origin', 'main'], { cwd: dir, timeout: 120_000 });
  assert.equal(await headCommit(u.access, tn, slug), tip);
  const expected = { ...files, ...pushed, 'index.html': await apiBytes(u, tn, slug, 'index.html') };
  const markers = Object.values(m);
  const hist0 = await history(u.access, tn, slug);
  assert.equal(hist0.length, 5, `five commits: ${JSON.stringify(hist0.map((e) => e.message))}`);

  const plain0 = gitObjects(tenantId, room.id, 'public');
  for (const o of plain0) assertPlainPack(o, 'public');
  assert.deepEqual(markersInPlain(plain0, markers).sort(), [...markers].sort(), 'a public room\'s packs hold the marked files in plain (the control works)');
  assert.deepEqual(markersIn(plain0, [m.big]), [m.big], 'the big file\'s own pack holds its marker literally while public');
  const keys0 = plain0.map((o) => o.key);

  await t.test('public → private seals every pack', async () => {
    await setVisibility(u, tn, slug, 'private');
    const sealedNow = gitObjects(tenantId, room.id, 'made private');
    assert.deepEqual(sealedNow.map((o) => o.key), keys0, 'the same packs, converted in place');
    for (const o of sealedNow) assertSealed(o, markers, 'made private');
    for (const o of sealedNow) {
      const before = plain0.find((p) => p.key === o.key);
      assert.equal(Number(o.custom.size), before.bytes.length, `${o.key}: the sealed size is the plain pack's length`);
    }
    for (const o of r2Objects(roomPrefix(tenantId, room.id))) assertSealed(o, markers, 'made private: room object');
    assert.deepEqual(await history(u.access, tn, slug), hist0, 'history is unchanged by making the room private');
    assert.equal(await headCommit(u.access, tn, slug), tip, 'no commit for a visibility change');
  });

  await t.test('private: a token clone has the same main; anonymous is 401', async () => {
    await settleAnon(tn, slug, 401);
    const anon = sb.gitFails(['clone', gitUrl(tn, slug), sb.path('anon')]);
    assert.match(anon.stderr, /could not read Username|Authentication failed|401/i, anon.out);
    const cloned = sb.clone(gitUrl(tn, slug, read));
    assert.equal(sb.git(['rev-parse', 'main'], { cwd: cloned }), tip, 'git rev-parse main is unchanged');
    assertTree(cloned, expected, 'a token clone of the sealed packs');
    sb.fsck(cloned);
    // An incremental fetch into the old clone reads the sealed packs too.
    sb.git(['fetch', gitUrl(tn, slug, read), 'main'], { cwd: dir });
    assert.equal(sb.git(['rev-parse', 'FETCH_HEAD'], { cwd: dir }), tip);
  });

  await t.test('private → public opens every pack again', async () => {
    await setVisibility(u, tn, slug, 'public');
    const plain1 = gitObjects(tenantId, room.id, 'public again');
    assert.deepEqual(plain1.map((o) => o.key), keys0, 'the same packs');
    for (const o of plain1) {
      assertPlainPack(o, 'public again');
      const before = plain0.find((p) => p.key === o.key);
      assert.equal(sha256(o.bytes), sha256(before.bytes), `${o.key}: the same bytes as before the round trip`);
    }
    assert.deepEqual(markersIn(plain1, [m.big]), [m.big], 'the big file\'s pack is plain again');
    assert.deepEqual(await history(u.access, tn, slug), hist0, 'history is unchanged by making the room public again');
    await settleAnon(tn, slug, 200);
    const cloned = sb.clone(gitUrl(tn, slug));
    assert.equal(sb.git(['rev-parse', 'main'], { cwd: cloned }), tip, 'anonymous clone: same main');
    assertTree(cloned, expected, 'an anonymous clone after the round trip');
    sb.fsck(cloned);
  });
});

// ---------------------------------------------------------------- 3. large files

for (const visibility of ['public', 'private']) {
  test(`a 9 MiB file PUT through the API into a ${visibility} room clones byte-identical in one commit; an update of it pulls`, { timeout: 300_000 }, async (t) => {
    const { u, t: tn, write, read, tenantId } = await owner();
    const sb = gitSandbox(t);
    const slug = `big-${visibility}`;
    await createRoom(u.access, tn, { slug, visibility });
    const room = await roomOf(u, tn, slug);
    const m1 = marker(`big1-${visibility}`);
    const m2 = marker(`big2-${visibility}`);
    const v1 = markedBytes(BIG, m1);
    const v2 = markedBytes(BIG, m2);
    await put(u, tn, slug, 'media/big.bin', v1);
    const c1 = await headCommit(u.access, tn, slug);
    assert.match(c1 ?? '', HEX40);
    const url = gitUrl(tn, slug, visibility === 'private' ? read : undefined);

    const checkPacks = (markers, what) => {
      const packs = gitObjects(tenantId, room.id, what);
      const biggest = Math.max(...packs.map((o) => (visibility === 'private' ? Number(o.custom.size) : o.bytes.length)));
      assert.ok(biggest >= BIG, `${what}: a pack holds the whole blob (largest ${biggest} bytes)`);
      if (visibility === 'private') for (const o of packs) assertSealed(o, markers, what);
      else for (const o of packs) assertPlainPack(o, what);
      return packs;
    };
    const packs1 = checkPacks([m1], 'after the first PUT');
    if (visibility === 'public') assert.deepEqual(markersIn(packs1, [m1]), [m1], 'the streamed blob pack is plain (stored deflate blocks)');

    const dir = sb.clone(url, { timeout: 180_000 });
    const got = fs.readFileSync(path.join(dir, 'media', 'big.bin'));
    assert.equal(got.length, BIG, 'the cloned file has all 9 MiB');
    assert.equal(sha256(got), sha256(v1), 'the cloned file is byte-identical');
    assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: dir }), c1);
    const forFile = lines(sb.git(['log', '--format=%H %s', '--', 'media/big.bin'], { cwd: dir }));
    assert.deepEqual(forFile, [`${c1} Update media/big.bin`], 'git log shows one commit for the file');
    assert.deepEqual(lines(sb.git(['log', '--format=%s'], { cwd: dir })), ['Update media/big.bin', 'Create room']);
    sb.fsck(dir);

    await put(u, tn, slug, 'media/big.bin', v2, { 'x-commit-message': 'New big bytes' });
    const c2 = await headCommit(u.access, tn, slug);
    assert.notEqual(c2, c1, 'the update is a new commit');
    checkPacks([m1, m2], 'after the update');

    sb.git(['pull', '--ff-only', 'origin', 'main'], { cwd: dir, timeout: 180_000 });
    const pulled = fs.readFileSync(path.join(dir, 'media', 'big.bin'));
    assert.equal(sha256(pulled), sha256(v2), 'the new bytes arrived with git pull');
    assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: dir }), c2);
    assert.deepEqual(lines(sb.git(['log', '--format=%s', '--', 'media/big.bin'], { cwd: dir })), ['New big bytes', 'Update media/big.bin']);
    sb.fsck(dir);
    assert.equal(sha256(await apiBytes(u, tn, slug, 'media/big.bin')), sha256(v2), 'the API serves the new bytes');
  });
}

// ---------------------------------------------------------------- 4. snapshot pages of private rooms

test('private room: a snapshot page without a grant redirects to sign in; with a grant it is the old page, private', { timeout: 120_000 }, async () => {
  const { u, t: tn } = await owner();
  const slug = 'snaps';
  await createRoom(u.access, tn, { slug, visibility: 'private' });
  const m1 = marker('snap-v1');
  const m2 = marker('snap-v2');
  const v1 = Buffer.from(`<!doctype html><title>v1</title><p>${m1}</p>\n`);
  const v2 = Buffer.from(`<!doctype html><title>v2</title><p>${m2}</p>\n`);
  await put(u, tn, slug, 'index.html', v1);
  const c1 = await headCommit(u.access, tn, slug);
  const snapRes = await api('POST', roomApi(tn, slug, '/snapshots'), { token: u.access, body: { message: 'v1' } });
  assertStatus(snapRes, 201, 'POST snapshots');
  const snap = snapRes.json;
  assert.equal(snap.commit, c1);
  await untilAfterSecond(snap.ts);
  await put(u, tn, slug, 'index.html', v2);
  const snapPath = `/rooms/${slug}/snap-${snap.ts}.html`;
  assert.equal(new URL(snap.url).pathname, snapPath, `the snapshot url: ${snap.url}`);

  const anon = await tenant(tn, snapPath);
  assertSignInRedirect(anon, tn, snapPath);
  assert.ok(!anon.text.includes(m1) && !anon.text.includes(m2), `the redirect reveals nothing: ${describeRes(anon)}`);
  const anonHead = await tenant(tn, snapPath, { method: 'HEAD' });
  assertSignInRedirect(anonHead, tn, snapPath);

  const grant = await grantFor(u, tn, snapPath);
  const res = await withGrant(tn, snapPath, grant);
  assertStatus(res, 200, `${snapPath} with a grant`);
  assert.ok(res.body.equals(v1), `the snapshot shows the old page: ${describeRes(res)}`);
  const cc = res.headers.get('cache-control') ?? '';
  assert.match(cc, /\bprivate\b/, `Cache-Control of a private snapshot: ${cc}`);
  assert.doesNotMatch(cc, /\bpublic\b|\bimmutable\b/, `Cache-Control of a private snapshot: ${cc}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);

  const live = await withGrant(tn, `/rooms/${slug}/`, grant);
  assertStatus(live, 200, 'the live page with a grant');
  assert.ok(live.body.equals(v2), 'the live page is v2');
  const before = await withGrant(tn, `/rooms/${slug}/snap-1000000000.html`, grant);
  assertStatus(before, 404, 'a snapshot before the room existed, with a grant');
  assert.ok(!before.text.includes(m1) && !before.text.includes(m2), 'the 404 reveals nothing');
});

// ---------------------------------------------------------------- 5. restore in a private room

test('restore in a private room writes sealed packs; the restored file is served through a grant and clones byte-identical', { timeout: 180_000 }, async (t) => {
  const { u, t: tn, read, tenantId } = await owner();
  const sb = gitSandbox(t);
  const slug = 'undo';
  await createRoom(u.access, tn, { slug, visibility: 'private' });
  const room = await roomOf(u, tn, slug);
  const m1 = marker('restore-v1');
  const m2 = marker('restore-v2');
  const v1 = markedBytes(120 * 1024, m1);
  const v2 = markedBytes(50 * 1024, m2);
  await put(u, tn, slug, 'data.bin', v1);
  const c1 = await headCommit(u.access, tn, slug);
  await put(u, tn, slug, 'data.bin', v2);
  await put(u, tn, slug, 'extra.txt', Buffer.from(`only after v1 ${m2}\n`));
  const c2 = await headCommit(u.access, tn, slug);
  const keysBefore = gitObjects(tenantId, room.id, 'before restore').map((o) => o.key);

  const res = await api('POST', roomApi(tn, slug, '/restore'), { token: u.access, body: { commit: c1 } });
  assertStatus(res, 200, 'restore');
  const r1 = await headCommit(u.access, tn, slug);
  assert.match(r1 ?? '', HEX40);
  assert.notEqual(r1, c1, 'a new commit');
  assert.notEqual(r1, c2);
  const [newest] = await history(u.access, tn, slug, { limit: 1 });
  assert.equal(newest.commit, r1);
  assert.match(newest.message, /^Restore/);
  assert.deepEqual(newest.parents, [c2]);

  const packs = gitObjects(tenantId, room.id, 'after restore');
  const fresh = packs.filter((o) => !keysBefore.includes(o.key));
  assert.ok(fresh.length >= 1, `restore wrote a new pack: ${packs.map((o) => o.key).join(', ')}`);
  for (const o of packs) assertSealed(o, [m1, m2], 'after restore');
  for (const o of r2Objects(roomPrefix(tenantId, room.id))) assertSealed(o, [m1, m2], 'after restore: room object');

  const grant = await grantFor(u, tn, `/rooms/${slug}/data.bin`);
  const served = await withGrant(tn, `/rooms/${slug}/data.bin`, grant);
  assertStatus(served, 200, 'the restored file with a grant');
  assert.equal(sha256(served.body), sha256(v1), 'the restored file is v1, byte for byte');
  assert.match(served.headers.get('cache-control') ?? '', /\bprivate\b/);
  const gone = await withGrant(tn, `/rooms/${slug}/extra.txt`, grant);
  assertStatus(gone, 404, 'a file added after v1 is gone after the restore');
  assert.equal(sha256(await apiBytes(u, tn, slug, 'data.bin')), sha256(v1), 'the API serves v1');

  const dir = sb.clone(gitUrl(tn, slug, read));
  assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: dir }), r1);
  assert.equal(sb.git(['rev-parse', 'HEAD^{tree}'], { cwd: dir }), sb.git(['rev-parse', `${c1}^{tree}`], { cwd: dir }), 'the tree of the restored state');
  assertTree(dir, { 'data.bin': v1, 'index.html': await apiBytes(u, tn, slug, 'index.html') }, 'a token clone after the restore');
  sb.fsck(dir);
});

// ---------------------------------------------------------------- 6. the same large bytes twice

test('a public room holding the same 9 MiB bytes at two paths: after PATCH private every object under git/ is sealed; clones still work', { timeout: 240_000 }, async (t) => {
  const { u, t: tn, read, tenantId } = await owner();
  const sb = gitSandbox(t);
  const slug = 'twice';
  await createRoom(u.access, tn, { slug });
  const room = await roomOf(u, tn, slug);
  const mark = marker('twice');
  const big = markedBytes(BIG, mark);
  await put(u, tn, slug, 'a/big.bin', big);
  await put(u, tn, slug, 'b/copy.bin', big); // the same blob id: nothing new to store
  const head = await headCommit(u.access, tn, slug);
  const hist = await history(u.access, tn, slug);
  assert.deepEqual(hist.map((e) => e.message), ['Update b/copy.bin', 'Update a/big.bin', 'Create room']);
  const plain = gitObjects(tenantId, room.id, 'public');
  for (const o of plain) assertPlainPack(o, 'public');
  assert.deepEqual(markersIn(plain, [mark]), [mark], 'the big blob is in a plain pack while public (the control works)');

  await setVisibility(u, tn, slug, 'private');

  const objs = gitObjects(tenantId, room.id, 'made private');
  const leftPlain = objs.filter((o) => o.custom.enc !== '1').map(describeObj);
  assert.deepEqual(leftPlain, [], `every pack under git/ must be sealed once the room is private; still plain (of ${objs.length} packs; ${plain.length} before the change): ${leftPlain.join('; ')}`);
  for (const o of objs) assertSealed(o, [mark], 'made private');
  for (const o of r2Objects(roomPrefix(tenantId, room.id))) assertSealed(o, [mark], 'made private: room object');
  assert.deepEqual(await history(u.access, tn, slug), hist, 'history unchanged');
  const dir = sb.clone(gitUrl(tn, slug, read), { timeout: 180_000 });
  assert.equal(sb.git(['rev-parse', 'main'], { cwd: dir }), head);
  const tree = readTree(dir);
  assert.equal(sha256(tree['a/big.bin']), sha256(big), 'a/big.bin byte-identical');
  assert.equal(sha256(tree['b/copy.bin']), sha256(big), 'b/copy.bin byte-identical');
  sb.fsck(dir);
});
