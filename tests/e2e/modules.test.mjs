// Modules: create, publish immutable versions from JSON, zip, tar and tar.gz (hostile
// archives refused), serve them at /mod/<name>/<version>/ with immutable caching and
// CORS, install them into rooms (also another tenant's public ones) with SRI hashes that
// match the served bytes, list them publicly, delete them with their R2 objects.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { test, api, register, tenant, PORT, REPO_ROOT, describeRes } from '../lib/client.mjs';
import { assertStatus, assertError, assertValidation } from '../lib/expect.mjs';
import { zip, tar, gzip, sri } from '../lib/archive.mjs';
import {
  createModule, createRoom, publish, filesJson, manifest, usage, tenantId, moduleId, keysUnder,
} from '../lib/tenant-content.mjs';

const INDEX = 'export const hello = () => "hello";\n';
const UTIL = 'export const util = 42;\n';

function simpleVersion(name, version, extra = {}) {
  return filesJson({ 'module.json': manifest(name, version, 'index.js', { description: 'demo' }), 'index.js': INDEX, 'lib/util.js': UTIL, ...extra });
}

test('create a module: 201, names are checked, a taken name is 409', async () => {
  const u = await register();
  const res = await api('POST', `/tenants/${u.username}/modules`, { token: u.access, body: { name: 'Confetti', description: 'Party' } });
  assertStatus(res, 201);
  assert.equal(res.json.name, 'confetti', 'names are case-folded');
  assert.equal(res.json.description, 'Party');
  assert.equal(res.json.visibility, 'public');
  assert.deepEqual(res.json.versions, []);
  assert.equal(res.json.url, `http://${u.username}.localhost:${PORT}/mod/confetti/`);

  assertError(await api('POST', `/tenants/${u.username}/modules`, { token: u.access, body: { name: 'confetti' } }), 409, 'MODULE_TAKEN');
  for (const name of ['a', '-ab', 'a--b', 'a_b', 'a/b', '../x']) {
    assertValidation(await api('POST', `/tenants/${u.username}/modules`, { token: u.access, body: { name } }), 'name');
  }
  assertValidation(await api('POST', `/tenants/${u.username}/modules`, { token: u.access, body: { name: 'okname', visibility: 'secret' } }), 'visibility');
  const list = await api('GET', `/tenants/${u.username}/modules`, { token: u.access });
  assert.deepEqual(list.json.map((m) => m.name), ['confetti']);
  const stranger = await register();
  assertStatus(await api('POST', `/tenants/${u.username}/modules`, { token: stranger.access, body: { name: 'evil' } }), 404);
});

test('publish from JSON: 201 with SRI per file; served immutable, with CORS, integrity matching the bytes', async () => {
  const u = await register();
  await createModule(u, 'greet');
  const before = await usage(u);

  const res = await publish(u, 'greet', '1.0.0', simpleVersion('greet', '1.0.0'));

  assertStatus(res, 201);
  assert.equal(res.json.version, '1.0.0');
  assert.equal(res.json.entry, 'index.js');
  const base = `http://${u.username}.localhost:${PORT}/mod/greet/1.0.0/`;
  assert.equal(res.json.url, `${base}index.js`);
  const files = Object.fromEntries(res.json.files.map((f) => [f.path, f]));
  assert.deepEqual(Object.keys(files).sort(), ['index.js', 'lib/util.js', 'module.json']);
  for (const [p, f] of Object.entries(files)) {
    const served = await tenant(u.username, `/mod/greet/1.0.0/${p}`);
    assertStatus(served, 200, p);
    assert.equal(f.size, served.body.length, `${p} size`);
    assert.equal(f.integrity, sri(served.body), `${p} integrity is the sha384 of the served bytes`);
    assert.equal(served.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(served.headers.get('access-control-allow-origin'), '*');
    assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(served.headers.get('etag'));
  }
  const js = await tenant(u.username, '/mod/greet/1.0.0/index.js');
  assert.equal(js.text, INDEX);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const after = await usage(u);
  assert.equal(after.files - before.files, 3, 'three files counted');
  assert.equal(after.bytes - before.bytes, Object.values(files).reduce((s, f) => s + f.size, 0), 'their bytes counted');

  const got = await api('GET', `/tenants/${u.username}/modules/greet`, { token: u.access });
  assertStatus(got, 200);
  assert.equal(got.json.latest, '1.0.0');
  assert.deepEqual(got.json.versions.map((v) => v.version), ['1.0.0']);
  const listing = await tenant(u.username, '/_/modules.json');
  assertStatus(listing, 200);
  const mod = listing.json.find((m) => m.name === 'greet');
  assert.ok(mod, listing.text);
  assert.equal(mod.url, `http://${u.username}.localhost:${PORT}/mod/greet/`);
  assert.equal(mod.versions[0].version, '1.0.0');
  assert.equal((await tenant(u.username, new URL(mod.versions[0].url).pathname)).text, INDEX, 'the listed URL is the entry');
});

test('published versions are immutable: a second publish is 409 and the bytes stay', async () => {
  const u = await register();
  await createModule(u, 'fixed');
  assertStatus(await publish(u, 'fixed', '1.0.0', simpleVersion('fixed', '1.0.0')), 201);
  const used = await usage(u);

  const again = await publish(u, 'fixed', '1.0.0', simpleVersion('fixed', '1.0.0', { 'index.js': 'export const evil = 1;\n' }));

  assertError(again, 409, 'VERSION_EXISTS');
  assert.equal((await tenant(u.username, '/mod/fixed/1.0.0/index.js')).text, INDEX);
  assert.deepEqual(await usage(u), used, 'usage unchanged by the refused publish');
});

test('two parallel publishes of one new version: exactly one wins, and its bytes are served', async () => {
  const u = await register();
  await createModule(u, 'race');
  const bodies = ['A', 'B', 'C'].map((tag) => simpleVersion('race', '2.0.0', { 'index.js': `export const who = "${tag}";\n` }));

  const results = await Promise.all(bodies.map((b) => publish(u, 'race', '2.0.0', b)));

  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 409, 409], results.map(describeRes).join('\n'));
  const winner = results.find((r) => r.status === 201);
  const served = await tenant(u.username, '/mod/race/2.0.0/index.js');
  const integrity = winner.json.files.find((f) => f.path === 'index.js').integrity;
  assert.equal(sri(served.body), integrity, 'served bytes are the winner\'s');
  const got = await api('GET', `/tenants/${u.username}/modules/race`, { token: u.access });
  assert.equal(got.json.versions.length, 1);
});

test('publish from real zip and tar.gz archives, GitHub-style top folders stripped', async () => {
  const u = await register();
  await createModule(u, 'mymod');
  const fixtures = path.join(REPO_ROOT, 'tests', 'fixtures', 'bundle');
  const res = await publish(u, 'mymod', '1.0.0', fs.readFileSync(path.join(fixtures, 'zip-cli.zip')));
  assertStatus(res, 201);
  assert.deepEqual(res.json.files.map((f) => f.path).sort(), ['index.js', 'lib/util.js', 'module.json'], 'the symlink is not kept');
  assert.equal((await tenant(u.username, '/mod/mymod/1.0.0/lib/util.js')).text, 'export const util = 1;\n');

  // Made here with the system zip and tar, with the module in a top-level folder.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rooom-mod-'));
  try {
    for (const version of ['1.1.0', '1.2.0']) {
      const root = path.join(dir, version, 'mymod-main');
      fs.mkdirSync(path.join(root, 'css'), { recursive: true });
      fs.writeFileSync(path.join(root, 'module.json'), manifest('mymod', version, 'main.js'));
      fs.writeFileSync(path.join(root, 'main.js'), `export const v = "${version}";\n`);
      fs.writeFileSync(path.join(root, 'css', 'look.css'), 'p { margin: 0 }\n');
    }
    execFileSync('zip', ['-qr', path.join(dir, 'm.zip'), 'mymod-main'], { cwd: path.join(dir, '1.1.0') });
    execFileSync('tar', ['-czf', path.join(dir, 'm.tgz'), 'mymod-main'], { cwd: path.join(dir, '1.2.0') });
    for (const [version, file] of [['1.1.0', 'm.zip'], ['1.2.0', 'm.tgz']]) {
      const r = await publish(u, 'mymod', version, fs.readFileSync(path.join(dir, file)));
      assertStatus(r, 201, file);
      assert.equal(r.json.entry, 'main.js');
      assert.equal((await tenant(u.username, `/mod/mymod/${version}/main.js`)).text, `export const v = "${version}";\n`);
      const css = await tenant(u.username, `/mod/mymod/${version}/css/look.css`);
      assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const plainTar = tar([{ name: 'module.json', data: manifest('mymod', '1.3.0') }, { name: 'index.js', data: INDEX }]);
  assertStatus(await publish(u, 'mymod', '1.3.0', plainTar), 201, 'plain tar');
  const got = await api('GET', `/tenants/${u.username}/modules/mymod`, { token: u.access });
  assert.equal(got.json.latest, '1.3.0');
});

test('bad manifests and bad versions are 422 with fields; nothing is published', async () => {
  const u = await register();
  await createModule(u, 'strict');
  const cases = [
    [filesJson({ 'index.js': INDEX }), 'module.json'],
    [filesJson({ 'module.json': '{not json', 'index.js': INDEX }), 'module.json'],
    [filesJson({ 'module.json': manifest('strict', '1.0.0', 'missing.js'), 'index.js': INDEX }), 'module.json.entry'],
    [filesJson({ 'module.json': manifest('other', '1.0.0'), 'index.js': INDEX }), 'module.json'],
    [filesJson({ 'module.json': manifest('strict', '1.0.1'), 'index.js': INDEX }), 'module.json'],
    [filesJson({ 'module.json': JSON.stringify({ name: 'strict', version: '1.0.0' }), 'index.js': INDEX }), 'module.json.entry'],
    [{ files: { 'module.json': 'not base64 !!' } }, 'files'],
    [filesJson({ 'module.json': manifest('strict', '1.0.0'), '../index.js': INDEX }), 'files'],
    [Buffer.from('just some bytes'), 'body'],
  ];
  for (const [body, field] of cases) {
    assertValidation(await publish(u, 'strict', '1.0.0', body), field);
  }
  assertValidation(await publish(u, 'strict', 'v1', simpleVersion('strict', '1.0.0')), 'version');
  assertStatus(await publish(u, 'nosuch', '1.0.0', simpleVersion('nosuch', '1.0.0')), 404, 'publishing to a missing module');
  const got = await api('GET', `/tenants/${u.username}/modules/strict`, { token: u.access });
  assert.deepEqual(got.json.versions, []);
  assertStatus(await publish(u, 'strict', '1.0.0', simpleVersion('strict', '1.0.0')), 201, 'a refused upload does not take the version');
});

test('hostile archives are refused: traversal names, absolute paths, zip bombs, gzip bombs', async () => {
  const u = await register();
  await createModule(u, 'safe');
  const m = manifest('safe', '1.0.0');
  const bomb = Buffer.alloc(120 * 1024 * 1024); // over the 100 MiB per file and in total
  const packedBomb = deflateRawSync(bomb);
  const unsafe = /absolute, has '\.\.'/;
  const hostile = [
    ['zip ../ name', zip([{ name: 'module.json', data: m }, { name: 'index.js', data: INDEX }, { name: '../evil.js', data: 'x' }]), 'body', unsafe],
    ['zip nested ../', zip([{ name: 'module.json', data: m }, { name: 'index.js', data: INDEX }, { name: 'a/../../evil.js', data: 'x' }]), 'body', unsafe],
    ['zip absolute', zip([{ name: 'module.json', data: m }, { name: 'index.js', data: INDEX }, { name: '/etc/evil.js', data: 'x' }]), 'body', unsafe],
    ['zip backslash', zip([{ name: 'module.json', data: m }, { name: 'index.js', data: INDEX }, { name: '..\\evil.js', data: 'x' }]), 'body', unsafe],
    ['tar ../ name', tar([{ name: 'module.json', data: m }, { name: 'index.js', data: INDEX }, { name: '../../evil.js', data: 'x' }]), 'body', unsafe],
    ['tar symlink as entry', tar([{ name: 'module.json', data: m }, { name: 'index.js', type: '2', link: '/etc/passwd' }]), 'module.json.entry', /uploaded files/],
    ['zip bomb (honest header)', zip([{ name: 'module.json', data: m }, { name: 'index.js', data: INDEX }, { name: 'big.bin', packed: packedBomb, size: bomb.length, crc: 0 }]), 'body', /size limit|larger than allowed/],
    ['zip bomb (lying header)', zip([{ name: 'module.json', data: m }, { name: 'index.js', data: INDEX }, { name: 'big.bin', packed: packedBomb, size: 10, crc: 0 }]), 'body', /larger than its header says/],
    ['tar.gz bomb', gzip(tar([{ name: 'module.json', data: m }, { name: 'index.js', data: INDEX }, { name: 'big.bin', data: bomb }])), 'body', /larger than allowed|size limit/],
  ];
  const prefix = `t/${tenantId(u.username)}/m/${moduleId(u.username, 'safe')}/`;
  for (const [what, body, field, why] of hostile) {
    const err = assertValidation(await publish(u, 'safe', '1.0.0', body), field);
    assert.match(JSON.stringify(err.fields[field]), why, `${what}: ${JSON.stringify(err)}`);
  }
  assert.deepEqual(keysUnder(prefix), [], 'no object was written for a refused archive');
  assertStatus(await tenant(u.username, '/mod/safe/1.0.0/index.js'), 404);
  const ok = await publish(u, 'safe', '1.0.0', zip([{ name: 'module.json', data: m }, { name: 'index.js', data: INDEX, deflate: true }]));
  assertStatus(ok, 201, 'the worker is fine afterwards');
});

test('install into a room: own and another tenant public modules, SRI of the served bytes, lock file', async () => {
  const alice = await register();
  const bob = await register();
  await createModule(alice, 'widget');
  await createModule(alice, 'hidden', { visibility: 'private' });
  assertStatus(await publish(alice, 'widget', '1.2.3', simpleVersion('widget', '1.2.3')), 201);
  assertStatus(await publish(alice, 'hidden', '0.1.0', simpleVersion('hidden', '0.1.0')), 201);
  await createModule(bob, 'mine');
  assertStatus(await publish(bob, 'mine', '0.0.1', simpleVersion('mine', '0.0.1')), 201);
  await createRoom(bob, 'app');

  const res = await api('PUT', `/tenants/${bob.username}/rooms/app/modules`, {
    token: bob.access, body: { modules: [{ tenant: alice.username, name: 'widget', version: '1.2.3' }, { name: 'mine', version: '0.0.1' }] },
  });

  assertStatus(res, 200);
  const [widget, mine] = res.json.modules;
  assert.equal(widget.tenant, alice.username);
  assert.equal(widget.name, 'widget');
  assert.equal(widget.version, '1.2.3');
  assert.equal(widget.entry, 'index.js');
  assert.equal(widget.base, `http://${alice.username}.localhost:${PORT}/mod/widget/1.2.3/`);
  assert.equal(widget.url, `${widget.base}index.js`);
  assert.equal(mine.tenant, bob.username);
  for (const m of [widget, mine]) {
    assert.deepEqual(Object.keys(m.integrity).sort(), ['index.js', 'lib/util.js', 'module.json']);
    for (const [p, hash] of Object.entries(m.integrity)) {
      const served = await tenant(m.tenant, `/mod/${m.name}/${m.version}/${p}`);
      assertStatus(served, 200);
      assert.equal(hash, sri(served.body), `${m.name}/${p}: SRI matches what is served`);
    }
  }
  const lock = await api('GET', `/tenants/${bob.username}/rooms/app/files/.rooom/modules.json`, { token: bob.access });
  assertStatus(lock, 200);
  assert.deepEqual(JSON.parse(lock.text), res.json, 'the lock file holds the installed set');
  const listed = await api('GET', `/tenants/${bob.username}/rooms/app/modules`, { token: bob.access });
  assert.deepEqual(listed.json, res.json);

  const refused = [
    { tenant: alice.username, name: 'hidden', version: '0.1.0' },
    { tenant: alice.username, name: 'widget', version: '9.9.9' },
    { tenant: alice.username, name: 'nothing', version: '1.0.0' },
    { name: 'widget', version: '1.2.3' },
    { tenant: alice.username, name: 'widget', version: 'latest' },
  ];
  for (const item of refused) {
    const r = await api('PUT', `/tenants/${bob.username}/rooms/app/modules`, { token: bob.access, body: { modules: [item] } });
    assertValidation(r, 'modules[0]');
  }
  assertStatus(await tenant(alice.username, '/mod/hidden/0.1.0/index.js'), 404, 'a private module is not served');
  assert.ok(!(await tenant(alice.username, '/_/modules.json')).json.some((m) => m.name === 'hidden'), 'nor listed');
  const own = await api('PUT', `/tenants/${alice.username}/rooms/home/modules`, {
    token: alice.access, body: { modules: [{ name: 'hidden', version: '0.1.0' }] },
  });
  assertStatus(own, 200, 'the owner installs her own private module');
  assert.deepEqual((await api('GET', `/tenants/${bob.username}/rooms/app/modules`, { token: bob.access })).json, res.json, 'refused installs left the lock alone');
});

test('deleting a module removes its R2 objects, gives usage back and stops serving it', async () => {
  const u = await register();
  const start = await usage(u);
  await createModule(u, 'temp');
  assertStatus(await publish(u, 'temp', '1.0.0', simpleVersion('temp', '1.0.0')), 201);
  assertStatus(await publish(u, 'temp', '1.0.1', simpleVersion('temp', '1.0.1')), 201);
  const prefix = `t/${tenantId(u.username)}/m/${moduleId(u.username, 'temp')}/`;
  assert.equal(keysUnder(prefix).length, 6, 'two versions of three files in R2');
  assert.equal((await usage(u)).files, start.files + 6);

  const res = await api('DELETE', `/tenants/${u.username}/modules/temp`, { token: u.access });

  assertStatus(res, 204);
  assert.deepEqual(keysUnder(prefix), []);
  const end = await usage(u);
  assert.equal(end.bytes, start.bytes);
  assert.equal(end.files, start.files);
  assertStatus(await tenant(u.username, '/mod/temp/1.0.0/index.js'), 404);
  assertStatus(await api('GET', `/tenants/${u.username}/modules/temp`, { token: u.access }), 404);
  assertStatus(await api('DELETE', `/tenants/${u.username}/modules/temp`, { token: u.access }), 404);
  await createModule(u, 'temp');
  assertStatus(await publish(u, 'temp', '1.0.0', simpleVersion('temp', '1.0.0')), 201, 'a fresh module of the same name');
});

test('an upload over 25 MiB is 413, private modules are listed to members only', async () => {
  const u = await register();
  await createModule(u, 'huge');
  await createModule(u, 'quiet', { visibility: 'private' });
  const big = zip([{ name: 'module.json', data: manifest('huge', '1.0.0') }, { name: 'index.js', data: Buffer.alloc(26 * 1024 * 1024, 7) }]);
  assertError(await publish(u, 'huge', '1.0.0', big), 413, 'PAYLOAD_TOO_LARGE');
  assertStatus(await publish(u, 'huge', '1.0.0', simpleVersion('huge', '1.0.0')), 201, 'the version is still free');

  const mine = await api('GET', `/tenants/${u.username}/modules`, { token: u.access });
  assert.deepEqual(mine.json.map((m) => [m.name, m.visibility]), [['huge', 'public'], ['quiet', 'private']]);
  const stranger = await register();
  assertStatus(await api('GET', `/tenants/${u.username}/modules`, { token: stranger.access }), 404);
  assertStatus(await api('GET', `/tenants/${u.username}/modules/quiet`, { token: stranger.access }), 404);
  assertStatus(await publish(stranger, 'huge', '2.0.0', simpleVersion('huge', '2.0.0'), { tenantSlug: u.username }), 404, 'strangers cannot publish');
  assert.deepEqual((await tenant(u.username, '/_/modules.json')).json.map((m) => m.name), ['huge']);
});

test('latest is the highest version by semver, not the newest upload; a module installs once per room', async () => {
  const u = await register();
  await createModule(u, 'order');
  for (const v of ['1.10.0', '1.9.0', '2.0.0-rc.1', '1.10.1-beta']) assertStatus(await publish(u, 'order', v, simpleVersion('order', v)), 201, v);
  const got = await api('GET', `/tenants/${u.username}/modules/order`, { token: u.access });
  assert.equal(got.json.latest, '2.0.0-rc.1');
  assertStatus(await publish(u, 'order', '2.0.0', simpleVersion('order', '2.0.0')), 201);
  assert.equal((await api('GET', `/tenants/${u.username}/modules/order`, { token: u.access })).json.latest, '2.0.0', 'a release outranks its release candidate');
  const twice = await api('PUT', `/tenants/${u.username}/rooms/home/modules`, {
    token: u.access, body: { modules: [{ name: 'order', version: '1.9.0' }, { name: 'order', version: '1.10.0' }] },
  });
  assertValidation(twice, 'modules[1]');
});
