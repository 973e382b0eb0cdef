// With several replicas every query reads one series per replica. A gauge that each replica reads
// from the shared database carries the same value on all of them, so it is aggregated with max
// (a sum would count it once per replica); a counter or histogram counts the events of the replica
// that did the work, so it is aggregated with sum. The README's Monitoring section says the same.

/** The gauges read from the database at each scrape (src/metrics/metrics.ts). */
export const DATABASE_GAUGES = [
  'triage_incidents_open',
  'triage_incidents_breached_open',
  'triage_notification_queue_depth',
  'triage_notifications_retrying',
];

/** What is wrong with a query's aggregation across replicas, if anything: one sentence per problem. */
export function replicaAggregationProblems(expr: string): string[] {
  const problems: string[] = [];
  for (const gauge of DATABASE_GAUGES) {
    for (const m of expr.matchAll(new RegExp(`\\b${gauge}\\b(?!_)`, 'g'))) {
      const before = expr.slice(0, m.index);
      if (!/\bmax by \([^)]*\) \($/.test(before))
        problems.push(
          `${gauge} is read from the database: aggregate it with max by (…), not ${before.match(/(\w+)(?: by \([^)]*\))? ?\($/)?.[1] ?? 'bare'}`,
        );
    }
  }
  for (const m of expr.matchAll(/\b(triage_\w+(?:_total|_bucket|_sum|_count))\b/g)) {
    const before = expr.slice(0, m.index);
    // rate(…) or increase(…) of the counter, inside sum(…) or sum by (…) (…).
    if (!/\bsum(?: by \([^)]*\))? ?\((?:rate|increase)\($/.test(before))
      problems.push(`${m[1]} counts per replica: aggregate its rate or increase with sum`);
  }
  return problems;
}
