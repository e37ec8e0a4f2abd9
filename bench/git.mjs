// Git figures for bench/bench.mjs: a deterministic small site (1,000 files, 100 commits)
// pushed to, cloned from and fetched from a rooom room with the stock git client, against
// the same history served by git's own `git http-backend` behind a minimal CGI server
// (node:http). Wall times are medians: push of the whole history 3× (each into a fresh
// room / fresh bare repo), clone 5×, fetch of one more commit 5×. Both sides speak
// protocol v0 (rooom's only version; the CGI server does not pass Git-Protocol on).
// The rooom clone must have the pushed main and pass `git fsck --strict`, else it throws.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const [TEXT_FILES, BIN_FILES, COMMITS] = [900, 100, 100];
const [PUSH_RUNS, CLONE_RUNS, FETCH_RUNS] = [3, 5, 5];
// The history goes up in this many pushes (1 = one push of all 100 commits).
const PUSHES = Number(process.env.ROOOM_BENCH_GIT_PUSHES ?? 1);
const SEED = 0x5eed;
const GIT_TIMEOUT_MS = 300_000;
const VERIFY_LINK_RE = /\/verify-email\?token=([A-Za-z0-9_\-%.~]+)/;
const WORDS = ('lorem ipsum garden river stone paper window light morning evening quiet harbor lantern meadow copper '
  + 'violet kettle orchard village letter bridge market autumn winter summer spring travel notes recipe bread coffee '
  + 'bicycle mountain forest island ocean cloud thunder whisper silver amber').split(' ');
const TOP = ['blog', 'docs', 'projects', 'notes', 'gallery', 'about', 'recipes', 'assets/css'];

// ---------- deterministic site: trees of COMMITS + FETCH_RUNS commits ----------
function prng(seed) { // mulberry32
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = (xs) => xs[Math.floor(next() * xs.length)];
  const bytes = (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256)));
  return { int, pick, bytes };
}

function text(r, ext, size) {
  const words = (k) => Array.from({ length: k }, () => r.pick(WORDS)).join(' ');
  let s = ext === 'html' ? `<!doctype html>\n<meta charset=utf-8>\n<title>${words(3)}</title>\n<main>\n` : '';
  while (s.length < size) {
    if (ext === 'html') s += `<p>${words(r.int(8, 30))}</p>\n`;
    else if (ext === 'css') s += `.${r.pick(WORDS)}-${r.int(1, 99)} { color: #${r.int(0, 0xffffff).toString(16).padStart(6, '0')}; margin: ${r.int(0, 40)}px; }\n`;
    else s += `${words(r.int(6, 16))}.\n`;
  }
  return s.slice(0, size);
}

/** Writes the site into `dir` commit by commit; returns the tree id of each commit. */
async function buildTrees(g, dir) {
  const r = prng(SEED);
  const files = new Map();
  for (let i = 0; i < TEXT_FILES; i++) {
    const ext = i === 0 ? 'html' : r.pick(['html', 'html', 'html', 'css', 'md', 'txt']);
    const sub = Array.from({ length: r.int(0, 2) }, () => `${r.pick(WORDS)}-${r.int(1, 4)}`);
    files.set(i === 0 ? 'index.html' : [r.pick(TOP), ...sub, `${r.pick(WORDS)}-${i}.${ext}`].join('/'), text(r, ext, r.int(200, 4096)));
  }
  for (let i = 0; i < BIN_FILES; i++) {
    const p = `assets/${r.pick(['img', 'img', 'fonts', 'media'])}/${r.pick(WORDS)}-${i}.${r.pick(['png', 'jpg', 'webp', 'woff2'])}`;
    files.set(p, r.bytes(r.int(5 * 1024, 50 * 1024)));
  }
  const paths = [...files.keys()];
  const write = (p) => { fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true }); fs.writeFileSync(path.join(dir, p), files.get(p)); };
  paths.forEach(write);
  await g(['init', '-q', dir]);
  const trees = [];
  for (let c = 0; c < COMMITS + FETCH_RUNS; c++) {
    const edited = [];
    if (c > 0) { // ~10 files edited: a text passage rewritten in place, a binary replaced
      for (let k = r.int(8, 12); k > 0; k--) {
        const p = r.pick(paths);
        edited.push(p);
        const old = files.get(p);
        if (Buffer.isBuffer(old)) files.set(p, r.bytes(r.int(5 * 1024, 50 * 1024)));
        else {
          const len = r.int(60, Math.min(600, old.length)), at = r.int(0, old.length - len);
          files.set(p, old.slice(0, at) + text(r, 'txt', len) + old.slice(at + len));
        }
        write(p);
      }
    }
    await g(['add', '--', ...(c ? edited : ['.'])], { cwd: dir });
    trees.push(await g(['write-tree'], { cwd: dir }));
  }
  return trees;
}

/** Commits `trees` (the n-th from `first`) on `parent` with fixed dates; returns the ids. */
async function chain(g, dir, parent, trees, first) {
  const ids = [];
  for (const [i, tree] of trees.entries()) {
    const [n, p] = [first + i, ids.at(-1) ?? parent];
    const date = `${1_700_000_000 + n * 3600} +0000`;
    ids.push(await g(['commit-tree', tree, ...(p ? ['-p', p] : []), '-m', n ? `Edit a few pages (#${n})` : 'Add the site'],
      { cwd: dir, env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } }));
  }
  return ids;
}

// ---------- git, timing ----------
function gitRunner(env) {
  return (args, { cwd, env: extra } = {}) => new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    const [out, err] = [[], []];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), GIT_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString('utf8').trim());
      else reject(new Error(`git ${args[0]} exited ${code ?? signal}: ${Buffer.concat(err).toString('utf8').slice(-1500)}`));
    });
  });
}

const timed = async (fn, t0 = performance.now()) => { await fn(); return performance.now() - t0; };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const packBytes = (dir) => fs.readdirSync(path.join(dir, '.git', 'objects', 'pack'))
  .filter((f) => f.endsWith('.pack')).reduce((n, f) => n + fs.statSync(path.join(dir, '.git', 'objects', 'pack', f)).size, 0);

// ---------- git http-backend behind a minimal CGI server ----------
function cgiServer(root, env) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const cgi = {
      ...env, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1', REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname), QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '', REMOTE_USER: 'bench', REMOTE_ADDR: '127.0.0.1',
    };
    if (req.headers['content-length']) cgi.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) cgi.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    const child = spawn('git', ['http-backend'], { env: cgi, stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdin.on('error', () => {}); // http-backend may answer before reading everything
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = /\r?\n\r?\n/.exec(head.toString('latin1'));
      if (!end) return;
      child.stdout.off('data', onData);
      const headers = Object.fromEntries(head.subarray(0, end.index).toString('latin1').split(/\r?\n/)
        .filter((l) => l.indexOf(':') > 0).map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));
      const status = parseInt(headers.Status ?? '200', 10);
      delete headers.Status;
      res.writeHead(status, headers);
      res.write(head.subarray(end.index + end[0].length));
      child.stdout.pipe(res);
    };
    child.stdout.on('data', onData);
    child.on('close', () => { if (!res.headersSent) res.writeHead(502).end(); });
    child.on('error', () => { if (!res.headersSent) res.writeHead(500).end(); });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---------- rooom: a verified user with a write token ----------
async function rooomUser(srv, b) {
  const name = `git${crypto.randomBytes(4).toString('hex')}`;
  const email = `${name}@example.com`; // verified through the dev outbox: tokens need it
  const call = async (method, p, body, token, want) => {
    const headers = { 'cf-connecting-ip': '198.18.77.7', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const res = await b.request(undefined, srv.port, srv.host, method, `/api/v1${p}`, { body, headers });
    if (want && res.status !== want) throw new Error(`${method} /api/v1${p} answered ${res.status}: ${res.text.slice(0, 300)}`);
    return b.json(res);
  };
  const { access_token: access } = await call('POST', '/auth/register', { username: name, email, password: `bench violet kettle ${name}` }, null, 201);
  let link = null;
  for (let i = 0; i < 40 && !link; i++) {
    const mails = await call('GET', `/dev/outbox?to=${encodeURIComponent(email)}`, undefined, null, 200);
    link = mails.map((m) => VERIFY_LINK_RE.exec(m.text ?? '')).find(Boolean);
    if (!link) await new Promise((r) => setTimeout(r, 150));
  }
  if (!link) throw new Error(`no verification mail for ${email}`);
  await call('POST', '/auth/verify-email', { token: decodeURIComponent(link[1]) }, null, 204);
  const { token: pat } = await call('POST', '/me/tokens', { name: 'bench git', scope: 'write' }, access, 201);
  return {
    room: async (slug) => (await call('POST', `/tenants/${name}/rooms`, { slug }, access, 201)).head.commit,
    url: (slug) => `http://x:${pat}@${name}.${srv.host}/rooms/${slug}.git`,
  };
}

/** Runs the git figures against a running rooom (`srv`). Throws on any wrong result. */
export async function gitBench(srv, b) {
  const base = b.tmpDir('git');
  const [home, work, root] = ['home', 'work', 'served'].map((d) => path.join(base, d));
  fs.mkdirSync(home);
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(home, '.gitconfig'), '[user]\n\tname = Bench\n\temail = bench@example.test\n[init]\n\tdefaultBranch = main\n'
    + '[gc]\n\tauto = 0\n[credential]\n\thelper =\n[advice]\n\tdetachedHead = false\n');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' });
  const g = gitRunner(env);
  let n = 0;

  const t0 = performance.now();
  const trees = await buildTrees(g, work);
  b.out(`git (${TEXT_FILES + BIN_FILES} files, ${COMMITS} commits, built in ${b.num((performance.now() - t0) / 1000)} s; wall ms, median)`);

  // rooom: each push run goes into a fresh room, on top of its "Create room" commit.
  const user = await rooomUser(srv, b);
  const ours = { push: [], clone: [], fetch: [] };
  const pushAll = (url, tips) => timed(async () => {
    for (const id of tips) await g(['push', '-q', url, `${id}:refs/heads/main`], { cwd: work });
  });
  const every = Math.ceil(COMMITS / PUSHES);
  let tips;
  for (let i = 1; i <= PUSH_RUNS; i++) {
    const slug = `push-${i}`;
    const start = await user.room(slug);
    await g(['fetch', '-q', user.url(slug), 'main'], { cwd: work });
    const ids = await chain(g, work, start, trees.slice(0, COMMITS), 0);
    const these = ids.filter((_, k) => (k + 1) % every === 0 || k === ids.length - 1);
    tips ??= these;
    ours.push.push(await pushAll(user.url(slug), these).catch((e) => {
      throw new Error(`${e.message}(ROOOM_BENCH_GIT_PUSHES=10 pushes the history in 10 smaller packs)`);
    }));
  }
  const tip = tips.at(-1);
  const extra = await chain(g, work, tip, trees.slice(COMMITS), COMMITS);

  // http-backend: the history of room push-1 (its "Create room" commit included).
  const server = await cgiServer(root, env);
  const theirs = { push: [], clone: [], fetch: [] };
  try {
    const backendUrl = (repo) => `http://127.0.0.1:${server.address().port}/${repo}`;
    for (let i = 1; i <= PUSH_RUNS; i++) {
      await g(['init', '-q', '--bare', path.join(root, `r${i}.git`)]);
      await g(['config', 'http.receivepack', 'true'], { cwd: path.join(root, `r${i}.git`) });
      theirs.push.push(await pushAll(backendUrl(`r${i}.git`), tips));
    }
    const sides = [[ours, user.url('push-1')], [theirs, backendUrl('r1.git')]];
    for (const [side, url] of sides) {
      let dir;
      for (let i = 0; i < CLONE_RUNS; i++) {
        dir = path.join(base, `clone-${++n}`);
        side.clone.push(await timed(() => g(['clone', '-q', url, dir])));
        if (i === 0) side.pack = packBytes(dir);
      }
      const head = await g(['rev-parse', 'main'], { cwd: dir });
      if (head !== tip) throw new Error(`clone of ${side === ours ? 'rooom' : 'http-backend'} has main ${head}, pushed ${tip}`);
      if (side === ours) await g(['fsck', '--strict', '--full', '--no-dangling', '--no-progress'], { cwd: dir });
      for (const id of extra) {
        await g(['push', '-q', url, `${id}:refs/heads/main`], { cwd: work });
        side.fetch.push(await timed(() => g(['fetch', '-q', 'origin'], { cwd: dir })));
      }
      const fetched = await g(['rev-parse', 'origin/main'], { cwd: dir });
      if (fetched !== extra.at(-1)) throw new Error(`fetch got ${fetched}, pushed ${extra.at(-1)}`);
    }
  } finally {
    await new Promise((r) => server.close(r));
  }

  const line = (a, c, d, e, f = '') => b.out(`  ${a.padEnd(26)}${c.padStart(12)}${d.padStart(15)}${e.padStart(9)}${f ? `   ${f}` : ''}`);
  line('operation', 'rooom', 'http-backend', 'ratio');
  for (const [key, label, runs] of [['push', `push ${COMMITS} commits${PUSHES > 1 ? ` (${tips.length}×)` : ''}`, PUSH_RUNS], ['clone', 'clone', CLONE_RUNS], ['fetch', 'fetch 1 new commit', FETCH_RUNS]]) {
    const [a, c] = [median(ours[key]), median(theirs[key])];
    line(label, `${b.num(a)} ms`, `${b.num(c)} ms`, `${b.num(a / c, 2)}×`, `n=${runs} · rooom ${ours[key].map((x) => b.num(x, 0)).join('/')} · backend ${theirs[key].map((x) => b.num(x, 0)).join('/')}`);
  }
  const mib = (x) => `${b.num(x / 1048576, 2)} MiB`;
  line('clone pack size', mib(ours.pack), mib(theirs.pack), `${b.num(ours.pack / theirs.pack, 2)}×`, 'size of .git/objects/pack/*.pack after clone');
  b.row('rooom clone check', 'OK', 'main = pushed tip, git fsck --strict clean, fetch reached the last commit');
}
