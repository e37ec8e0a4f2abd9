// Every room is a git repository whose main is the live room: clones with the stock git
// client are byte-identical to what the API and the tenant host serve, API writes are
// commits by the signed-in user, pushes to main change the live room at once, history
// is never rewritten (no non-fast-forward, no deleting main, restore makes a new
// commit), snapshots show the room as it was, push needs a member's write token, and
// hostile packs, refs and paths are refused without a 5xx and without touching the room.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test, api, registerVerified, request, tenant, tenantUrl, describeRes, sleep } from '../lib/client.mjs';
import { assertStatus, assertError, assertValidation, assertTime } from '../lib/expect.mjs';
import { roomApi, createRoom, putFile, getFile, deleteFile, listFiles, usage, putTmp } from '../lib/rooms.mjs';
import { createOrg, addMember } from '../lib/teams.mjs';
import {
  GIT_NAME, GIT_EMAIL, HEX40, ZERO_ID, patFor, gitUrl, noreplyEmail, gitSandbox, readTree, writeFiles, allBytes,
  randomBytes, encPath, headCommit, history, historyRaw, served, parsePkts, receivePackBody, postService,
  infoRefs, pkt, FLUSH,
} from '../lib/git.mjs';

// ---------------------------------------------------------------- fixtures

/** A verified user with a write token: {u, t (tenant slug), write}. */
async function owner() {
  const u = await registerVerified();
  const write = await patFor(u, 'write');
  return { u, t: u.username, write };
}

/** PUT a room file through the API (path unencoded); fails unless 200/201. */
async function put(u, t, slug, p, bytes, headers = {}) {
  const res = await putFile(u.access, t, slug, encPath(p), bytes, headers);
  assert.ok([200, 201].includes(res.status), `PUT ${p}: ${describeRes(res)}`);
  return res.json;
}

/** The API's bytes of one room file. */
async function apiBytes(u, t, slug, p) {
  const res = await getFile(u.access, t, slug, encPath(p));
  assertStatus(res, 200, `GET file ${p}`);
  return res.body;
}

/** Asserts a tenant-host GET of a room file answers 200 with exactly `bytes`. */
async function assertServed(t, slug, p, bytes, what = p) {
  const res = await served(t, slug, p);
  assertStatus(res, 200, `served ${what}`);
  assert.ok(res.body.equals(Buffer.from(bytes)), `served ${what} must be byte-identical (got ${res.body.length} bytes: ${res.text.slice(0, 200)})`);
}

/** Commits everything in `dir` with `message`; returns the new commit id. */
function commitAll(sb, dir, message, env = {}) {
  sb.git(['add', '-A'], { cwd: dir });
  sb.git(['commit', '-q', '-m', message], { cwd: dir, env });
  return sb.git(['rev-parse', 'HEAD'], { cwd: dir });
}

const lines = (text) => text.split('\n').filter((l) => l.length > 0);

/** Sleeps until the wall clock is past second `ts` (plus a margin). */
async function untilAfterSecond(ts) {
  const wait = (ts + 1) * 1000 + 300 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** The room's refs, main commit and file list: what a refused request must not change. */
async function roomState(sb, u, t, slug, token) {
  const refs = sb.lsRemote(gitUrl(t, slug, token));
  const files = (await listFiles(u.access, t, slug)).map((f) => [f.path, f.size, f.etag]).sort();
  return { refs, head: await headCommit(u.access, t, slug), files };
}

function assertHistoryEntry(entry, what = 'history entry') {
  assert.ok(entry && typeof entry === 'object', `${what}: an object`);
  assert.match(entry.commit ?? '', HEX40, `${what}.commit`);
  assert.ok(Array.isArray(entry.parents) && entry.parents.every((p) => HEX40.test(p)), `${what}.parents: ${JSON.stringify(entry)}`);
  assert.equal(typeof entry.message, 'string', `${what}.message`);
  assert.ok(entry.author && typeof entry.author.name === 'string' && typeof entry.author.email === 'string', `${what}.author: ${JSON.stringify(entry)}`);
  assertTime(entry.time, `${what}.time`);
}

const msg = (s) => String(s).replace(/\s+$/, '');

// ---------------------------------------------------------------- 1. empty and fresh rooms

test('clone of a room whose only file was deleted: no files, "Create room" + "Delete index.html", fsck clean; a fresh room clones its starter page', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const fresh = await createRoom(u.access, tn, { slug: 'fresh' });
  await createRoom(u.access, tn, { slug: 'empty' });
  assertStatus(await deleteFile(u.access, tn, 'empty', 'index.html'), 204, 'DELETE index.html');
  const emptyHead = await headCommit(u.access, tn, 'empty');
  assert.match(emptyHead ?? '', HEX40, 'head.commit is a 40-hex id');

  const dir = sb.clone(gitUrl(tn, 'empty', write));

  assert.deepEqual(fs.readdirSync(dir), ['.git'], 'the working tree has no files');
  assert.equal(sb.git(['ls-files'], { cwd: dir }), '', 'nothing tracked');
  assert.deepEqual(lines(sb.git(['log', '--format=%s'], { cwd: dir })), ['Delete index.html', 'Create room']);
  assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: dir }), emptyHead, 'HEAD is the room head');
  assert.equal(sb.git(['symbolic-ref', 'HEAD'], { cwd: dir }), 'refs/heads/main', 'the clone checked out main');
  assert.equal(sb.git(['ls-tree', '--name-only', 'HEAD~1'], { cwd: dir }), 'index.html', '"Create room" holds the starter page');
  sb.fsck(dir);

  assert.match(fresh.head?.commit ?? '', HEX40, `a new room's JSON has head.commit: ${JSON.stringify(fresh.head)}`);
  const starter = await apiBytes(u, tn, 'fresh', 'index.html');
  const freshDir = sb.clone(gitUrl(tn, 'fresh', write));
  const tree = readTree(freshDir);
  assert.deepEqual(Object.keys(tree), ['index.html']);
  assert.ok(tree['index.html'].equals(starter), 'the cloned starter page equals the API bytes');
  assert.deepEqual(lines(sb.git(['log', '--format=%s'], { cwd: freshDir })), ['Create room']);
  assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: freshDir }), fresh.head.commit);
  sb.fsck(freshDir);
});

// ---------------------------------------------------------------- 2. web edits are commits

test('clone after web edits: byte-identical files, one commit per write, authored by the user with X-Commit-Message or a default', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'web';
  await createRoom(u.access, tn, { slug });
  const files = {
    'notes.txt': Buffer.from('first words\n'),
    'a/b/c.txt': Buffer.from('deep down\n'),
    'my file.txt': Buffer.from('a name with a space\n'),
    'bin/all.bin': allBytes(),
    'grüße.txt': Buffer.from('unicode name\n'),
  };

  await put(u, tn, slug, 'notes.txt', files['notes.txt'], { 'x-commit-message': '  my message  ' });
  for (const p of ['a/b/c.txt', 'my file.txt', 'bin/all.bin', 'grüße.txt']) await put(u, tn, slug, p, files[p]);
  const head = await headCommit(u.access, tn, slug);
  // Not commits: a refused message, temporary files, room data, visibility.
  assertValidation(await putFile(u.access, tn, slug, 'long.txt', 'x', { 'x-commit-message': 'm'.repeat(4097) }), 'X-Commit-Message');
  assertValidation(await putFile(u.access, tn, slug, 'latin1.txt', 'x', { 'x-commit-message': 'caf\xe9' }), 'X-Commit-Message'); // byte 0xE9: not UTF-8
  assertStatus(await putTmp(u.access, tn, slug, 'scratch.txt', 'temporary', { ttl: 3600 }), 201, 'PUT tmp');
  assertStatus(await api('PUT', roomApi(tn, slug, '/meta/visits'), { token: u.access, body: { count: 1 } }), 201, 'PUT meta');
  assertStatus(await api('PATCH', roomApi(tn, slug), { token: u.access, body: { visibility: 'private' } }), 200, 'to private');
  assertStatus(await api('PATCH', roomApi(tn, slug), { token: u.access, body: { visibility: 'public' } }), 200, 'back to public');
  assert.equal(await headCommit(u.access, tn, slug), head, 'tmp, meta, visibility and a refused write make no commit');
  const starter = await apiBytes(u, tn, slug, 'index.html');

  const url = gitUrl(tn, slug, write);
  const dir = sb.clone(url);

  const tree = readTree(dir);
  assert.deepEqual(Object.keys(tree).sort(), ['index.html', ...Object.keys(files)].sort(), 'exactly the room files');
  for (const [p, bytes] of Object.entries(files)) assert.ok(tree[p].equals(bytes), `${p} is byte-identical`);
  assert.ok(tree['index.html'].equals(starter), 'index.html is byte-identical');
  const apiPaths = (await listFiles(u.access, tn, slug)).map((f) => f.path).sort();
  const gitPaths = sb.git(['ls-files', '-z'], { cwd: dir }).split('\0').filter(Boolean).sort();
  assert.deepEqual(gitPaths, apiPaths, 'git ls-files equals the API file list');

  const log = lines(sb.git(['log', '--date=raw', '--format=%an%x00%ae%x00%cn%x00%ce%x00%ad%x00%cd%x00%s'], { cwd: dir }))
    .map((l) => l.split('\0'));
  assert.deepEqual(log.map((e) => e[6]), [
    'Update grüße.txt', 'Update bin/all.bin', 'Update my file.txt', 'Update a/b/c.txt', 'my message', 'Create room',
  ], 'one commit per write, newest first, with the given or default message');
  for (const [an, ae, cn, ce, ad, cd, s] of log) {
    assert.equal(an, u.username, `author name of "${s}"`);
    assert.equal(ae, noreplyEmail(u.username), `author email of "${s}"`);
    assert.equal(cn, u.username, `committer name of "${s}"`);
    assert.equal(ce, noreplyEmail(u.username), `committer email of "${s}"`);
    assert.match(ad, /^\d+ \+0000$/, `author date of "${s}" is UTC`);
    assert.match(cd, /^\d+ \+0000$/, `committer date of "${s}" is UTC`);
  }
  assert.equal(sb.git(['log', '-1', '--format=%B', 'HEAD~4'], { cwd: dir }).trim(), 'my message', 'the header message, trimmed');
  sb.fsck(dir);

  const refs = sb.lsRemote(url);
  assert.deepEqual(Object.keys(refs).sort(), ['HEAD', 'refs/heads/main'], `only HEAD and main: ${JSON.stringify(refs)}`);
  assert.equal(refs.HEAD, head);
  assert.equal(refs['refs/heads/main'], head);
  assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: dir }), head);

  const h = await history(u.access, tn, slug);
  assert.deepEqual(h.map((e) => e.commit), lines(sb.git(['rev-list', '--first-parent', 'HEAD'], { cwd: dir })), 'history lists the same commits');
  h.forEach((e, i) => assertHistoryEntry(e, `history[${i}]`));
  assert.equal(msg(h[0].message), 'Update grüße.txt');
  assert.deepEqual(h[0].author, { name: u.username, email: noreplyEmail(u.username) });
  assert.deepEqual(h[0].parents, [h[1].commit]);
  assert.equal(Date.parse(h[0].time), Number(sb.git(['log', '-1', '--format=%ct'], { cwd: dir })) * 1000, 'time is the committer time');
  assert.equal(msg(h[4].message), 'my message');
  assert.deepEqual(h[5].parents, [], 'the first commit has no parents');
});

// ---------------------------------------------------------------- 3. a big push goes live

test('a pushed commit of 200 files (nested, some binary) is live at once: served, listed, counted, in history', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'pushed';
  await createRoom(u.access, tn, { slug });
  const before = await headCommit(u.access, tn, slug);
  const usageBefore = await usage(u.access, tn);
  const files = {};
  for (let i = 0; i < 200; i++) {
    const binary = i % 10 === 0;
    const p = `d${i % 7}/s${i % 3}/${binary ? 'img' : 'f'}${String(i).padStart(3, '0')}.${binary ? 'bin' : 'txt'}`;
    files[p] = binary ? randomBytes(i === 0 ? 1_500_000 : 500 + i * 37) : Buffer.from(`file ${i}\n${'line\n'.repeat(i % 50)}`);
  }
  const url = gitUrl(tn, slug, write);
  const dir = sb.clone(url);
  writeFiles(dir, files);
  const pushed = commitAll(sb, dir, 'Two hundred files');

  sb.git(['push', 'origin', 'main'], { cwd: dir, timeout: 180_000 });

  assert.equal(sb.lsRemote(url)['refs/heads/main'], pushed, 'ls-remote shows the pushed commit');
  assert.equal(await headCommit(u.access, tn, slug), pushed, 'room head.commit is the pushed commit');
  const entries = Object.entries(files);
  for (let i = 0; i < entries.length; i += 20) {
    await Promise.all(entries.slice(i, i + 20).map(([p, bytes]) => assertServed(tn, slug, p, bytes)));
  }
  const list = await listFiles(u.access, tn, slug);
  assert.deepEqual(list.map((f) => f.path).sort(), ['index.html', ...Object.keys(files)].sort(), 'the API lists every pushed file');
  for (const f of list) if (files[f.path]) assert.equal(f.size, files[f.path].length, `size of ${f.path}`);
  const usageAfter = await usage(u.access, tn);
  assert.equal(usageAfter.files, usageBefore.files + 200, 'usage counts the pushed files');
  const [newest] = await history(u.access, tn, slug, { limit: 1 });
  assertHistoryEntry(newest);
  assert.equal(newest.commit, pushed, 'history starts at the pushed commit');
  assert.deepEqual(newest.parents, [before]);
  assert.equal(msg(newest.message), 'Two hundred files');
  assert.deepEqual(newest.author, { name: GIT_NAME, email: GIT_EMAIL }, 'the pusher\'s own identity is kept');

  const again = sb.clone(url, { timeout: 180_000 });
  assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: again }), pushed);
  sb.fsck(again);
  const tree = readTree(again);
  for (const [p, bytes] of entries) assert.ok(tree[p]?.equals(bytes), `fresh clone: ${p} byte-identical`);
});

// ---------------------------------------------------------------- 4. pull a web edit, push on top

test('a push whose pack is over 4 MiB (incompressible files, one push) is taken whole', async (t) => {
  // wasm32 has a 32-bit usize: arithmetic on pack offsets must not wrap past 4 GiB / 4 MiB.
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'big';
  await createRoom(u.access, tn, { slug });
  const dir = sb.clone(gitUrl(tn, slug, write));
  const files = { 'media/a.bin': randomBytes(3 * 1024 * 1024), 'media/b.bin': randomBytes(3 * 1024 * 1024), 'note.txt': Buffer.from('after the big ones\n') };
  writeFiles(dir, files);
  const mine = commitAll(sb, dir, 'Big files');
  sb.git(['push', 'origin', 'main'], { cwd: dir });

  assert.equal(await headCommit(u.access, tn, slug), mine);
  for (const [p, bytes] of Object.entries(files)) await assertServed(tn, slug, p, bytes);
  const again = sb.clone(gitUrl(tn, slug, write));
  sb.fsck(again);
});

test('git pull brings a web edit; a local commit on top pushes as a fast-forward', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'pull';
  await createRoom(u.access, tn, { slug });
  const dir = sb.clone(gitUrl(tn, slug, write));
  const fromWeb = Buffer.from('written in the browser\n');
  await put(u, tn, slug, 'web.txt', fromWeb);
  const webCommit = await headCommit(u.access, tn, slug);

  sb.git(['pull', '--ff-only', 'origin', 'main'], { cwd: dir });

  assert.ok(fs.readFileSync(path.join(dir, 'web.txt')).equals(fromWeb), 'the web edit arrived');
  assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: dir }), webCommit);
  assert.equal(sb.git(['log', '-1', '--format=%s%x00%an'], { cwd: dir }), `Update web.txt\0${u.username}`);

  const local = { 'web.txt': Buffer.from('edited locally\n'), 'local.txt': Buffer.from('new from git\n') };
  writeFiles(dir, local);
  const mine = commitAll(sb, dir, 'Local work');
  sb.git(['push', 'origin', 'main'], { cwd: dir });

  assert.equal(await headCommit(u.access, tn, slug), mine);
  for (const [p, bytes] of Object.entries(local)) {
    await assertServed(tn, slug, p, bytes);
    assert.ok((await apiBytes(u, tn, slug, p)).equals(bytes), `API bytes of ${p}`);
  }
  const [newest] = await history(u.access, tn, slug, { limit: 1 });
  assert.equal(newest.commit, mine);
  assert.deepEqual(newest.parents, [webCommit], 'a fast-forward on top of the web edit');
});

// ---------------------------------------------------------------- 5. history is never rewritten

test('non-fast-forward pushes are refused even with --force; a stale old id is refused; main cannot be deleted', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'race';
  await createRoom(u.access, tn, { slug });
  const url = gitUrl(tn, slug, write);
  const a = sb.clone(url);
  const b = sb.clone(url);
  const base = sb.git(['rev-parse', 'HEAD'], { cwd: a });
  writeFiles(a, { 'page.txt': 'A\n' });
  const aHead = commitAll(sb, a, 'A wins');
  sb.git(['push', 'origin', 'main'], { cwd: a });
  writeFiles(b, { 'page.txt': 'B\n' });
  commitAll(sb, b, 'B overwrites');

  await t.test('--force over someone else\'s commit', async () => {
    const res = sb.gitFails(['push', '--force', 'origin', 'main'], { cwd: b });
    assert.match(res.stderr, /non-fast-forward/, res.out);
    assert.match(res.stderr, /rejected/, res.out);
    await assertServed(tn, slug, 'page.txt', 'A\n', 'page.txt after the refused push');
    assert.equal(sb.lsRemote(url)['refs/heads/main'], aHead);
    assert.equal(await headCommit(u.access, tn, slug), aHead);
  });

  await t.test('--force-with-lease on a stale commit', async () => {
    const res = sb.gitFails(['push', `--force-with-lease=main:${base}`, 'origin', 'main'], { cwd: b });
    assert.match(res.stderr, /stale info|rejected/, res.out);
    await assertServed(tn, slug, 'page.txt', 'A\n');
    assert.equal(sb.lsRemote(url)['refs/heads/main'], aHead);
  });

  // The server's own check: an update whose old id is no longer main's.
  writeFiles(a, { 'page.txt': 'A2\n' });
  const next = commitAll(sb, a, 'A again');
  const pack = sb.run(['pack-objects', '--stdout', '--revs', '-q'], { cwd: a, input: `${next}\n^${aHead}\n` });
  assert.equal(pack.status, 0, pack.out);

  await t.test('a raw update with a stale old id: ng stale info', async () => {
    const res = await postService(tn, slug, 'git-receive-pack', receivePackBody([[base, next, 'refs/heads/main']], pack.stdoutBuf), { token: write });
    assertStatus(res, 200, 'receive-pack answers with a report');
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-git-receive-pack-result/);
    const report = parsePkts(res.body);
    assert.ok(report.some((l) => /^ng refs\/heads\/main stale info/.test(l)), `report: ${JSON.stringify(report)}`);
    assert.ok(!report.some((l) => l.startsWith('ok refs/heads/main')), `report: ${JSON.stringify(report)}`);
    assert.equal(sb.lsRemote(url)['refs/heads/main'], aHead, 'main did not move');
    await assertServed(tn, slug, 'page.txt', 'A\n');
  });

  await t.test('the same raw update with the right old id is accepted', async () => {
    const res = await postService(tn, slug, 'git-receive-pack', receivePackBody([[aHead, next, 'refs/heads/main']], pack.stdoutBuf), { token: write });
    assertStatus(res, 200);
    const report = parsePkts(res.body);
    assert.ok(report.includes('unpack ok\n'), `report: ${JSON.stringify(report)}`);
    assert.ok(report.includes('ok refs/heads/main\n'), `report: ${JSON.stringify(report)}`);
    assert.equal(sb.lsRemote(url)['refs/heads/main'], next);
    await assertServed(tn, slug, 'page.txt', 'A2\n');
  });

  await t.test('deleting main', async () => {
    const res = sb.gitFails(['push', 'origin', ':main'], { cwd: a });
    assert.match(res.stderr, /deleting the main branch is not allowed/, res.out);
    const refs = sb.lsRemote(url);
    assert.equal(refs['refs/heads/main'], next, 'main is still there');
    assert.equal(await headCommit(u.access, tn, slug), next);
    await assertServed(tn, slug, 'page.txt', 'A2\n');
  });
});

// ---------------------------------------------------------------- 6. who may clone and push

test('public room: anyone clones; push needs a member\'s write token (anonymous 401, read token 403, stranger refused)', async (t) => {
  const { u, t: tn, write } = await owner();
  const read = await patFor(u, 'read');
  const stranger = await registerVerified();
  const strangerWrite = await patFor(stranger, 'write');
  const sb = gitSandbox(t);
  const slug = 'open';
  await createRoom(u.access, tn, { slug });
  const head = await headCommit(u.access, tn, slug);
  const starter = await apiBytes(u, tn, slug, 'index.html');

  const dir = sb.clone(gitUrl(tn, slug));
  assert.ok(readTree(dir)['index.html']?.equals(starter), 'an anonymous clone has the starter page');
  sb.fsck(dir);
  writeFiles(dir, { 'intruder.txt': 'should never be served\n' });
  commitAll(sb, dir, 'Intrusion');

  await t.test('anonymous push', () => {
    const res = sb.gitFails(['push', 'origin', 'main'], { cwd: dir });
    assert.match(res.stderr, /could not read Username|Authentication failed|401/i, res.out);
  });
  await t.test('push with a read token', () => {
    const res = sb.gitFails(['push', gitUrl(tn, slug, read), 'main'], { cwd: dir });
    assert.match(res.stderr, /403/, res.out);
  });
  await t.test('push with a stranger\'s write token', () => {
    const res = sb.gitFails(['push', gitUrl(tn, slug, strangerWrite), 'main'], { cwd: dir });
    assert.match(res.stderr, /403|404|not found/i, res.out);
  });
  await t.test('push with a made-up token', () => {
    const res = sb.gitFails(['push', gitUrl(tn, slug, `rooom_pat_${'A'.repeat(43)}`), 'main'], { cwd: dir });
    assert.match(res.stderr, /Authentication failed|401/i, res.out);
  });
  await t.test('the room is unchanged', async () => {
    assert.equal(sb.lsRemote(gitUrl(tn, slug))['refs/heads/main'], head);
    assert.equal(await headCommit(u.access, tn, slug), head);
    assertStatus(await served(tn, slug, 'intruder.txt'), 404, 'intruder.txt');
  });

  await t.test('raw HTTP', async () => {
    const anonPush = await infoRefs(tn, slug, 'git-receive-pack');
    assertStatus(anonPush, 401, 'anonymous receive-pack advertisement');
    assert.match(anonPush.headers.get('www-authenticate') ?? '', /^Basic/);
    assert.match(anonPush.headers.get('www-authenticate') ?? '', /realm="rooom"/);
    assertStatus(await infoRefs(tn, slug, 'git-receive-pack', { token: read }), 403, 'read token, receive-pack');
    const strangerPush = await infoRefs(tn, slug, 'git-receive-pack', { token: strangerWrite });
    assert.ok([403, 404].includes(strangerPush.status), `stranger, receive-pack: ${describeRes(strangerPush)}`);
    const ownerPush = await infoRefs(tn, slug, 'git-receive-pack', { token: write });
    assertStatus(ownerPush, 200, 'write token, receive-pack');
    assert.equal(ownerPush.headers.get('content-type'), 'application/x-git-receive-pack-advertisement');
    assert.ok(ownerPush.text.startsWith('001f# service=git-receive-pack\n0000'), ownerPush.text.slice(0, 200));
    assert.ok(ownerPush.text.includes(`${head} refs/heads/main`), ownerPush.text.slice(0, 400));
    assert.match(ownerPush.text, /report-status/);

    const anonPost = await postService(tn, slug, 'git-receive-pack', receivePackBody([[ZERO_ID, head, 'refs/heads/anon']]));
    assertStatus(anonPost, 401, 'anonymous receive-pack POST');
    assert.match(anonPost.headers.get('www-authenticate') ?? '', /^Basic/);
    assertStatus(await postService(tn, slug, 'git-receive-pack', receivePackBody([[ZERO_ID, head, 'refs/heads/ro']]), { token: read }), 403, 'read token POST');
    assert.deepEqual(Object.keys(sb.lsRemote(gitUrl(tn, slug))).sort(), ['HEAD', 'refs/heads/main'], 'no branch was created');

    const dumb = await infoRefs(tn, slug);
    assertStatus(dumb, 403, 'info/refs without ?service=');
    assert.match(dumb.text, /smart HTTP only/);

    const anonFetch = await infoRefs(tn, slug, 'git-upload-pack');
    assertStatus(anonFetch, 200, 'anonymous upload-pack advertisement of a public room');
    assert.equal(anonFetch.headers.get('content-type'), 'application/x-git-upload-pack-advertisement');
    assert.ok(anonFetch.text.startsWith('001e# service=git-upload-pack\n0000'), anonFetch.text.slice(0, 200));
    assert.ok(anonFetch.text.includes(`${head} HEAD\0`), `HEAD first, with capabilities: ${anonFetch.text.slice(0, 400)}`);
    assert.match(anonFetch.text, /symref=HEAD:refs\/heads\/main/);
  });

  await t.test('the owner\'s write token pushes', async () => {
    const pushed = sb.git(['rev-parse', 'HEAD'], { cwd: dir });
    sb.git(['push', gitUrl(tn, slug, write), 'main'], { cwd: dir });
    assert.equal(await headCommit(u.access, tn, slug), pushed);
    await assertServed(tn, slug, 'intruder.txt', 'should never be served\n');
  });
});

test('private room: anonymous clone 401, the owner\'s read token clones, a stranger gets 404 (as for a room that does not exist)', async (t) => {
  const { u, t: tn, write } = await owner();
  const read = await patFor(u, 'read');
  const stranger = await registerVerified();
  const strangerWrite = await patFor(stranger, 'write');
  const sb = gitSandbox(t);
  const slug = 'secret';
  await createRoom(u.access, tn, { slug, visibility: 'private' });
  await put(u, tn, slug, 'diary.txt', 'dear diary\n');
  const head = await headCommit(u.access, tn, slug);

  await t.test('anonymous clone', () => {
    const res = sb.gitFails(['clone', gitUrl(tn, slug), sb.path('anon')]);
    assert.match(res.stderr, /could not read Username|Authentication failed|401/i, res.out);
  });
  await t.test('a stranger\'s token', () => {
    const res = sb.gitFails(['clone', gitUrl(tn, slug, strangerWrite), sb.path('stranger')]);
    assert.match(res.stderr, /not found|404/i, res.out);
  });
  let dir;
  await t.test('the owner\'s read token', async () => {
    dir = sb.clone(gitUrl(tn, slug, read));
    const tree = readTree(dir);
    assert.deepEqual(Object.keys(tree).sort(), ['diary.txt', 'index.html']);
    assert.ok(tree['index.html'].equals(await apiBytes(u, tn, slug, 'index.html')));
    assert.equal(tree['diary.txt'].toString(), 'dear diary\n');
    assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: dir }), head);
    sb.fsck(dir);
  });
  await t.test('push with the read token is refused, with the write token accepted', async () => {
    writeFiles(dir, { 'diary.txt': 'second entry\n' });
    const mine = commitAll(sb, dir, 'Second entry');
    const res = sb.gitFails(['push', gitUrl(tn, slug, read), 'main'], { cwd: dir });
    assert.match(res.stderr, /403/, res.out);
    assert.equal(await headCommit(u.access, tn, slug), head);
    sb.git(['push', gitUrl(tn, slug, write), 'main'], { cwd: dir });
    assert.equal(await headCommit(u.access, tn, slug), mine);
    assert.equal((await apiBytes(u, tn, slug, 'diary.txt')).toString(), 'second entry\n');
  });
  await t.test('raw HTTP: 401 anonymous, 404 for a stranger and for a room that does not exist', async () => {
    const anon = await infoRefs(tn, slug, 'git-upload-pack');
    assertStatus(anon, 401, 'anonymous upload-pack of a private room');
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic/);
    assert.ok(!anon.text.includes(head), 'no refs leak');
    const strangerRes = await infoRefs(tn, slug, 'git-upload-pack', { token: strangerWrite });
    assertStatus(strangerRes, 404, 'stranger');
    assert.ok(!strangerRes.text.includes(head.slice(0, 12)), 'no refs leak');
    assertStatus(await infoRefs(tn, slug, 'git-upload-pack', { token: read }), 200, 'owner read token');
    const anonMissing = await infoRefs(tn, 'no-such-room', 'git-upload-pack');
    assertStatus(anonMissing, 401, 'anonymous, unknown room');
    assert.match(anonMissing.headers.get('www-authenticate') ?? '', /^Basic/);
    assertStatus(await infoRefs(tn, 'no-such-room', 'git-upload-pack', { token: read }), 404, 'signed, unknown room');
    assertStatus(await infoRefs(tn, 'no-such-room', 'git-receive-pack', { token: write }), 404, 'signed push, unknown room');
    assertStatus(await infoRefs(tn, slug, 'git-upload-pack', { token: `rooom_pat_${'B'.repeat(43)}` }), 401, 'a made-up token');
  });
});

test('organisation room: a viewer clones but cannot push (403); a member pushes', async (t) => {
  const boss = await registerVerified();
  const org = await createOrg(boss.access);
  const slug = 'team';
  await createRoom(boss.access, org.slug, { slug, visibility: 'private' });
  const viewer = await registerVerified();
  const member = await registerVerified();
  await addMember(boss.access, org.slug, viewer.username, 'viewer');
  await addMember(boss.access, org.slug, member.username, 'member');
  const viewerWrite = await patFor(viewer, 'write');
  const memberWrite = await patFor(member, 'write');
  const sb = gitSandbox(t);
  const head = await headCommit(boss.access, org.slug, slug);

  const dir = sb.clone(gitUrl(org.slug, slug, viewerWrite));
  assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: dir }), head, 'the viewer clones the private room');
  writeFiles(dir, { 'team.txt': 'hello team\n' });
  const mine = commitAll(sb, dir, 'Team work');

  const res = sb.gitFails(['push', 'origin', 'main'], { cwd: dir });
  assert.match(res.stderr, /403/, res.out);
  assert.equal(await headCommit(boss.access, org.slug, slug), head, 'the viewer changed nothing');
  assertStatus(await infoRefs(org.slug, slug, 'git-receive-pack', { token: viewerWrite }), 403, 'viewer, receive-pack advertisement');

  sb.git(['push', gitUrl(org.slug, slug, memberWrite), 'main'], { cwd: dir });
  assert.equal(await headCommit(boss.access, org.slug, slug), mine, 'a member pushes');
});

// ---------------------------------------------------------------- 7. snapshots and restore

test('snapshots serve the room as it was; restore makes a new commit that git pulls as a fast-forward', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'snaps';
  await createRoom(u.access, tn, { slug });
  const v1 = Buffer.from('<!doctype html><title>v1</title><p>version one</p>\n');
  const v2 = Buffer.from('<!doctype html><title>v2</title><p>version two</p>\n');
  await put(u, tn, slug, 'index.html', v1);
  const c1 = await headCommit(u.access, tn, slug);

  const snapRes = await api('POST', roomApi(tn, slug, '/snapshots'), { token: u.access, body: { message: 'before v2' } });

  assertStatus(snapRes, 201, 'POST snapshots');
  const snap = snapRes.json;
  assert.ok(Number.isInteger(snap.ts), `ts is an integer: ${snapRes.text}`);
  assert.ok(Math.abs(snap.ts - Date.now() / 1000) < 60, `ts is now in Unix seconds: ${snap.ts}`);
  assert.equal(snap.commit, c1, 'the snapshot is of the live commit');
  assert.equal(snap.message, 'before v2');
  assert.equal(snap.url, tenantUrl(tn, `/rooms/${slug}/snap-${snap.ts}.html`));
  assertTime(snap.created_at, 'created_at');
  assertValidation(await api('POST', roomApi(tn, slug, '/snapshots'), { token: u.access, body: { message: 'x'.repeat(501) } }), 'message');

  await untilAfterSecond(snap.ts);
  await put(u, tn, slug, 'index.html', v2);
  const c2 = await headCommit(u.access, tn, slug);
  const tsV2 = Math.floor(Date.now() / 1000); // v2 was live at this second
  await untilAfterSecond(tsV2);
  const dir = sb.clone(gitUrl(tn, slug, write));

  await t.test('snap pages', async () => {
    const then = await request(snap.url);
    assertStatus(then, 200, 'the snapshot url');
    assert.ok(then.body.equals(v1), `the snapshot shows v1: ${then.text.slice(0, 200)}`);
    assert.match(then.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(then.headers.get('cache-control') ?? '', /no-cache/, 'a snapshot of the last minute is not immutable yet');
    const now = await tenant(tn, `/rooms/${slug}/snap-${Math.floor(Date.now() / 1000)}.html`);
    assertStatus(now, 200, 'snap of now');
    assert.ok(now.body.equals(v2), `now shows v2: ${now.text.slice(0, 200)}`);
    const v2Page = await tenant(tn, `/rooms/${slug}/snap-${tsV2}.html`);
    assert.ok(v2Page.body.equals(v2), 'the second v2 was live shows v2');
    assertStatus(await tenant(tn, `/rooms/${slug}/snap-1000000000.html`), 404, 'before the room existed');
  });

  await t.test('the snapshot list', async () => {
    const list = await api('GET', roomApi(tn, slug, '/snapshots'), { token: u.access });
    assertStatus(list, 200);
    assert.ok(Array.isArray(list.json), describeRes(list));
    assert.equal(list.json.length, 1);
    const [s] = list.json;
    assert.deepEqual([s.ts, s.commit, s.message, s.url], [snap.ts, snap.commit, snap.message, snap.url]);
  });

  let r1;
  await t.test('restore {commit}', async () => {
    const res = await api('POST', roomApi(tn, slug, '/restore'), { token: u.access, body: { commit: snap.commit } });
    assertStatus(res, 200, 'restore');
    r1 = res.json.head?.commit;
    assert.match(r1 ?? '', HEX40, `the answer is the room JSON with the new head: ${res.text}`);
    assert.notEqual(r1, c1, 'a new commit, not a reset');
    assert.notEqual(r1, c2);
    assert.equal(await headCommit(u.access, tn, slug), r1);
    await assertServed(tn, slug, 'index.html', v1, 'index.html after restore');
    const [newest, previous] = await history(u.access, tn, slug, { limit: 2 });
    assert.equal(newest.commit, r1);
    assert.match(newest.message, /^Restore/);
    assert.ok(newest.message.includes(snap.commit.slice(0, 7)), `names the restored commit: ${newest.message}`);
    assert.deepEqual(newest.parents, [c2], 'history goes on from v2');
    assert.equal(previous.commit, c2);
  });

  await t.test('git pull gets the restore as a fast-forward', () => {
    sb.git(['pull', '--ff-only', 'origin', 'main'], { cwd: dir });
    assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: dir }), r1);
    assert.ok(fs.readFileSync(path.join(dir, 'index.html')).equals(v1));
    assert.equal(sb.run(['merge-base', '--is-ancestor', c2, 'HEAD'], { cwd: dir }).status, 0, 'v2 stays in history');
    assert.equal(sb.git(['rev-parse', 'HEAD^{tree}'], { cwd: dir }), sb.git(['rev-parse', `${c1}^{tree}`], { cwd: dir }), 'the tree of the restored state');
    sb.fsck(dir);
  });

  await t.test('restoring what is live makes no commit', async () => {
    const res = await api('POST', roomApi(tn, slug, '/restore'), { token: u.access, body: { commit: snap.commit } });
    assertStatus(res, 200);
    assert.equal(await headCommit(u.access, tn, slug), r1);
  });

  await t.test('restore {ts}', async () => {
    const res = await api('POST', roomApi(tn, slug, '/restore'), { token: u.access, body: { ts: tsV2 } });
    assertStatus(res, 200, 'restore by ts');
    const r2 = await headCommit(u.access, tn, slug);
    assert.notEqual(r2, r1);
    await assertServed(tn, slug, 'index.html', v2, 'index.html restored to v2');
    const [newest] = await history(u.access, tn, slug, { limit: 1 });
    assert.match(newest.message, /^Restore/);
    assert.deepEqual(newest.parents, [r1]);
    sb.git(['pull', '--ff-only', 'origin', 'main'], { cwd: dir });
    assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: dir }), r2);
    assert.equal(sb.git(['rev-parse', 'HEAD^{tree}'], { cwd: dir }), sb.git(['rev-parse', `${c2}^{tree}`], { cwd: dir }));
  });

  await t.test('bad restore bodies are 422 and change nothing', async () => {
    const head = await headCommit(u.access, tn, slug);
    const restore = (body) => api('POST', roomApi(tn, slug, '/restore'), { token: u.access, body });
    assertError(await restore({}), 422, 'VALIDATION_FAILED');
    assertError(await restore({ commit: snap.commit, ts: snap.ts }), 422, 'VALIDATION_FAILED');
    assertValidation(await restore({ commit: 'f'.repeat(40) }), 'commit');
    assertValidation(await restore({ commit: 'not a commit' }), 'commit');
    assertValidation(await restore({ ts: 1_000_000_000 }), 'ts');
    assertError(await restore({ ts: 'yesterday' }), 422, 'VALIDATION_FAILED');
    assert.equal(await headCommit(u.access, tn, slug), head);
    await assertServed(tn, slug, 'index.html', v2);
  });
});

// ---------------------------------------------------------------- 8. a long history

test('a push of 100 commits keeps every commit id; the history API pages through them', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'long';
  await createRoom(u.access, tn, { slug });
  const url = gitUrl(tn, slug, write);
  const dir = sb.clone(url);
  const existing = Number(sb.git(['rev-list', '--count', 'main'], { cwd: dir }));
  const T0 = 1_700_000_000;
  for (let i = 1; i <= 100; i++) {
    const files = { 'counter.txt': `${i}\n` };
    if (i % 10 === 0) files[`extra/f${i}.txt`] = `extra ${i}\n`;
    writeFiles(dir, files);
    const date = `${T0 + i * 60} +0000`;
    commitAll(sb, dir, `commit ${i}`, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  }
  const tip = sb.git(['rev-parse', 'main'], { cwd: dir });

  sb.git(['push', 'origin', 'main'], { cwd: dir, timeout: 120_000 });

  const again = sb.clone(url);
  assert.equal(Number(sb.git(['rev-list', '--count', 'main'], { cwd: again })), 100 + existing);
  assert.equal(sb.git(['rev-parse', 'main'], { cwd: again }), tip);
  assert.equal(sb.git(['rev-list', 'main'], { cwd: again }), sb.git(['rev-list', 'main'], { cwd: dir }), 'every commit id is the same');
  sb.fsck(again);
  assert.equal(await headCommit(u.access, tn, slug), tip);
  await assertServed(tn, slug, 'counter.txt', '100\n');

  const revs = lines(sb.git(['rev-list', '--first-parent', 'main'], { cwd: dir }));
  assert.equal(revs.length, 101);
  const page1 = await history(u.access, tn, slug);
  assert.equal(page1.length, 50, 'default limit 50');
  assert.deepEqual(page1.map((e) => e.commit), revs.slice(0, 50), 'newest first');
  page1.forEach((e, i) => {
    assertHistoryEntry(e, `page1[${i}]`);
    assert.equal(msg(e.message), `commit ${100 - i}`);
    assert.deepEqual(e.parents, [revs[i + 1]]);
    assert.deepEqual(e.author, { name: GIT_NAME, email: GIT_EMAIL });
    assert.equal(Date.parse(e.time), (T0 + (100 - i) * 60) * 1000, `time of ${e.message}`);
  });
  const page2 = await history(u.access, tn, slug, { before: page1[49].commit });
  assert.deepEqual(page2.map((e) => e.commit), revs.slice(50, 100), 'before= continues after that commit');
  const page3 = await history(u.access, tn, slug, { before: page2[49].commit });
  assert.deepEqual(page3.map((e) => e.commit), revs.slice(100));
  assert.equal(msg(page3[0].message), 'Create room');
  assert.deepEqual(page3[0].parents, []);
  const page4 = await history(u.access, tn, slug, { before: revs[100] });
  assert.deepEqual(page4, [], 'nothing before the first commit');
  assert.deepEqual((await history(u.access, tn, slug, { limit: 100 })).map((e) => e.commit), revs.slice(0, 100));
  assert.deepEqual((await history(u.access, tn, slug, { limit: 7, before: revs[10] })).map((e) => e.commit), revs.slice(11, 18));
  assert.deepEqual((await history(u.access, tn, slug, { limit: 1 })).map((e) => e.commit), [tip]);
  for (const limit of ['0', '101', '-1', 'ten']) assertValidation(await historyRaw(u.access, tn, slug, { limit }), 'limit');
  for (const before of ['f'.repeat(40), 'nothex']) assertValidation(await historyRaw(u.access, tn, slug, { before }), 'before');
});

// ---------------------------------------------------------------- 9. branches and tags

test('other branches and tags can be pushed and leave the live room alone; tags never move; other refs are refused', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'refs';
  await createRoom(u.access, tn, { slug });
  const url = gitUrl(tn, slug, write);
  const dir = sb.clone(url);
  const main = sb.git(['rev-parse', 'HEAD'], { cwd: dir });
  const page = (await served(tn, slug, 'index.html')).body;
  const assertLiveUnchanged = async () => {
    assert.equal(await headCommit(u.access, tn, slug), main, 'room head unchanged');
    await assertServed(tn, slug, 'index.html', page, 'the live index.html');
    assertStatus(await served(tn, slug, 'feature.txt'), 404, 'no branch file is live');
    assert.equal((await history(u.access, tn, slug, { limit: 1 }))[0].commit, main);
  };

  sb.git(['checkout', '-q', '-b', 'feature'], { cwd: dir });
  writeFiles(dir, { 'index.html': 'feature page\n', 'feature.txt': 'only on the branch\n' });
  const feature = commitAll(sb, dir, 'Feature work');
  sb.git(['tag', '-a', 'v1', '-m', 'version 1'], { cwd: dir });
  sb.git(['tag', 'light'], { cwd: dir });
  const tagObject = sb.git(['rev-parse', 'v1'], { cwd: dir });

  await t.test('push a branch and tags', async () => {
    sb.git(['push', 'origin', 'feature'], { cwd: dir });
    sb.git(['push', 'origin', 'v1', 'light'], { cwd: dir });
    const refs = sb.lsRemote(url);
    assert.equal(refs['refs/heads/feature'], feature);
    assert.equal(refs['refs/tags/v1'], tagObject, 'an annotated tag points at its tag object');
    assert.equal(refs['refs/tags/light'], feature);
    assert.equal(refs['refs/heads/main'], main);
    assert.equal(refs.HEAD, main);
    await assertLiveUnchanged();
    const again = sb.clone(url);
    assert.equal(sb.git(['rev-parse', 'origin/feature'], { cwd: again }), feature);
    assert.equal(sb.git(['rev-parse', 'v1^{commit}'], { cwd: again }), feature);
    assert.equal(sb.git(['cat-file', '-t', 'v1'], { cwd: again }), 'tag');
    assert.equal(sb.git(['rev-parse', 'HEAD'], { cwd: again }), main, 'a clone still checks out main');
    sb.fsck(again);
  });

  await t.test('a tag cannot be moved, even with --force', async () => {
    writeFiles(dir, { 'feature.txt': 'more\n' });
    commitAll(sb, dir, 'More feature work');
    sb.git(['tag', '-f', 'light'], { cwd: dir });
    const res = sb.gitFails(['push', '--force', 'origin', 'refs/tags/light'], { cwd: dir });
    assert.match(res.stderr, /rejected/, res.out);
    assert.equal(sb.lsRemote(url)['refs/tags/light'], feature, 'the tag did not move');
  });

  await t.test('a branch moves forward; a tag and a branch can be deleted', async () => {
    const moved = sb.git(['rev-parse', 'HEAD'], { cwd: dir });
    sb.git(['push', 'origin', 'feature'], { cwd: dir });
    assert.equal(sb.lsRemote(url)['refs/heads/feature'], moved);
    sb.git(['push', 'origin', ':refs/tags/light'], { cwd: dir });
    sb.git(['push', 'origin', ':refs/heads/feature'], { cwd: dir });
    const refs = sb.lsRemote(url);
    assert.ok(!('refs/tags/light' in refs) && !('refs/heads/feature' in refs), `deleted: ${JSON.stringify(refs)}`);
    assert.equal(refs['refs/tags/v1'], tagObject);
    await assertLiveUnchanged();
  });

  for (const ref of ['refs/notes/x', 'refs/meta/foo', 'refs/pull/1/head']) {
    await t.test(`push to ${ref} is refused`, async () => {
      const res = sb.gitFails(['push', 'origin', `HEAD:${ref}`], { cwd: dir });
      assert.match(res.stderr, /funny refname|rejected/, res.out);
      const refs = sb.lsRemote(url);
      assert.ok(!(ref in refs), `${ref} was not created: ${JSON.stringify(refs)}`);
      await assertLiveUnchanged();
    });
  }
});

// ---------------------------------------------------------------- 10. hostile input

test('garbage and broken packs sent to receive-pack: git\'s unpack error or a 4xx, never a 5xx, and the room unchanged', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'hostile';
  await createRoom(u.access, tn, { slug });
  const before = await roomState(sb, u, tn, slug, write);
  const head = before.head;
  const missing = crypto.randomBytes(20).toString('hex');

  // A real new commit N on top of main, for packs that are almost right.
  const dir = sb.clone(gitUrl(tn, slug, write));
  writeFiles(dir, { 'new.txt': 'new content\n' });
  const next = commitAll(sb, dir, 'New');
  const packOf = (input, args = ['--revs']) => {
    const r = sb.run(['pack-objects', '--stdout', '-q', ...args], { cwd: dir, input });
    assert.equal(r.status, 0, r.out);
    return r.stdoutBuf;
  };
  const goodPack = packOf(`${next}\n^${head}\n`);
  const badChecksum = Buffer.from(goodPack);
  badChecksum[badChecksum.length - 1] ^= 0xff;
  const corruptBody = Buffer.from(goodPack);
  for (let i = 12; i < Math.min(corruptBody.length - 20, 60); i++) corruptBody[i] ^= 0x5a;
  const commitOnly = packOf(`${next}\n`, []); // the commit without its tree and blob
  const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const packHeader = (count) => Buffer.concat([Buffer.from('PACK'), u32(2), u32(count)]);
  const update = [[head, next, 'refs/heads/main']];

  const cases = [
    ['random bytes', randomBytes(4096), {}, 'any'],
    ['a pkt-line longer than the body', Buffer.from(`fff0${'x'.repeat(100)}`), {}, 'any'],
    ['a command line without ids', Buffer.concat([pkt('hello world\0report-status\n'), FLUSH]), {}, 'any'],
    ['a command and no pack', receivePackBody([[head, missing, 'refs/heads/main']]), {}, 'refused'],
    ['a command and a pack of junk', receivePackBody(update, Buffer.concat([Buffer.from('PACK'), randomBytes(500)])), {}, 'unpack'],
    ['a pack header claiming 1000 objects, then junk', receivePackBody(update, Buffer.concat([packHeader(1000), randomBytes(300)])), {}, 'unpack'],
    ['a pack header claiming 4 billion objects', receivePackBody(update, Buffer.concat([packHeader(0xffffffff), randomBytes(64)])), {}, 'unpack'],
    ['a pack with a wrong checksum', receivePackBody(update, badChecksum), {}, 'unpack'],
    ['a pack with corrupt entries', receivePackBody(update, corruptBody), {}, 'unpack'],
    ['a truncated pack', receivePackBody(update, goodPack.subarray(0, goodPack.length - 30)), {}, 'unpack'],
    ['a commit without its tree (connectivity)', receivePackBody(update, commitOnly), {}, 'refused'],
    ['a pack body over 16 MiB', receivePackBody(update, Buffer.concat([packHeader(1), randomBytes(17 * 1024 * 1024)])), {}, 'unpack'],
  ];
  for (const [name, body, headers, expect] of cases) {
    await t.test(name, async () => {
      const res = await postService(tn, slug, 'git-receive-pack', body, { token: write, headers });
      assert.ok(res.status < 500, `never a 5xx: ${describeRes(res)}`);
      const report = parsePkts(res.body).join('');
      const unpackError = /unpack (?!ok\n)\S/.test(report);
      if (res.status === 200) {
        assert.ok(!/ok refs\/heads\/main/.test(report), `main must not be updated: ${JSON.stringify(report)}`);
        if (expect === 'unpack') assert.ok(unpackError, `git's "unpack <error>" line: ${JSON.stringify(report)} / ${res.text.slice(0, 300)}`);
        else if (expect === 'refused') assert.ok(unpackError || /ng refs\/heads\/main /.test(report), `refused: ${JSON.stringify(report)}`);
        else assert.ok(unpackError || /ERR /.test(report) || /ERR /.test(res.text), `an error report: ${JSON.stringify(report)} / ${res.text.slice(0, 300)}`);
      } else {
        assert.ok(res.status >= 400, `a 4xx or a 200 report: ${describeRes(res)}`);
      }
    });
  }

  await t.test('garbage to upload-pack', async () => {
    const junk = await postService(tn, slug, 'git-upload-pack', randomBytes(2048), { token: write });
    assert.ok(junk.status < 500, `never a 5xx: ${describeRes(junk)}`);
    const unknownWant = await postService(tn, slug, 'git-upload-pack',
      Buffer.concat([pkt(`want ${missing} multi_ack_detailed side-band-64k ofs-delta\n`), FLUSH, pkt('done\n')]), { token: write });
    assert.ok(unknownWant.status < 500, `never a 5xx: ${describeRes(unknownWant)}`);
    assert.ok(!unknownWant.body.includes(Buffer.from('PACK')), `no pack for an unknown want: ${describeRes(unknownWant)}`);
    if (unknownWant.status === 200) assert.match(unknownWant.text, /ERR /, `an ERR line: ${describeRes(unknownWant)}`);
    const cut = await postService(tn, slug, 'git-upload-pack', Buffer.concat([pkt(`want ${head}\n`), Buffer.from('00')]), { token: write });
    assert.ok(cut.status < 500, `never a 5xx: ${describeRes(cut)}`);
    const wantHead = Buffer.concat([pkt(`want ${head} ofs-delta\n`), FLUSH, pkt('done\n')]);
    const notGzip = await postService(tn, slug, 'git-upload-pack', wantHead, { token: write, headers: { 'content-encoding': 'gzip' } });
    assert.ok(notGzip.status < 500, `gzip claimed, not gzip: never a 5xx: ${describeRes(notGzip)}`);
    const gzipped = await postService(tn, slug, 'git-upload-pack', zlib.gzipSync(wantHead), { token: write, headers: { 'content-encoding': 'gzip' } });
    assertStatus(gzipped, 200, 'a gzipped upload-pack request');
    assert.ok(gzipped.body.includes(Buffer.from('PACK\0\0\0\x02')), `a pack for a gzipped want: ${describeRes(gzipped)}`);
  });

  await t.test('the room is unchanged', async () => {
    assert.deepEqual(await roomState(sb, u, tn, slug, write), before);
    assertStatus(await served(tn, slug, 'new.txt'), 404);
  });

  await t.test('the same commit pushed properly is accepted', async () => {
    sb.git(['push', 'origin', 'main'], { cwd: dir });
    assert.equal(await headCommit(u.access, tn, slug), next);
    await assertServed(tn, slug, 'new.txt', 'new content\n');
  });
});

test('pushes to main with paths rooms refuse, symlinks or submodules are refused with ng and change nothing', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'paths';
  await createRoom(u.access, tn, { slug });
  const url = gitUrl(tn, slug, write);
  const dir = sb.clone(url);
  const base = sb.git(['rev-parse', 'HEAD'], { cwd: dir });
  const before = await roomState(sb, u, tn, slug, write);
  const blob = sb.git(['hash-object', '-w', '--stdin'], { cwd: dir, input: 'bad\n' });

  const refused = async (what) => {
    const res = sb.gitFails(['push', 'origin', 'HEAD:main'], { cwd: dir });
    assert.match(res.stderr, /remote rejected|unpack/, `${what}: ${res.out}`);
    assert.deepEqual(await roomState(sb, u, tn, slug, write), before, `${what}: the room is unchanged`);
  };
  const withPath = (p, mode = '100644', id = blob) => {
    sb.git(['reset', '-q', '--hard', base], { cwd: dir });
    sb.git(['update-index', '--add', '--cacheinfo', `${mode},${id},${p}`], { cwd: dir });
    sb.git(['commit', '-q', '-m', 'bad path'], { cwd: dir });
  };

  const badPaths = [
    ['a control character', 'bad\x01name.txt'],
    ['an escape character in a folder', 'dir\x1b[31m/x.txt'],
    ['a percent sign', 'a%41b.txt'],
    ['a question mark', 'what?.txt'],
    ['a hash', 'a#b.txt'],
    ['a backslash', 'a\\b.txt'],
    ['a segment over 200 bytes', `${'a'.repeat(201)}.txt`],
    ['a path over 900 bytes', `${Array.from({ length: 5 }, () => 'b'.repeat(190)).join('/')}/x.txt`],
  ];
  for (const [name, p] of badPaths) {
    await t.test(name, async () => {
      withPath(p);
      await refused(name);
    });
  }
  await t.test('a symlink', async () => {
    sb.git(['reset', '-q', '--hard', base], { cwd: dir });
    fs.symlinkSync('index.html', path.join(dir, 'link.html'));
    commitAll(sb, dir, 'a symlink');
    assert.equal(sb.git(['ls-tree', 'HEAD', 'link.html'], { cwd: dir }).split(' ')[0], '120000', 'committed as a symlink');
    await refused('a symlink');
  });
  await t.test('a symlink pointing out of the tree', async () => {
    sb.git(['reset', '-q', '--hard', base], { cwd: dir });
    const target = sb.git(['hash-object', '-w', '--stdin'], { cwd: dir, input: '../../../../etc/passwd' });
    withPath('passwd.txt', '120000', target);
    await refused('a symlink out of the tree');
  });
  await t.test('a submodule', async () => {
    withPath('vendor/sub', '160000', base);
    await refused('a submodule');
  });

  await t.test('a valid path from the same clone is accepted', async () => {
    sb.git(['reset', '-q', '--hard', base], { cwd: dir });
    writeFiles(dir, { 'good/ok file.txt': 'fine\n' });
    const good = commitAll(sb, dir, 'good');
    sb.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
    assert.equal(await headCommit(u.access, tn, slug), good);
    await assertServed(tn, slug, 'good/ok file.txt', 'fine\n');
  });
});

test('a push of more than 50,000 objects is refused with git\'s unpack error, even to a side branch', async (t) => {
  const { u, t: tn, write } = await owner();
  const sb = gitSandbox(t);
  const slug = 'many';
  await createRoom(u.access, tn, { slug });
  const url = gitUrl(tn, slug, write);
  const dir = sb.clone(url);
  const before = await roomState(sb, u, tn, slug, write);
  const parent = sb.git(['rev-parse', 'HEAD'], { cwd: dir });
  // 50,001 distinct blobs in one commit on a side branch (so neither paths nor the
  // plan's quotas are the reason to refuse), through fast-import (one process).
  const N = 50_001;
  const parts = [];
  for (let i = 1; i <= N; i++) {
    const data = `${i}\n`;
    parts.push(`blob\nmark :${i}\ndata ${Buffer.byteLength(data)}\n${data}\n`);
  }
  const message = 'many objects\n';
  parts.push(`commit refs/heads/many\nmark :${N + 1}\ncommitter ${GIT_NAME} <${GIT_EMAIL}> 1700000000 +0000\ndata ${message.length}\n${message}from ${parent}\n`);
  for (let i = 1; i <= N; i++) parts.push(`M 100644 :${i} many/${Math.floor(i / 1000)}/f${i}.txt\n`);
  parts.push('\n');
  sb.git(['fast-import', '--quiet'], { cwd: dir, input: parts.join(''), timeout: 180_000 });
  const objects = lines(sb.git(['rev-list', '--objects', `${parent}..many`], { cwd: dir, timeout: 180_000 })).length;
  assert.ok(objects > 50_000, `the push carries ${objects} objects`);

  const res = sb.gitFails(['push', 'origin', 'many'], { cwd: dir, timeout: 300_000 });

  assert.match(res.stderr, /remote unpack failed/, `git's own "unpack <why>" report: ${res.out}`);
  assert.deepEqual(await roomState(sb, u, tn, slug, write), before, 'the room is unchanged (no branch "many")');
});
