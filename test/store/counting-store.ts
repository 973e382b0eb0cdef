import type { IncidentStore } from '../../src/store/store.js';

/** One call of a store method, with its arguments. */
export interface StoreCall {
  method: string;
  args: unknown[];
}

/**
 * `store` as it is, every call of a read of incidents recorded: tests of bounded reads check which
 * reads a request made and how much each could return (never how long it took).
 */
export function countingStore(store: IncidentStore): { store: IncidentStore; calls: StoreCall[]; reset: () => void } {
  const calls: StoreCall[] = [];
  const reads = new Set([
    'getIncident',
    'incident',
    'incidentHead',
    'incidentVersion',
    'timelinePage',
    'timelineHead',
    'timelineCount',
    'checklistState',
    'alertSummary',
  ]);
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (typeof key === 'string' && reads.has(key)) {
        return (...args: unknown[]) => {
          calls.push({ method: key, args });
          return fn.apply(target, args);
        };
      }
      return fn.bind(target);
    },
  });
  return { store: proxy, calls, reset: () => void calls.splice(0) };
}

/** The most entries or alerts one recorded call could return: Infinity for a whole read (getIncident). */
export function largestRead(calls: readonly StoreCall[]): number {
  let most = 0;
  for (const { method, args } of calls) {
    if (method === 'getIncident') return Infinity;
    if (method === 'timelinePage') most = Math.max(most, (args[1] as { limit: number }).limit);
    if (method === 'timelineHead' || method === 'alertSummary') most = Math.max(most, args[1] as number);
    if (method === 'incidentHead') most = Math.max(most, (args[1] as { limit: number }).limit);
  }
  return most;
}
