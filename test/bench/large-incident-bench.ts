// npx tsx test/bench/large-incident-bench.ts: GET /api/incidents/:id on an incident of 100,000
// alerts (issue 12 #12), answered with one page of alerts, against the whole incident as the route
// answered before (every alert, serialised the same way).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { incidentDetailsJson } from '../../src/api/incident-json.js';

const ALERTS = Number(process.env['BENCH_ALERTS'] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'alert-triage-bench-'));
const store = new SqliteStore({ path: join(dir, 'triage.db') });
const triage = loadConfigFile(new URL('../../config/triage.yml', import.meta.url).pathname);
// One webhook of 100,000 alerts is about 30 MB: above the shipped body limit.
const app = buildApp(
  { triage: { ...triage, server: { ...triage.server, bodyLimit: 256 * 1024 * 1024 } }, dispatch: { autoStart: false } },
  { store },
);
await app.ready();
const startsAt = new Date(Date.now() - 60_000).toISOString();
const alerts = Array.from({ length: ALERTS }, (_, i) => ({
  status: 'firing',
  labels: { alertname: 'InstanceDown', instance: `host-${i}:9100`, job: 'node', severity: 'high' },
  annotations: { summary: `host-${i} is down`, description: 'The node exporter has not answered for 5 minutes.' },
  startsAt,
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
  fingerprint: `fp${i}`,
}));
const body = { version: '4', groupKey: '{}:{alertname="InstanceDown"}', receiver: 'bench', status: 'firing', alerts, truncatedAlerts: 0 };
const res = await app.inject({ method: 'POST', url: '/webhook/alertmanager', payload: body });
const id = res.json().incident.id as number;

async function time(label: string, fn: () => Promise<string>) {
  await fn(); // warm
  const start = performance.now();
  const text = await fn();
  console.log(`${label}: ${(text.length / 1e6).toFixed(2)} MB in ${(performance.now() - start).toFixed(0)} ms`);
}
await time(`whole incident, as the route answered before (${ALERTS} alerts)`, async () => {
  const incident = (await store.getIncident(id))!;
  const version = (await store.incidentVersion(id))!;
  return JSON.stringify(
    incidentDetailsJson({ ...incident, id, version }, { offset: 0, limit: ALERTS }, { entries: incident.timeline, older: null }, 0),
  );
});
await time(
  'GET /api/incidents/:id now (first 500 alerts)',
  async () => (await app.inject({ method: 'GET', url: `/api/incidents/${id}` })).body,
);
await time(
  'GET /api/incidents/:id?alertsOffset=99500',
  async () => (await app.inject({ method: 'GET', url: `/api/incidents/${id}?alertsOffset=${ALERTS - 500}` })).body,
);
await app.close();
rmSync(dir, { recursive: true, force: true });
