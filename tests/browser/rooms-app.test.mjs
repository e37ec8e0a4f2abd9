// Browser test of the room, media and module managers in the rooom web app, against a
// running Worker (ROOOM_URL): sign up, create a room, upload files through the file
// input, see them on the tenant host, delete one, rename and delete rooms, upload
// media, publish a module — with no console errors and no CSP violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../lib/browser.mjs';
import { zip, png } from '../lib/archive.mjs';

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

// Failed requests the test causes on purpose; Chromium logs each as a console error.
// [status, path pattern]
const EXPECTED_FAILURES = [
  [401, /^\/api\/v1\/auth\/refresh$/], // the sign-in probe before signing up
  [422, /^\/api\/v1\/tenants\/[^/]+\/rooms$/], // creating a room with a bad slug
  [422, /^\/api\/v1\/tenants\/[^/]+\/rooms\/[^/]+\/files\/meta\/x\.json$/], // a file in the reserved meta/ folder
  [409, /^\/api\/v1\/tenants\/[^/]+\/rooms\/[^/]+$/], // deleting the entrance room
  [422, /^\/api\/v1\/tenants\/[^/]+\/modules\/[^/]+\/versions\/[^/]+$/], // a module without its entry
  [404, /^\/favicon\.ico$/], // Chromium's own icon probe on a tenant host without one
];

function isExpected(msg) {
  const { url } = msg.location();
  const m = /status of (\d{3})/.exec(msg.text());
  if (!m || !url) return false;
  const path = new URL(url).pathname;
  return EXPECTED_FAILURES.some(([status, re]) => Number(m[1]) === status && re.test(path));
}

function watch(page, problems) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error' || isExpected(msg)) return;
    problems.push(`console error on ${page.url()}: ${msg.text()} (${msg.location().url || 'no url'})`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught exception on ${page.url()}: ${err.message}`));
}

// Clicks a confirm-twice button (the app's pattern for deleting).
async function clickTwice(button) {
  await button.click();
  await button.click();
}

test('rooms, files, media and modules in the web app', async () => {
  const base = new URL(BASE);
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const username = `rm-${suffix}`;
  const password = `amber lantern ${suffix} meadow`;
  const tenant = `${base.protocol}//${username}.${base.host}/`;
  const marker = `Hello from the zine ${suffix}`;

  const csp = [];
  await context.exposeBinding('__rooomCsp', (_src, v) => { csp.push(v); });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__rooomCsp(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile || document.URL}:${e.lineNumber}`);
    });
  });
  const problems = [];
  context.on('page', (p) => watch(p, problems));

  const page = await context.newPage();
  page.setDefaultTimeout(20000);

  // --- the app serves its new pages and script; other paths stay 404 ---
  for (const path of ['/rooms', '/rooms/some-room', '/media', '/modules']) {
    const r = await page.request.get(new URL(path, base).href);
    assert.equal(r.status(), 200, `GET ${path} serves the app`);
    assert.match(r.headers()['content-type'], /^text\/html/, `${path} is the app page`);
  }
  const js = await page.request.get(new URL('/rooms.js', base).href);
  assert.equal(js.status(), 200, 'GET /rooms.js answers 200');
  assert.match(js.headers()['content-type'], /^text\/javascript/, 'rooms.js is served as JavaScript');
  for (const path of ['/rooms/a/b', '/rooms/Upper', '/rooms/x.js', '/mediax']) {
    assert.equal((await page.request.get(new URL(path, base).href)).status(), 404, `GET ${path} is not an app page`);
  }

  // --- sign up ---
  await page.goto(new URL('/signup', base).href);
  await page.locator('#signup-username').fill(username);
  await page.locator('#signup-email').fill(`${username}@example.com`);
  await page.locator('#signup-password').fill(password);
  await page.locator('#signup-form-submit').click();
  await page.waitForURL((u) => u.pathname === '/account');

  // --- the Rooms page: usage, the home room, the create form ---
  await page.locator('#nav a[href="/rooms"]').click();
  await page.waitForURL((u) => u.pathname === '/rooms');
  assert.equal(await page.locator('#nav a[href="/rooms"]').getAttribute('aria-current'), 'page', 'nav marks the current page');
  await page.locator('#rooms[aria-busy="false"]').waitFor();
  await page.locator('#usage[aria-busy="false"]').waitFor();
  assert.equal(await page.locator('h1').textContent(), 'Rooms');
  const home = page.locator('#rooms li[data-slug="home"]');
  assert.equal(await home.count(), 1, 'the home room is listed');
  assert.match(await home.textContent(), /entrance/, 'the home room is marked as the entrance');
  assert.equal(await home.locator('a[target="_blank"]').getAttribute('href'), `${tenant}rooms/home/`, 'the room links to its public URL');
  assert.match(await page.locator('#usage-rooms').textContent(), /1 of/, 'usage counts one room');
  assert.equal(await page.locator('#usage meter').count(), 3, 'usage shows three meters');

  // A bad slug is refused next to its field.
  await page.locator('#room-slug').fill('Not a slug!');
  await page.locator('#room-form-submit').click();
  await page.locator('#room-slug-error:not([hidden])').waitFor();
  assert.equal(await page.locator('#room-slug').getAttribute('aria-invalid'), 'true', 'the slug field is marked invalid');

  await page.locator('#room-slug').fill('zine');
  await page.locator('#room-title').fill('My Zine');
  await page.locator('#room-visibility').selectOption('public');
  await page.locator('#room-form-submit').click();
  await page.waitForURL((u) => u.pathname === '/rooms/zine');
  await page.locator('#room-files[aria-busy="false"]').waitFor();
  assert.equal(await page.locator('#room-title-view').textContent(), 'My Zine', 'the room view shows the title');
  assert.equal(await page.locator('#room-files li[data-path="index.html"]').count(), 1, 'the starter index.html is listed');

  // --- upload files through the file input ---
  const indexHtml = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<link rel="stylesheet" href="css/style.css"><title>Zine</title></head><body><h1 id="zine">${marker}</h1></body></html>`;
  await page.locator('#room-upload-files').setInputFiles([
    { name: 'index.html', mimeType: 'text/html', buffer: Buffer.from(indexHtml) },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('some notes\n') },
  ]);
  await page.locator('#room-upload-submit').click();
  await page.locator('#room-upload-status', { hasText: '2 files uploaded.' }).waitFor();
  await page.locator('#room-files li[data-path="notes.txt"]').waitFor();
  assert.match(await page.locator('#room-files li[data-path="index.html"] .meta').textContent(), new RegExp(`${indexHtml.length} bytes`),
    'index.html now has the uploaded size');
  // Into a folder.
  await page.locator('#room-upload-folder').fill('css');
  await page.locator('#room-upload-files').setInputFiles([{ name: 'style.css', mimeType: 'text/css', buffer: Buffer.from('h1 { color: rebeccapurple; }\n') }]);
  await page.locator('#room-upload-submit').click();
  await page.locator('#room-files li[data-path="css/style.css"]').waitFor();
  assert.equal(await page.locator('#room-upload-progress li[data-path="css/style.css"].done').count(), 1, 'the upload row ends as done');
  // A path the API refuses (422) shows why on the file's row and uploads nothing.
  await page.locator('#room-upload-folder').fill('meta');
  await page.locator('#room-upload-files').setInputFiles([{ name: 'x.json', mimeType: 'application/json', buffer: Buffer.from('{}') }]);
  await page.locator('#room-upload-submit').click();
  await page.locator('#room-upload-status', { hasText: 'Nothing uploaded: 1 file failed' }).waitFor();
  assert.match(await page.locator('#room-upload-progress li.failed').textContent(), /meta/, 'the refused file says why');
  await page.screenshot({ path: `${ARTIFACTS}rooms-room.png`, fullPage: true });

  // --- the public URL, in a new tab, serves the uploaded page ---
  const roomUrl = page.locator('#room-url');
  assert.equal(await roomUrl.getAttribute('href'), `${tenant}rooms/zine/`);
  assert.equal(await roomUrl.getAttribute('target'), '_blank');
  const [site] = await Promise.all([context.waitForEvent('page'), roomUrl.click()]);
  await site.waitForLoadState();
  assert.equal(site.url(), `${tenant}rooms/zine/`, 'the new tab is the room on the tenant host');
  assert.equal(await site.locator('#zine').textContent(), marker, 'the tenant host serves the uploaded index.html');
  assert.equal(await site.locator('#zine').evaluate((el) => getComputedStyle(el).color), 'rgb(102, 51, 153)', 'and the stylesheet from the css folder');
  await site.close();

  // --- delete a file ---
  await clickTwice(page.locator('#room-files li[data-path="notes.txt"] button', { hasText: /Delete|Really/ }));
  await page.locator('#room-files li[data-path="notes.txt"]').waitFor({ state: 'detached' });
  assert.equal(await page.locator('#room-files li[data-path="index.html"]').count(), 1, 'the other files stay');

  // --- make it the entrance; then it cannot be deleted ---
  await page.locator('#room-make-entrance').click();
  await page.locator('#room-entrance-badge').waitFor();
  await clickTwice(page.locator('#room-delete'));
  const refusal = page.locator('#room-danger .inline-error');
  await refusal.waitFor();
  assert.match(await refusal.textContent(), /entrance/, 'deleting the entrance room explains why not');
  assert.equal(new URL(page.url()).pathname, '/rooms/zine', 'still on the room');
  const [front] = await Promise.all([context.waitForEvent('page'), page.locator('#room-entrance a').click()]);
  await front.waitForLoadState();
  assert.equal(await front.locator('#zine').textContent(), marker, 'the site root now shows the zine');
  await front.close();

  // --- a reload keeps the room view (an app route on the server too) ---
  await page.reload();
  await page.locator('#room-files[aria-busy="false"]').waitFor();
  assert.equal(await page.locator('#room-title-view').textContent(), 'My Zine');

  // --- rename a room and change its title and visibility, then delete it ---
  await page.goto(new URL('/rooms', base).href);
  await page.locator('#rooms[aria-busy="false"]').waitFor();
  await page.locator('#room-slug').fill('scratch');
  await page.locator('#room-form-submit').click();
  await page.waitForURL((u) => u.pathname === '/rooms/scratch');
  await page.locator('#room-settings-title').waitFor();
  await page.locator('#room-settings-title').fill('Scratch pad');
  await page.locator('#room-settings-slug').fill('scratch-two');
  await page.locator('#room-settings-visibility').selectOption('private');
  await page.locator('#room-settings-submit').click();
  await page.locator('#room-settings-card .saved', { hasText: 'Saved.' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/rooms/scratch-two', 'the address follows the new slug');
  assert.equal(await page.locator('#room-title-view').textContent(), 'Scratch pad');
  assert.equal(await page.locator('#room-url').getAttribute('href'), `${tenant}rooms/scratch-two/`);
  assert.match(await page.locator('#room-info').textContent(), /private/);
  await clickTwice(page.locator('#room-delete'));
  await page.waitForURL((u) => u.pathname === '/rooms');
  await page.locator('#rooms[aria-busy="false"]').waitFor();
  assert.match(await page.locator('#app .notice.ok').textContent(), /deleted/, 'a notice confirms the deletion');
  assert.equal(await page.locator('#rooms li[data-slug="scratch-two"]').count(), 0, 'the deleted room is gone');
  assert.match(await page.locator('#rooms li[data-slug="zine"]').textContent(), /entrance/, 'the zine is the entrance');
  await page.screenshot({ path: `${ARTIFACTS}rooms-list.png`, fullPage: true });

  // --- media: upload into a folder, copyable URL, delete ---
  await page.locator('#nav a[href="/media"]').click();
  await page.waitForURL((u) => u.pathname === '/media');
  await page.locator('#media[aria-busy="false"]').waitFor();
  await page.locator('#media-upload-folder').fill('images');
  await page.locator('#media-upload-files').setInputFiles([
    { name: 'dot.png', mimeType: 'image/png', buffer: png(4, 4) },
    { name: 'song.txt', mimeType: 'text/plain', buffer: Buffer.from('la la la\n') },
  ]);
  await page.locator('#media-upload-submit').click();
  await page.locator('#media-upload-status', { hasText: '2 files uploaded.' }).waitFor();
  const dot = page.locator('#media li[data-path="images/dot.png"]');
  await dot.waitFor();
  const dotUrl = `${tenant}media/images/dot.png`;
  assert.equal(await dot.locator('input[readonly]').inputValue(), dotUrl, 'the media item shows its public URL to copy');
  assert.match(await dot.locator('.meta').textContent(), /image\/png/, 'the media item shows its type');
  const img = await context.newPage();
  const imgResp = await img.goto(dotUrl);
  assert.equal(imgResp.status(), 200, 'the media URL serves the file');
  assert.equal(imgResp.headers()['content-type'], 'image/png');
  await img.close();
  await clickTwice(page.locator('#media li[data-path="images/song.txt"] button', { hasText: /Delete|Really/ }));
  await page.locator('#media li[data-path="images/song.txt"]').waitFor({ state: 'detached' });
  await page.reload();
  await page.locator('#media[aria-busy="false"]').waitFor();
  assert.deepEqual(await page.locator('#media li[data-path]').evaluateAll((els) => els.map((e) => e.dataset.path)), ['images/dot.png'],
    'after a reload only the kept media item is listed');

  // --- modules: create, a refused version (422 field errors), a published one ---
  await page.locator('#nav a[href="/modules"]').click();
  await page.waitForURL((u) => u.pathname === '/modules');
  await page.locator('#modules[aria-busy="false"]').waitFor();
  await page.locator('#module-name').fill('star-button');
  await page.locator('#module-description').fill('A shiny button');
  await page.locator('#module-form-submit').click();
  const mod = page.locator('#modules li[data-name="star-button"]');
  await mod.waitFor();
  assert.equal(await mod.locator('details').getAttribute('open'), '', 'the new module opens its publish form');
  const manifest = { name: 'star-button', version: '1.0.0', entry: 'index.js', description: 'A shiny button' };
  await page.locator('#publish-star-button-file').setInputFiles([{
    name: 'star-button-1.0.0.zip', mimeType: 'application/zip', buffer: zip([{ name: 'module.json', data: manifest }]),
  }]);
  assert.equal(await page.locator('#publish-star-button-version').inputValue(), '1.0.0', 'the version is read from the file name');
  await page.locator('#publish-star-button-submit').click();
  const publishError = page.locator('#publish-star-button .form-error:not([hidden])');
  await publishError.waitFor();
  assert.match(await publishError.textContent(), /entry/, 'a manifest whose entry is missing shows the field error');
  await page.locator('#publish-star-button-file').setInputFiles([{
    name: 'star-button-1.0.0.zip',
    mimeType: 'application/zip',
    buffer: zip([{ name: 'module.json', data: manifest }, { name: 'index.js', data: 'export const star = "★";\n', deflate: true }]),
  }]);
  await page.locator('#publish-star-button-submit').click();
  await page.locator('#modules li[data-name="star-button"] li[data-version="1.0.0"]').waitFor();
  assert.equal(await page.locator('#modules li[data-name="star-button"] li[data-version="1.0.0"] a').getAttribute('href'),
    `${tenant}mod/star-button/1.0.0/index.js`, 'the version links to its entry');
  await page.screenshot({ path: `${ARTIFACTS}rooms-modules.png`, fullPage: true });

  // Nothing on the app page came inline.
  assert.equal(await page.evaluate(() => document.querySelectorAll('script:not([src])').length), 0, 'no inline scripts');
  // (Playwright leaves an empty style="" on inputs it filled; those carry no style.)
  assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('[style]:not([style=""])')].map((e) => e.outerHTML.slice(0, 120))), [],
    'no inline style attributes');
  assert.deepEqual(csp, [], 'no CSP violations');
  assert.deepEqual(problems, [], 'no console errors or uncaught exceptions');
  await page.close();
});
