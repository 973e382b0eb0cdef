// npx tsx test/bench/ingest-bench.ts: CPU time per webhook of the ingest path in one process, without
// the network: CLIENTS loops (16; like autocannon's connections) each hand the service one new
// group after another, on a durable SQLite file, and the store group-commits what arrives together.
// INJECT=1 goes through Fastify (app.inject: routing, parsing, validation, auth); without it, straight
// to normalize and service.ingest. FLOOR=1: the storage floor instead (bench-server.ts `floor`):
// normalize and the store's write of the same rows, decided by a fixed function (floor-change.ts),
// no domain. ALERTS per webhook (5). Prints three rounds of process CPU time
// (all threads: the WAL sync runs in libuv's pool) per webhook. Far steadier than req/s under HTTP
// load on a shared machine, and tells the store and the domain apart from HTTP. Not a test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load-config.js';
import { normalize } from '../../src/ingest/normalize.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { benchBody } from './bench-payload.js';
import { benchService } from './bench-service.js';
import { floorChange } from './floor-change.js';

const alerts = Number(process.env['ALERTS'] ?? 5);
const clients = Number(process.env['CLIENTS'] ?? 16);
const seconds = Number(process.env['SECS'] ?? 3);
const inject = Boolean(process.env['INJECT']);
const floor = Boolean(process.env['FLOOR']);
const TOKEN = 'bench-token';

const triage = loadConfigFile(new URL('../../config/triage.yml', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'alert-triage-ingest-'));
const store = new SqliteStore({ path: join(dir, 'bench.db') });
const app = benchService(triage, store, TOKEN);
await app.ready();

let next = Math.floor(Math.random() * 1e9);
async function one(): Promise<void> {
  const body = benchBody(alerts, next++);
  if (floor) {
    await store.applyNotification(normalize(JSON.parse(body), { at: Date.now() }), (active, _last, n) => (active ? null : floorChange(n)));
    return;
  }
  if (!inject) {
    await app.triage.service.ingest(normalize(JSON.parse(body), { at: Date.now() }));
    return;
  }
  const res = await app.inject({
    method: 'POST',
    url: '/webhook/alertmanager',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    payload: body,
  });
  if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}: ${res.body}`);
}

async function round(ms: number): Promise<number> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() - start < ms) {
        await one();
        done++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / done;
}

try {
  await round(1000); // warm-up
  const rounds: number[] = [];
  for (let i = 0; i < 3; i++) rounds.push(await round((seconds * 1000) / 3));
  console.log(
    `${alerts} alerts, ${clients} clients${floor ? ', the storage floor' : inject ? ', through Fastify' : ''}: CPU µs per webhook ${rounds.map((r) => r.toFixed(0)).join(', ')}`,
  );
} finally {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
