// What the page-latency benchmarks share: one isolated group posted as Alertmanager would, a busy
// wait for the page to arrive, quantiles, and a throwaway PostgreSQL database.
import pg from 'pg';
import { TEST_DATABASE_URL } from '../store/postgres-test-db.js';

/** The q-quantile of ascending `sorted` (nearest rank). */
export const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/** Spins on setImmediate until `check` holds: a timer would add its own granularity to what is timed. */
export async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a page');
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Posts group `n` of `alertname` (one firing alert with `labels`) to the service on `port` as
 * Alertmanager would, and returns when the 200 arrived (performance.now()); throws on any other answer.
 */
export async function postGroup(
  port: number,
  alertname: string,
  n: number,
  labels: Record<string, string>,
  summary: string,
): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/webhook/alertmanager`, {
    method: 'POST',
    headers: { authorization: 'Bearer bench', 'content-type': 'application/json' },
    body: JSON.stringify({
      receiver: 'bench',
      status: 'firing',
      version: '4',
      groupKey: `{}:{alertname="${alertname}",n="${n}"}`,
      truncatedAlerts: 0,
      groupLabels: { alertname, n: String(n) },
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://alertmanager:9093',
      alerts: [
        {
          status: 'firing',
          labels: { alertname, ...labels, n: String(n) },
          annotations: { summary },
          startsAt: new Date().toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://p',
          fingerprint: `fp${n}`,
        },
      ],
    }),
  });
  const answered = performance.now();
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  await res.arrayBuffer();
  return answered;
}

/** Runs `fn` with the URL of a fresh PostgreSQL database `name`, dropped after; undefined when none answers. */
export async function withPostgres<T>(name: string, fn: (url: string) => Promise<T>): Promise<T | undefined> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch (err) {
    console.log(`PostgreSQL rows skipped: none answers at TEST_DATABASE_URL (${(err as Error).message})`);
    return undefined;
  }
  const db = `${name}_${process.pid}`;
  await admin.query(`CREATE DATABASE ${db}`);
  try {
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${db}`;
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}
