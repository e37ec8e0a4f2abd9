// Browser test (headless Chromium) of teams and private rooms in the web app, against a
// running Worker (ROOOM_URL):
//  - the sign-in handoff: a private room on a tenant host sends a signed-out visitor to
//    the app's /grant page, which signs them in and sends them back with a grant cookie;
//  - a non-member signing in there is told they have no access and stays on the app;
//  - the Teams pages: create an organisation, add and re-role a member, read the audit
//    log (with paging), a member leaves, the owner deletes the organisation;
// with no console errors and no CSP violations on any page.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../lib/browser.mjs';
import { test, register, tenantUrl, request, api, otpCode, APP_ORIGIN, uniqueName } from '../lib/client.mjs';
import { createRoom, putFile } from '../lib/tenant-content.mjs';

const ARTIFACTS = fileURLToPath(new URL('../.artifacts/', import.meta.url));

let browser;
// Shared by the tests below, which run in order.
let alice;
let bob;
let aliceSide; // alice's browser context, signed in on the app by the handoff
const ROOM = 'vault';
let roomTitle;
let secret;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  alice = await register({ display_name: 'Alice' });
  bob = await register({ display_name: 'Bob' });
  roomTitle = `The Vault ${alice.username}`;
  secret = `private marker ${uniqueName('s')}`;
  await createRoom(alice, ROOM, { title: roomTitle, visibility: 'private' });
  await putFile(alice, ROOM, 'secret.txt', secret, { contentType: 'text/plain' });
});

after(async () => {
  await aliceSide?.context.close();
  await browser?.close();
});

// Failed requests a test causes on purpose; Chromium logs each as a console error.
// [status, method-less path pattern]
const ALWAYS_EXPECTED = [[401, /^\/api\/v1\/auth\/refresh$/]]; // the signed-out probe

/**
 * A fresh context whose pages report console errors, uncaught exceptions and CSP
 * violations into `problems`, except the failures listed in `expected` (which may grow).
 */
async function watchedContext(expected = []) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const problems = [];
  const allowed = [...ALWAYS_EXPECTED, ...expected];
  await context.exposeBinding('__rooomCsp', (_src, v) => { problems.push(`CSP violation: ${v}`); });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__rooomCsp(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile || document.URL}:${e.lineNumber}`);
    });
  });
  const isExpected = (msg) => {
    const { url } = msg.location();
    const m = /status of (\d{3})/.exec(msg.text());
    if (!m || !url) return false;
    const path = new URL(url).pathname;
    return allowed.some(([status, re]) => Number(m[1]) === status && re.test(path));
  };
  const watch = (page) => {
    page.setDefaultTimeout(20000);
    page.on('console', (msg) => {
      if (msg.type() !== 'error' || isExpected(msg)) return;
      problems.push(`console error on ${page.url()}: ${msg.text()} (${msg.location().url || 'no url'})`);
    });
    page.on('pageerror', (err) => problems.push(`uncaught exception on ${page.url()}: ${err.message}`));
  };
  context.on('page', watch);
  const page = await context.newPage();
  return { context, page, problems, allowed };
}

// Clicks a confirm-twice button (the app's pattern for destructive actions).
async function clickTwice(button) {
  await button.click();
  await button.click();
}

const onApp = (path) => (u) => u.origin === APP_ORIGIN && u.pathname === path;

test('the app serves the new pages and teams.js', async () => {
  for (const path of ['/teams', '/teams/some-team', '/grant']) {
    const r = await request(`${APP_ORIGIN}${path}`);
    assert.equal(r.status, 200, `GET ${path} serves the app`);
    assert.match(r.headers.get('content-type'), /^text\/html/, `${path} is the app page`);
    assert.match(r.text, /<script src="\/teams\.js" defer><\/script>/, 'the page loads teams.js');
  }
  const js = await request(`${APP_ORIGIN}/teams.js`);
  assert.equal(js.status, 200, 'GET /teams.js answers 200');
  assert.match(js.headers.get('content-type'), /^text\/javascript/, 'teams.js is served as JavaScript');
  for (const path of ['/teams/a/b', '/teams/Upper', '/teams/x.js', '/teamsx', '/grant/x', `/teams/${'a'.repeat(33)}`]) {
    assert.equal((await request(`${APP_ORIGIN}${path}`)).status, 404, `GET ${path} is not an app page`);
  }
});

test('a private room: sign in on the /grant page, come back with a grant', async () => {
  const roomUrl = tenantUrl(alice.username, `/rooms/${ROOM}/`);
  const secretUrl = tenantUrl(alice.username, `/rooms/${ROOM}/secret.txt`);
  // Without a grant the tenant host sends the visitor to the app.
  const bare = await request(roomUrl);
  assert.equal(bare.status, 302, 'no grant: redirected');
  const to = new URL(bare.headers.get('location'));
  assert.equal(to.origin, APP_ORIGIN, 'to the app');
  assert.equal(to.pathname, '/grant');
  assert.equal(to.searchParams.get('tenant'), alice.username);
  assert.equal(to.searchParams.get('return'), `/rooms/${ROOM}/`);
  assert.equal((await request(secretUrl)).status, 302, 'the file is closed without a grant');

  // 422: a tenant name the server refuses (too short); the page says the link is bad.
  const side = await watchedContext([[422, /^\/api\/v1\/grants$/]]);
  aliceSide = side;
  const { context, page, problems } = side;

  // Broken links are refused before any sign-in.
  for (const q of ['', '?tenant=x', `?tenant=${alice.username}`, `?tenant=${alice.username}&return=//evil.example/`,
    `?tenant=${alice.username}&return=https://evil.example/`, `?tenant=${alice.username}&return=/a\\b`,
    `?tenant=${alice.username}&return=/`, `?tenant=${alice.username}&return=/&state=short`]) {
    await page.goto(`${APP_ORIGIN}/grant${q}`);
    await page.locator('#grant-status .notice.error').waitFor();
    assert.equal(await page.locator('#grant-status .notice.error').textContent(), 'This link is not valid.', `/grant${q} is not valid`);
    assert.equal(await page.locator('#grant-login').count(), 0, 'no sign-in form for a broken link');
  }

  // The real thing: open the private room in the browser.
  await page.goto(roomUrl);
  await page.waitForURL(onApp('/grant'));
  const here = new URL(page.url());
  assert.equal(here.searchParams.get('tenant'), alice.username);
  assert.equal(here.searchParams.get('return'), `/rooms/${ROOM}/`);
  await page.locator('#grant-login').waitFor();
  assert.equal(await page.locator('h1').textContent(), 'Sign in to continue');
  assert.match(await page.locator('.lead').textContent(), new RegExp(`A page of ${alice.username} is private, or there is nothing at this address`));
  await page.screenshot({ path: `${ARTIFACTS}grant-signin.png`, fullPage: true });

  // A wrong password is an error on the form, and the page stays.
  await page.locator('#grant-login').fill(alice.username);
  await page.locator('#grant-password').fill('not the password at all');
  side.allowed.push([401, /^\/api\/v1\/auth\/login$/]);
  await page.locator('#grant-signin-submit').click();
  await page.locator('#grant-signin .form-error:not([hidden])', { hasText: 'do not match' }).waitFor();
  assert.ok(onApp('/grant')(new URL(page.url())), 'still on /grant after a wrong password');

  await page.locator('#grant-password').fill(alice.password);
  await page.locator('#grant-signin-submit').click();
  await page.waitForURL(roomUrl);
  await page.locator('h1', { hasText: roomTitle }).waitFor();
  assert.match(await page.title(), new RegExp(roomTitle), 'the starter page of the private room, decrypted');

  const cookies = await context.cookies(roomUrl);
  const grant = cookies.find((c) => c.name === '__Host-rooom_grant');
  assert.ok(grant, `grant cookie set on the tenant host (cookies: ${cookies.map((c) => c.name).join(', ')})`);
  assert.equal(grant.httpOnly, true, 'the grant cookie is HttpOnly');
  assert.equal(grant.domain, `${alice.username}.localhost`, 'the grant cookie is host-only on the tenant host');

  // The private file opens in this context (fetched by the page itself: Node cannot
  // resolve *.localhost, Chromium can), and is kept by nobody.
  const file = await page.evaluate(async (url) => {
    const r = await fetch(url, { redirect: 'manual', cache: 'no-store' });
    return { status: r.status, text: await r.text(), cacheControl: r.headers.get('cache-control') };
  }, secretUrl);
  assert.equal(file.status, 200, 'the private file is served with the grant');
  assert.equal(file.text, secret, 'the private file, decrypted');
  assert.equal(file.cacheControl, 'private, no-store');

  // A second visit goes straight to the page.
  const again = await page.goto(roomUrl);
  assert.equal(again.status(), 200, 'second visit answers 200');
  assert.equal(again.request().redirectedFrom(), null, 'second visit: no detour through the app');
  assert.equal(page.url(), roomUrl);
  // What the browser sent: the grant, and never the app's session cookie.
  const sent = (await again.request().allHeaders()).cookie || '';
  assert.match(sent, /__Host-rooom_grant=/, 'the browser presents the grant');
  assert.doesNotMatch(sent, /rooom_refresh/, 'the app session never reaches the tenant host');
  await page.locator('h1', { hasText: roomTitle }).waitFor();

  // Signed in on the app now; a tenant name the server refuses says the link is bad.
  await page.goto(`${APP_ORIGIN}/grant?tenant=ab&return=/&state=${'s'.repeat(43)}`);
  await page.locator('#grant-status[aria-busy="false"] .notice.error').waitFor();
  assert.equal(await page.locator('#grant-status .notice.error').textContent(), 'This link is not valid.');
  assert.ok(onApp('/grant')(new URL(page.url())), 'stays on the app');

  assert.deepEqual(problems, [], 'no console errors or CSP violations');
});

test('a non-member signing in on /grant is told so and stays on the app', async () => {
  const { context, page, problems } = await watchedContext([[404, /^\/api\/v1\/grants$/]]);
  const roomUrl = tenantUrl(alice.username, `/rooms/${ROOM}/`);
  await page.goto(roomUrl);
  await page.waitForURL(onApp('/grant'));
  await page.locator('#grant-login').fill(bob.username);
  await page.locator('#grant-password').fill(bob.password);
  await page.locator('#grant-signin-submit').click();
  const denied = page.locator('#grant-denied');
  await denied.waitFor();
  assert.equal(await denied.locator('.notice.error').textContent(),
    `This page is private, or there is nothing at this address. Your account (${bob.username}) has no access to ${alice.username}.`);
  await page.waitForTimeout(500);
  const url = new URL(page.url());
  assert.ok(onApp('/grant')(url), `stays on the app's /grant page, at ${url}`);
  assert.equal((await context.cookies(roomUrl)).some((c) => c.name === '__Host-rooom_grant'), false, 'no grant for bob');
  assert.equal(await page.locator('#nav-account').textContent(), bob.username, 'bob is signed in on the app');
  await page.screenshot({ path: `${ARTIFACTS}grant-denied.png`, fullPage: true });

  // Switching account: signed out, the sign-in form again on the same link; alice gets in.
  await page.locator('#grant-switch').click();
  await page.locator('#grant-login').waitFor();
  assert.equal(await page.locator('#nav-account').count(), 0, 'signed out');
  assert.ok(onApp('/grant')(new URL(page.url())), 'still the same link');
  await page.locator('#grant-login').fill(alice.email);
  await page.locator('#grant-password').fill(alice.password);
  await page.locator('#grant-signin-submit').click();
  await page.waitForURL(roomUrl);
  await page.locator('h1', { hasText: roomTitle }).waitFor();
  // The /grant page replaced itself: history is the blank start and the room, so Back
  // does not land on /grant (which would only send the visitor forward again).
  assert.equal(await page.evaluate(() => history.length), 2, '/grant left no history entry');

  assert.deepEqual(problems, [], 'no console errors or CSP violations');
  await context.close();
});

test('a viewer of the tenant signs in on /grant with an emailed code', async () => {
  const carol = await register({ display_name: 'Carol' });
  const added = await api('POST', `/tenants/${alice.username}/members`, { token: alice.access, body: { username: carol.username, role: 'viewer' } });
  assert.equal(added.status, 201, added.text);
  // A plain-text page has no icon link, so Chromium asks the tenant for /favicon.ico.
  const { context, page, problems } = await watchedContext([[404, /^\/favicon\.ico$/]]);
  const fileUrl = tenantUrl(alice.username, `/rooms/${ROOM}/secret.txt?x=1`);
  await page.goto(fileUrl);
  await page.waitForURL(onApp('/grant'));
  assert.equal(new URL(page.url()).searchParams.get('return'), `/rooms/${ROOM}/secret.txt?x=1`, 'the query comes along');
  await page.locator('#grant-otp').click();
  await page.locator('#grant-otp-email').fill(carol.email);
  await page.locator('#grant-otp-request-submit').click();
  await page.locator('#grant-otp-code').waitFor();
  assert.match(await page.locator('#app .notice.ok').textContent(), /6-digit code/);
  await page.locator('#grant-otp-code').fill(await otpCode(carol.email));
  await page.locator('#grant-otp-verify-submit').click();
  await page.waitForURL(fileUrl);
  assert.equal(await page.locator('body').textContent(), secret, 'the private file, for a viewer');
  assert.deepEqual(problems, [], 'no console errors or CSP violations');
  await context.close();
});

test('teams: create an organisation, add and re-role a member, audit log, leave, delete', async () => {
  assert.ok(aliceSide, 'the handoff test signed alice in');
  const { page, problems, allowed } = aliceSide;
  allowed.push(
    [422, /^\/api\/v1\/tenants$/], // an organisation with a bad slug
    [422, /^\/api\/v1\/tenants\/[^/]+\/members$/], // adding a user who does not exist
    [409, /^\/api\/v1\/tenants\/[^/]+\/members$/], // adding bob twice
  );
  const org = `org-${alice.username}`.slice(0, 32);

  // --- /teams: the nav link, the personal tenant ---
  await page.goto(`${APP_ORIGIN}/account`);
  await page.locator('#nav a[href="/teams"]').click();
  await page.waitForURL(onApp('/teams'));
  assert.equal(await page.locator('#nav a[href="/teams"]').getAttribute('aria-current'), 'page', 'nav marks Teams');
  await page.locator('#teams[aria-busy="false"]').waitFor();
  assert.equal(await page.locator('h1').textContent(), 'Teams');
  const personal = page.locator(`#teams li[data-slug="${alice.username}"]`);
  assert.equal(await personal.count(), 1, 'the personal tenant is listed');
  assert.match(await personal.textContent(), /personal/);
  assert.match(await personal.textContent(), /Owner/);
  assert.equal(await personal.locator('a[target="_blank"]').getAttribute('href'), tenantUrl(alice.username, '/'), 'it links to the site');

  // --- a bad slug is refused next to its field; then the organisation ---
  await page.locator('#team-slug').fill('No Good!');
  await page.locator('#team-form-submit').click();
  await page.locator('#team-slug-error:not([hidden])').waitFor();
  assert.equal(await page.locator('#team-slug').getAttribute('aria-invalid'), 'true');
  await page.locator('#team-slug').fill(org);
  assert.equal(await page.locator('#team-address').textContent(), `${org}.${new URL(APP_ORIGIN).host}`, 'address preview');
  await page.locator('#team-display-name').fill('The Studio');
  await page.locator('#team-form-submit').click();
  await page.waitForURL(onApp(`/teams/${org}`));
  await page.locator('#team-view[aria-busy="false"]').waitFor();
  assert.equal(await page.locator('#team-title').textContent(), 'The Studio');
  assert.match(await page.locator('#app .notice.ok').first().textContent(), /created/);
  assert.equal(await page.locator('#team-url').getAttribute('href'), tenantUrl(org, '/'));
  await page.locator('#members[aria-busy="false"]').waitFor();
  const owner = page.locator(`#members-table tr[data-username="${alice.username}"]`);
  assert.equal(await owner.getAttribute('data-role'), 'owner');
  assert.equal(await owner.locator('select').count(), 0, 'the owner row has no role select');
  assert.equal(await page.locator('#team-leave').count(), 0, 'the owner cannot leave');
  assert.deepEqual(await page.locator('#member-role option').evaluateAll((os) => os.map((o) => o.value)),
    ['admin', 'manager', 'member', 'viewer'], 'the owner may give every role below owner');

  // --- add members: unknown user, bob as viewer, bob again ---
  await page.locator('#member-username').fill(`nobody${alice.username}`.slice(0, 32));
  await page.locator('#member-form-submit').click();
  await page.locator('#member-username-error:not([hidden])').waitFor();
  await page.locator('#member-username').fill(bob.username);
  await page.locator('#member-role').selectOption('viewer');
  await page.locator('#member-form-submit').click();
  await page.locator('#member-form-status', { hasText: `Added ${bob.username} as viewer.` }).waitFor();
  const bobRow = page.locator(`#members-table tr[data-username="${bob.username}"]`);
  await bobRow.waitFor();
  assert.equal(await bobRow.getAttribute('data-role'), 'viewer');
  await page.locator('#member-username').fill(bob.username);
  await page.locator('#member-form-submit').click();
  await page.locator('#member-username-error:not([hidden])').waitFor();
  assert.match(await page.locator('#member-username-error').textContent(), /already a member/);

  // --- bob: viewer → member ---
  const select = bobRow.locator('select.role-select');
  assert.equal(await select.inputValue(), 'viewer');
  await select.selectOption('member');
  await page.locator(`#members-table tr[data-username="${bob.username}"][data-role="member"]`).waitFor();
  await bobRow.locator('.saved', { hasText: 'Saved.' }).waitFor();
  const listed = await api('GET', `/tenants/${org}/members`, { token: alice.access });
  assert.deepEqual(listed.json.map((m) => [m.username, m.role]), [[alice.username, 'owner'], [bob.username, 'member']], 'the API agrees');

  // --- the audit log, newest first ---
  await page.locator('#audit-table tr[data-action="member.role_changed"]').waitFor();
  const events = await page.locator('#audit-table tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    action: tr.dataset.action,
    actor: tr.querySelector('.audit-actor').textContent,
    target: tr.querySelector('.audit-target').textContent,
    text: tr.textContent,
  })));
  assert.deepEqual(events.map((e) => e.action), ['member.role_changed', 'member.added', 'tenant.created'], 'the events, newest first');
  assert.deepEqual(events.map((e) => e.target), [bob.username, bob.username, org]);
  assert.deepEqual(events.map((e) => e.actor), [alice.username, alice.username, alice.username]);
  assert.match(events[0].text, /viewer → member/, 'the role change shows both roles');
  await page.screenshot({ path: `${ARTIFACTS}team.png`, fullPage: true });

  // --- paging: 60 more events, 50 a page, "Load more" fetches the rest ---
  for (let i = 0; i < 60; i++) {
    const res = await api('PATCH', `/tenants/${org}/members/${bob.username}`, { token: alice.access, body: { role: i % 2 ? 'member' : 'viewer' } });
    assert.equal(res.status, 200, res.text);
  }
  await page.reload();
  await page.locator('#audit[aria-busy="false"] #audit-table').waitFor();
  assert.equal(await page.locator('#audit-table tbody tr').count(), 50, 'one page of 50');
  assert.equal(await page.locator('#audit-more').isVisible(), true, 'more to load');
  await page.locator('#audit-more').click();
  await page.locator('#audit-more[hidden]').waitFor({ state: 'attached' });
  assert.equal(await page.locator('#audit-table tbody tr').count(), 63, 'every event after "Load more"');
  const ids = await page.locator('#audit-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
  assert.equal(new Set(ids).size, ids.length, 'no event twice');
  assert.equal(await page.locator('#audit-table tbody tr').last().getAttribute('data-action'), 'tenant.created', 'oldest last');
  // Bob ends as a member (60 changes, the last to member).

  // --- bob's side: a member sees the team, no management, and leaves ---
  const bobSide = await watchedContext();
  const bp = bobSide.page;
  await bp.goto(`${APP_ORIGIN}/signin`);
  await bp.locator('#signin-login').fill(bob.username);
  await bp.locator('#signin-password').fill(bob.password);
  await bp.locator('#signin-form-submit').click();
  await bp.waitForURL(onApp('/account'));
  await bp.locator('#nav a[href="/teams"]').click();
  const orgRow = bp.locator(`#teams li[data-slug="${org}"]`);
  await orgRow.waitFor();
  assert.match(await orgRow.textContent(), /organisation/);
  assert.match(await orgRow.textContent(), /Member/);
  await orgRow.locator('a.team-link').click();
  await bp.waitForURL(onApp(`/teams/${org}`));
  await bp.locator('#members[aria-busy="false"] #members-table').waitFor();
  assert.equal(await bp.locator('#member-form').count(), 0, 'a member cannot add members');
  assert.equal(await bp.locator('#audit-card').count(), 0, 'a member does not see the audit log');
  assert.equal(await bp.locator('#team-delete').count(), 0, 'a member cannot delete the team');
  assert.equal(await bp.locator('select.role-select').count(), 0, 'a member changes no roles');
  assert.equal(await bp.locator('#members-table button', { hasText: 'Remove' }).count(), 0, 'a member removes nobody');
  await clickTwice(bp.locator('#team-leave'));
  await bp.waitForURL(onApp('/teams'));
  await bp.locator('#app .notice.ok', { hasText: 'You left The Studio.' }).waitFor();
  await bp.locator('#teams[aria-busy="false"]').waitFor();
  assert.equal(await bp.locator(`#teams li[data-slug="${org}"]`).count(), 0, 'the team is gone from bob\'s list');
  assert.deepEqual(bobSide.problems, [], 'no console errors or CSP violations on bob\'s side');
  await bobSide.context.close();

  // --- alice sees bob leave in the log, then deletes the organisation ---
  await page.reload();
  await page.locator('#audit-table tr[data-action="member.removed"]').waitFor();
  assert.equal(await page.locator(`#members-table tr[data-username="${bob.username}"]`).count(), 0, 'bob is no longer listed');
  assert.match(await page.locator('#audit-table tbody tr').first().textContent(), /left: true/);
  assert.equal(await page.evaluate(() => document.querySelectorAll('[style], script:not([src])').length), 0, 'no inline style or script');
  await clickTwice(page.locator('#team-delete'));
  await page.waitForURL(onApp('/teams'));
  await page.locator('#app .notice.ok', { hasText: 'was deleted' }).waitFor();
  await page.locator('#teams[aria-busy="false"]').waitFor();
  assert.equal(await page.locator(`#teams li[data-slug="${org}"]`).count(), 0, 'the organisation is gone');
  assert.equal((await api('GET', `/tenants/${org}`, { token: alice.access })).status, 404, 'deleted for the API too');
  // The personal tenant offers no delete button.
  await page.locator(`#teams li[data-slug="${alice.username}"] a.team-link`).click();
  await page.waitForURL(onApp(`/teams/${alice.username}`));
  await page.locator('#team-view[aria-busy="false"]').waitFor();
  assert.equal(await page.locator('#team-delete').count(), 0, 'a personal tenant is not deleted here');
  await page.locator('#audit[aria-busy="false"]').waitFor();

  assert.deepEqual(problems, [], 'no console errors or CSP violations');
});
