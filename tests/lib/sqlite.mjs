// The sqlite3 CLI, for reading and seeding the local (Miniflare) state of D1 and R2,
// which are SQLite files under $ROOOM_STATE_DIR/v3 (Node 20 has no sqlite module).

import { execFileSync } from 'node:child_process';

let sqliteBin;

export function sqlite3() {
  if (sqliteBin) return sqliteBin;
  try {
    sqliteBin = execFileSync('sh', ['-c', 'command -v sqlite3'], { encoding: 'utf8' }).trim();
  } catch {
    sqliteBin = '';
  }
  if (!sqliteBin) {
    throw new Error('the sqlite3 CLI is required to inspect local state (apt-get install sqlite3); it was not found on PATH');
  }
  return sqliteBin;
}

/** Runs SQL against a SQLite file and returns its output lines. */
export function sqlite(file, sql, { readonly = false } = {}) {
  const args = [...(readonly ? ['-readonly'] : []), '-cmd', '.timeout 5000', file, sql];
  const out = execFileSync(sqlite3(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter(Boolean);
}
