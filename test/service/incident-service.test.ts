import t, { type Test } from 'tap';
import { join } from 'node:path';
import { severityRank } from '../../src/classify/severity.js';
import { IncidentService } from '../../src/service/incident-service.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { IncidentStore } from '../../src/store/store.js';
import { groupNotification, incomingAlert, shippedConfig, T0, tempDir } from '../helpers.js';

/**
 * The service on a real SQLite store that asks each notification's urgency (before the decision
 * with `askFirst`, as the PostgreSQL store does when notifications queue; after it otherwise), with
 * a classifier that counts its calls.
 */
function service(t: Test, askFirst: boolean) {
  const store = new SqliteStore({ path: join(tempDir(t), 'urgency.db') });
  t.teardown(() => store.close());
  const urgencies: number[] = [];
  const asking = new Proxy(store, {
    get(target, prop) {
      if (prop === 'applyNotification')
        return async (...args: Parameters<IncidentStore['applyNotification']>) => {
          if (askFirst) urgencies.push(args[2]!());
          const outcome = await target.applyNotification(...args);
          if (!askFirst) urgencies.push(args[2]!());
          return outcome;
        };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const classified = { calls: 0 };
  const ingest = new IncidentService({
    store: asking,
    clock: { now: () => T0 },
    config: {
      current: {
        classify: (labels) => {
          classified.calls++;
          return shippedConfig.classify(labels);
        },
        sla: shippedConfig.sla,
        paging: shippedConfig.paging,
      },
    },
  });
  return { ingest, urgencies, classified };
}

const mixed = groupNotification([incomingAlert('a', 'ServiceDown'), incomingAlert('b', 'DDoSAttack'), incomingAlert('c', 'DiskFilling')], {
  groupKey: 'mixed',
});

t.test("a notification's urgency is its most severe alert's rank", async (t) => {
  const { ingest, urgencies } = service(t, true);
  await ingest.ingest(mixed);
  await ingest.ingest(groupNotification([incomingAlert('x', 'ServiceDown')], { groupKey: 'high' }));
  t.same(urgencies, [severityRank('critical'), severityRank('high')]);
});

t.test('asked before the decision, as in a storm, the urgency classifies each alert once for both', async (t) => {
  const { ingest, classified } = service(t, true);
  const { change } = await ingest.ingest(mixed);
  t.equal(change?.incident.severity, 'critical', 'the decision classified as the urgency did');
  t.equal(classified.calls, 3, 'three alerts, three classifications');
});

t.test('not asked before the decision, nothing is remembered: asking later classifies again', async (t) => {
  const { ingest, classified } = service(t, false);
  await ingest.ingest(mixed);
  t.equal(classified.calls, 6, 'three by the decision, three by the late question');
});
