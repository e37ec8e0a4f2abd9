// API helpers for a tenant's content: rooms and their files, modules, media, usage,
// plus the ids behind them (from the local D1) for checking R2 keys.

import http from 'node:http';
import { api, describeRes, currentIp, PORT } from './client.mjs';
import { d1 } from './d1.mjs';
import { r2Keys } from './r2.mjs';

const enc = (p) => p.split('/').map(encodeURIComponent).join('/');

function must(res, statuses, what) {
  if (![].concat(statuses).includes(res.status)) throw new Error(`${what} failed: ${describeRes(res)}`);
  return res;
}

/** POST a room; fails unless 201. Returns the room JSON. */
export async function createRoom(u, slug, { title, visibility = 'public' } = {}) {
  const body = { slug, visibility, ...(title === undefined ? {} : { title }) };
  const res = await api('POST', `/tenants/${u.username}/rooms`, { token: u.access, body });
  return must(res, 201, `create room ${slug}`).json;
}

/** PUT raw bytes to a room file (any Content-Type header given is the client's claim). */
export function putFileRaw(u, room, path, data, { contentType = 'application/octet-stream', headers = {} } = {}) {
  return api('PUT', `/tenants/${u.username}/rooms/${room}/files/${enc(path)}`, {
    token: u.access, raw: Buffer.isBuffer(data) ? data : Buffer.from(data), headers: { 'content-type': contentType, ...headers },
  });
}

/** PUT a room file; fails unless 200/201. Returns the file JSON. */
export async function putFile(u, room, path, data, opts) {
  return must(await putFileRaw(u, room, path, data, opts), [200, 201], `put ${room}/${path}`).json;
}

export async function createModule(u, name, extra = {}) {
  const res = await api('POST', `/tenants/${u.username}/modules`, { token: u.access, body: { name, ...extra } });
  return must(res, 201, `create module ${name}`).json;
}

/** PUT a version: `body` is a Buffer (archive) or an object (sent as JSON). */
export function publish(u, name, version, body, { tenantSlug = u.username, token = u.access } = {}) {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const contentType = Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json';
  return api('PUT', `/tenants/${tenantSlug}/modules/${name}/versions/${version}`, { token, raw, headers: { 'content-type': contentType } });
}

/** `{files: {path: base64}}` for the JSON publish form; values are strings or Buffers. */
export function filesJson(files) {
  return { files: Object.fromEntries(Object.entries(files).map(([p, d]) => [p, Buffer.from(typeof d === 'string' ? d : d).toString('base64')])) };
}

export function manifest(name, version, entry = 'index.js', extra = {}) {
  return JSON.stringify({ name, version, entry, ...extra });
}

export function putMediaRaw(u, path, data, { contentType = 'application/octet-stream', headers = {} } = {}) {
  return api('PUT', `/tenants/${u.username}/media/${enc(path)}`, {
    token: u.access, raw: Buffer.isBuffer(data) ? data : Buffer.from(data), headers: { 'content-type': contentType, ...headers },
  });
}

export async function putMedia(u, path, data, opts) {
  return must(await putMediaRaw(u, path, data, opts), [200, 201], `put media ${path}`).json;
}

export async function usage(u) {
  return must(await api('GET', `/tenants/${u.username}/usage`, { token: u.access }), 200, 'usage').json;
}

const sq = (s) => `'${String(s).replaceAll("'", "''")}'`;

export function tenantId(slug) {
  const [id] = d1(`SELECT id FROM tenants WHERE slug = ${sq(slug)};`);
  if (!id) throw new Error(`no tenant ${slug} in D1`);
  return id;
}

export function moduleId(slug, name) {
  const [id] = d1(`SELECT m.id FROM modules m JOIN tenants t ON t.id = m.tenant_id WHERE t.slug = ${sq(slug)} AND m.name = ${sq(name)};`);
  return id;
}

export function mediaId(slug, path) {
  const [id] = d1(`SELECT m.id FROM media m JOIN tenants t ON t.id = m.tenant_id WHERE t.slug = ${sq(slug)} AND m.path = ${sq(path)};`);
  return id;
}

/** R2 keys under a prefix. */
export const keysUnder = (prefix) => r2Keys().filter((k) => k.startsWith(prefix));

/**
 * A request whose path goes out byte for byte (`request()` parses it with URL, which
 * resolves `%2e%2e` and `..` before sending). Returns {status, headers, text}.
 */
export function rawRequest(host, rawPath, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: PORT, method, path: rawPath, agent: false,
      headers: { host, 'cf-connecting-ip': currentIp(), ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
