import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir, type Teardown } from '../helpers.js';
import { needs } from '../monitoring/tools.js';

export const AM_BIN = process.env['ALERTMANAGER_BIN'] ?? '/usr/bin/prometheus-alertmanager';
export const AMTOOL = '/usr/bin/amtool';
/** false when a real Alertmanager (and amtool) can run here, else the skip message (a failure under CI). */
export const skipWithoutAlertmanager = () =>
  needs(AM_BIN, 'prometheus-alertmanager (or set ALERTMANAGER_BIN)') || needs(AMTOOL, 'prometheus-alertmanager');

/** `amtool silence query` against one peer: the active silences, as amtool reads them. */
export function amtoolQuery(url: string): { id: string; matchers: { name: string; value: string }[]; createdBy: string }[] {
  const r = spawnSync(AMTOOL, ['silence', 'query', '-o', 'json', `--alertmanager.url=${url}`], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`amtool failed: ${r.stderr}`);
  return JSON.parse(r.stdout || '[]') as never;
}

/** A real Alertmanager on a free port, alone or one of a cluster, stopped by its pid at teardown. */
export interface AlertmanagerProcess {
  url: string;
  process: ChildProcess;
  logs: () => string;
  stop: () => Promise<void>;
}

/** Where a started Alertmanager sends its notifications: one webhook receiver, as the README's setup has it. */
export interface WebhookReceiverConfig {
  url: string;
  token: string;
  /** Alertmanager's `max_alerts` (0, the default, sends every alert of a group). */
  maxAlerts?: number;
}

/** Alertmanager's config: every alert grouped by name to `webhook` after 1 s, or to a receiver with no integrations. */
export function alertmanagerConfig(webhook?: WebhookReceiverConfig): string {
  if (!webhook) return 'route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n';
  return `route:
  receiver: triage
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: triage
    webhook_configs:
      - url: ${webhook.url}
        send_resolved: true
        max_alerts: ${webhook.maxAlerts ?? 0}
        http_config:
          authorization:
            type: Bearer
            credentials: ${webhook.token}
`;
}

export async function startAlertmanager(
  t: Teardown,
  opts: { cluster?: { listen: number; peer: number }; webhook?: WebhookReceiverConfig } = {},
): Promise<AlertmanagerProcess> {
  const { cluster } = opts;
  const dir = tempDir(t);
  const port = await freePort();
  writeFileSync(join(dir, 'alertmanager.yml'), alertmanagerConfig(opts.webhook));
  let logs = '';
  const am = spawn(AM_BIN, [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'am')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...(cluster
      ? [
          `--cluster.listen-address=127.0.0.1:${cluster.listen}`,
          `--cluster.advertise-address=127.0.0.1:${cluster.listen}`,
          `--cluster.peer=127.0.0.1:${cluster.peer}`,
          '--cluster.settle-timeout=1s',
          '--cluster.pushpull-interval=1s',
          '--cluster.gossip-interval=50ms',
        ]
      : ['--cluster.listen-address=']),
    '--log.level=warn',
  ]);
  am.stderr.on('data', (d) => (logs += d));
  const stop = async () => {
    if (am.exitCode !== null || am.signalCode !== null) return;
    am.kill('SIGTERM');
    await once(am, 'exit');
  };
  t.teardown(stop);
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => (await fetch(`${url}/-/ready`)).ok,
    `${url} to be ready`,
    () => logs,
  );
  return { url, process: am, logs: () => logs, stop };
}

/** Two clustered peers (an HA pair) that gossip silences to each other, once each sees both. */
export async function startAlertmanagerPair(t: Teardown): Promise<[AlertmanagerProcess, AlertmanagerProcess]> {
  const [g1, g2] = [await freePort(), await freePort()];
  const pair = [
    await startAlertmanager(t, { cluster: { listen: g1, peer: g2 } }),
    await startAlertmanager(t, { cluster: { listen: g2, peer: g1 } }),
  ] as const;
  for (const am of pair)
    await until(
      async () => ((await (await fetch(`${am.url}/api/v2/status`)).json()) as { cluster: { peers: unknown[] } }).cluster.peers.length === 2,
      `${am.url} to see both peers`,
      am.logs,
    );
  return [pair[0], pair[1]];
}

/** Waits until `check` holds, polling; the error carries the end of `log`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  log: () => string = () => '',
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Posts alerts to Alertmanager as Prometheus would (POST /api/v2/alerts). */
export async function pushAlerts(url: string, alerts: { labels: Record<string, string>; annotations?: Record<string, string> }[]) {
  const res = await fetch(`${url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts.map((a) => ({ ...a, startsAt: new Date().toISOString() }))),
  });
  if (!res.ok) throw new Error(`Alertmanager refused the alerts: ${res.status} ${await res.text()}`);
}

/** Alertmanager's silences (GET /api/v2/silences). */
export async function amSilences(url: string): Promise<
  {
    id: string;
    status: { state: string };
    matchers: { name: string; value: string; isRegex: boolean; isEqual?: boolean }[];
    startsAt: string;
    endsAt: string;
    createdBy: string;
    comment: string;
  }[]
> {
  return (await (await fetch(`${url}/api/v2/silences`)).json()) as never;
}
