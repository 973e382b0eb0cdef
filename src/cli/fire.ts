import { createHash } from 'node:crypto';
import { describeFetchError, receiverUrl, UsageError, type Output } from './output.js';

/** One synthetic alert group of a drill. */
interface Scenario {
  alertname: string;
  labels: Record<string, string>;
  summary: string;
  /** Instances: one alert each, so a scenario can have several alerts in one group. */
  instances: string[];
}

/** The checklist's test events, one per class of the plan's severity table. */
export const SCENARIOS: Record<string, Scenario> = {
  breach: {
    alertname: 'DataExfiltrationSuspected',
    labels: { severity: 'critical', category: 'data-breach', service: 'api' },
    summary: 'api is serving 190MiB/s to one client',
    instances: ['api-1:8080'],
  },
  ddos: {
    alertname: 'DDoSSuspected',
    labels: { severity: 'critical', category: 'ddos', service: 'edge' },
    summary: 'Possible DDoS on edge: 450 rate-limited requests/s',
    instances: ['lb-1:443', 'lb-2:443'],
  },
  'service-down': {
    alertname: 'TargetDown',
    labels: { severity: 'high', category: 'service-down', service: 'worker' },
    summary: 'worker-1 of worker is down',
    instances: ['worker-1:9100'],
  },
  'auth-surge': {
    alertname: 'AuthFailureSurge',
    labels: { severity: 'medium', category: 'auth-failures', service: 'api' },
    summary: 'Authentication failures on api: 12.5/s',
    instances: ['api-1:8080', 'api-2:8080'],
  },
  disk: {
    alertname: 'LowDiskSpace',
    labels: { severity: 'low', category: 'capacity', service: 'db' },
    summary: '/var on db-1 is 12% free',
    instances: ['db-1:9100'],
  },
};

/** Without --scenario: one event for each severity of the plan. */
export const DEFAULT_SCENARIOS = ['breach', 'service-down', 'auth-surge', 'disk'];

/** Options of `alert-triage fire`. */
export interface FireOptions {
  url?: string | undefined;
  scenarios: string[];
  resolve: boolean;
  /** The Alertmanager receiver name the events claim to come from. */
  receiver: string;
  /** A contact id to page instead of the drill route's people. */
  to?: string | undefined;
  /** Page the real route. */
  live?: boolean;
}

/**
 * Sends synthetic Alertmanager webhooks to a running receiver, shaped like Alertmanager's own
 * (version 4, stable groupKey and fingerprints), so `fire --resolve` clears what `fire` opened.
 * Returns the exit code.
 */
export async function fire(opts: FireOptions, env: NodeJS.ProcessEnv, io: Output, now = Date.now()): Promise<number> {
  const names = opts.scenarios.length ? opts.scenarios : DEFAULT_SCENARIOS;
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length) throw new UsageError(`unknown scenario ${unknown.join(', ')}; choose from ${Object.keys(SCENARIOS).join(', ')}`);
  const url = receiverUrl(opts.url, env);
  const token = env['WEBHOOK_TOKEN'];
  let failed = 0;
  if (!opts.resolve) {
    io.out(
      opts.live
        ? 'LIVE drill: the real route and escalation are paged'
        : opts.to
          ? `Drill: paging ${opts.to} only`
          : 'Drill: paging the drill route of the config (drill:), never the real one; --to CONTACT pages you, --live the real route',
    );
  }
  for (const name of names) {
    const body = webhook(SCENARIOS[name]!, opts, now);
    let res: Response;
    try {
      res = await fetch(`${url}/webhook/alertmanager`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'alert-triage-fire',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      io.err(`✗ ${name}: ${describeFetchError(err, url)}`);
      return 1;
    }
    const text = await res.text();
    if (res.status === 401) {
      io.err(`✗ ${name}: ${url} refused the credentials: set WEBHOOK_TOKEN to the receiver's token`);
      return 1;
    }
    if (!res.ok) {
      io.err(`✗ ${name}: ${url} answered ${res.status}: ${text.slice(0, 200)}`);
      failed++;
      continue;
    }
    const r = JSON.parse(text) as { changed: boolean; incident: { id: number; status: string; severity: string } | null };
    const verb = opts.resolve ? 'resolved' : 'fired';
    const what = r.incident
      ? `incident #${r.incident.id} ${r.incident.status} (${r.incident.severity})`
      : opts.resolve
        ? 'nothing open to resolve'
        : 'already open, nothing changed';
    io.out(`✓ ${verb} ${name} (${body.alerts.length} × ${body.groupLabels['alertname']}): ${what}`);
  }
  return failed ? 1 : 0;
}

function webhook(s: Scenario, { resolve, receiver, to, live }: FireOptions, now: number) {
  const status = resolve ? 'resolved' : 'firing';
  const at = new Date(now).toISOString();
  const alerts = s.instances.map((instance) => {
    const labels = { alertname: s.alertname, ...s.labels, instance, drill: 'true' };
    return {
      status,
      labels,
      annotations: {
        summary: s.summary,
        description: 'A test event from `alert-triage fire`: rehearse the response, then run `alert-triage fire --resolve`.',
        runbook_url: `https://runbooks.example.com/alert-triage/${s.labels['category']}`,
      },
      startsAt: at,
      endsAt: resolve ? at : '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: fingerprint(labels),
    };
  });
  // The group labels say how the drill is paged (incidents/drill.ts); the key stays the same
  // with or without them, so that --resolve clears what was fired.
  const groupLabels: Record<string, string> = {
    alertname: s.alertname,
    service: s.labels['service']!,
    drill: 'true',
    ...(live ? { drill_live: 'true' } : {}),
    ...(to ? { drill_notify: to } : {}),
  };
  return {
    receiver,
    status,
    alerts,
    groupLabels,
    commonLabels: { alertname: s.alertname, ...s.labels, drill: 'true' },
    commonAnnotations: {},
    externalURL: 'http://alert-triage-fire',
    version: '4',
    groupKey: `{}/{drill="true"}:{alertname="${s.alertname}", service="${groupLabels['service']}"}`,
    truncatedAlerts: 0,
  };
}

/** A stable fingerprint of a label set, as Alertmanager gives one (16 hex digits). */
function fingerprint(labels: Record<string, string>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
