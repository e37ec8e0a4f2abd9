// The local D1 database file of the Worker under test:
// $ROOOM_STATE_DIR/v3/d1/miniflare-D1DatabaseObject/<hash>.sqlite.

import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR, BASE } from './client.mjs';
import { sqlite } from './sqlite.mjs';

export function d1File() {
  if (!STATE_DIR) throw new Error('ROOOM_STATE_DIR is not set: run the suite through `node tests/run.mjs`');
  const dir = path.join(STATE_DIR, 'v3', 'd1', 'miniflare-D1DatabaseObject');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  if (files.length !== 1) throw new Error(`expected one D1 database file in ${dir}, found ${files.join(', ') || 'none'}`);
  return path.join(dir, files[0]);
}

export const d1 = (sql) => sqlite(d1File(), sql);

/**
 * Runs statements through the running Worker's own D1 (Miniflare's local explorer API,
 * `/cdn-cgi/explorer/api/d1/...`), in one transaction: `d1Live([[sql, params], ...])`.
 * Prefer it to `d1()` for writes while other tests run: a write to the SQLite file from
 * another process can make a concurrent query of the Worker fail with SQLITE_BUSY
 * (workerd sets no busy timeout). Parameters are bound as text. Returns each
 * statement's rows (arrays of values).
 */
export async function d1Live(statements) {
  const api = `${BASE}/cdn-cgi/explorer/api/d1/database`;
  const list = await (await fetch(api)).json();
  const db = list.result?.find((d) => d.name === 'DB');
  if (!db) throw new Error(`no D1 database DB in the local explorer: ${JSON.stringify(list)}`);
  // The API takes text parameters only; put numbers into the SQL itself.
  const batch = statements.map(([sql, params = []]) => ({ sql, params: params.map(String) }));
  const res = await fetch(`${api}/${db.uuid}/raw`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ batch }),
  });
  const out = await res.json();
  if (!res.ok || !out.success) throw new Error(`D1 query failed (${res.status}): ${JSON.stringify(out).slice(0, 800)}`);
  return out.result.map((r) => r.results?.rows ?? []);
}
