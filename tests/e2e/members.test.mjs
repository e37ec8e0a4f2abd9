// Organisation tenants, members and roles (docs/teams.md): creating and deleting
// organisations, the slug namespace shared with usernames, the one-owner rule, the role
// table for every route family, member management below one's own role, and strangers
// seeing nothing.

import assert from 'node:assert/strict';
import {
  test, api, register, registerVerified, tenant, tenantUrl, uniqueName, describeRes, sleep,
} from '../lib/client.mjs';
import { assertStatus, assertError, assertValidation, assertId, assertTime } from '../lib/expect.mjs';
import { roomApi, createRoom, putFile, putFileOk, getFile } from '../lib/rooms.mjs';
import {
  ROLES, orgSlug, postTenant, createOrg, tenantsOf, addMember, addMemberRaw, patchMember, removeMember,
  membersOf, auditRaw, auditAll, publishVersion, putMedia, createPat, heldRequest,
} from '../lib/teams.mjs';

const rank = (role) => ROLES.indexOf(role);

// ---------------------------------------------------------------- organisations

test('POST /tenants creates an organisation owned by the caller, served on its own host', async () => {
  const alice = await register();
  const slug = orgSlug();

  const res = await postTenant(alice.access, { slug, display_name: 'The Studio' });

  assertStatus(res, 201);
  const org = res.json;
  assertId(org.id, 'tenant id');
  assert.equal(org.slug, slug);
  assert.equal(org.kind, 'organisation');
  assert.equal(org.role, 'owner');
  assert.equal(org.display_name, 'The Studio');
  assert.equal(org.url, tenantUrl(slug, '/'));
  assert.equal(org.home_room, 'home');
  assert.equal(typeof org.plan, 'string');
  assertTime(org.created_at, 'created_at');
  const entrance = await tenant(slug, '/');
  assertStatus(entrance, 200, 'the new tenant’s entrance page');
  assert.match(entrance.headers.get('content-type') ?? '', /text\/html/);
  assertStatus(await tenant(slug, '/mod/'), 200, 'its module page');
  assertStatus(await tenant(slug, '/media/'), 200, 'its media page');

  const list = await tenantsOf(alice.access);
  const listed = list.find((t) => t.slug === slug);
  assert.ok(listed, `GET /tenants lists the organisation: ${JSON.stringify(list)}`);
  assert.equal(listed.role, 'owner');
  assert.equal(listed.kind, 'organisation');
  const personal = list.find((t) => t.slug === alice.username);
  assert.ok(personal, 'the personal tenant is still listed');
  assert.equal(personal.kind, 'personal');
  assert.equal(personal.role, 'owner');
  const members = await membersOf(alice.access, slug);
  assert.deepEqual(members.map((m) => [m.username, m.role]), [[alice.username, 'owner']]);
  const rooms = await api('GET', `/tenants/${slug}/rooms`, { token: alice.access });
  assertStatus(rooms, 200);
  assert.deepEqual(rooms.json.map((r) => r.slug), ['home'], 'a public home room, like a personal tenant');
  assert.equal(rooms.json[0].visibility, 'public');
});

test('organisation slugs: username rules, reserved names refused, one namespace with usernames', async () => {
  const [alice, other] = await Promise.all([register(), register()]);

  for (const slug of ['ab', 'a_b', 'Ab C', '-abc', 'abc-', 'a--b', 'x'.repeat(33), 'admin', 'www', 'api', 'rooms', '', 42]) {
    assertValidation(await postTenant(alice.access, { slug }), 'slug');
  }
  assertValidation(await postTenant(alice.access, {}), 'slug');
  assertError(await postTenant(alice.access, { slug: other.username }), 409, 'TENANT_TAKEN');
  assertError(await postTenant(alice.access, { slug: alice.username }), 409, 'TENANT_TAKEN');
  const org = await createOrg(alice.access);
  assertError(await postTenant(alice.access, { slug: org.slug }), 409, 'TENANT_TAKEN');
  assertError(await postTenant(other.access, { slug: org.slug }), 409, 'TENANT_TAKEN');
  assertError(await postTenant(other.access, { slug: org.slug.toUpperCase() }), 409, 'TENANT_TAKEN');

  const res = await api('POST', '/auth/register', {
    body: { username: org.slug, email: `${uniqueName('x')}@example.test`, password: alice.password },
  });
  assertError(res, 409, 'USERNAME_TAKEN');
  const mine = (await tenantsOf(alice.access)).filter((t) => t.kind === 'organisation');
  assert.deepEqual(mine.map((t) => t.slug), [org.slug], 'refused slugs created nothing');
  assert.deepEqual((await tenantsOf(other.access)).map((t) => t.slug), [other.username]);
});

test('tokens: one scoped to a tenant, or a read token, cannot create organisations', async () => {
  const alice = await registerVerified();
  const scoped = await createPat(alice.access, { scope: 'write', tenant: alice.username });
  const read = await createPat(alice.access, { scope: 'read' });
  const write = await createPat(alice.access, { scope: 'write' });

  assertError(await postTenant(scoped.token, { slug: orgSlug() }), 403, 'INSUFFICIENT_SCOPE');
  assertError(await postTenant(read.token, { slug: orgSlug() }), 403, 'INSUFFICIENT_SCOPE');
  assertStatus(await postTenant(undefined, { slug: orgSlug() }), 401);

  assert.deepEqual((await tenantsOf(alice.access)).map((t) => t.slug), [alice.username], 'nothing was created');
  const slug = orgSlug();
  const ok = await postTenant(write.token, { slug });
  assertStatus(ok, 201, 'an unscoped write token may');
  assert.equal(ok.json.role, 'owner');
});

test('one user owns at most 10 organisations: the 11th is 403 TENANT_LIMIT', async () => {
  const alice = await register();
  const slugs = Array.from({ length: 10 }, () => orgSlug());

  const created = await Promise.all(slugs.map((slug) => postTenant(alice.access, { slug })));

  for (const res of created) assertStatus(res, 201, 'one of the first ten');
  const extra = orgSlug();
  assertError(await postTenant(alice.access, { slug: extra }), 403, 'TENANT_LIMIT');
  const list = await tenantsOf(alice.access);
  assert.deepEqual(
    list.filter((t) => t.kind === 'organisation').map((t) => t.slug).sort(),
    [...slugs].sort(),
    'ten organisations, not eleven',
  );
  assertStatus(await tenant(extra, '/'), 404, 'the refused slug has no host');
});

test('parallel creates stop at 10: the insert itself counts, so no race overshoots the cap', async () => {
  const alice = await register();
  const slugs = Array.from({ length: 14 }, () => orgSlug());

  const results = await Promise.all(slugs.map((slug) => postTenant(alice.access, { slug })));

  const created = slugs.filter((_, i) => results[i].status === 201);
  const refused = results.filter((res) => res.status !== 201);
  assert.equal(created.length, 10, `exactly ten created: ${results.map((r) => r.status).join(' ')}`);
  for (const res of refused) assertError(res, 403, 'TENANT_LIMIT');
  const owned = (await tenantsOf(alice.access)).filter((t) => t.kind === 'organisation');
  assert.deepEqual(owned.map((t) => t.slug).sort(), [...created].sort(), 'the ten that answered 201, no more');
  for (const slug of slugs.filter((s) => !created.includes(s))) {
    assertStatus(await tenant(slug, '/'), 404, `refused ${slug} has no host`);
    assertStatus(await postTenant((await register()).access, { slug }), 201, `refused ${slug} stays free`);
  }
});

// ---------------------------------------------------------------- members

test('a viewer reads everything, private rooms too, writes nothing; made a member, writes; and is told', async () => {
  const [alice, bob] = await Promise.all([register(), register()]);
  const org = (await createOrg(alice.access)).slug;
  await createRoom(alice.access, org, { slug: 'secret', visibility: 'private' });
  await putFileOk(alice.access, org, 'secret', 'plan.txt', 'the plan');
  const inboxBefore = (await api('GET', '/me/messages', { token: bob.access })).json;
  assertStatus(await api('GET', `/tenants/${org}`, { token: bob.access }), 404, 'not a member yet');

  const added = await addMemberRaw(alice.access, org, bob.username, 'viewer');

  assertStatus(added, 201);
  assert.equal(added.json.username, bob.username);
  assert.equal(added.json.role, 'viewer');
  assert.equal(typeof added.json.display_name, 'string');
  assertTime(added.json.created_at, 'member created_at');
  const listed = (await tenantsOf(bob.access)).find((t) => t.slug === org);
  assert.ok(listed, 'bob sees the organisation in GET /tenants');
  assert.equal(listed.role, 'viewer');
  assert.equal(listed.kind, 'organisation');
  const t = await api('GET', `/tenants/${org}`, { token: bob.access });
  assertStatus(t, 200);
  assert.equal(t.json.role, 'viewer');
  const rooms = await api('GET', `/tenants/${org}/rooms`, { token: bob.access });
  assertStatus(rooms, 200);
  assert.deepEqual(rooms.json.map((r) => r.slug).sort(), ['home', 'secret'], 'private rooms are listed for members');
  const file = await getFile(bob.access, org, 'secret', 'plan.txt');
  assertStatus(file, 200);
  assert.equal(file.text, 'the plan');
  assertError(await putFile(bob.access, org, 'secret', 'mine.txt', 'x'), 403, 'FORBIDDEN');
  assertError(await putFile(bob.access, org, 'home', 'mine.txt', 'x'), 403, 'FORBIDDEN');
  assertError(await api('POST', `/tenants/${org}/rooms`, { token: bob.access, body: { slug: 'bobs' } }), 403, 'FORBIDDEN');

  const inbox = await api('GET', '/me/messages', { token: bob.access });
  assertStatus(inbox, 200);
  const seen = new Set(inboxBefore.map((m) => m.id));
  const note = inbox.json.find((m) => !seen.has(m.id) && `${m.subject} ${m.body}`.includes(org));
  assert.ok(note, `a note about ${org} in bob's inbox: ${inbox.text}`);
  assert.equal(note.read, false);

  const patched = await patchMember(alice.access, org, bob.username, 'member');

  assertStatus(patched, 200);
  assert.equal(patched.json.role, 'member');
  assert.equal(patched.json.username, bob.username);
  assertStatus(await putFile(bob.access, org, 'secret', 'mine.txt', 'bob was here'), 201, 'a member writes');
  assert.equal((await getFile(alice.access, org, 'secret', 'mine.txt')).text, 'bob was here');
  assert.equal((await tenantsOf(bob.access)).find((x) => x.slug === org)?.role, 'member');
  const members = await membersOf(alice.access, org);
  assert.deepEqual(members.map((m) => [m.username, m.role]), [[alice.username, 'owner'], [bob.username, 'member']]);
});

test('the role table: each role against each representative action', async () => {
  const [owner, admin, manager, member, viewer, target] = await Promise.all(Array.from({ length: 6 }, () => register()));
  const users = { viewer, member, manager, admin, owner };
  const org = (await createOrg(owner.access)).slug;
  await Promise.all([
    addMember(owner.access, org, admin.username, 'admin'),
    addMember(owner.access, org, manager.username, 'manager'),
    addMember(owner.access, org, member.username, 'member'),
    addMember(owner.access, org, viewer.username, 'viewer'),
  ]);
  // Things for each role to act on, made by the owner.
  await Promise.all([
    (async () => {
      await createRoom(owner.access, org, { slug: 'secret', visibility: 'private' });
      await putFileOk(owner.access, org, 'secret', 'note.txt', 'private note');
    })(),
    ...ROLES.flatMap((role) => [
      createRoom(owner.access, org, { slug: `del-${role}` }),
      createRoom(owner.access, org, { slug: `vis-${role}` }),
      api('POST', `/tenants/${org}/modules`, { token: owner.access, body: { name: `dm-${role}` } }).then((r) => assertStatus(r, 201)),
    ]),
    api('POST', `/tenants/${org}/modules`, { token: owner.access, body: { name: 'shared' } }).then((r) => assertStatus(r, 201)),
    putMedia(owner.access, org, 'logo.txt', 'logo').then((r) => assertStatus(r, 201)),
  ]);

  const T = `/tenants/${org}`;
  const get = (p) => (u) => api('GET', `${T}${p}`, { token: u.access });
  const actions = [
    ['read the tenant', 'viewer', 200, get('')],
    ['list rooms', 'viewer', 200, get('/rooms')],
    ['read a private room', 'viewer', 200, get('/rooms/secret')],
    ['list a private room’s files', 'viewer', 200, get('/rooms/secret/files')],
    ['read a private file', 'viewer', 200, get('/rooms/secret/files/note.txt')],
    ['read members', 'viewer', 200, get('/members')],
    ['read usage', 'viewer', 200, get('/usage')],
    ['list modules', 'viewer', 200, get('/modules')],
    ['list media', 'viewer', 200, get('/media')],
    ['read a media file', 'viewer', 200, get('/media/logo.txt')],
    ['write a file', 'member', 201, (u, role) => putFile(u.access, org, 'home', `by-${role}.txt`, role)],
    ['write room data', 'member', 201, (u, role) => api('PUT', roomApi(org, 'home', `/meta/${role}`), { token: u.access, body: { by: role } })],
    ['create a room', 'member', 201, (u, role) => api('POST', `${T}/rooms`, { token: u.access, body: { slug: `new-${role}` } })],
    ['create a private room', 'member', 201, (u, role) => api('POST', `${T}/rooms`, { token: u.access, body: { slug: `priv-${role}`, visibility: 'private' } })],
    ['retitle a room', 'member', 200, (u, role) => api('PATCH', roomApi(org, `vis-${role}`), { token: u.access, body: { title: `Titled by ${role}` } })],
    ['create a module', 'member', 201, (u, role) => api('POST', `${T}/modules`, { token: u.access, body: { name: `mod-${role}` } })],
    ['publish a module version', 'member', 201, (u, role) => publishVersion(u.access, org, 'shared', `1.0.${rank(role)}`)],
    ['upload media', 'member', 201, (u, role) => putMedia(u.access, org, `up-${role}.txt`, role)],
    ['change tenant settings', 'admin', 200, (u, role) => api('PATCH', T, { token: u.access, body: { display_name: `Named by ${role}` } })],
    ['change a room’s visibility', 'admin', 200, (u, role) => api('PATCH', roomApi(org, `vis-${role}`), { token: u.access, body: { visibility: 'private' } })],
    ['delete a room', 'admin', 204, (u, role) => api('DELETE', roomApi(org, `del-${role}`), { token: u.access })],
    ['delete a module', 'admin', 204, (u, role) => api('DELETE', `${T}/modules/dm-${role}`, { token: u.access })],
    ['read the audit log', 'admin', 200, (u) => auditRaw(u.access, org)],
  ];

  const wrong = [];
  const check = (role, what, res, expectStatus, expectCodes) => {
    const code = res.json?.error?.code;
    const ok = res.status === expectStatus && (expectCodes === undefined || expectCodes.includes(code));
    if (!ok) wrong.push(`${role}: ${what} -> ${res.status} ${code ?? ''} (expected ${expectStatus}${expectCodes ? ` ${expectCodes.join('|')}` : ''}) ${res.text.slice(0, 160)}`);
  };
  for (const role of ROLES) {
    const u = users[role];
    for (const [what, least, okStatus, run] of actions) {
      const allowed = rank(role) >= rank(least);
      check(role, what, await run(u, role), allowed ? okStatus : 403, allowed ? undefined : ['FORBIDDEN']);
    }
    // Adding a member with each role: only roles below one's own, from manager up; never owner.
    for (const wanted of ROLES) {
      const res = await addMemberRaw(u.access, org, target.username, wanted);
      if (wanted === 'owner') {
        // Roles that manage nobody hear only that (FORBIDDEN); the others, the owner rule.
        check(role, `add an ${wanted}`, res, 403, rank(role) >= rank('manager') ? ['OWNER_FIXED'] : ['FORBIDDEN']);
      } else if (rank(role) >= rank('manager') && rank(wanted) < rank(role)) {
        check(role, `add a ${wanted}`, res, 201);
        if (res.status === 201) assertStatus(await removeMember(owner.access, org, target.username), 204, 'reset the target');
      } else {
        check(role, `add a ${wanted}`, res, 403, ['FORBIDDEN']);
      }
    }
  }
  // Deleting the tenant, last: everyone but the owner is refused.
  for (const role of ROLES.filter((r) => r !== 'owner')) {
    check(role, 'delete the tenant', await api('DELETE', T, { token: users[role].access }), 403, ['FORBIDDEN']);
  }
  check('owner', 'delete the tenant', await api('DELETE', T, { token: owner.access }), 204);

  assert.deepEqual(wrong, [], `role table mismatches:\n${wrong.join('\n')}`);
});

test('member changes: only below one’s own role, never the owner; validation, duplicates and non-members', async () => {
  const [owner, admin, manager, member, viewer, outsider] = await Promise.all(Array.from({ length: 6 }, () => register()));
  const org = (await createOrg(owner.access)).slug;
  await addMember(owner.access, org, admin.username, 'admin');
  await addMember(admin.access, org, manager.username, 'manager');
  await addMember(manager.access, org, member.username, 'member');
  await addMember(manager.access, org, viewer.username, 'viewer');
  const snapshot = async () => Object.fromEntries((await membersOf(owner.access, org)).map((m) => [m.username, m.role]));
  const start = {
    [owner.username]: 'owner', [admin.username]: 'admin', [manager.username]: 'manager',
    [member.username]: 'member', [viewer.username]: 'viewer',
  };
  assert.deepEqual(await snapshot(), start);

  // At or above one's own role: refused.
  assertError(await addMemberRaw(manager.access, org, outsider.username, 'manager'), 403, 'FORBIDDEN');
  assertError(await addMemberRaw(manager.access, org, outsider.username, 'admin'), 403, 'FORBIDDEN');
  assertError(await addMemberRaw(admin.access, org, outsider.username, 'admin'), 403, 'FORBIDDEN');
  assertError(await patchMember(manager.access, org, member.username, 'manager'), 403, 'FORBIDDEN');
  assertError(await patchMember(manager.access, org, admin.username, 'viewer'), 403, 'FORBIDDEN');
  assertError(await patchMember(manager.access, org, manager.username, 'viewer'), 403, 'FORBIDDEN');
  assertError(await removeMember(manager.access, org, admin.username), 403, 'FORBIDDEN');
  assertError(await patchMember(admin.access, org, admin.username, 'manager'), 403, 'FORBIDDEN');
  assertError(await patchMember(admin.access, org, member.username, 'admin'), 403, 'FORBIDDEN');
  // Viewers and members manage nobody.
  assertError(await patchMember(member.access, org, viewer.username, 'member'), 403, 'FORBIDDEN');
  assertError(await removeMember(member.access, org, viewer.username), 403, 'FORBIDDEN');
  assertError(await patchMember(viewer.access, org, member.username, 'viewer'), 403, 'FORBIDDEN');
  assertError(await addMemberRaw(member.access, org, outsider.username, 'viewer'), 403, 'FORBIDDEN');
  // Nobody adds or makes an owner.
  assertError(await patchMember(owner.access, org, admin.username, 'owner'), 403, 'OWNER_FIXED');
  assertError(await patchMember(admin.access, org, member.username, 'owner'), 403, 'OWNER_FIXED');
  assertError(await addMemberRaw(owner.access, org, outsider.username, 'owner'), 403, 'OWNER_FIXED');
  assert.deepEqual(await snapshot(), start, 'refused changes changed nothing');

  // Below one's own role: allowed.
  let res = await patchMember(manager.access, org, member.username, 'viewer');
  assertStatus(res, 200);
  assert.equal(res.json.role, 'viewer');
  assertStatus(await patchMember(manager.access, org, member.username, 'member'), 200);
  assertStatus(await patchMember(admin.access, org, manager.username, 'member'), 200);
  assertStatus(await patchMember(admin.access, org, manager.username, 'manager'), 200);
  assertStatus(await patchMember(owner.access, org, admin.username, 'manager'), 200);
  assertStatus(await patchMember(owner.access, org, admin.username, 'admin'), 200);
  assertStatus(await patchMember(owner.access, org, member.username, 'member'), 200, 'an unchanged role is fine');
  assert.deepEqual(await snapshot(), start);

  // Validation, duplicates, non-members.
  assertValidation(await addMemberRaw(owner.access, org, uniqueName('ghost'), 'viewer'), 'username');
  assertValidation(await addMemberRaw(owner.access, org, 'Not A Name!', 'viewer'), 'username');
  assertValidation(await api('POST', `/tenants/${org}/members`, { token: owner.access, body: { role: 'viewer' } }), 'username');
  for (const role of ['superuser', '', 'Owner ', 7]) {
    assertValidation(await addMemberRaw(owner.access, org, outsider.username, role), 'role');
    assertValidation(await patchMember(owner.access, org, member.username, role), 'role');
  }
  assertValidation(await api('POST', `/tenants/${org}/members`, { token: owner.access, body: { username: outsider.username } }), 'role');
  assertError(await addMemberRaw(owner.access, org, member.username, 'viewer'), 409, 'ALREADY_MEMBER');
  assertError(await addMemberRaw(manager.access, org, viewer.username, 'member'), 409, 'ALREADY_MEMBER');
  assertError(await patchMember(owner.access, org, outsider.username, 'viewer'), 404, 'NOT_FOUND');
  assertError(await removeMember(owner.access, org, outsider.username), 404, 'NOT_FOUND');
  assertError(await patchMember(owner.access, org, uniqueName('ghost'), 'viewer'), 404, 'NOT_FOUND');
  assertError(await removeMember(owner.access, org, uniqueName('ghost')), 404, 'NOT_FOUND');
  assert.deepEqual(await snapshot(), start, 'still the same members');

  assertStatus(await removeMember(manager.access, org, viewer.username), 204, 'a manager removes a viewer');
  assertStatus(await removeMember(admin.access, org, manager.username), 204, 'an admin removes a manager');
  assertStatus(await removeMember(owner.access, org, admin.username), 204, 'the owner removes an admin');
  assert.deepEqual(await snapshot(), { [owner.username]: 'owner', [member.username]: 'member' });
});

test('the one owner: never demoted or removed, cannot leave; others may leave', async () => {
  const [alice, adam, mia, vic] = await Promise.all([register(), register(), register(), register()]);
  const org = (await createOrg(alice.access)).slug;
  await addMember(alice.access, org, adam.username, 'admin');
  await addMember(alice.access, org, mia.username, 'member');
  await addMember(alice.access, org, vic.username, 'viewer');

  assertError(await patchMember(adam.access, org, alice.username, 'admin'), 403, 'OWNER_FIXED');
  assertError(await patchMember(adam.access, org, alice.username, 'viewer'), 403, 'OWNER_FIXED');
  const self = await patchMember(alice.access, org, alice.username, 'admin');
  assertStatus(self, 403, 'the owner cannot demote themself');
  assertError(self, 403, 'OWNER_FIXED');
  assertError(await removeMember(adam.access, org, alice.username), 403, 'OWNER_FIXED');
  assertError(await removeMember(alice.access, org, alice.username), 409, 'OWNER_CANNOT_LEAVE');
  assertError(await patchMember(alice.access, org, adam.username, 'owner'), 403, 'OWNER_FIXED');
  // A viewer or member manages nobody: FORBIDDEN, even about the owner.
  assertError(await patchMember(vic.access, org, alice.username, 'viewer'), 403, 'FORBIDDEN');
  assertError(await removeMember(mia.access, org, alice.username), 403, 'FORBIDDEN');
  assertError(await patchMember(mia.access, org, vic.username, 'owner'), 403, 'FORBIDDEN');

  const members = await membersOf(alice.access, org);
  assert.deepEqual(members.filter((m) => m.role === 'owner').map((m) => m.username), [alice.username], 'exactly one owner');
  assert.equal(members[0].username, alice.username, 'the owner is listed first');
  assert.equal(members.length, 4);
  assertStatus(await api('GET', `/tenants/${org}`, { token: alice.access }), 200, 'the owner is still in');

  assertStatus(await removeMember(mia.access, org, mia.username), 204, 'a member leaves');
  assertStatus(await removeMember(vic.access, org, vic.username), 204, 'a viewer leaves');
  assertStatus(await removeMember(adam.access, org, adam.username), 204, 'an admin leaves');
  for (const u of [mia, vic, adam]) {
    assertError(await api('GET', `/tenants/${org}`, { token: u.access }), 404, 'NOT_FOUND');
    assertError(await api('GET', `/tenants/${org}/rooms`, { token: u.access }), 404, 'NOT_FOUND');
    assert.ok(!(await tenantsOf(u.access)).some((t) => t.slug === org), `${u.username} no longer lists ${org}`);
  }
  assert.deepEqual((await membersOf(alice.access, org)).map((m) => [m.username, m.role]), [[alice.username, 'owner']]);
});

test('personal tenants use the same model: alice invites bob as a member, bob writes there', async () => {
  const [alice, bob] = await Promise.all([register(), register()]);
  assertError(await putFile(bob.access, alice.username, 'home', 'bob.txt', 'x'), 404, 'NOT_FOUND');

  await addMember(alice.access, alice.username, bob.username, 'member');

  const listed = (await tenantsOf(bob.access)).find((t) => t.slug === alice.username);
  assert.ok(listed, 'bob lists alice’s personal tenant');
  assert.equal(listed.kind, 'personal');
  assert.equal(listed.role, 'member');
  assertStatus(await putFile(bob.access, alice.username, 'home', 'bob.txt', 'from bob'), 201);
  assert.equal((await getFile(alice.access, alice.username, 'home', 'bob.txt')).text, 'from bob');
  assert.equal((await tenant(alice.username, '/bob.txt')).text, 'from bob', 'served on alice’s host');
  assertError(await api('DELETE', `/tenants/${alice.username}`, { token: bob.access }), 403, 'FORBIDDEN');
  assertError(await removeMember(bob.access, alice.username, alice.username), 403, 'FORBIDDEN');
  assert.deepEqual(
    (await membersOf(bob.access, alice.username)).map((m) => [m.username, m.role]),
    [[alice.username, 'owner'], [bob.username, 'member']],
  );
});

test('removing a member takes effect on the API at once', async () => {
  const [alice, bob] = await Promise.all([register(), register()]);
  const org = (await createOrg(alice.access)).slug;
  await createRoom(alice.access, org, { slug: 'secret', visibility: 'private' });
  await addMember(alice.access, org, bob.username, 'member');
  assertStatus(await api('GET', `/tenants/${org}/rooms`, { token: bob.access }), 200);
  assertStatus(await putFile(bob.access, org, 'secret', 'a.txt', 'a'), 201);

  assertStatus(await removeMember(alice.access, org, bob.username), 204);

  assertError(await api('GET', `/tenants/${org}/rooms`, { token: bob.access }), 404, 'NOT_FOUND');
  assertError(await getFile(bob.access, org, 'secret', 'a.txt'), 404, 'NOT_FOUND');
  assertError(await putFile(bob.access, org, 'secret', 'b.txt', 'b'), 404, 'NOT_FOUND');
  assert.ok(!(await tenantsOf(bob.access)).some((t) => t.slug === org));
  assertError(await removeMember(alice.access, org, bob.username), 404, 'NOT_FOUND');
  const back = await addMemberRaw(alice.access, org, bob.username, 'viewer');
  assertStatus(back, 201, 'a removed user can be added again');
  assert.equal(back.json.role, 'viewer');
});

// ---------------------------------------------------------------- deleting

test('DELETE /tenants/{org}: only the owner; host and slug are freed; personal tenants are 409', async () => {
  const [alice, adam, bob] = await Promise.all([register(), register(), register()]);
  const org = (await createOrg(alice.access)).slug;
  await addMember(alice.access, org, adam.username, 'admin');
  await createRoom(alice.access, org, { slug: 'garden' });
  await putFileOk(alice.access, org, 'garden', 'index.html', '<h1>garden</h1>', 200);
  assertStatus(await tenant(org, '/'), 200);
  assertStatus(await tenant(org, '/rooms/garden/'), 200);

  assertError(await api('DELETE', `/tenants/${org}`, { token: adam.access }), 403, 'FORBIDDEN');
  assertError(await api('DELETE', `/tenants/${org}`, { token: bob.access }), 404, 'NOT_FOUND');
  assertError(await api('DELETE', `/tenants/${alice.username}`, { token: alice.access }), 409, 'PERSONAL_TENANT');
  assertError(await api('DELETE', '/me', { token: alice.access, body: { password: alice.password } }), 409, 'OWNS_ORGANISATIONS');
  assertStatus(await api('GET', '/me', { token: alice.access }), 200, 'the account is still there');
  assertStatus(await tenant(org, '/'), 200, 'the organisation is still there');

  assertStatus(await api('DELETE', `/tenants/${org}`, { token: alice.access }), 204);

  assertStatus(await tenant(org, '/'), 404, 'the tenant host answers 404');
  assertStatus(await tenant(org, '/rooms/garden/'), 404);
  assertError(await api('GET', `/tenants/${org}`, { token: alice.access }), 404, 'NOT_FOUND');
  assertError(await api('GET', `/tenants/${org}/rooms`, { token: adam.access }), 404, 'NOT_FOUND');
  assert.ok(!(await tenantsOf(adam.access)).some((t) => t.slug === org), 'gone from the members’ lists');
  const again = await postTenant(bob.access, { slug: org });
  assertStatus(again, 201, 'the slug can be created again');
  assert.equal(again.json.role, 'owner');
  assert.deepEqual((await membersOf(bob.access, org)).map((m) => m.username), [bob.username], 'a fresh tenant, no old members');
  assertError(await api('GET', `/tenants/${org}/rooms/garden`, { token: bob.access }), 404, 'NOT_FOUND');

  assertStatus(await api('DELETE', '/me', { token: alice.access, body: { password: alice.password } }), 204, 'DELETE /me works once no organisation is owned');
  assertStatus(await tenant(alice.username, '/'), 404);
});

test('only a signed-in owner deletes an organisation: a personal access token gets 403 SESSION_REQUIRED', async () => {
  const alice = await registerVerified();
  const org = (await createOrg(alice.access)).slug;
  const unscoped = await createPat(alice.access, { scope: 'write' });
  const scoped = await createPat(alice.access, { scope: 'write', tenant: org });

  for (const pat of [unscoped, scoped]) {
    assertError(await api('DELETE', `/tenants/${org}`, { token: pat.token }), 403, 'SESSION_REQUIRED');
  }

  assertStatus(await tenant(org, '/'), 200, 'the organisation is still there');
  assertStatus(await api('GET', `/tenants/${org}`, { token: unscoped.token }), 200, 'the token still reads it');
  assertStatus(await api('DELETE', `/tenants/${org}`, { token: alice.access }), 204, 'the signed-in owner may');
  assertStatus(await tenant(org, '/'), 404);
});

test('a room-scoped token reads no tenant-wide lists: media, modules, usage, members, audit are 403', async () => {
  const alice = await registerVerified();
  const t = alice.username;
  await createRoom(alice.access, t, { slug: 'garden' });
  assertStatus(await putMedia(alice.access, t, 'logo.txt', 'logo'), 201);
  assertStatus(await api('POST', `/tenants/${t}/modules`, { token: alice.access, body: { name: 'kit' } }), 201);
  const room = await createPat(alice.access, { scope: 'read', tenant: t, room: 'garden' });
  const whole = await createPat(alice.access, { scope: 'read', tenant: t });
  const reads = ['/media', '/media/logo.txt', '/modules', '/modules/kit', '/usage', '/members', '/audit'];

  for (const p of reads) {
    assertError(await api('GET', `/tenants/${t}${p}`, { token: room.token }), 403, 'INSUFFICIENT_SCOPE');
    assertStatus(await api('GET', `/tenants/${t}${p}`, { token: whole.token }), 200, `a tenant-wide token reads ${p}`);
  }

  // What the token does reach: its room, and the tenant itself (as GET /tenants lists it).
  assertStatus(await api('GET', `/tenants/${t}/rooms/garden/files`, { token: room.token }), 200);
  const listed = await api('GET', `/tenants/${t}/rooms`, { token: room.token });
  assert.deepEqual(listed.json.map((r) => r.slug), ['garden']);
  const self = await api('GET', `/tenants/${t}`, { token: room.token });
  assertStatus(self, 200);
  assert.deepEqual(Object.keys(self.json).sort(), Object.keys((await tenantsOf(room.token))[0]).sort(), 'the same fields GET /tenants shows');
});

test('a manager demoted between the role check and the write changes nothing: 409 MEMBER_CHANGED', async () => {
  const [owner, manager, member, newcomer] = await Promise.all(Array.from({ length: 4 }, () => register()));
  const org = (await createOrg(owner.access)).slug;
  await addMember(owner.access, org, manager.username, 'manager');
  await addMember(owner.access, org, member.username, 'member');
  const roles = async () => Object.fromEntries((await membersOf(owner.access, org)).map((m) => [m.username, m.role]));

  // The handler checks the manager's role, then waits for the body; meanwhile the owner
  // demotes them; the write, conditional on the role checked, changes nothing.
  const attempts = [
    ['PATCH', `/tenants/${org}/members/${member.username}`, { role: 'viewer' }],
    ['POST', `/tenants/${org}/members`, { username: newcomer.username, role: 'viewer' }],
  ];
  for (const [method, path, body] of attempts) {
    assertStatus(await patchMember(owner.access, org, manager.username, 'manager'), 200, 'the manager is a manager');
    const held = heldRequest(method, path, manager.access, body);
    await sleep(1500);
    assertStatus(await patchMember(owner.access, org, manager.username, 'viewer'), 200, 'demoted meanwhile');
    held.release();
    const res = await held.response;
    assertError(res, 409, 'MEMBER_CHANGED');
  }

  assert.deepEqual(await roles(), { [owner.username]: 'owner', [manager.username]: 'viewer', [member.username]: 'member' });
  const log = await auditAll(owner.access, org);
  assert.ok(!log.some((e) => e.actor?.username === manager.username), `nothing by the demoted manager: ${JSON.stringify(log.map((e) => [e.action, e.actor?.username]))}`);
  const inbox = await api('GET', '/me/messages', { token: newcomer.access });
  assert.ok(!inbox.json.some((m) => `${m.subject} ${m.body}`.includes(org)), 'no note for the newcomer');
});

// ---------------------------------------------------------------- strangers

test('strangers get 404 on every member route and the audit log of someone else’s organisation', async () => {
  const [alice, bob, eve] = await Promise.all([register(), register(), register()]);
  const org = (await createOrg(alice.access)).slug;
  await addMember(alice.access, org, bob.username, 'member');
  const M = `/tenants/${org}/members`;

  const calls = [
    ['GET members', api('GET', M, { token: eve.access })],
    ['POST members', api('POST', M, { token: eve.access, body: { username: eve.username, role: 'viewer' } })],
    ['PATCH a member', api('PATCH', `${M}/${bob.username}`, { token: eve.access, body: { role: 'viewer' } })],
    ['PATCH the owner', api('PATCH', `${M}/${alice.username}`, { token: eve.access, body: { role: 'viewer' } })],
    ['DELETE a member', api('DELETE', `${M}/${bob.username}`, { token: eve.access })],
    ['DELETE oneself', api('DELETE', `${M}/${eve.username}`, { token: eve.access })],
    ['GET audit', auditRaw(eve.access, org)],
    ['GET the tenant', api('GET', `/tenants/${org}`, { token: eve.access })],
    ['PATCH the tenant', api('PATCH', `/tenants/${org}`, { token: eve.access, body: { display_name: 'mine' } })],
    ['DELETE the tenant', api('DELETE', `/tenants/${org}`, { token: eve.access })],
  ];
  for (const [what, pending] of calls) {
    const res = await pending;
    assert.equal(res.status, 404, `${what}: ${describeRes(res)}`);
    assertError(res, 404, 'NOT_FOUND');
  }
  assert.deepEqual(
    (await membersOf(alice.access, org)).map((m) => [m.username, m.role]),
    [[alice.username, 'owner'], [bob.username, 'member']],
    'nothing changed',
  );
  assertStatus(await api('GET', `/tenants/${org}`, { token: alice.access }), 200);
});
