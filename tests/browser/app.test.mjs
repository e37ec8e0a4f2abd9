// Browser test of the rooom web app against a running Worker (ROOOM_URL, e.g.
// http://localhost:8787): sign up, stay signed in across a reload through the
// refresh cookie, visit the new tenant's entrance page, sign out, sign in again —
// with no console errors and no CSP violations along the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../lib/browser.mjs';

const BASE = process.env.ROOOM_URL;
const ARTIFACTS = fileURLToPath(new URL('../.artifacts/', import.meta.url));

let browser;
let context;

before(async () => {
  assert.ok(BASE, 'ROOOM_URL must be set to the running Worker, e.g. http://localhost:8787');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
});

after(async () => {
  await context?.close();
  await browser?.close();
});

// The one console error a page may log: the sign-in probe `POST /auth/refresh`
// answering 401 when there is no session (the browser reports every failed fetch).
function isExpectedRefresh401(msg) {
  const { url } = msg.location();
  return /status of 401/.test(msg.text()) && new URL(url || 'x:/', 'http://x').pathname === '/api/v1/auth/refresh';
}

function watch(page) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error' || isExpectedRefresh401(msg)) return;
    problems.push(`console error on ${page.url()}: ${msg.text()} (${msg.location().url || 'no url'})`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught exception on ${page.url()}: ${err.message}`));
  return problems;
}

test('sign up, stay signed in, visit the site, sign out and back in', async () => {
  const base = new URL(BASE);
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const username = `br-${suffix}`;
  const email = `${username}@example.com`;
  const password = `violet kettle ${suffix} harbour`;
  const displayName = 'Browser Tester & Co';

  // CSP violations are reported from inside every page through a binding, so they
  // survive navigations (Chromium also logs them as console errors).
  const csp = [];
  await context.exposeBinding('__rooomCsp', (_src, v) => { csp.push(v); });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__rooomCsp(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile || document.URL}:${e.lineNumber}`);
    });
  });

  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const problems = watch(page);

  // --- sign up ---
  const resp = await page.goto(new URL('/signup', base).href);
  assert.equal(resp.status(), 200, 'GET /signup answers 200');
  const policy = resp.headers()['content-security-policy'] || '';
  assert.match(policy, /script-src 'self'/, `app page has a strict CSP, got: ${policy}`);
  assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/, 'CSP allows no inline script or eval');

  await page.locator('#signup-username').fill(username);
  await page.locator('#signup-email').fill(email);
  await page.locator('#signup-password').fill(password);
  await page.locator('#signup-display-name').fill(displayName);
  assert.equal(await page.locator('#signup-address').textContent(), `${username}.${base.host}`, 'the address preview follows the username');
  await page.locator('#signup-form-submit').click();

  await page.waitForURL((u) => u.pathname === '/account');
  const who = page.locator('#account-username');
  await who.waitFor();
  assert.equal(await who.textContent(), username, 'account view shows the new username');
  assert.equal(await page.locator('#account-display-name-view').textContent(), displayName, 'account view shows the display name');

  // The inline-script check for the CSP: the app ships no inline <script>.
  assert.equal(await page.evaluate(() => document.querySelectorAll('script:not([src])').length), 0, 'no inline scripts on the app page');
  assert.equal(await page.evaluate(() => document.querySelectorAll('[style]').length), 0, 'no inline style attributes on the app page');

  // The access token lives in memory only; the refresh token in an HttpOnly cookie.
  assert.deepEqual(await page.evaluate(() => [localStorage.length, sessionStorage.length]), [0, 0], 'nothing in web storage');
  const cookies = await context.cookies(base.href);
  const refreshCookie = cookies.find((c) => c.name === '__Host-rooom_refresh');
  assert.ok(refreshCookie, `refresh cookie set (cookies: ${cookies.map((c) => c.name).join(', ') || 'none'})`);
  assert.equal(refreshCookie.httpOnly, true, 'refresh cookie is HttpOnly');
  assert.equal(refreshCookie.secure, true, 'refresh cookie is Secure');
  assert.equal(refreshCookie.sameSite, 'Strict', 'refresh cookie is SameSite=Strict');
  assert.equal(refreshCookie.path, '/', 'refresh cookie Path=/');

  // Let the background loads (inbox, sessions, tokens) settle, then keep a picture.
  for (const id of ['messages', 'sessions', 'tokens']) await page.locator(`#${id}[aria-busy="false"]`).waitFor();
  assert.deepEqual(await page.locator('#app .notice.error:not([hidden])').allTextContents(), [], 'the account view loaded without errors');
  assert.equal(await page.locator('#sessions .row').count(), 1, 'one session listed');
  assert.equal(await page.locator('#sessions .row .badge').textContent(), 'this device', 'the session is marked as this device');
  await page.screenshot({ path: `${ARTIFACTS}account.png`, fullPage: true });

  // --- reload: still signed in through the refresh cookie ---
  await page.reload();
  await page.locator('#account-username').waitFor();
  assert.equal(await page.locator('#account-username').textContent(), username, 'still signed in after a reload');
  assert.equal(await page.locator('#signin-login').count(), 0, 'no sign-in form after a reload');

  // --- the site link leads to the new tenant's entrance page ---
  const expectedSite = `${base.protocol}//${username}.${base.host}/`;
  const site = page.locator('#site-link');
  assert.equal(await site.getAttribute('href'), expectedSite, 'site link points at the tenant host');
  const [tenantResp] = await Promise.all([
    page.waitForResponse((r) => r.url() === expectedSite && r.request().resourceType() === 'document'),
    site.click(),
  ]);
  assert.equal(tenantResp.status(), 200, 'entrance page answers 200');
  await page.waitForURL(expectedSite);
  await page.locator('#rooms li[data-slug="home"]').waitFor();
  assert.equal(await page.locator('h1').textContent(), displayName, 'entrance page shows the display name (escaped once, not twice)');
  assert.equal(await page.title(), displayName, 'entrance page title is the display name');
  assert.ok((await page.locator('#rooms li[data-slug="home"] a').getAttribute('href')).includes('/rooms/home'), 'home room links to /rooms/home/');
  await page.screenshot({ path: `${ARTIFACTS}tenant-home.png`, fullPage: true });
  // The platform cookie is host-only: the tenant host never receives it.
  const sent = (await tenantResp.request().allHeaders()).cookie || '';
  assert.doesNotMatch(sent, /rooom_refresh/, 'refresh cookie is not sent to the tenant host');

  // --- back to the app, sign out ---
  await page.goto(new URL('/account', base).href);
  await page.locator('#account-username').waitFor();
  const lastRefresh = (await context.cookies(base.href)).find((c) => c.name === '__Host-rooom_refresh')?.value;
  assert.ok(lastRefresh, 'refresh cookie present before signing out');
  await page.locator('#signout').click();
  await page.locator('#signin-login').waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin', 'sign out lands on /signin');
  // Signing out ends the session on the server, not only in this browser.
  const replay = await fetch(new URL('/api/v1/auth/refresh', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: lastRefresh }),
  });
  assert.equal(replay.status, 401, 'the signed-out session cannot be refreshed');
  await page.reload();
  await page.locator('#signin-login').waitFor();
  assert.equal(await page.locator('#account-username').count(), 0, 'signed out after a reload');
  await page.goto(new URL('/account', base).href);
  await page.locator('#signin-login').waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin', '/account without a session goes to /signin');

  // --- wrong password shows an error, then sign in with username + password ---
  await page.locator('#signin-login').fill(username);
  await page.locator('#signin-password').fill(`${password}-wrong`);
  await page.locator('#signin-form-submit').click();
  const formError = page.locator('#signin-form .form-error');
  await formError.waitFor();
  assert.ok((await formError.textContent()).length > 0, 'a wrong password shows a message');
  assert.equal(new URL(page.url()).pathname, '/signin', 'a wrong password stays on /signin');

  await page.locator('#signin-password').fill(password);
  await page.locator('#signin-form-submit').click();
  await page.locator('#account-username').waitFor();
  assert.equal(await page.locator('#account-username').textContent(), username, 'signed in again with username and password');
  assert.equal(await page.evaluate(() => document.querySelectorAll('script:not([src])').length), 0, 'still no inline scripts');

  // The wrong-password 401 above is logged by the browser as a failed request; that
  // one is expected, anything else is not.
  const unexpected = problems.filter((p) => !(/status of 401/.test(p) && p.includes('/api/v1/auth/login')));
  assert.deepEqual(csp, [], 'no CSP violations');
  assert.deepEqual(unexpected, [], 'no console errors or uncaught exceptions');
  await page.close();
});
