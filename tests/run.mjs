#!/usr/bin/env node
// End-to-end test harness for rooom.
//
//   node tests/run.mjs                 # every tests/e2e and tests/browser *.test.mjs
//   node tests/run.mjs login refresh   # only files whose name contains "login" or "refresh"
//   node tests/run.mjs --test-name-pattern=throttle   # extra `--` flags go to `node --test`
//
// Starts `wrangler dev` on a free port with a fresh state directory (D1 migrations
// applied) and a copy of build/ taken at start, waits for /api/v1/health, runs the tests with ROOOM_URL, ROOOM_PORT and
// ROOOM_STATE_DIR set, then stops the worker, removes the state and exits with the
// test runner's exit code. The worker's output goes to tests/.artifacts/worker.log.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// End-to-end API tests, then browser tests; all share one Worker.
const TEST_DIRS = [path.join(ROOT, 'tests', 'e2e'), path.join(ROOT, 'tests', 'browser')];
const ARTIFACTS = path.join(ROOT, 'tests', '.artifacts');
const LOG_FILE = path.join(ARTIFACTS, 'worker.log');
const WRANGLER = path.join(ROOT, 'node_modules', '.bin', 'wrangler');
const START_TIMEOUT_MS = Number(process.env.ROOOM_E2E_START_TIMEOUT_MS ?? 90_000);
const WRANGLER_ENV = { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' };

let worker = null;
let stateDir = null;
let cleanedUp = false;

function log(msg) {
  process.stderr.write(`[e2e] ${msg}\n`);
}

function logTail(lines = 80) {
  try {
    const text = fs.readFileSync(LOG_FILE, 'utf8').split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '(no worker log)';
  }
}

function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    try { process.kill(-worker.pid, 'SIGTERM'); } catch { /* already gone */ }
    // Give workerd a moment, then make sure the whole group is gone.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      try { process.kill(-worker.pid, 0); } catch { break; }
      spawnSync('sleep', ['0.1']);
    }
    try { process.kill(-worker.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (stateDir) {
    try { fs.rmSync(stateDir, { recursive: true, force: true }); } catch (e) { log(`could not remove ${stateDir}: ${e.message}`); }
  }
}

function fail(msg, code = 1) {
  log(msg);
  cleanup();
  process.exit(code);
}

process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => fail(`received ${sig}, stopping`, sig === 'SIGINT' ? 130 : 143));
}
process.on('uncaughtException', (e) => fail(`harness error: ${e.stack || e}`));
process.on('unhandledRejection', (e) => fail(`harness error: ${e?.stack || e}`));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function selectTestFiles(filters) {
  const all = [];
  for (const dir of TEST_DIRS) {
    if (!fs.existsSync(dir)) fail(`no test directory ${dir}`);
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort()) all.push(path.join(dir, f));
  }
  const chosen = filters.length === 0
    ? all
    : all.filter((f) => filters.some((flt) => path.basename(f).includes(path.basename(flt).replace(/\.test\.mjs$/, ''))));
  if (chosen.length === 0) fail(`no test files match ${JSON.stringify(filters)} (have: ${all.map((f) => path.basename(f)).join(', ')})`);
  return chosen;
}

async function waitForHealth(url, child) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      fail(`wrangler dev exited early (code ${child.exitCode}, signal ${child.signalCode}). Log tail:\n${logTail()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  fail(`worker not healthy after ${START_TIMEOUT_MS / 1000} s (last: ${last}). Log tail:\n${logTail()}`);
}

async function main() {
  const args = process.argv.slice(2);
  const passThrough = args.filter((a) => a.startsWith('--'));
  const files = selectTestFiles(args.filter((a) => !a.startsWith('--')));

  if (!fs.existsSync(WRANGLER)) fail(`${WRANGLER} not found: run npm install first`);
  if (!fs.existsSync(path.join(ROOT, 'wrangler.toml'))) fail('wrangler.toml not found in the repo root');
  if (!fs.existsSync(path.join(ROOT, 'build', 'worker', 'shim.mjs'))) fail('build/worker/shim.mjs not found: build the worker first');

  const port = await freePort();
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rooom-e2e-'));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  log(`port ${port}, state ${stateDir}`);

  const migrate = spawnSync(WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir], {
    cwd: ROOT,
    env: WRANGLER_ENV,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (migrate.status !== 0) {
    fail(`D1 migrations failed (status ${migrate.status}${migrate.error ? `, ${migrate.error.message}` : ''}):\n${migrate.stdout}\n${migrate.stderr}`);
  }

  // Serve a copy of build/, so a rebuild during the run (wrangler dev watches its
  // entry) can neither take the worker down nor mix two versions in one run.
  const snapshot = path.join(stateDir, 'worker-build');
  fs.cpSync(path.join(ROOT, 'build'), path.join(snapshot, 'build'), { recursive: true });
  const entry = path.join(snapshot, 'build', 'worker', 'shim.mjs');

  const logFd = fs.openSync(LOG_FILE, 'w');
  const host = `localhost:${port}`;
  worker = spawn(
    WRANGLER,
    [
      'dev',
      entry,
      '--config', path.join(ROOT, 'wrangler.toml'),
      '--port', String(port),
      '--ip', '127.0.0.1',
      '--persist-to', stateDir,
      '--var', `APP_HOST:${host}`,
      '--var', `USER_DOMAIN:${host}`,
      '--show-interactive-dev-session=false',
      '--log-level=warn',
    ],
    { cwd: ROOT, env: WRANGLER_ENV, stdio: ['ignore', logFd, logFd], detached: true },
  );
  fs.closeSync(logFd);
  worker.on('error', (e) => fail(`could not start wrangler dev: ${e.message}`));

  const base = `http://${host}`;
  await waitForHealth(`${base}/api/v1/health`, worker);
  log(`worker healthy at ${base}; running ${files.length} test file(s)`);

  const runner = spawn(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-reporter=spec', ...passThrough, ...files],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, ROOOM_URL: base, ROOOM_PORT: String(port), ROOOM_STATE_DIR: stateDir },
    },
  );
  const code = await new Promise((resolve) => {
    runner.on('error', (e) => { log(`could not start node --test: ${e.message}`); resolve(1); });
    runner.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
  if (code !== 0) log(`tests failed (exit ${code}); worker log: ${path.relative(ROOT, LOG_FILE)}`);
  cleanup();
  process.exit(code);
}

main();
