// Reads the object keys of the local (Miniflare) R2 buckets straight from their
// SQLite metadata: $ROOOM_STATE_DIR/v3/r2/miniflare-R2BucketObject/*.sqlite,
// table _mf_objects, column key. Needs the sqlite3 CLI (Node 20 has no sqlite).

import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from './client.mjs';
import { sqlite, sqlite3 } from './sqlite.mjs';

export function r2MetadataDir() {
  if (!STATE_DIR) throw new Error('ROOOM_STATE_DIR is not set: run the suite through `node tests/run.mjs`');
  return path.join(STATE_DIR, 'v3', 'r2', 'miniflare-R2BucketObject');
}

/** Every object key in every local R2 bucket. */
export function r2Keys() {
  sqlite3();
  const dir = r2MetadataDir();
  if (!fs.existsSync(dir)) return [];
  const keys = [];
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.sqlite')) continue;
    let lines;
    try {
      lines = sqlite(path.join(dir, f), 'SELECT key FROM _mf_objects;', { readonly: true });
    } catch (e) {
      if (/no such table/.test(String(e.stderr))) continue; // a bucket nothing was written to yet
      throw new Error(`sqlite3 failed on ${f}: ${e.stderr || e.message}`);
    }
    keys.push(...lines);
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
