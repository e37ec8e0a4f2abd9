// Starts and stops the real Worker under `wrangler dev` (workerd with local D1, R2, KV
// and Durable Objects) on a free port with a fresh state directory and migrations
// applied, serving a copy of build/ taken at start (so a rebuild during a run can
// neither take it down nor mix two versions in one run).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER = path.join(ROOT, 'node_modules', '.bin', 'wrangler');
const START_TIMEOUT_MS = Number(process.env.ROOOM_E2E_START_TIMEOUT_MS ?? 90_000);
const WRANGLER_ENV = { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' };

export function freePort() {
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

function tail(file, lines = 80) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no worker log)';
  }
}

/**
 * Starts a Worker. `vars` override wrangler.toml and .dev.vars (e.g. {DEV_MODE: '0'});
 * `stateDir` reuses a state directory (and leaves it behind) instead of a fresh one.
 * Returns {base, port, stateDir, child, stop()}; throws (after cleaning up) when the
 * Worker does not become healthy. A port found free can be taken by another process
 * before wrangler binds it, so that case is retried on a fresh port.
 */
export async function startWorker(options) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWorkerOnce(options);
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test(error.message)) throw error;
    }
  }
}

async function startWorkerOnce({ vars = {}, logFile, stateDir: keptState }) {
  for (const [file, hint] of [[WRANGLER, 'run npm install first'], [path.join(ROOT, 'build', 'worker', 'shim.mjs'), 'build the worker first']]) {
    if (!fs.existsSync(file)) throw new Error(`${file} not found: ${hint}`);
  }
  const port = await freePort();
  // A given state directory outlives the Worker (a later Worker reopens it); the
  // caller removes it.
  const stateDir = keptState ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rooom-e2e-'));
  const host = `localhost:${port}`;
  let child = null;

  const stop = () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        try { process.kill(-child.pid, 0); } catch { break; }
        spawnSync('sleep', ['0.1']);
      }
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (!keptState) fs.rmSync(stateDir, { recursive: true, force: true });
  };

  try {
    const migrate = spawnSync(WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir], {
      cwd: ROOT, env: WRANGLER_ENV, encoding: 'utf8', timeout: 120_000,
    });
    if (migrate.status !== 0) {
      throw new Error(`D1 migrations failed (status ${migrate.status}):\n${migrate.stdout}\n${migrate.stderr}`);
    }
    const snapshot = path.join(stateDir, 'worker-build', 'build');
    fs.cpSync(path.join(ROOT, 'build'), snapshot, { recursive: true });

    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const logFd = fs.openSync(logFile, 'w');
    const varArgs = Object.entries({ APP_HOST: host, USER_DOMAIN: host, ...vars }).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
    child = spawn(
      WRANGLER,
      [
        'dev', path.join(snapshot, 'worker', 'shim.mjs'),
        '--config', path.join(ROOT, 'wrangler.toml'),
        '--port', String(port), '--ip', '127.0.0.1', '--persist-to', stateDir,
        ...varArgs,
        // `/__scheduled` fires the cron handler on demand (tests/e2e/retention.test.mjs).
        '--test-scheduled',
        '--show-interactive-dev-session=false', '--log-level=warn',
      ],
      { cwd: ROOT, env: WRANGLER_ENV, stdio: ['ignore', logFd, logFd], detached: true },
    );
    fs.closeSync(logFd);

    const base = `http://${host}`;
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = 'no answer yet';
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`wrangler dev exited early (code ${child.exitCode}). Log tail:\n${tail(logFile)}`);
      }
      try {
        const res = await fetch(`${base}/api/v1/health`, { signal: AbortSignal.timeout(5000) });
        if (res.status === 200) break;
        last = `HTTP ${res.status}`;
      } catch (e) {
        last = e.cause?.code ?? e.message;
      }
      if (Date.now() > deadline) throw new Error(`worker not healthy after ${START_TIMEOUT_MS / 1000} s (last: ${last}). Log tail:\n${tail(logFile)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return { base, port, stateDir, child, stop };
  } catch (error) {
    stop();
    throw error;
  }
}
