// The local D1 database file of the Worker under test:
// $ROOOM_STATE_DIR/v3/d1/miniflare-D1DatabaseObject/<hash>.sqlite.

import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from './client.mjs';
import { sqlite } from './sqlite.mjs';

export function d1File() {
  if (!STATE_DIR) throw new Error('ROOOM_STATE_DIR is not set: run the suite through `node tests/run.mjs`');
  const dir = path.join(STATE_DIR, 'v3', 'd1', 'miniflare-D1DatabaseObject');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  if (files.length !== 1) throw new Error(`expected one D1 database file in ${dir}, found ${files.join(', ') || 'none'}`);
  return path.join(dir, files[0]);
}

export const d1 = (sql) => sqlite(d1File(), sql);
