// HTTP client and fixtures for the rooom end-to-end tests.
//
// Every request goes through node:http (not fetch): `*.localhost` does not resolve
// on every machine, fetch may not set `Host`, and http.request never follows
// redirects, so 301/302 can be asserted directly.
//
// Each test (declared with the `test` exported here) gets its own random
// CF-Connecting-IP, so per-IP throttles and rate limits never leak between tests.

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AsyncLocalStorage } from 'node:async_hooks';
import nodeTest from 'node:test';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BASE = (process.env.ROOOM_URL ?? 'http://localhost:8787').replace(/\/+$/, '');
const baseUrl = new URL(BASE);
export const PORT = Number(process.env.ROOOM_PORT ?? (baseUrl.port || 80));
/** `localhost:<port>` */
export const APP_HOST = baseUrl.host;
/** `http://localhost:<port>` */
export const APP_ORIGIN = baseUrl.origin;
export const STATE_DIR = process.env.ROOOM_STATE_DIR;
export const REFRESH_COOKIE = '__Host-rooom_refresh';

// ---------------------------------------------------------------- per-test IPs

const ipStore = new AsyncLocalStorage();
const fileIp = randomIp();

/** A random private IPv4 address, e.g. 10.17.203.9. */
export function randomIp() {
  const b = crypto.randomBytes(3);
  return `10.${b[0]}.${b[1]}.${(b[2] % 254) + 1}`;
}

/** The CF-Connecting-IP of the running test. */
export function currentIp() {
  return ipStore.getStore()?.ip ?? fileIp;
}

/** node:test `test`, but the body runs with its own client IP. */
export function test(name, options, fn) {
  if (typeof options === 'function') [fn, options] = [options, {}];
  return nodeTest(name, options, (t) => ipStore.run({ ip: randomIp() }, () => fn(t)));
}
export const it = test;
export { describe, before, after } from 'node:test';

// ---------------------------------------------------------------- HTTP

/**
 * One HTTP request. `url` may point at any host; the connection goes to
 * 127.0.0.1 for `localhost` and `*.localhost`, with `Host` taken from the URL
 * unless `headers.host` overrides it.
 * Returns {status, headers: Headers, body: Buffer, text, json}. `json` is set
 * only when the response says it is JSON.
 */
export function request(url, { method = 'GET', headers = {}, body, ip, timeout = 60_000 } = {}) {
  const u = new URL(url);
  const h = { host: u.host, 'cf-connecting-ip': ip ?? currentIp() };
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    if (v === null) delete h[k.toLowerCase()];
    else h[k.toLowerCase()] = v;
  }
  let payload;
  if (body !== undefined && body !== null) {
    payload = Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
    h['content-length'] = String(payload.length);
  }
  const connectHost = u.hostname === 'localhost' || u.hostname.endsWith('.localhost') ? '127.0.0.1' : u.hostname;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: connectHost, port: u.port || 80, method, path: u.pathname + u.search, headers: h, agent: false, timeout },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const headersOut = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) headersOut.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          const buf = Buffer.concat(chunks);
          const text = buf.toString('utf8');
          let json;
          if (/json/i.test(headersOut.get('content-type') ?? '') && text.length > 0) {
            try { json = JSON.parse(text); } catch { json = undefined; }
          }
          resolve({ status: res.statusCode, headers: headersOut, body: buf, text, json, url: u.href, method });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out after ${timeout} ms`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/**
 * A request to the JSON API: `api('POST', '/auth/login', {body: {...}})`.
 * `body` is sent as JSON; `raw` is sent as is (string or Buffer) with a JSON
 * content type unless `headers` says otherwise.
 */
export function api(method, apiPath, { body, raw, token, headers = {}, ip } = {}) {
  const h = { accept: 'application/json' };
  let payload;
  if (raw !== undefined) {
    payload = raw;
    h['content-type'] = 'application/json';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['content-type'] = 'application/json';
  }
  if (token) h.authorization = `Bearer ${token}`;
  return request(`${BASE}/api/v1${apiPath}`, { method, headers: { ...h, ...headers }, body: payload, ip });
}

/** `http://<name>.localhost:<port><path>` */
export function tenantUrl(name, p = '/') {
  return `http://${name}.localhost:${PORT}${p}`;
}

/** GET (or another method) on a tenant host. */
export function tenant(name, p = '/', opts = {}) {
  return request(tenantUrl(name, p), opts);
}

/** One-line description of a response for assertion messages. */
export function describeRes(res) {
  return `${res.method ?? ''} ${res.url ?? ''} -> ${res.status} ${res.text.slice(0, 500)}`;
}

// ---------------------------------------------------------------- names, users

let counter = 0;
/** A fresh valid username: lowercase [a-z0-9], 3–32 chars, unique per call. */
export function uniqueName(prefix = 'u') {
  counter += 1;
  const rnd = crypto.randomBytes(6).readUIntBE(0, 6).toString(36).padStart(10, '0');
  return `${prefix}${rnd}${counter.toString(36)}`.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 32);
}

/** A strong random password (24 chars). */
export function strongPassword() {
  return `Pw-${crypto.randomBytes(16).toString('base64url')}`;
}

export function emailFor(username) {
  return `${username}@example.test`;
}

/** The token-bearing part of a token response. */
export function sessionOf(res) {
  return {
    access: res.json?.access_token,
    refresh: res.json?.refresh_token,
    user: res.json?.user,
    cookie: cookieFrom(res),
    res,
  };
}

/**
 * Registers a fresh user (fails the test unless 201).
 * Returns {username, email, password, access, refresh, user, tenant, cookie, res}.
 */
export async function register(opts = {}) {
  const username = opts.username ?? uniqueName();
  const email = opts.email ?? emailFor(username);
  const password = opts.password ?? strongPassword();
  const body = { username, email, password };
  if (opts.display_name !== undefined) body.display_name = opts.display_name;
  const res = await api('POST', '/auth/register', { body, ip: opts.ip, headers: opts.headers });
  if (res.status !== 201) throw new Error(`register ${username} failed: ${describeRes(res)}`);
  return {
    username: res.json.user?.username ?? username,
    email: res.json.user?.email ?? email,
    password,
    tenant: res.json.tenant,
    ...sessionOf(res),
  };
}

/** Registers a fresh user and confirms their email through the mailed link. */
export async function registerVerified(opts = {}) {
  const u = await register(opts);
  const token = await verificationToken(u.email);
  const res = await api('POST', '/auth/verify-email', { body: { token }, ip: opts.ip });
  if (res.status !== 204) throw new Error(`verify-email for ${u.username} failed: ${describeRes(res)}`);
  return { ...u, user: { ...u.user, email_verified: true } };
}

/** POST /auth/login; returns the raw response. */
export function login(loginName, password, opts = {}) {
  return api('POST', '/auth/login', { body: { login: loginName, password }, ...opts });
}

/** Logs in and fails the test unless 200. Returns {access, refresh, user, cookie, res}. */
export async function loginOk(loginName, password, opts = {}) {
  const res = await login(loginName, password, opts);
  if (res.status !== 200) throw new Error(`login ${loginName} failed: ${describeRes(res)}`);
  return sessionOf(res);
}

export function me(token, opts = {}) {
  return api('GET', '/me', { token, ...opts });
}

export function refreshWith(refreshToken, opts = {}) {
  return api('POST', '/auth/refresh', { body: { refresh_token: refreshToken }, ...opts });
}

// ---------------------------------------------------------------- mail

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET /api/v1/dev/outbox?to=... → array of {to, subject, text, created_at}, newest first. */
export async function outbox(to) {
  const q = to === undefined ? '' : `?to=${encodeURIComponent(to)}`;
  const res = await api('GET', `/dev/outbox${q}`);
  if (res.status !== 200 || !Array.isArray(res.json)) throw new Error(`outbox failed: ${describeRes(res)}`);
  return res.json;
}

/** Polls the outbox until at least `n` mails to `to` exist; returns them (newest first). */
export async function waitForMails(to, n, { tries = 40, delay = 150 } = {}) {
  let mails = [];
  for (let i = 0; i < tries; i++) {
    mails = await outbox(to);
    if (mails.length >= n) return mails;
    await sleep(delay);
  }
  throw new Error(`expected ${n} mail(s) to ${to}, found ${mails.length}`);
}

/** Polls the outbox for the newest mail to `to` whose text matches `re`. Returns {mail, match}. */
export async function latestMail(to, re, { tries = 40, delay = 150 } = {}) {
  let mails = [];
  for (let i = 0; i < tries; i++) {
    mails = await outbox(to);
    for (const mail of mails) {
      const match = re.exec(`${mail.text ?? ''}`);
      if (match) return { mail, match };
    }
    await sleep(delay);
  }
  throw new Error(`no mail to ${to} matching ${re} (outbox for it: ${JSON.stringify(mails).slice(0, 800)})`);
}

/**
 * Polls for a mail to `to` matching `re` that is not among `before` (an earlier
 * outbox listing). Returns {mail, match}.
 */
export async function nextMail(to, re, before, { tries = 40, delay = 150 } = {}) {
  const seen = new Set(before.map((m) => JSON.stringify(m)));
  let mails = [];
  for (let i = 0; i < tries; i++) {
    mails = await outbox(to);
    for (const mail of mails) {
      if (seen.has(JSON.stringify(mail))) continue;
      const match = re.exec(`${mail.text ?? ''}`);
      if (match) return { mail, match };
    }
    await sleep(delay);
  }
  throw new Error(`no new mail to ${to} matching ${re} (outbox for it: ${JSON.stringify(mails).slice(0, 800)})`);
}

export const VERIFY_LINK_RE = /(\S*)\/verify-email\?token=([A-Za-z0-9_\-%.~]+)/;
export const RESET_LINK_RE = /(\S*)\/reset-password\?token=([A-Za-z0-9_\-%.~]+)/;
export const OTP_RE = /Your rooom sign-in code is (\d{6})/;

export async function verificationToken(to) {
  const { match } = await latestMail(to, VERIFY_LINK_RE);
  return decodeURIComponent(match[2]);
}
export async function resetToken(to) {
  const { match } = await latestMail(to, RESET_LINK_RE);
  return decodeURIComponent(match[2]);
}
export async function otpCode(to) {
  const { match } = await latestMail(to, OTP_RE);
  return match[1];
}

// ---------------------------------------------------------------- JWT

const b64url = (buf) => Buffer.from(buf).toString('base64url');

let cachedSecret;
/** JWT_SECRET from .dev.vars (or ROOOM_JWT_SECRET). */
export function jwtSecret() {
  if (cachedSecret !== undefined) return cachedSecret;
  if (process.env.ROOOM_JWT_SECRET) return (cachedSecret = process.env.ROOOM_JWT_SECRET);
  const file = path.join(REPO_ROOT, '.dev.vars');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: cannot read JWT_SECRET to mint tokens`);
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || m[1] !== 'JWT_SECRET') continue;
    let v = m[2];
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    return (cachedSecret = v);
  }
  throw new Error(`JWT_SECRET not found in ${file}`);
}

/** Decodes a JWT without verifying it: {header, payload, signature}. */
export function decodeJwt(token) {
  const [h, p, s] = String(token).split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
    signature: s,
  };
}

const HMAC_ALGS = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/**
 * Mints a JWT. alg HS256/HS384/HS512 are signed with `secret` (default: the
 * real JWT_SECRET); alg 'none' gets an empty signature.
 */
export function mintJwt(claims, { alg = 'HS256', secret, header = {} } = {}) {
  const head = b64url(JSON.stringify({ alg, typ: 'JWT', ...header, alg }));
  const body = b64url(JSON.stringify(claims));
  const input = `${head}.${body}`;
  if (alg === 'none') return `${input}.`;
  const hash = HMAC_ALGS[alg];
  if (!hash) throw new Error(`unsupported alg ${alg}`);
  const sig = crypto.createHmac(hash, secret ?? jwtSecret()).update(input).digest();
  return `${input}.${b64url(sig)}`;
}

// ---------------------------------------------------------------- cookies

/** Parses every Set-Cookie of a response: [{name, value, attrs, raw}]; attrs keys are lowercase. */
export function cookiesFrom(res) {
  const list = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [];
  return list.map((raw) => {
    const [pair, ...attrParts] = raw.split(';');
    const eq = pair.indexOf('=');
    const attrs = {};
    for (const a of attrParts) {
      const i = a.indexOf('=');
      const k = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
      if (k) attrs[k] = i < 0 ? true : a.slice(i + 1).trim();
    }
    return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs, raw };
  });
}

/** The Set-Cookie named `name` (default: the refresh cookie), or null. */
export function cookieFrom(res, name = REFRESH_COOKIE) {
  return cookiesFrom(res).find((c) => c.name === name) ?? null;
}

/** A `Cookie` request header value carrying the refresh cookie. */
export function refreshCookieHeader(value) {
  return `${REFRESH_COOKIE}=${value}`;
}
