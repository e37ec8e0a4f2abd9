// Helpers for the room, file, room-data and quota tests: calls on a tenant's rooms,
// raw requests whose path is sent byte for byte (no URL normalisation on our side),
// large streamed bodies, usage, and the R2 keys of one tenant.

import http from 'node:http';
import assert from 'node:assert/strict';
import { api, request, BASE, PORT, APP_HOST, currentIp, describeRes, sleep } from './client.mjs';
import { assertStatus } from './expect.mjs';
import { r2Keys } from './r2.mjs';

/** `/tenants/<t>/rooms/<room><suffix>` (below /api/v1). */
export function roomApi(t, room, suffix = '') {
  return `/tenants/${t}/rooms/${room}${suffix}`;
}

/** POST /tenants/<t>/rooms; fails the test unless 201. Returns the room. */
export async function createRoom(token, t, body) {
  const res = await api('POST', `/tenants/${t}/rooms`, { token, body });
  assertStatus(res, 201, `create room ${JSON.stringify(body)}`);
  return res.json;
}

/** GET /tenants/<t>; fails the test unless 200. Returns the tenant (with its id). */
export async function getTenant(token, t) {
  const res = await api('GET', `/tenants/${t}`, { token });
  assertStatus(res, 200, `tenant ${t}`);
  return res.json;
}

/** GET /tenants/<t>/rooms/<room>; fails the test unless 200. */
export async function getRoom(token, t, room) {
  const res = await api('GET', roomApi(t, room), { token });
  assertStatus(res, 200, `room ${room}`);
  return res.json;
}

/**
 * A request to `/api/v1<rawPath>` with the path sent exactly as given (node:http does
 * not normalise `..`, `%2e` or backslashes; the Worker's runtime may). `body` (string
 * or Buffer) gets a Content-Length; `chunked: true` sends it without one.
 */
export function raw(method, rawPath, { token, headers = {}, body, chunked = false, ip } = {}) {
  const h = { host: APP_HOST, 'cf-connecting-ip': ip ?? currentIp() };
  if (token) h.authorization = `Bearer ${token}`;
  Object.assign(h, headers);
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
  if (payload && !chunked) h['content-length'] = String(payload.length);
  const fullPath = `/api/v1${rawPath}`;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: PORT, method, path: fullPath, headers: h, agent: false, timeout: 60_000 },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve(toResult(res, Buffer.concat(chunks), method, fullPath)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${fullPath} timed out`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

function toResult(res, buf, method, p) {
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  const text = buf.toString('utf8');
  let json;
  if (/json/i.test(headers.get('content-type') ?? '') && text.length > 0) {
    try { json = JSON.parse(text); } catch { json = undefined; }
  }
  return { status: res.statusCode, headers, body: buf, text, json, url: `${BASE}${p}`, method };
}

/**
 * PUT raw bytes to a room file. `path` goes into the URL as given (encode it first);
 * the request claims `content-type` (default application/octet-stream), which the
 * Worker must ignore.
 */
export function putFile(token, t, room, path, bytes, headers = {}) {
  return request(`${BASE}/api/v1${roomApi(t, room, `/files/${path}`)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers },
    body: Buffer.isBuffer(bytes) ? bytes : Buffer.from(String(bytes), 'utf8'),
  });
}

/** PUT a file and fail the test unless 201 (or `status`). Returns the JSON answer. */
export async function putFileOk(token, t, room, path, bytes, status = 201) {
  const res = await putFile(token, t, room, path, bytes);
  assertStatus(res, status, `PUT ${path}`);
  return res.json;
}

export function getFile(token, t, room, path, headers = {}) {
  return request(`${BASE}/api/v1${roomApi(t, room, `/files/${path}`)}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
}

export function deleteFile(token, t, room, path, headers = {}) {
  return request(`${BASE}/api/v1${roomApi(t, room, `/files/${path}`)}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
}

/** GET the room's file list; fails unless 200. Returns `[{path, size, etag, ...}]`. */
export async function listFiles(token, t, room) {
  const res = await api('GET', roomApi(t, room, '/files'), { token });
  assertStatus(res, 200, `files of ${room}`);
  assert.ok(Array.isArray(res.json), `a file list is an array: ${describeRes(res)}`);
  return res.json;
}

/** PUT a temporary file: `/rooms/<room>/tmp/<path>[?ttl=]`. */
export function putTmp(token, t, room, path, bytes, { ttl, headers = {} } = {}) {
  const q = ttl === undefined ? '' : `?ttl=${ttl}`;
  return request(`${BASE}/api/v1${roomApi(t, room, `/tmp/${path}${q}`)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers },
    body: Buffer.isBuffer(bytes) ? bytes : Buffer.from(String(bytes), 'utf8'),
  });
}

/** GET /tenants/<t>/usage; fails unless 200. */
export async function usage(token, t) {
  const res = await api('GET', `/tenants/${t}/usage`, { token });
  assertStatus(res, 200, `usage of ${t}`);
  return res.json;
}

/**
 * Sends `size` zero bytes (streamed, never held in memory) with that Content-Length
 * to `/api/v1<rawPath>`. Local `wrangler dev` reads the whole body before the Worker
 * answers, so the whole body really is sent.
 */
export function putSized(rawPath, size, { token, ip } = {}) {
  const headers = {
    host: APP_HOST,
    'cf-connecting-ip': ip ?? currentIp(),
    'content-length': String(size),
    'content-type': 'application/octet-stream',
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const fullPath = `/api/v1${rawPath}`;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      { host: '127.0.0.1', port: PORT, method: 'PUT', path: fullPath, headers, agent: false, timeout: 120_000 },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          answered = true;
          resolve(toResult(res, Buffer.concat(chunks), 'PUT', fullPath));
          req.destroy();
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`PUT ${fullPath} timed out`)));
    req.on('error', (e) => { if (!answered) reject(e); });
    const chunk = Buffer.alloc(1 << 20);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** A room's git packs (`…/git/pack-*.pack`): history, not content; the git tests check them. */
const isPack = (k) => /^t\/[^/]+\/r\/[^/]+\/git\//.test(k);

/** Every R2 content key of one tenant (by id): files, pages, media, modules; not git packs. */
export function tenantKeys(tenantId) {
  return r2Keys().filter((k) => k.startsWith(`t/${tenantId}/`) && !isPack(k)).sort();
}

/** Every R2 content key of one room (by ids), not its git packs. */
export function roomKeys(tenantId, roomId) {
  return r2Keys().filter((k) => k.startsWith(`t/${tenantId}/r/${roomId}/`) && !isPack(k)).sort();
}

/** The git packs of one room (by ids). */
export function packKeys(tenantId, roomId) {
  return r2Keys().filter((k) => k.startsWith(`t/${tenantId}/r/${roomId}/git/`)).sort();
}

/**
 * The statement setting a tenant's usage counters (to bring it near a limit), for
 * `d1Live()` (tests/lib/d1.mjs): `[sql, params]`.
 */
export function usageSql(tenantSlug, { bytes, files }) {
  const sets = [];
  if (bytes !== undefined) sets.push(`used_bytes = ${Math.trunc(Number(bytes))}`);
  if (files !== undefined) sets.push(`used_files = ${Math.trunc(Number(files))}`);
  return [`UPDATE tenants SET ${sets.join(', ')} WHERE slug = ?`, [tenantSlug]];
}

/** Polls `check` (async, returns truthy when done) until it holds or `timeout` ms pass. */
export async function eventually(check, { timeout = 10_000, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeout} ms`);
    await sleep(interval);
  }
}

/** Sum of `size` over a file list. */
export const totalSize = (files) => files.reduce((n, f) => n + f.size, 0);
