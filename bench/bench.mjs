#!/usr/bin/env node
// rooom benchmark. Run from the repository root after the release build:
//
//   node bench/bench.mjs            full run (needs build/worker/shim.mjs)
//   node bench/bench.mjs --floor-only   only the trivial floor Worker (no build needed)
//   node bench/bench.mjs --git-only     only the git figures (bench/git.mjs)
//
// Prints, from one run: the release wasm's raw and gzip size against the budget
// (≤ 1 MiB gzip), sign-in latency against the cost of one argon2id hash (budget:
// p50 ≤ 2× the hash), /api/v1/health requests/s against a trivial JS Worker, room
// figures (bench/rooms.mjs) and git push/clone/fetch against `git http-backend`
// (bench/git.mjs).
// The Worker runs under Miniflare directly (no wrangler dev proxy), bound to
// 127.0.0.1 with its D1/KV/R2/DO state in a fresh temporary directory that is
// removed at the end. Exit status 1 when a budget is exceeded or a step fails.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from 'wrangler';
import { freePort } from '../tests/lib/worker.mjs';
import { roomsBench } from './rooms.mjs';
import { gitBench } from './git.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILD = path.join(ROOT, 'build');
const WRANGLER_TOML = path.join(ROOT, 'wrangler.toml');
const MIGRATIONS = path.join(ROOT, 'migrations');
const FLOOR = path.join(ROOT, 'bench', 'floor-worker.mjs');

const WASM_GZIP_BUDGET = 1024 * 1024; // bytes
const SIGNIN_RATIO_BUDGET = 2; // sign-in p50 / one argon2id hash
const LOGINS = 40;
const HASH_SAMPLES = 5;
const CONCURRENCY = 8;
const WARMUP_MS = 1000;
const MEASURE_MS = 5000;
const REQUEST_TIMEOUT_MS = 30000;
const FALLBACK_COMPAT_DATE = '2025-09-01';

const floorOnly = process.argv.includes('--floor-only');
const gitOnly = process.argv.includes('--git-only');
const failures = [];
const cleanups = [];

// ---------- output ----------
const out = (s = '') => process.stdout.write(`${s}\n`);
const num = (n, d = 1) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const kib = (b) => `${num(b / 1024)} KiB`;
const row = (label, value, note = '') => out(`  ${label.padEnd(26)}${value.padStart(14)}${note ? `   ${note}` : ''}`);
const verdict = (ok) => (ok ? 'OK' : 'OVER BUDGET');

// ---------- helpers ----------
function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
const median = (xs) => percentile([...xs].sort((a, b) => a - b), 50);

// One HTTP request to 127.0.0.1:port with an explicit Host header.
function request(agent, port, host, method, urlPath, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({
      host: '127.0.0.1',
      port,
      method,
      path: urlPath,
      agent,
      timeout: REQUEST_TIMEOUT_MS,
      headers: {
        host,
        accept: 'application/json',
        ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}),
        ...headers,
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

function json(res) {
  try { return JSON.parse(res.text); } catch { return null; }
}

function tmpDir(label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rooom-bench-${label}-`));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Miniflare instance with our common settings; workerd's stdout/stderr (the Worker's
// request log lines) are drained, keeping the tail of stderr for error reports.
async function startMiniflare(label, options, sharedPersist) {
  const persist = sharedPersist || tmpDir(label);
  const port = await freePort();
  const host = `localhost:${port}`;
  const stderrTail = [];
  const mf = new Miniflare({
    ...options(host),
    host: '127.0.0.1',
    port,
    cf: false,
    defaultPersistRoot: persist,
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.setEncoding('utf8');
      stderr.on('data', (s) => {
        stderrTail.push(s);
        if (stderrTail.length > 40) stderrTail.shift();
      });
    },
  });
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    await mf.dispose().catch(() => {});
  };
  cleanups.unshift(dispose); // dispose before the tmp dir goes
  await mf.ready;
  return { mf, port, host, dispose, stderrTail, persist };
}

// Closed-loop load: CONCURRENCY loops, each with one request in flight over a
// keep-alive connection; completions within the measuring window are counted.
async function load(port, host, urlPath, headers = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const start = performance.now();
  const from = start + WARMUP_MS;
  const until = from + MEASURE_MS;
  const lat = [];
  let ok = 0;
  let bad = 0;
  let firstBad = null;
  async function loop() {
    while (performance.now() < until) {
      const t0 = performance.now();
      let status = 0;
      try {
        status = (await request(agent, port, host, 'GET', urlPath, { headers })).status;
      } catch (e) {
        firstBad = firstBad || e.message;
      }
      const t1 = performance.now();
      if (t1 < from || t1 > until) continue;
      if (status === 200) {
        ok++;
        lat.push(t1 - t0);
      } else {
        bad++;
        firstBad = firstBad || `HTTP ${status}`;
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { rps: ok / (MEASURE_MS / 1000), ok, bad, firstBad, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

function printLoad(label, r) {
  row(label, `${num(r.rps, 0)} req/s`, `p50 ${num(r.p50, 2)} ms · p99 ${num(r.p99, 2)} ms · ${r.ok} ok · ${r.bad} failed${r.firstBad ? ` (${r.firstBad})` : ''}`);
}

// ---------- steps ----------
// The release wasm is the one the bundled JavaScript imports (worker-build keeps an
// unoptimised copy under build/.tmp/, which is skipped); else the largest .wasm.
function findWasm() {
  if (!fs.existsSync(BUILD)) return null;
  const files = fs.readdirSync(BUILD, { recursive: true }).map(String);
  const visible = (f) => !f.split(path.sep).some((seg) => seg.startsWith('.'));
  const wasm = files.filter((f) => f.endsWith('.wasm') && visible(f))
    .map((f) => ({ file: path.join(BUILD, f), size: fs.statSync(path.join(BUILD, f)).size }));
  if (!wasm.length) return null;
  const imported = new Set();
  for (const f of files.filter((x) => /\.m?js$/.test(x) && visible(x))) {
    const src = fs.readFileSync(path.join(BUILD, f), 'utf8');
    for (const m of src.matchAll(/from\s*["']([^"']+\.wasm)["']/g)) imported.add(path.resolve(BUILD, path.dirname(f), m[1]));
  }
  return wasm.sort((a, b) => (imported.has(b.file) - imported.has(a.file)) || (b.size - a.size));
}

function wasmSize() {
  out('wasm (release build)');
  const found = findWasm();
  if (!found) {
    out('  no .wasm under build/ — run the release build first');
    failures.push('no release wasm');
    return;
  }
  const [main, ...rest] = found;
  const gz = zlib.gzipSync(fs.readFileSync(main.file), { level: 9 }).length;
  row('file', path.relative(ROOT, main.file));
  row('raw size', `${main.size.toLocaleString('en-US')} B`, kib(main.size));
  const ok = gz <= WASM_GZIP_BUDGET;
  row('gzip -9 size', `${gz.toLocaleString('en-US')} B`, `${kib(gz)} · budget ≤ ${kib(WASM_GZIP_BUDGET)} · ${verdict(ok)}`);
  for (const r of rest) row('also', path.relative(ROOT, r.file), `${r.size.toLocaleString('en-US')} B`);
  if (!ok) failures.push('wasm gzip size over budget');
}

async function applyMigrations(mf) {
  const db = await mf.getD1Database('DB');
  const files = fs.existsSync(MIGRATIONS) ? fs.readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort() : [];
  let statements = 0;
  for (const f of files) {
    const sql = fs.readFileSync(path.join(MIGRATIONS, f), 'utf8');
    for (const stmt of unstable_splitSqlQuery(sql)) {
      if (!stmt.trim()) continue;
      try {
        await db.prepare(stmt).run();
      } catch (e) {
        throw new Error(`migration ${f}: ${e.message}\n  in: ${stmt.slice(0, 200)}`);
      }
      statements++;
    }
  }
  return { files: files.length, statements };
}

async function startRooom() {
  const { workerOptions, main } = unstable_getMiniflareWorkerOptions(WRANGLER_TOML);
  const script = main || path.join(BUILD, 'worker', 'shim.mjs');
  const srv = await startMiniflare('rooom', (host) => ({
    ...workerOptions,
    name: 'rooom',
    modules: true,
    scriptPath: script,
    modulesRoot: path.dirname(path.dirname(script)),
    // worker-build emits ES modules with a .js extension (Miniflare's default reads
    // .js as CommonJS); wasm stays a compiled module as in wrangler's rules.
    modulesRules: [{ type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }, ...(workerOptions.modulesRules || [])],
    bindings: {
      ...(workerOptions.bindings || {}),
      JWT_SECRET: crypto.randomBytes(32).toString('base64url'),
      MASTER_KEY: crypto.randomBytes(32).toString('base64url'),
      DEV_MODE: '1',
      APP_HOST: host,
      USER_DOMAIN: host,
    },
  }));
  srv.compatibilityDate = workerOptions.compatibilityDate;
  srv.compatibilityFlags = workerOptions.compatibilityFlags;
  srv.r2Buckets = workerOptions.r2Buckets;
  return srv;
}

async function signIn(srv) {
  out(`sign-in (${LOGINS} sequential POST /api/v1/auth/login, one client IP each)`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const { port, host } = srv;
  const tag = crypto.randomBytes(4).toString('hex');
  const username = `bench-${tag}`;
  const password = `bench violet kettle ${tag}`;
  const ip = (i) => `198.18.${(i >> 8) & 255}.${(i & 255) + 1}`;
  try {
    let t0 = performance.now();
    const reg = await request(agent, port, host, 'POST', '/api/v1/auth/register', {
      body: { username, email: `${username}@example.com`, password },
      headers: { 'cf-connecting-ip': ip(1000) },
    });
    const regMs = performance.now() - t0;
    if (reg.status !== 201) throw new Error(`register answered ${reg.status}: ${reg.text.slice(0, 300)}`);
    row('register', `${num(regMs)} ms`, '(one request, includes provisioning the tenant)');

    const times = [];
    for (let i = 0; i < LOGINS; i++) {
      t0 = performance.now();
      const res = await request(agent, port, host, 'POST', '/api/v1/auth/login', {
        body: { login: username, password },
        headers: { 'cf-connecting-ip': ip(i) },
      });
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`login #${i + 1} answered ${res.status}: ${res.text.slice(0, 300)}`);
      times.push(ms);
    }
    times.sort((a, b) => a - b);
    const p50 = percentile(times, 50);
    row('p50', `${num(p50)} ms`);
    row('p95', `${num(percentile(times, 95))} ms`);
    row('min / max', `${num(times[0])} / ${num(times[times.length - 1])} ms`);

    const hashes = [];
    for (let i = 0; i < HASH_SAMPLES; i++) {
      const res = await request(agent, port, host, 'GET', '/api/v1/dev/argon2', { headers: { 'cf-connecting-ip': ip(2000 + i) } });
      const ms = res.status === 200 ? Number(json(res)?.ms) : NaN;
      if (!Number.isFinite(ms)) throw new Error(`GET /api/v1/dev/argon2 answered ${res.status}: ${res.text.slice(0, 200)}`);
      hashes.push(ms);
    }
    const hash = median(hashes);
    row('argon2id hash', `${num(hash)} ms`, `median of ${HASH_SAMPLES} (GET /api/v1/dev/argon2: ${hashes.map((x) => num(x)).join(', ')})`);
    const ratio = p50 / hash;
    const ok = ratio <= SIGNIN_RATIO_BUDGET;
    row('p50 / hash', `${num(ratio, 2)}×`, `budget ≤ ${SIGNIN_RATIO_BUDGET}× · ${verdict(ok)}`);
    if (!ok) failures.push('sign-in p50 over 2× one argon2id hash');
  } catch (e) {
    out(`  FAILED: ${e.message}`);
    failures.push(`sign-in: ${e.message}`);
  } finally {
    agent.destroy();
  }
}

async function health(srv) {
  const agent = new http.Agent({ keepAlive: false });
  const res = await request(agent, srv.port, srv.host, 'GET', '/api/v1/health').catch((e) => ({ status: 0, text: e.message }));
  agent.destroy();
  if (res.status !== 200) throw new Error(`GET /api/v1/health answered ${res.status}: ${res.text.slice(0, 300)}`);
  row('health first answer', `HTTP ${res.status}`, res.text.slice(0, 120));
  return load(srv.port, srv.host, '/api/v1/health');
}

async function floor(compatibilityDate, compatibilityFlags) {
  const srv = await startMiniflare('floor', () => ({
    name: 'floor',
    modules: true,
    scriptPath: FLOOR,
    compatibilityDate,
    compatibilityFlags,
  }));
  try {
    return await load(srv.port, srv.host, '/');
  } finally {
    await srv.dispose();
  }
}

async function cleanup() {
  while (cleanups.length) {
    const fn = cleanups.shift();
    try { await fn(); } catch { /* best effort */ }
  }
}

async function main() {
  const mfVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'miniflare', 'package.json'), 'utf8')).version;
  out(`rooom benchmark · node ${process.version} · miniflare ${mfVersion} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()})`);
  out(`load: ${CONCURRENCY} requests in flight over keep-alive, ${MEASURE_MS / 1000} s measured after ${WARMUP_MS / 1000} s warm-up`);
  out();

  if (floorOnly) {
    out('throughput');
    printLoad('floor GET / (trivial JS)', await floor(FALLBACK_COMPAT_DATE, []));
    return;
  }

  if (!gitOnly) {
    wasmSize();
    out();
  }
  if (!fs.existsSync(WRANGLER_TOML)) throw new Error('wrangler.toml not found');
  const rooom = await startRooom();
  const m = await applyMigrations(rooom.mf);
  out(`worker: ${path.relative(ROOT, path.join(BUILD))}/ under Miniflare on ${rooom.host} (migrations: ${m.files} files, ${m.statements} statements)`);
  out();
  const gitFigures = () => gitBench(rooom, { out, row, num, request, json, tmpDir }).catch((e) => {
    out(`  FAILED: ${e.message}`);
    failures.push(`git: ${e.message.split('\n')[0]}`);
  });
  let ours;
  let roomFloor;
  try {
    if (gitOnly) {
      await gitFigures();
      return;
    }
    await signIn(rooom);
    out();
    out(`throughput (${CONCURRENCY} in flight, keep-alive, ${MEASURE_MS / 1000} s after ${WARMUP_MS / 1000} s warm-up)`);
    ours = await health(rooom);
    printLoad('rooom GET /api/v1/health', ours);
    // For context: a route that touches no binding (embedded static asset), to tell
    // the wasm/router cost apart from the D1+KV+R2 checks /health makes.
    const asset = await load(rooom.port, rooom.host, '/app.css');
    printLoad('rooom GET /app.css', asset);
    if (asset.bad) failures.push(`${asset.bad} failed /app.css requests`);
    out();
    roomFloor = await roomsBench(rooom, {
      out, row, num, load, printLoad, startMiniflare, failures, ROOT, CONCURRENCY, MEASURE_MS, WARMUP_MS,
    });
    out();
    await gitFigures();
  } catch (e) {
    if (rooom.stderrTail.length) out(`  workerd stderr (tail):\n${rooom.stderrTail.join('').split('\n').slice(-15).map((l) => `    ${l}`).join('\n')}`);
    throw e;
  } finally {
    await rooom.dispose();
  }
  // The room-page floor reads the R2 state rooom wrote, once rooom has let go of it.
  await roomFloor?.({
    r2Buckets: rooom.r2Buckets,
    compatibilityDate: rooom.compatibilityDate || FALLBACK_COMPAT_DATE,
    compatibilityFlags: rooom.compatibilityFlags || [],
  });
  const fl = await floor(rooom.compatibilityDate || FALLBACK_COMPAT_DATE, rooom.compatibilityFlags || []);
  printLoad('floor GET / (trivial JS)', fl);
  row('health / floor', num(ours.rps / fl.rps, 2), '(rooom /api/v1/health req/s ÷ floor req/s)');
  if (ours.bad) failures.push(`${ours.bad} failed health requests`);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { cleanup().finally(() => process.exit(130)); });
}

try {
  await main();
} catch (e) {
  out(`\nFAILED: ${e.stack || e.message}`);
  failures.push(e.message);
} finally {
  await cleanup();
}
out();
if (failures.length) {
  out(`result: ${failures.length} problem(s): ${failures.join('; ')}`);
  process.exitCode = 1;
} else {
  out('result: all budgets met');
}
