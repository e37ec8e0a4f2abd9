// Helpers for the teams tests (members.test.mjs, audit.test.mjs): organisation tenants,
// members and roles, the audit log. Every helper takes an access token and a tenant
// slug, so one user can act in several tenants.

import assert from 'node:assert/strict';
import http from 'node:http';
import { api, uniqueName, describeRes, sleep, BASE, currentIp } from './client.mjs';
import { assertStatus } from './expect.mjs';

/** Roles, weakest first. */
export const ROLES = ['viewer', 'member', 'manager', 'admin', 'owner'];

/** A fresh valid organisation slug. */
export const orgSlug = () => uniqueName('org');

/** POST /tenants; returns the raw response. */
export function postTenant(token, body) {
  return api('POST', '/tenants', { token, body });
}

/** Creates an organisation (fails unless 201). Returns the tenant JSON. */
export async function createOrg(token, slug = orgSlug(), extra = {}) {
  const res = await postTenant(token, { slug, ...extra });
  assertStatus(res, 201, `create organisation ${slug}`);
  return res.json;
}

/** GET /tenants; fails unless 200. Returns the list. */
export async function tenantsOf(token) {
  const res = await api('GET', '/tenants', { token });
  assertStatus(res, 200, 'GET /tenants');
  assert.ok(Array.isArray(res.json), `GET /tenants is a list: ${describeRes(res)}`);
  return res.json;
}

export const addMemberRaw = (token, t, username, role) =>
  api('POST', `/tenants/${t}/members`, { token, body: { username, role } });
export const patchMember = (token, t, username, role) =>
  api('PATCH', `/tenants/${t}/members/${username}`, { token, body: { role } });
export const removeMember = (token, t, username) =>
  api('DELETE', `/tenants/${t}/members/${username}`, { token });

/** Adds a member (fails unless 201). Returns the member JSON. */
export async function addMember(token, t, username, role) {
  const res = await addMemberRaw(token, t, username, role);
  assertStatus(res, 201, `add ${username} to ${t} as ${role}`);
  return res.json;
}

/** GET /tenants/<t>/members; fails unless 200. */
export async function membersOf(token, t) {
  const res = await api('GET', `/tenants/${t}/members`, { token });
  assertStatus(res, 200, `members of ${t}`);
  assert.ok(Array.isArray(res.json), `members is a list: ${describeRes(res)}`);
  return res.json;
}

/** GET /tenants/<t>/audit with a query object; returns the raw response. */
export function auditRaw(token, t, query = {}) {
  const q = new URLSearchParams(query).toString();
  return api('GET', `/tenants/${t}/audit${q ? `?${q}` : ''}`, { token });
}

/** One page of the audit log (fails unless 200): `{items, cursor}`. */
export async function auditPage(token, t, query = {}) {
  const res = await auditRaw(token, t, query);
  assertStatus(res, 200, `audit of ${t}`);
  assert.ok(res.json && Array.isArray(res.json.items), `audit answers {items, cursor}: ${describeRes(res)}`);
  return res.json;
}

/** Every event of the log visible to `token`, newest first (pages of 200). */
export async function auditAll(token, t) {
  const all = [];
  let cursor = null;
  for (let i = 0; i < 50; i++) {
    const page = await auditPage(token, t, cursor ? { limit: 200, cursor } : { limit: 200 });
    all.push(...page.items);
    cursor = page.cursor;
    if (!cursor) return all;
  }
  throw new Error('audit log did not end within 50 pages');
}

/** Polls the log until `pick(items)` is truthy; returns that value. */
export async function waitForAudit(token, t, pick, { tries = 30, delay = 150, what = 'audit event' } = {}) {
  let items = [];
  for (let i = 0; i < tries; i++) {
    items = await auditAll(token, t);
    const found = pick(items);
    if (found) return found;
    await sleep(delay);
  }
  throw new Error(`${what} not found in the audit log of ${t}: ${JSON.stringify(items).slice(0, 1500)}`);
}

/** The newest event with this action (and target, if given), or undefined. */
export function findEvent(items, action, target) {
  return items.find((e) => e.action === action && (target === undefined || e.target === target));
}

/** `{files: {path: base64}}` for a tiny module version. */
export function moduleBundle(name, version) {
  const files = {
    'module.json': JSON.stringify({ name, version, entry: 'index.js' }),
    'index.js': `export const v = ${JSON.stringify(version)};\n`,
  };
  return { files: Object.fromEntries(Object.entries(files).map(([p, d]) => [p, Buffer.from(d).toString('base64')])) };
}

/** PUT a module version from JSON; returns the raw response. */
export function publishVersion(token, t, name, version) {
  return api('PUT', `/tenants/${t}/modules/${name}/versions/${version}`, {
    token, raw: JSON.stringify(moduleBundle(name, version)), headers: { 'content-type': 'application/json' },
  });
}

/** PUT a media file; returns the raw response. */
export function putMedia(token, t, path, data) {
  return api('PUT', `/tenants/${t}/media/${path}`, {
    token, raw: Buffer.from(data), headers: { 'content-type': 'application/octet-stream' },
  });
}

/** POST /me/tokens (the user must be verified); fails unless 201. Returns {id, token, …}. */
export async function createPat(access, body = {}) {
  const res = await api('POST', '/me/tokens', { token: access, body: { name: 'e2e', scope: 'write', ...body } });
  assertStatus(res, 201, `create token ${JSON.stringify(body)}`);
  return res.json;
}

/**
 * A JSON API request whose headers go out now and whose body waits for `release()`:
 * the Worker starts the handler (authentication, the role check) and then waits on the
 * body, so a test can change something between the check and the write.
 * Returns {release(), response: Promise<{status, text, json}>}.
 */
export function heldRequest(method, apiPath, token, body) {
  const payload = Buffer.from(JSON.stringify(body));
  const url = new URL(`${BASE}/api/v1${apiPath}`);
  let req;
  const response = new Promise((resolve, reject) => {
    req = http.request({
      host: '127.0.0.1', port: url.port, method, path: url.pathname, agent: false, timeout: 60_000,
      headers: {
        host: url.host, authorization: `Bearer ${token}`, 'content-type': 'application/json',
        'content-length': String(payload.length), 'cf-connecting-ip': currentIp(),
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        const headers = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        resolve({ status: res.statusCode, headers, text, json, method, url: url.href });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath} timed out`)));
    req.on('error', reject);
    req.flushHeaders();
  });
  return { release: () => req.end(payload), response };
}
