// Account deletion: needs the password, ends everything at once, frees the name,
// and removes every R2 object of the personal tenant.

import assert from 'node:assert/strict';
import {
  test, api, register, registerVerified, login, loginOk, me, tenant, refreshWith, uniqueName, emailFor, describeRes,
} from '../lib/client.mjs';
import { assertStatus, assertError, assertUnauthenticated } from '../lib/expect.mjs';
import { r2Keys, prefixCounts } from '../lib/r2.mjs';

function deleteMe(token, password) {
  return api('DELETE', '/me', { token, body: { password } });
}

/** Waits until the tenant's pages answer 200, i.e. the tree is provisioned. */
async function provisioned(name) {
  for (const p of ['/', '/mod/index.html', '/media/index.html']) {
    const res = await tenant(name, p);
    assertStatus(res, 200, `tenant page ${p}`);
  }
}

test('deleting the account with a wrong password answers 403 and deletes nothing', async () => {
  const u = await register();

  const res = await deleteMe(u.access, `${u.password}x`);

  assertError(res, 403, 'INVALID_CREDENTIALS');
  assertStatus(await me(u.access), 200);
  assertStatus(await tenant(u.username, '/'), 200);
});

test('deleting the account without a password is refused', async () => {
  const u = await register();

  const res = await api('DELETE', '/me', { token: u.access, body: {} });

  assert.ok([403, 422].includes(res.status), describeRes(res));
  assertStatus(await me(u.access), 200);
});

test('a deleted account is gone at once: sessions, tokens, login and subdomain', async () => {
  const u = await registerVerified();
  const other = await loginOk(u.username, u.password);
  const pat = (await api('POST', '/me/tokens', { token: u.access, body: { name: 'ci', scope: 'write' } })).json;
  assert.ok(pat?.token, 'a PAT was created');
  await provisioned(u.username);

  const res = await deleteMe(u.access, u.password);

  assertStatus(res, 204);
  assert.equal(res.body.length, 0);
  assertUnauthenticated(await me(u.access));
  assertUnauthenticated(await me(other.access));
  assertUnauthenticated(await me(pat.token));
  assertStatus(await refreshWith(u.refresh), 401);
  assertStatus(await refreshWith(other.refresh), 401);
  assertError(await login(u.username, u.password), 401, 'INVALID_CREDENTIALS');
  assertError(await login(u.email, u.password), 401, 'INVALID_CREDENTIALS');
  for (const p of ['/', '/rooms/home/', '/mod/index.html', '/media/index.html', '/_/rooms.json']) {
    const page = await tenant(u.username, p);
    assertStatus(page, 404, `tenant ${p} after deletion`);
  }
});

test('a deleted username and email can be registered again by someone else, with a fresh tenant', async () => {
  const u = await register({ display_name: 'First Owner' });
  await provisioned(u.username);
  assertStatus(await deleteMe(u.access, u.password), 204);

  const again = await api('POST', '/auth/register', {
    body: { username: u.username, email: u.email, password: `${u.password}-new`, display_name: 'Second Owner' },
  });

  assertStatus(again, 201);
  assert.notEqual(again.json.user.id, u.user.id, 'a new user');
  assert.equal(again.json.user.display_name, 'Second Owner');
  await provisioned(u.username);
  const rooms = await tenant(u.username, '/_/rooms.json');
  const list = Array.isArray(rooms.json) ? rooms.json : rooms.json?.rooms;
  assert.ok(list?.some((r) => r.slug === 'home'), rooms.text);
  assertError(await login(u.username, u.password), 401, 'INVALID_CREDENTIALS');
  assertStatus(await login(u.username, `${u.password}-new`), 200);
});

test('deleting the account removes every R2 object of its tenant', async () => {
  // Other test files register users concurrently, so the new tenant's prefix is found
  // as one of the prefixes that appear while this user registers; exactly one of them
  // must disappear with the deletion, and no other tenant's prefix may vanish (only
  // this file deletes accounts, and its tests run one after another).
  const name = uniqueName('gone');
  const before = prefixCounts(r2Keys());
  const u = await register({ username: name, email: emailFor(name) });
  await provisioned(u.username);
  const during = prefixCounts(r2Keys());
  const candidates = [...during.keys()].filter((p) => !before.has(p));
  assert.ok(candidates.length >= 1, 'registration stored objects under a new t/<tenant_id>/ prefix in R2');

  assertStatus(await deleteMe(u.access, u.password), 204);
  let after;
  let gone = [];
  for (let i = 0; i < 20; i++) {
    // Deletion of many objects may finish in the background (waitUntil); allow a few seconds.
    after = prefixCounts(r2Keys());
    gone = candidates.filter((p) => !after.has(p));
    if (gone.length >= 1) break;
    await new Promise((r) => setTimeout(r, 250));
  }

  assert.equal(gone.length, 1, `exactly the deleted tenant's prefix is emptied; left: ${JSON.stringify(candidates.map((p) => [p, after.get(p) ?? 0]))}`);
  const othersEmptied = [...during.keys()].filter((p) => p !== gone[0] && !after.has(p));
  assert.deepEqual(othersEmptied, [], 'no other tenant lost all its objects');
});
