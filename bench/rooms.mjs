// Room, media and writer figures for bench/bench.mjs: a public room page against a
// trivial JS Worker serving the same bytes from the same local R2 (the floor), the same
// page in a private room (grant check + decryption), 1 MiB download rates (media, and a
// sealed private file), and 16 parallel writers' throughput.
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const PAGE_BYTES = 4096;
const MEDIA_BYTES = 1024 * 1024;
const MEDIA_DOWNLOADS = 40;
const WRITERS = 16;
const WRITE_MS = 3000;
const ROOM_RATIO_TARGET = 0.7;

function page() {
  const filler = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. ';
  let html = '<!doctype html><meta charset=utf-8><title>bench</title><main>';
  while (html.length < PAGE_BYTES - 20) html += `<p>${filler}</p>`;
  return Buffer.from(`${html}</main>`.padEnd(PAGE_BYTES, ' ').slice(0, PAGE_BYTES));
}

function raw(port, host, method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: { host, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sets up a user, a room with a 4 KiB index.html and a 1 MiB media file; returns ids. */
async function seed(srv) {
  const { port, host } = srv;
  const name = `bench${crypto.randomBytes(3).toString('hex')}`;
  const json = (b) => Buffer.from(JSON.stringify(b));
  const reg = await raw(port, host, 'POST', '/api/v1/auth/register',
    json({ username: name, email: `${name}@example.com`, password: `bench violet kettle ${name}` }),
    { 'content-type': 'application/json', 'cf-connecting-ip': '198.18.9.9' });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.body}`);
  const auth = { authorization: `Bearer ${JSON.parse(reg.body).access_token}` };
  const api = (method, p, body, headers = {}) => raw(port, host, method, `/api/v1/tenants/${name}${p}`, body, { ...auth, ...headers });
  const room = await api('POST', '/rooms', json({ slug: 'bench' }), { 'content-type': 'application/json' });
  if (room.status !== 201) throw new Error(`create room: ${room.status} ${room.body}`);
  const put = await api('PUT', '/rooms/bench/files/index.html', page());
  if (put.status !== 200) throw new Error(`put index.html: ${put.status} ${put.body}`);
  const media = await api('PUT', '/media/big.bin', crypto.randomBytes(MEDIA_BYTES));
  if (media.status !== 201) throw new Error(`put media: ${media.status} ${media.body}`);
  const tenant = JSON.parse((await raw(port, host, 'GET', '/api/v1/tenants', undefined, auth)).body)[0];
  // The same page in a private room (sealed at rest), and a grant to read it with.
  const secret = await api('POST', '/rooms', json({ slug: 'secret', visibility: 'private' }), { 'content-type': 'application/json' });
  if (secret.status !== 201) throw new Error(`create private room: ${secret.status} ${secret.body}`);
  if ((await api('PUT', '/rooms/secret/files/index.html', page())).status !== 200) throw new Error('put private index.html');
  if ((await api('PUT', '/rooms/secret/files/big.bin', crypto.randomBytes(MEDIA_BYTES))).status !== 201) throw new Error('put private big.bin');
  const code = await raw(port, host, 'POST', '/api/v1/grants', json({ tenant: name, return: '/rooms/secret/' }),
    { ...auth, 'content-type': 'application/json' });
  if (code.status !== 201) throw new Error(`grant: ${code.status} ${code.body}`);
  const exchange = new URL(JSON.parse(code.body).location);
  const traded = await raw(port, `${name}.${host}`, 'GET', `${exchange.pathname}${exchange.search}`);
  const grant = /__Host-rooom_grant=([^;]+)/.exec(traded.headers?.['set-cookie']?.[0] ?? '')?.[1];
  if (!grant) throw new Error(`grant exchange: ${traded.status}`);
  return {
    name, api, tenantHost: `${name}.${host}`, cookie: `__Host-rooom_grant=${grant}`,
    key: `t/${tenant.id}/r/${JSON.parse(room.body).id}/files/index.html`,
  };
}

async function mediaRate(srv, tenantHost, b, label = '1 MiB media download', urlPath = '/media/big.bin', headers = {}) {
  const t0 = performance.now();
  for (let i = 0; i < MEDIA_DOWNLOADS; i++) {
    const res = await raw(srv.port, tenantHost, 'GET', urlPath, undefined, headers);
    if (res.status !== 200 || res.body.length !== MEDIA_BYTES) throw new Error(`${urlPath} download: ${res.status}, ${res.body.length} B`);
  }
  const s = (performance.now() - t0) / 1000;
  b.row(label, `${b.num(MEDIA_DOWNLOADS / s, 1)} MiB/s`, `${MEDIA_DOWNLOADS} sequential GET ${urlPath} · ${b.num((s * 1000) / MEDIA_DOWNLOADS, 1)} ms each`);
}

async function writers(api, b) {
  const body = crypto.randomBytes(PAGE_BYTES);
  const until = performance.now() + WRITE_MS;
  let ok = 0;
  let bad = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
    for (let i = 0; performance.now() < until; i++) {
      const res = await api('PUT', `/rooms/bench/files/w${w}/f${i % 8}.bin`, body);
      if (res.status === 200 || res.status === 201) ok++; else bad++;
    }
  }));
  const s = (performance.now() - t0) / 1000;
  b.row(`${WRITERS} parallel writers`, `${b.num(ok / s, 0)} writes/s`, `one room, 4 KiB files, ${ok} ok · ${bad} failed in ${b.num(s, 1)} s`);
  if (bad) b.failures.push(`${bad} failed parallel writes`);
}

/** Runs the room figures against a running rooom (`srv`), then the floor on its R2. */
export async function roomsBench(srv, b) {
  b.out(`rooms (${b.CONCURRENCY} in flight, keep-alive, ${b.MEASURE_MS / 1000} s after ${b.WARMUP_MS / 1000} s warm-up)`);
  const s = await seed(srv);
  const ours = await b.load(srv.port, s.tenantHost, '/rooms/bench/');
  b.printLoad('rooom GET /rooms/bench/', ours);
  const sealed = await b.load(srv.port, s.tenantHost, '/rooms/secret/', { cookie: s.cookie });
  b.printLoad('rooom GET /rooms/secret/ (private)', sealed);
  b.row('private page / public page', b.num(sealed.rps / ours.rps, 2), 'grant check (D1) + opening the sealed page');
  if (sealed.bad) b.failures.push(`${sealed.bad} failed private page requests`);
  await mediaRate(srv, s.tenantHost, b);
  await mediaRate(srv, s.tenantHost, b, '1 MiB private file download', '/rooms/secret/big.bin', { cookie: s.cookie });
  await writers(s.api, b);
  return async (floorOptions) => {
    const fl = await b.startMiniflare('floor-r2', () => ({
      name: 'floor-r2', modules: true, scriptPath: path.join(b.ROOT, 'bench', 'floor-r2-worker.mjs'),
      r2Buckets: floorOptions.r2Buckets, bindings: { KEY: s.key },
      compatibilityDate: floorOptions.compatibilityDate, compatibilityFlags: floorOptions.compatibilityFlags,
    }), srv.persist);
    try {
      const floor = await b.load(fl.port, fl.host, '/');
      b.printLoad('floor GET (JS + same R2)', floor);
      const ratio = ours.rps / floor.rps;
      b.row('room page / floor', b.num(ratio, 2), `target ≥ ${ROOM_RATIO_TARGET} · ${ratio >= ROOM_RATIO_TARGET ? 'OK' : 'BELOW TARGET'}`);
      if (ours.bad || floor.bad) b.failures.push(`${ours.bad + floor.bad} failed room page requests`);
    } finally {
      await fl.dispose();
    }
  };
}
