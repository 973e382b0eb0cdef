/**
 * The benchmarks' webhook: `alerts` firing alerts of a group that no earlier request used (`n`), in
 * the shape Alertmanager 0.25 posts, so that every request opens an incident.
 */
export function benchBody(alerts: number, n: number): string {
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  return JSON.stringify({
    receiver: 'bench',
    status: 'firing',
    alerts: Array.from({ length: alerts }, (_, i) => ({
      status: 'firing',
      labels: { alertname: 'HighErrorRate', instance: `web-${i}:8080`, job: 'web', severity: 'warning', group: String(n) },
      annotations: { summary: `5xx ratio above 5% on web-${i}`, runbook_url: 'https://runbooks.example/5xx' },
      startsAt,
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: `${n.toString(16)}-${i}`,
    })),
    groupLabels: { alertname: 'HighErrorRate', group: String(n) },
    commonLabels: { alertname: 'HighErrorRate', job: 'web' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: `{}:{alertname="HighErrorRate",group="${n}"}`,
    truncatedAlerts: 0,
  });
}
