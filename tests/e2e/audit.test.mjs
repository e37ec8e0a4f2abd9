// The audit log (docs/teams.md "Audit log"): who may read it, which events each audited
// action writes (action, actor, target, details), newest first with cursor paging,
// account events visible only to their own user, no secrets, append-only storage that
// refuses deleting young events, and the events of deletions (organisations, accounts).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  test, api, register, registerVerified, login, loginOk, strongPassword, uniqueName, currentIp, describeRes,
  request, outbox, nextMail, OTP_RE, BASE,
} from '../lib/client.mjs';
import { assertStatus, assertError, assertValidation, assertId, assertTime } from '../lib/expect.mjs';
import { d1Live } from '../lib/d1.mjs';
import { roomApi, createRoom } from '../lib/rooms.mjs';
import {
  createOrg, addMember, patchMember, removeMember, auditRaw, auditPage, auditAll, waitForAudit, findEvent,
  putMedia, createPat, membersOf,
} from '../lib/teams.mjs';

/** Every action the spec's event table names. */
const AUDITED = new Set([
  'auth.sign_in', 'auth.sign_in_failed', 'account.password_changed', 'account.password_reset', 'account.email_changed',
  'token.created', 'token.deleted', 'tenant.created', 'tenant.updated', 'member.added', 'member.role_changed',
  'member.removed', 'room.created', 'room.visibility_changed', 'room.deleted', 'module.deleted', 'media.deleted',
  'room.private_read', 'tenant.deleted',
]);
const ACCOUNT_ACTIONS = ['auth.sign_in', 'auth.sign_in_failed', 'account.password_changed', 'account.password_reset',
  'account.email_changed', 'token.created', 'token.deleted', 'tenant.deleted'];

/** The shape every item has: {id, time, action, actor, target, ip, details}. */
function assertItem(e) {
  assertId(e.id, 'event id');
  assertTime(e.time, 'event time');
  assert.equal(typeof e.action, 'string');
  assert.ok(e.actor === null || (typeof e.actor === 'object' && typeof e.actor.username === 'string'), `actor is {username} or null: ${JSON.stringify(e)}`);
  assert.equal(typeof e.target, 'string');
  assert.equal(typeof e.ip, 'string');
  assert.ok('details' in e, `details present: ${JSON.stringify(e)}`);
}

/** Items are newest first. */
function assertNewestFirst(items) {
  for (let i = 1; i < items.length; i++) {
    assert.ok(Date.parse(items[i - 1].time) >= Date.parse(items[i].time), `newest first: ${items[i - 1].time} before ${items[i].time}`);
  }
}

test('only admins and the owner read the audit log; other roles 403, strangers 404', async () => {
  const [owner, admin, manager, member, viewer, stranger] = await Promise.all(Array.from({ length: 6 }, () => register()));
  const org = (await createOrg(owner.access)).slug;
  await addMember(owner.access, org, admin.username, 'admin');
  await addMember(owner.access, org, manager.username, 'manager');
  await addMember(owner.access, org, member.username, 'member');
  await addMember(owner.access, org, viewer.username, 'viewer');

  for (const [role, u] of [['owner', owner], ['admin', admin]]) {
    const res = await auditRaw(u.access, org);
    assertStatus(res, 200, role);
    assert.ok(Array.isArray(res.json.items), `${role}: items is a list`);
    assert.ok('cursor' in res.json, `${role}: cursor is present`);
    assert.ok(findEvent(res.json.items, 'tenant.created', org), `${role} sees tenant.created: ${res.text}`);
  }
  for (const [role, u] of [['manager', manager], ['member', member], ['viewer', viewer]]) {
    const res = await auditRaw(u.access, org);
    assert.equal(res.status, 403, `${role}: ${describeRes(res)}`);
    assertError(res, 403, 'FORBIDDEN');
  }
  assertError(await auditRaw(stranger.access, org), 404, 'NOT_FOUND');
  assertError(await auditRaw(admin.access, owner.username), 404, 'NOT_FOUND');
  assertStatus(await auditRaw(undefined, org), 401);
});

test('account events: sign-in, failed sign-in, tokens, password and email go to the personal tenant; no secrets', async () => {
  const alice = await registerVerified();
  const t = alice.username;
  const wrongPassword = strongPassword();
  const newPassword = strongPassword();
  const newEmail = `${uniqueName('new')}@example.test`;

  const session = await loginOk(alice.username, alice.password);
  assertError(await login(alice.username, wrongPassword), 401, 'INVALID_CREDENTIALS');
  // Written after the response: wait for it before the next event, so the order is known.
  await waitForAudit(alice.access, t, (items) => findEvent(items, 'auth.sign_in_failed'), { what: 'auth.sign_in_failed' });
  const pat = await createPat(alice.access, { name: 'ci', scope: 'read' });
  assertStatus(await api('DELETE', `/me/tokens/${pat.id}`, { token: alice.access }), 204);
  assertStatus(await api('POST', '/me/password', { token: alice.access, body: { current_password: alice.password, new_password: newPassword } }), 204);
  const patched = await api('PATCH', '/me', { token: alice.access, body: { email: newEmail, current_password: newPassword } });
  assertStatus(patched, 200, 'email change');

  const res = await auditRaw(alice.access, t, { limit: 200 });
  assertStatus(res, 200);
  const items = res.json.items;
  items.forEach(assertItem);
  assertNewestFirst(items);
  const order = ['account.email_changed', 'account.password_changed', 'token.deleted', 'token.created', 'auth.sign_in_failed', 'auth.sign_in'];
  const found = order.map((action) => items.findIndex((e) => e.action === action));
  assert.ok(found.every((i) => i >= 0), `every account event is logged: ${JSON.stringify(items.map((e) => e.action))}`);
  assert.deepEqual([...found].sort((a, b) => a - b), found, `newest first: ${JSON.stringify(items.map((e) => e.action))}`);
  for (const action of order) {
    const e = items[found[order.indexOf(action)]];
    assert.equal(e.target, alice.username, `${action} target: ${JSON.stringify(e)}`);
    if (action !== 'auth.sign_in_failed') assert.equal(e.actor?.username, alice.username, `${action} actor: ${JSON.stringify(e)}`);
    assert.equal(e.ip, currentIp(), `${action} ip: ${JSON.stringify(e)}`);
  }

  // No secrets anywhere in the log's JSON.
  const text = res.text;
  const secrets = {
    'the token': pat.token,
    'the token without its prefix': pat.token.slice('rooom_pat_'.length),
    'the old password': alice.password,
    'the new password': newPassword,
    'the wrong password': wrongPassword,
    'an access token': session.access,
    'a refresh token': session.refresh,
  };
  for (const [what, secret] of Object.entries(secrets)) {
    assert.ok(secret && secret.length > 10, `${what} is known`);
    assert.ok(!text.includes(secret), `the audit log contains ${what}`);
  }
});

test('organisation events: tenant, members, rooms, modules and media, with actor, target and details', async () => {
  const [alice, bob] = await Promise.all([register(), register()]);
  const org = (await createOrg(alice.access, undefined, { display_name: 'Audit Org' })).slug;
  const T = `/tenants/${org}`;

  assertStatus(await api('PATCH', T, { token: alice.access, body: { display_name: 'Renamed Org' } }), 200);
  await addMember(alice.access, org, bob.username, 'viewer');
  assertStatus(await patchMember(alice.access, org, bob.username, 'member'), 200);
  await createRoom(bob.access, org, { slug: 'bobs' });
  assertError(await auditRaw(bob.access, org), 403, 'FORBIDDEN');
  await createRoom(alice.access, org, { slug: 'r1' });
  assertStatus(await api('PATCH', roomApi(org, 'r1'), { token: alice.access, body: { visibility: 'private' } }), 200);
  assertStatus(await api('DELETE', roomApi(org, 'r1'), { token: alice.access }), 204);
  assertStatus(await api('POST', `${T}/modules`, { token: alice.access, body: { name: 'm1' } }), 201);
  assertStatus(await api('DELETE', `${T}/modules/m1`, { token: alice.access }), 204);
  assertStatus(await putMedia(alice.access, org, 'docs/a.txt', 'hello'), 201);
  assertStatus(await api('DELETE', `${T}/media/docs/a.txt`, { token: alice.access }), 204);
  assertStatus(await removeMember(alice.access, org, bob.username), 204);

  const items = await auditAll(alice.access, org);
  items.forEach(assertItem);
  assertNewestFirst(items);
  const A = alice.username;
  const B = bob.username;
  const expected = [
    ['tenant.created', org, A],
    ['tenant.updated', org, A],
    ['member.added', B, A],
    ['member.role_changed', B, A],
    ['room.created', 'bobs', B],
    ['room.created', 'r1', A],
    ['room.visibility_changed', 'r1', A],
    ['room.deleted', 'r1', A],
    ['module.deleted', 'm1', A],
    ['media.deleted', 'docs/a.txt', A],
    ['member.removed', B, A],
  ].reverse();
  const audited = items.filter((e) => AUDITED.has(e.action));
  assert.deepEqual(audited.map((e) => [e.action, e.target, e.actor?.username]), expected, 'the events, newest first');
  for (const e of audited) assert.equal(e.ip, currentIp(), `ip of ${e.action}`);
  const values = (e) => Object.values(e.details ?? {});
  const added = findEvent(items, 'member.added');
  assert.ok(values(added).includes('viewer'), `member.added carries the role: ${JSON.stringify(added)}`);
  const changed = findEvent(items, 'member.role_changed');
  assert.ok(values(changed).includes('viewer') && values(changed).includes('member'), `member.role_changed carries both roles: ${JSON.stringify(changed)}`);
  const removed = findEvent(items, 'member.removed');
  assert.ok(values(removed).includes('member'), `member.removed carries the role: ${JSON.stringify(removed)}`);
  const vis = findEvent(items, 'room.visibility_changed');
  assert.equal(vis.details?.from, 'public', JSON.stringify(vis));
  assert.equal(vis.details?.to, 'private', JSON.stringify(vis));
  assert.ok(!items.some((e) => ACCOUNT_ACTIONS.includes(e.action)), 'no account events in an organisation');
});

test('paging: limit and cursor walk every event once, newest first, ending with a null cursor', async () => {
  const alice = await register();
  const org = (await createOrg(alice.access)).slug;
  for (const slug of ['p1', 'p2', 'p3', 'p4', 'p5']) await createRoom(alice.access, org, { slug });
  assertStatus(await api('PATCH', `/tenants/${org}`, { token: alice.access, body: { display_name: 'Paged' } }), 200);
  const all = await auditAll(alice.access, org);
  assert.ok(all.length >= 7, `at least 7 events: ${JSON.stringify(all.map((e) => e.action))}`);
  assert.equal(new Set(all.map((e) => e.id)).size, all.length, 'ids are unique');
  const firstDefault = await auditPage(alice.access, org);
  assert.deepEqual(firstDefault.items.map((e) => e.id), all.map((e) => e.id).slice(0, 50), 'the default page');
  assert.equal(firstDefault.cursor, null, 'one page holds them all by default');

  const walked = [];
  let cursor = null;
  let pages = 0;
  do {
    const page = await auditPage(alice.access, org, cursor ? { limit: 2, cursor } : { limit: 2 });
    pages += 1;
    assert.ok(page.items.length <= 2, `a page holds at most 2: ${page.items.length}`);
    assert.ok(page.items.length > 0, 'no empty page');
    walked.push(...page.items);
    assert.ok(page.cursor === null || typeof page.cursor === 'string', `cursor is a string or null: ${page.cursor}`);
    cursor = page.cursor;
    assert.ok(pages <= all.length, 'the walk ends');
  } while (cursor);

  assert.equal(pages, Math.ceil(all.length / 2));
  assert.deepEqual(walked.map((e) => e.id), all.map((e) => e.id), 'the pages together are the whole log, in order');
  assert.equal(new Set(walked.map((e) => e.id)).size, walked.length, 'no duplicates');
  assertNewestFirst(walked);
  const one = await auditPage(alice.access, org, { limit: 1 });
  assert.equal(one.items.length, 1);
  assert.equal(one.items[0].id, all[0].id);
  assert.equal(typeof one.cursor, 'string');

  for (const limit of ['0', '201', '-1', 'ten', '1.5']) {
    assertValidation(await auditRaw(alice.access, org, { limit }), 'limit');
  }
  for (const junk of ['abc', 'x_y', "1_' OR 1=1 --", `${Date.now()}_not-a-uuid`]) {
    assertValidation(await auditRaw(alice.access, org, { cursor: junk }), 'cursor');
  }
  assertStatus(await auditRaw(alice.access, org, { limit: '200' }), 200);
});

test('account events stay private: an admin of alice’s personal tenant does not see her sign-ins or tokens', async () => {
  const [alice, carol] = await Promise.all([registerVerified(), register()]);
  await loginOk(alice.username, alice.password);
  const pat = await createPat(alice.access, { name: 'private', scope: 'read' });
  await addMember(alice.access, alice.username, carol.username, 'admin');
  await createRoom(carol.access, alice.username, { slug: 'carols' });

  const carolView = await auditAll(carol.access, alice.username);

  const added = findEvent(carolView, 'member.added', carol.username);
  assert.ok(added, `carol sees member.added: ${JSON.stringify(carolView)}`);
  assert.equal(added.actor?.username, alice.username);
  assert.equal(findEvent(carolView, 'room.created', 'carols')?.actor?.username, carol.username, 'carol sees room.created');
  const leaked = carolView.filter((e) => ACCOUNT_ACTIONS.includes(e.action));
  assert.deepEqual(leaked, [], 'no account events of alice for carol');
  assert.ok(!JSON.stringify(carolView).includes(pat.id), 'not even the token id');

  const aliceView = await auditAll(alice.access, alice.username);
  const sign = findEvent(aliceView, 'auth.sign_in', alice.username);
  assert.ok(sign, `alice sees her sign-in: ${JSON.stringify(aliceView.map((e) => e.action))}`);
  assert.equal(sign.actor?.username, alice.username);
  assert.ok(findEvent(aliceView, 'token.created', alice.username), 'alice sees token.created');
  assert.ok(findEvent(aliceView, 'member.added', carol.username), 'alice sees member.added');
  assert.ok(findEvent(aliceView, 'room.created', 'carols'), 'alice sees room.created');
  const carolsOwn = await auditAll(carol.access, carol.username);
  assert.ok(!carolsOwn.some((e) => e.actor?.username === alice.username), 'nothing of alice in carol’s own log');
});

test('the log is append-only: an UPDATE is refused by the trigger and the row stays', async () => {
  const alice = await register();
  const org = (await createOrg(alice.access)).slug;
  const [event] = (await auditPage(alice.access, org, { limit: 1 })).items;
  assert.equal(event?.action, 'tenant.created', `the newest event: ${JSON.stringify(event)}`);

  await assert.rejects(
    d1Live([["UPDATE audit_events SET action = 'x' WHERE id = ?", [event.id]]]),
    /append-only/,
    'UPDATE audit_events must fail',
  );
  await assert.rejects(
    d1Live([["UPDATE audit_events SET details = '{}', actor_name = 'mallory' WHERE id = ?", [event.id]]]),
    /append-only/,
    'UPDATE of any column must fail',
  );

  const [rows] = await d1Live([['SELECT action, actor_name FROM audit_events WHERE id = ?', [event.id]]]);
  assert.deepEqual(rows, [['tenant.created', alice.username]], 'the row is unchanged');
  const again = (await auditPage(alice.access, org, { limit: 1 })).items[0];
  assert.deepEqual(again, event, 'the API still shows the original event');
});

test('events are deleted with their organisation', async () => {
  const alice = await register();
  const created = await createOrg(alice.access);
  await createRoom(alice.access, created.slug, { slug: 'r' });
  const count = async () => Number((await d1Live([['SELECT count(*) FROM audit_events WHERE tenant_id = ?', [created.id]]]))[0][0][0]);
  assert.ok((await count()) >= 2, 'the organisation has events');

  assertStatus(await api('DELETE', `/tenants/${created.slug}`, { token: alice.access }), 204);

  assert.equal(await count(), 0, 'no events of a deleted organisation remain');
});

const DAY = 24 * 3_600_000;
const countEvents = async (tenantId) =>
  Number((await d1Live([['SELECT count(*) FROM audit_events WHERE tenant_id = ?', [tenantId]]]))[0][0][0]);

test('young events cannot be deleted while their tenant exists; the hourly purge still deletes old ones', async () => {
  const alice = await register();
  const created = await createOrg(alice.access);
  const [event] = (await auditPage(alice.access, created.slug, { limit: 1 })).items;
  assert.equal(event?.action, 'tenant.created');
  const now = Date.now();
  const seed = (id, age) => [
    `INSERT INTO audit_events (id, tenant_id, action, target, created_at) VALUES (?, ?, 'room.created', 'seeded', ${now - age})`,
    [id, created.id],
  ];
  const [young, old] = [crypto.randomUUID(), crypto.randomUUID()];
  await d1Live([seed(young, 399 * DAY)]);

  await assert.rejects(d1Live([['DELETE FROM audit_events WHERE id = ?', [event.id]]]), /kept for 400 days/, 'a new event');
  await assert.rejects(d1Live([['DELETE FROM audit_events WHERE id = ?', [young]]]), /kept for 400 days/, 'a 399-day-old event');
  await assert.rejects(d1Live([['DELETE FROM audit_events WHERE tenant_id = ?', [created.id]]]), /kept for 400 days/, 'all at once');
  const [rows] = await d1Live([['SELECT count(*) FROM audit_events WHERE tenant_id = ?', [created.id]]]);
  assert.equal(Number(rows[0][0]), 2, 'the refused deletes deleted nothing');
  // Seeded only now: another test's purge may run at any time.
  await d1Live([seed(old, 401 * DAY)]);

  const cron = await request(`${BASE}/__scheduled?cron=${encodeURIComponent('17 * * * *')}`);

  assertStatus(cron, 200);
  const [left] = await d1Live([['SELECT id FROM audit_events WHERE id IN (?, ?, ?)', [event.id, young, old]]]);
  assert.deepEqual(left.map((r) => r[0]).sort(), [event.id, young].sort(), 'the purge took the 401-day-old event only');
});

test('deleting an organisation writes tenant.deleted to the owner’s personal log, for the owner only', async () => {
  const [alice, carol] = await Promise.all([register(), register()]);
  const created = await createOrg(alice.access, undefined, { display_name: 'Gone Soon' });
  await createRoom(alice.access, created.slug, { slug: 'r' });
  await addMember(alice.access, alice.username, carol.username, 'admin');
  assert.ok((await countEvents(created.id)) >= 2, 'the organisation has events');

  assertStatus(await api('DELETE', `/tenants/${created.slug}`, { token: alice.access }), 204);

  assert.equal(await countEvents(created.id), 0, 'its own events went with it');
  const mine = await auditAll(alice.access, alice.username);
  const gone = findEvent(mine, 'tenant.deleted', created.slug);
  assert.ok(gone, `tenant.deleted in alice's log: ${JSON.stringify(mine.map((e) => e.action))}`);
  assertItem(gone);
  assert.equal(gone.actor?.username, alice.username);
  assert.equal(gone.ip, currentIp());
  assert.equal(gone.details?.rooms, 2, `home and r: ${JSON.stringify(gone)}`);
  assert.equal(gone.details?.display_name, 'Gone Soon');
  const carolView = await auditAll(carol.access, alice.username);
  assert.ok(!findEvent(carolView, 'tenant.deleted'), 'another admin of alice’s tenant does not see it');
});

test('deleting an account writes member.removed to every other tenant it belonged to; its own log goes with it', async () => {
  const [alice, bob, carol] = await Promise.all([register(), register(), register()]);
  const org = (await createOrg(alice.access)).slug;
  await addMember(alice.access, org, bob.username, 'member');
  await addMember(carol.access, carol.username, bob.username, 'viewer');
  await loginOk(bob.username, bob.password);
  const [[bobTenant]] = await d1Live([['SELECT id FROM tenants WHERE slug = ?', [bob.username]]]);
  assert.ok((await countEvents(bobTenant[0])) >= 1, 'bob has events of his own');

  assertStatus(await api('DELETE', '/me', { token: bob.access, body: { password: bob.password } }), 204);

  for (const [u, t, role] of [[alice, org, 'member'], [carol, carol.username, 'viewer']]) {
    const items = await auditAll(u.access, t);
    const removed = findEvent(items, 'member.removed', bob.username);
    assert.ok(removed, `member.removed of bob in ${t}: ${JSON.stringify(items.map((e) => e.action))}`);
    assertItem(removed);
    assert.deepEqual(removed.details, { role, account_deleted: true });
    assert.equal(removed.actor?.username, bob.username, 'the account’s own act, under its last name');
    assert.equal(removed.ip, currentIp());
  }
  assert.equal(await countEvents(bobTenant[0]), 0, 'the personal tenant’s events went with it');
  assert.deepEqual((await membersOf(alice.access, org)).map((m) => m.username), [alice.username]);
});

test('a failed code sign-in to an existing account is audited, and answers like an unknown address', async () => {
  const u = await register();
  const before = await outbox(u.email);
  assertStatus(await api('POST', '/auth/otp/request', { body: { email: u.email } }), 202);
  const { match } = await nextMail(u.email, OTP_RE, before);
  const wrong = String((Number(match[1]) + 1) % 1_000_000).padStart(6, '0');

  const known = await api('POST', '/auth/otp/verify', { body: { email: u.email, code: wrong } });
  const unknown = await api('POST', '/auth/otp/verify', { body: { email: `${uniqueName('nobody')}@example.test`, code: wrong } });

  assertError(known, 401, 'INVALID_CREDENTIALS');
  assertError(unknown, 401, 'INVALID_CREDENTIALS');
  assert.equal(known.text, unknown.text, 'the same answer');
  const failed = await waitForAudit(u.access, u.username, (items) => findEvent(items, 'auth.sign_in_failed'), { what: 'auth.sign_in_failed' });
  assertItem(failed);
  assert.deepEqual(failed.details, { method: 'code' });
  assert.equal(failed.target, u.username);
  assert.equal(failed.ip, currentIp());
  const text = JSON.stringify(await auditAll(u.access, u.username));
  assert.ok(!text.includes(match[1]) && !text.includes(wrong), 'no codes in the log');
});
