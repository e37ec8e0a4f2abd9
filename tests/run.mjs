#!/usr/bin/env node
// End-to-end test harness for rooom.
//
//   node tests/run.mjs                 # every tests/e2e and tests/browser *.test.mjs
//   node tests/run.mjs login refresh   # only files whose name contains "login" or "refresh"
//   node tests/run.mjs --test-name-pattern=throttle   # extra `--` flags go to `node --test`
//
// Starts the Worker (tests/lib/worker.mjs: wrangler dev, free port, fresh state, D1
// migrations applied), runs the tests with ROOOM_URL, ROOOM_PORT and ROOOM_STATE_DIR
// set, then stops the Worker, removes the state and exits with the test runner's exit
// code. The Worker's output goes to tests/.artifacts/worker.log.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startWorker } from './lib/worker.mjs';

// End-to-end API tests, then browser tests; all share one Worker.
const TEST_DIRS = [path.join(ROOT, 'tests', 'e2e'), path.join(ROOT, 'tests', 'browser')];
const LOG_FILE = path.join(ROOT, 'tests', '.artifacts', 'worker.log');

let worker = null;

function log(msg) {
  process.stderr.write(`[e2e] ${msg}\n`);
}

function fail(msg, code = 1) {
  log(msg);
  worker?.stop();
  worker = null;
  process.exit(code);
}

process.on('exit', () => worker?.stop());
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => fail(`received ${sig}, stopping`, sig === 'SIGINT' ? 130 : 143));
}
process.on('uncaughtException', (e) => fail(`harness error: ${e.stack || e}`));
process.on('unhandledRejection', (e) => fail(`harness error: ${e?.stack || e}`));

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

async function main() {
  const args = process.argv.slice(2);
  const passThrough = args.filter((a) => a.startsWith('--'));
  const files = selectTestFiles(args.filter((a) => !a.startsWith('--')));

  worker = await startWorker({ logFile: LOG_FILE });
  log(`worker healthy at ${worker.base} (state ${worker.stateDir}); running ${files.length} test file(s)`);

  const runner = spawn(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-reporter=spec', ...passThrough, ...files],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, ROOOM_URL: worker.base, ROOOM_PORT: String(worker.port), ROOOM_STATE_DIR: worker.stateDir },
    },
  );
  const code = await new Promise((resolve) => {
    runner.on('error', (e) => { log(`could not start node --test: ${e.message}`); resolve(1); });
    runner.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
  if (code !== 0) log(`tests failed (exit ${code}); worker log: ${path.relative(ROOT, LOG_FILE)}`);
  worker.stop();
  worker = null;
  process.exit(code);
}

main();
