// Browser test of a tenant's own pages (headless Chromium): the entrance page lists the
// public rooms (never a private one) and leads into them, /mod/ lists published modules
// with versions that lead to their files, /media/ lists uploads and shows images — all
// without console errors, failed requests or CSP violations.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../lib/browser.mjs';
import { test, register, tenantUrl, request } from '../lib/client.mjs';
import { png } from '../lib/archive.mjs';
import { createRoom, putFile, createModule, publish, filesJson, manifest, putMedia } from '../lib/tenant-content.mjs';

const ARTIFACTS = fileURLToPath(new URL('../.artifacts/', import.meta.url));

let browser;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** A fresh page that records console errors, uncaught exceptions, failed requests and CSP violations. */
async function watchedPage() {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const problems = [];
  await context.exposeBinding('__rooomCsp', (_src, v) => { problems.push(`CSP violation: ${v}`); });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__rooomCsp(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile || document.URL}:${e.lineNumber}`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error on ${page.url()}: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`uncaught exception on ${page.url()}: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => { if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`); });
  return { context, page, problems };
}

test('the entrance page lists the public rooms, not the private one, and leads into them', async () => {
  const u = await register({ display_name: 'Gardener <3' });
  await createRoom(u, 'garden', { title: 'The Garden' });
  await createRoom(u, 'vault', { title: 'The Vault', visibility: 'private' });
  await putFile(u, 'garden', 'index.html', '<!doctype html><title>Garden</title><link rel="icon" href="data:,"><h1 id="garden-h">Roses</h1>');
  const { context, page, problems } = await watchedPage();

  const resp = await page.goto(tenantUrl(u.username, '/'));

  assert.equal(resp.status(), 200);
  await page.locator('#rooms li[data-slug="garden"]').waitFor();
  assert.equal(await page.locator('h1').textContent(), 'Gardener <3', 'the display name, escaped once');
  const slugs = await page.locator('#rooms li').evaluateAll((lis) => lis.map((li) => li.dataset.slug));
  assert.deepEqual(slugs.sort(), ['garden', 'home'], 'public rooms only');
  assert.equal(await page.locator('#rooms-status').isHidden(), true, 'the loading note is gone');
  const garden = page.locator('#rooms li[data-slug="garden"] a');
  assert.match(await garden.textContent(), /The Garden/);
  assert.doesNotMatch(await page.content(), /The Vault/);
  await page.screenshot({ path: `${ARTIFACTS}tenant-entrance.png`, fullPage: true });
  await garden.click();
  await page.waitForURL(tenantUrl(u.username, '/rooms/garden/'));
  assert.equal(await page.locator('#garden-h').textContent(), 'Roses');

  assert.deepEqual(problems, [], 'no console errors, failed requests or CSP violations');
  await context.close();
});

test('/mod/ lists a published public module with its versions, whose links work', async () => {
  const u = await register();
  await createModule(u, 'sparkle', { description: 'Shiny <things>' });
  await createModule(u, 'secret-mod', { visibility: 'private' });
  await createModule(u, 'unreleased');
  for (const [name, version] of [['sparkle', '1.0.0'], ['sparkle', '1.1.0'], ['secret-mod', '0.1.0']]) {
    const res = await publish(u, name, version, filesJson({ 'module.json': manifest(name, version), 'index.js': `export const v = '${version}';\n` }));
    assert.equal(res.status, 201, res.text);
  }
  const { context, page, problems } = await watchedPage();

  assert.equal((await page.goto(tenantUrl(u.username, '/mod/'))).status(), 200);

  await page.locator('#items > li').first().waitFor();
  const names = await page.locator('#items > li .name').allTextContents();
  assert.deepEqual(names, ['sparkle', 'unreleased'], 'public modules only');
  const sparkle = page.locator('#items > li').filter({ hasText: 'sparkle' });
  assert.equal(await sparkle.locator('.desc').textContent(), 'Shiny <things>');
  assert.deepEqual(await sparkle.locator('.versions li').allTextContents(), ['1.0.0', '1.1.0']);
  await page.screenshot({ path: `${ARTIFACTS}tenant-mod.png`, fullPage: true });
  const hrefs = await page.locator('#items a[href]').evaluateAll((as) => as.map((a) => a.href));
  assert.ok(hrefs.length >= 2, `links to the module files: ${hrefs}`);
  for (const href of hrefs) assert.equal((await request(href)).status, 200, `${href} answers 200`);
  const latest = sparkle.locator('a', { hasText: '1.1.0' });
  assert.equal(await latest.count(), 1, 'each version links to its entry file');
  assert.equal((await request(await latest.evaluate((a) => a.href))).text, "export const v = '1.1.0';\n");

  assert.deepEqual(problems, [], 'no console errors, failed requests or CSP violations');
  await context.close();
});

test('/media/ lists uploads and shows an uploaded image', async () => {
  const u = await register();
  const image = png(32, 24, [20, 160, 90]);
  await putMedia(u, 'photos/sunset.png', image);
  await putMedia(u, 'notes/readme.txt', 'hello');
  const { context, page, problems } = await watchedPage();

  assert.equal((await page.goto(tenantUrl(u.username, '/media/'))).status(), 200);

  await page.locator('#items li').first().waitFor();
  const paths = await page.locator('#items li a').allTextContents();
  assert.deepEqual(paths.filter(Boolean), ['notes/readme.txt', 'photos/sunset.png']);
  const row = page.locator('#items li').filter({ hasText: 'photos/sunset.png' });
  assert.match(await row.locator('.meta').textContent(), /image\/png/);
  const img = row.locator('img');
  assert.equal(await img.count(), 1, 'an image is shown');
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  assert.deepEqual(await img.evaluate((el) => [el.naturalWidth, el.naturalHeight]), [32, 24], 'the uploaded PNG rendered');
  assert.equal(await page.locator('#items li').filter({ hasText: 'notes/readme.txt' }).locator('img').count(), 0, 'no image for a text file');
  await page.screenshot({ path: `${ARTIFACTS}tenant-media.png`, fullPage: true });
  const href = await row.locator('a').first().evaluate((a) => a.href);
  const file = await request(href);
  assert.equal(file.status, 200);
  assert.ok(file.body.equals(image), 'the link serves the uploaded bytes');

  assert.deepEqual(problems, [], 'no console errors, failed requests or CSP violations');
  await context.close();
});
