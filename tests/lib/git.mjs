// Helpers for the git tests (tests/e2e/git.test.mjs): the stock `git` client run in a
// throw-away sandbox (own HOME and .gitconfig, no system config, no prompts, no
// credential helpers), clone URLs on the tenant host, personal access tokens, and raw
// smart-HTTP requests (pkt-lines, receive-pack commands) for what stock git cannot send.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { api, request, tenantUrl, currentIp, describeRes, PORT } from './client.mjs';
import { assertStatus } from './expect.mjs';

export const GIT_TIMEOUT = 60_000;
export const ZERO_ID = '0'.repeat(40);
export const HEX40 = /^[0-9a-f]{40}$/;

/** Identity of commits made by the local git client. */
export const GIT_NAME = 'Git Tester';
export const GIT_EMAIL = 'git-tester@example.test';

// ---------------------------------------------------------------- tokens, URLs

/** POST /me/tokens (needs a verified user); fails unless 201. Returns the secret. */
export async function patFor(user, scope = 'write', extra = {}) {
  const res = await api('POST', '/me/tokens', { token: user.access, body: { name: `git ${scope}`, scope, ...extra } });
  assertStatus(res, 201, `create ${scope} token`);
  assert.match(res.json.token ?? '', /^rooom_pat_/, `a token: ${describeRes(res)}`);
  return res.json.token;
}

/** `http://[x:<token>@]<t>.localhost:<port>/rooms/<slug>.git` */
export function gitUrl(t, slug, token) {
  const auth = token ? `x:${encodeURIComponent(token)}@` : '';
  return `http://${auth}${t}.localhost:${PORT}/rooms/${slug}.git`;
}

/** An `Authorization: Basic` value with any username and the token as password. */
export function basic(token, username = 'x') {
  return `Basic ${Buffer.from(`${username}:${token}`).toString('base64')}`;
}

/** The e-mail address API commits carry for `username` (USER_DOMAIN without its port). */
export function noreplyEmail(username) {
  return `${username}@users.noreply.localhost`;
}

// ---------------------------------------------------------------- sandbox

/**
 * A temp dir with its own HOME (.gitconfig: identity, init.defaultBranch=main, fsck on
 * every transfer) for one test; removed after the test. Every git process sends the
 * test's CF-Connecting-IP (through GIT_CONFIG_*), so per-IP throttles do not leak
 * between tests. Protocol version is left at git's default (2), so each request also
 * exercises the v2 → v0 fallback.
 */
export function gitSandbox(t) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rooom-git-'));
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  fs.writeFileSync(path.join(home, '.gitconfig'), [
    '[user]',
    `\tname = ${GIT_NAME}`,
    `\temail = ${GIT_EMAIL}`,
    '[init]',
    '\tdefaultBranch = main',
    '[advice]',
    '\tdetachedHead = false',
    '\tpushUpdateRejected = false',
    '[core]',
    '\tautocrlf = false',
    '\tsymlinks = true',
    '[commit]',
    '\tgpgsign = false',
    '[tag]',
    '\tgpgsign = false',
    '[transfer]',
    '\tfsckObjects = true',
    '[credential]',
    '\thelper = ',
    '[gc]',
    '\tauto = 0',
    '',
  ].join('\n'));

  const ip = currentIp();
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GIT_') || k === 'SSH_ASKPASS' || k.startsWith('XDG_')) continue;
    env[k] = v;
  }
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `CF-Connecting-IP: ${ip}`,
    LANG: 'C',
    LC_ALL: 'C',
    TZ: 'UTC',
  });

  let n = 0;
  const sb = {
    root,
    home,
    env,
    ip,
    /** A fresh (not yet created) path under the sandbox. */
    path(name = 'dir') {
      n += 1;
      return path.join(root, `${name}-${n}`);
    },
    /** Runs git; never throws for a non-zero exit. Returns {status, stdout, stderr, out, cmd}. */
    run(args, { cwd = root, input, timeout = GIT_TIMEOUT, env: extra = {} } = {}) {
      const r = spawnSync('git', args, {
        cwd,
        input,
        env: { ...env, ...extra },
        timeout,
        maxBuffer: 256 * 1024 * 1024,
      });
      const res = {
        status: r.status,
        signal: r.signal,
        error: r.error,
        stdoutBuf: r.stdout ?? Buffer.alloc(0),
        stdout: (r.stdout ?? Buffer.alloc(0)).toString('utf8'),
        stderr: (r.stderr ?? Buffer.alloc(0)).toString('utf8'),
        cmd: `git ${args.map((a) => (/^[\w./:=@+,-]*$/.test(a) ? a : JSON.stringify(a))).join(' ')}`,
      };
      res.out = `${res.cmd} (in ${cwd}) -> exit ${res.status}${res.signal ? ` signal ${res.signal}` : ''}${res.error ? ` error ${res.error.message}` : ''}\n--- stdout:\n${res.stdout.slice(0, 4000)}\n--- stderr:\n${res.stderr.slice(0, 4000)}`;
      return res;
    },
    /** Runs git and throws (with stdout/stderr) unless it exits 0. Returns stdout, trimmed. */
    git(args, opts = {}) {
      const res = sb.run(args, opts);
      if (res.status !== 0) throw new Error(`git failed: ${res.out}`);
      return res.stdout.replace(/\n$/, '');
    },
    /** Runs git and asserts a non-zero exit. Returns the result (stderr for messages). */
    gitFails(args, opts = {}) {
      const res = sb.run(args, opts);
      assert.ok(res.error === undefined || res.error === null || res.status !== null, `git did not run: ${res.out}`);
      assert.notEqual(res.signal, 'SIGTERM', `git timed out: ${res.out}`);
      assert.notEqual(res.status, 0, `git should have failed: ${res.out}`);
      return res;
    },
    /** `git clone <url> <dir>`; returns the dir. */
    clone(url, { dir = sb.path('clone'), args = [], timeout } = {}) {
      sb.git(['clone', ...args, url, dir], { timeout });
      return dir;
    },
    /** `git fsck --strict --no-dangling` in `dir`, failing on any complaint. */
    fsck(dir) {
      const res = sb.run(['fsck', '--strict', '--full', '--no-dangling', '--no-progress'], { cwd: dir });
      assert.equal(res.status, 0, `fsck --strict failed: ${res.out}`);
      assert.ok(!/error|broken|missing|warning/i.test(res.stdout + res.stderr), `fsck complained: ${res.out}`);
    },
    /** `git ls-remote <url>` as {refname: id}. */
    lsRemote(url, { cwd = root } = {}) {
      return parseLsRemote(sb.git(['ls-remote', url], { cwd }));
    },
    cleanup() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  if (t && typeof t.after === 'function') t.after(() => sb.cleanup());
  return sb;
}

/** `ls-remote` output → {refname: id}. */
export function parseLsRemote(text) {
  const refs = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [id, name] = line.split('\t');
    refs[name] = id;
  }
  return refs;
}

/** Every tracked file of a working tree (relative, '/'-separated) → its bytes. */
export function readTree(dir) {
  const out = {};
  const walk = (rel) => {
    for (const ent of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (rel === '' && ent.name === '.git') continue;
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) walk(r);
      else out[r] = fs.readFileSync(path.join(dir, r));
    }
  };
  walk('');
  return out;
}

/** Writes `{path: bytes|string}` into a working tree, making folders as needed. */
export function writeFiles(dir, files) {
  for (const [p, data] of Object.entries(files)) {
    const full = path.join(dir, p);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, data);
  }
}

/** Every byte value 0..255 once, in order. */
export function allBytes() {
  return Buffer.from(Array.from({ length: 256 }, (_, i) => i));
}

export const randomBytes = (n) => crypto.randomBytes(n);

/** A file path for a URL: each segment percent-encoded. */
export const encPath = (p) => p.split('/').map(encodeURIComponent).join('/');

// ---------------------------------------------------------------- room state

/** GET the room JSON (fails unless 200). */
export async function roomJson(token, t, slug) {
  const res = await api('GET', `/tenants/${t}/rooms/${slug}`, { token });
  assertStatus(res, 200, `room ${t}/${slug}`);
  return res.json;
}

/** The room's main commit from its JSON (`head.commit`). */
export async function headCommit(token, t, slug) {
  const room = await roomJson(token, t, slug);
  assert.ok(room.head && typeof room.head === 'object', `room.head must be an object: ${JSON.stringify(room)}`);
  return room.head.commit;
}

/** GET …/history with a query; returns the raw response. */
export function historyRaw(token, t, slug, query = {}) {
  const q = new URLSearchParams(query).toString();
  return api('GET', `/tenants/${t}/rooms/${slug}/history${q ? `?${q}` : ''}`, { token });
}

/** GET …/history (fails unless 200 with an array). */
export async function history(token, t, slug, query = {}) {
  const res = await historyRaw(token, t, slug, query);
  assertStatus(res, 200, `history of ${slug} ${JSON.stringify(query)}`);
  assert.ok(Array.isArray(res.json), `history is an array: ${describeRes(res)}`);
  return res.json;
}

/** GET a file of a room on the tenant host (public rooms). */
export function served(t, slug, p, opts) {
  return request(tenantUrl(t, `/rooms/${slug}/${encPath(p)}`), opts);
}

// ---------------------------------------------------------------- raw smart HTTP

/** One pkt-line (text or bytes). */
export function pkt(data) {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
  const len = (body.length + 4).toString(16).padStart(4, '0');
  return Buffer.concat([Buffer.from(len, 'ascii'), body]);
}
export const FLUSH = Buffer.from('0000', 'ascii');

/**
 * Splits a pkt-line stream into its payloads as strings (flushes dropped). Stops at
 * anything that does not parse and returns what it has.
 */
export function parsePkts(buf) {
  const out = [];
  let i = 0;
  while (i + 4 <= buf.length) {
    const hex = buf.subarray(i, i + 4).toString('ascii');
    if (!/^[0-9a-f]{4}$/i.test(hex)) break;
    const len = parseInt(hex, 16);
    if (len === 0 || len === 1 || len === 2) { i += 4; continue; }
    if (len < 4 || i + len > buf.length) break;
    out.push(buf.subarray(i + 4, i + len).toString('utf8'));
    i += len;
  }
  return out;
}

/** A receive-pack request body: commands (first with capabilities), flush, then the pack. */
export function receivePackBody(commands, pack = Buffer.alloc(0), caps = 'report-status') {
  const parts = commands.map(([oldId, newId, ref], i) => pkt(`${oldId} ${newId} ${ref}${i === 0 ? `\0${caps}` : ''}\n`));
  return Buffer.concat([...parts, FLUSH, pack]);
}

/** POST /rooms/<slug>.git/<service> on the tenant host with a raw body. */
export function postService(t, slug, service, body, { token, headers = {} } = {}) {
  const h = {
    'content-type': `application/x-${service}-request`,
    accept: `application/x-${service}-result`,
    ...headers,
  };
  if (token) h.authorization = basic(token);
  return request(tenantUrl(t, `/rooms/${slug}.git/${service}`), { method: 'POST', headers: h, body });
}

/** GET /rooms/<slug>.git/info/refs[?service=…] on the tenant host. */
export function infoRefs(t, slug, service, { token, headers = {} } = {}) {
  const q = service ? `?service=${service}` : '';
  const h = { ...headers };
  if (token) h.authorization = basic(token);
  return request(tenantUrl(t, `/rooms/${slug}.git/info/refs${q}`), { headers: h });
}
