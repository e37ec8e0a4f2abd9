// Reads the object keys of the local (Miniflare) R2 buckets straight from their
// SQLite metadata: $ROOOM_STATE_DIR/v3/r2/miniflare-R2BucketObject/*.sqlite,
// table _mf_objects, column key. Needs the sqlite3 CLI (Node 20 has no sqlite).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from './client.mjs';

let sqliteBin;
function sqlite3() {
  if (sqliteBin) return sqliteBin;
  try {
    sqliteBin = execFileSync('sh', ['-c', 'command -v sqlite3'], { encoding: 'utf8' }).trim();
  } catch {
    sqliteBin = '';
  }
  if (!sqliteBin) {
    throw new Error('the sqlite3 CLI is required to inspect local R2 state (apt-get install sqlite3); it was not found on PATH');
  }
  return sqliteBin;
}

export function r2MetadataDir() {
  if (!STATE_DIR) throw new Error('ROOOM_STATE_DIR is not set: run the suite through `node tests/run.mjs`');
  return path.join(STATE_DIR, 'v3', 'r2', 'miniflare-R2BucketObject');
}

/** Every object key in every local R2 bucket. */
export function r2Keys() {
  const bin = sqlite3();
  const dir = r2MetadataDir();
  if (!fs.existsSync(dir)) return [];
  const keys = [];
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.sqlite')) continue;
    let out;
    try {
      out = execFileSync(bin, ['-readonly', '-cmd', '.timeout 5000', path.join(dir, f), 'SELECT key FROM _mf_objects;'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      if (/no such table/.test(String(e.stderr))) continue; // a bucket nothing was written to yet
      throw new Error(`sqlite3 failed on ${f}: ${e.stderr || e.message}`);
    }
    for (const line of out.split('\n')) if (line) keys.push(line);
  }
  return keys;
}

/** Tenant prefix of a key: `t/<tenant_id>/`, or null for keys outside the tenant tree. */
export function tenantPrefix(key) {
  const m = /^t\/([^/]+)\//.exec(key);
  return m ? `t/${m[1]}/` : null;
}

/** Map prefix → number of keys under it. */
export function prefixCounts(keys) {
  const counts = new Map();
  for (const k of keys) {
    const p = tenantPrefix(k);
    if (p) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return counts;
}
