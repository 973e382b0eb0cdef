// npx tsx test/bench/long-incident-bench.ts (or npm run bench:long-incident): issue 19 point 2's
// storm, measured through HTTP only (so the same script measures any release): three webhooks of
// 40,000 alerts to one group, then TICKS checklist ticks and NOTES notes, then the size and time
// of GET /api/incidents/:id, the incident page, a live poll (and a 304 one), a tick, the report,
// and the process's RSS. Numbers go to docs/performance.md. Not a test: nothing here is asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { WebClient } from '../web/web-client.js';

const ALERTS = Number(process.env['BENCH_ALERTS'] ?? 40_000);
const WEBHOOKS = Number(process.env['BENCH_WEBHOOKS'] ?? 3);
const TICKS = Number(process.env['BENCH_TICKS'] ?? 2_000);
const NOTES = Number(process.env['BENCH_NOTES'] ?? 2_000);
const TOKEN = 'bench-token';

const dir = mkdtempSync(join(tmpdir(), 'alert-triage-long-'));
const store = new SqliteStore({ path: join(dir, 'triage.db') });
const triage = loadConfigFile(new URL('../../config/triage.yml', import.meta.url).pathname);
const app = buildApp(
  // 40,000 alerts are about 12 MB of JSON: above the shipped body limit.
  { triage: { ...triage, server: { ...triage.server, bodyLimit: 256 * 1024 * 1024 } }, apiToken: TOKEN, dispatch: { autoStart: false } },
  { store },
);
await app.ready();
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
const rss = () => `${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`;
const auth = { authorization: `Bearer ${TOKEN}` };

const startsAt = new Date(Date.now() - 60_000).toISOString();
for (let w = 0; w < WEBHOOKS; w++) {
  const alerts = Array.from({ length: ALERTS }, (_, i) => ({
    status: 'firing',
    labels: { alertname: i % 4 ? 'InstanceDown' : 'DiskFull', instance: `host-${w}-${i}:9100`, job: 'node', severity: 'high' },
    annotations: { summary: `host-${w}-${i} is down`, description: 'The node exporter has not answered for 5 minutes.' },
    startsAt,
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
    fingerprint: `fp-${w}-${i}`,
  }));
  const body = { version: '4', groupKey: '{}:{alertname="InstanceDown"}', receiver: 'bench', status: 'firing', alerts, truncatedAlerts: 0 };
  const start = performance.now();
  const res = await app.inject({ method: 'POST', url: '/webhook/alertmanager', payload: body, headers: auth });
  console.log(`webhook ${w + 1} of ${ALERTS} alerts: ${res.statusCode} in ${(performance.now() - start).toFixed(0)} ms`);
}
const id = 1;
const web = new WebClient(app);
await web.signIn('Bench', TOKEN);
await web.get(`/incidents/${id}`);
const step = /name="step" value="([^"]+)"/.exec((await web.get(`/incidents/${id}`)).body)![1]!.replace(/&amp;/g, '&');

async function measure(label: string, fn: () => Promise<{ body: string; status: number }>) {
  await fn(); // warm
  const runs: number[] = [];
  let size = 0;
  let status = 0;
  for (let n = 0; n < 3; n++) {
    const start = performance.now();
    const r = await fn();
    runs.push(performance.now() - start);
    size = Buffer.byteLength(r.body);
    status = r.status;
  }
  runs.sort((a, b) => a - b);
  console.log(`${label}: ${status}, ${mb(size)}, median ${runs[1]!.toFixed(1)} ms`);
}
const get =
  (url: string, headers: Record<string, string> = {}) =>
  async () => {
    const r = await web.get(url, headers);
    return { body: r.body, status: r.statusCode };
  };
const apiGet = (url: string) => async () => {
  const r = await app.inject({ method: 'GET', url, headers: auth });
  return { body: r.body, status: r.statusCode };
};
let ticks = 0;
const tick = async () => {
  ticks += 1;
  const r = await web.post(`/incidents/${id}/checklist`, { step, ...(ticks % 2 ? { done: 'on' } : {}) });
  return { body: r.body, status: r.statusCode };
};

async function report(when: string) {
  console.log(`-- ${when}`);
  await measure('GET /api/incidents/:id', apiGet(`/api/incidents/${id}`));
  await measure('GET /incidents/:id (page)', get(`/incidents/${id}`));
  const live = await web.get(`/incidents/${id}/live`);
  await measure('GET /incidents/:id/live (poll)', get(`/incidents/${id}/live`));
  const version = (live.json<{ version: string }>().version ?? '').toString();
  await measure('GET /incidents/:id/live (poll, If-None-Match)', get(`/incidents/${id}/live`, { 'if-none-match': `"${version}"` }));
  await measure('POST /incidents/:id/checklist (tick)', tick);
  await measure('GET /api/incidents/:id/report', apiGet(`/api/incidents/${id}/report`));
  console.log(`RSS ${rss()}`);
}

await report(`after ${WEBHOOKS} webhooks of ${ALERTS} alerts`);
const start = performance.now();
for (let n = 0; n < TICKS; n++) await tick();
for (let n = 0; n < NOTES; n++) await web.post(`/incidents/${id}/notes`, { text: `note ${n}` });
console.log(`${TICKS} ticks and ${NOTES} notes (each followed by no page load): ${((performance.now() - start) / 1000).toFixed(1)} s`);
await report(`after ${ticks} ticks and ${NOTES} notes`);
await app.close();
rmSync(dir, { recursive: true, force: true });
