// npx tsx test/bench/floor-ratio-bench.ts: the service's CPU per webhook against the storage floor's,
// in one process, in alternating slices of SLICE_MS (300) for SECS (20) seconds, so that whatever else
// the shared machine runs weighs on both alike. Both through Fastify (app.inject: routing, parsing,
// validation, auth, hooks; no sockets), CLIENTS (16) webhooks in flight, each a new group of ALERTS
// (5) alerts, each on a durable SQLite file of its own. The service is the real app with Slack
// configured but its dispatcher not running (see ab-bench.ts for the dispatcher's share); the floor
// is bench-server.ts's: the same store writing the same rows, decided by a fixed function
// (floor-change.ts). Prints the median CPU per webhook of each and the median of the slices' ratios
// floor/service (the goal: 0.9 or more). Process CPU: the WAL syncs and checkpoints of
// libuv's and the checkpoint worker's threads count too. Not a test.
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load-config.js';
import { requireToken } from '../../src/http/require-token.js';
import { validatorCompiler } from '../../src/http/validator-compiler.js';
import { normalize } from '../../src/ingest/normalize.js';
import { WebhookSchema, type WebhookPayload } from '../../src/ingest/webhook-schema.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { benchBody } from './bench-payload.js';
import { benchService } from './bench-service.js';
import { floorChange } from './floor-change.js';

const alerts = Number(process.env['ALERTS'] ?? 5);
const clients = Number(process.env['CLIENTS'] ?? 16);
const seconds = Number(process.env['SECS'] ?? 20);
const sliceMs = Number(process.env['SLICE_MS'] ?? 300);
const TOKEN = 'bench-token';

const triage = loadConfigFile(new URL('../../config/triage.yml', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'alert-triage-floor-ratio-'));
const serviceStore = new SqliteStore({ path: join(dir, 'service.db') });
const service = benchService(triage, serviceStore, TOKEN);
const floorStore = new SqliteStore({ path: join(dir, 'floor.db') });
const floor: FastifyInstance = Fastify({
  bodyLimit: triage.server.bodyLimit,
  onProtoPoisoning: 'remove',
  onConstructorPoisoning: 'remove',
});
floor.setValidatorCompiler(validatorCompiler);
floor.post('/webhook/alertmanager', { schema: { body: WebhookSchema }, onRequest: requireToken(TOKEN, 'webhook', true) }, async (req) => {
  const { change, incident } = await floorStore.applyNotification(
    normalize(req.body as WebhookPayload, { at: Date.now() }),
    (active, _last, n) => (active ? null : floorChange(n)),
  );
  return { status: 'ok', changed: change !== null, incident: incident ? { id: incident.id } : null };
});
await service.ready();
await floor.ready();

let next = Math.floor(Math.random() * 1e9);
async function slice(app: FastifyInstance, ms: number): Promise<number> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() - start < ms) {
        const res = await app.inject({
          method: 'POST',
          url: '/webhook/alertmanager',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          payload: benchBody(alerts, next++),
        });
        if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}: ${res.body}`);
        done++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / done;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  await slice(service, 1000); // warm-up
  await slice(floor, 1000);
  const s: number[] = [];
  const f: number[] = [];
  const ratios: number[] = [];
  for (let t = 0; t < seconds * 1000; t += 2 * sliceMs) {
    // Alternating which goes first, so neither always follows the other's backlog of syncs.
    const first = s.length % 2 === 0;
    const a = await slice(first ? service : floor, sliceMs);
    const b = await slice(first ? floor : service, sliceMs);
    const [sv, fl] = first ? [a, b] : [b, a];
    s.push(sv);
    f.push(fl);
    ratios.push(fl / sv);
  }
  console.log(
    `${alerts} alerts, ${clients} in flight, ${s.length} slice pairs: CPU µs per webhook, service ${median(s).toFixed(0)}, floor ${median(f).toFixed(0)}; ` +
      `floor/service ${median(ratios).toFixed(2)} (quartiles ${[...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 4)]!.toFixed(2)}-${[...ratios].sort((x, y) => x - y)[Math.floor((3 * ratios.length) / 4)]!.toFixed(2)})`,
  );
} finally {
  await service.close();
  await floor.close();
  await floorStore.close();
  rmSync(dir, { recursive: true, force: true });
}
