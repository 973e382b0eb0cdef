import type { Labels } from './matcher.js';

/** Keys that could reach an object's prototype; stripped rather than rejected (a 4xx would make Alertmanager drop the group). */
const HOSTILE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Copies a label or annotation map into a null-prototype object, keeping only string values
 * and dropping keys that could pollute prototypes.
 */
export function toLabels(value: unknown): Labels {
  const out: Record<string, string> = Object.create(null);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    // Keys, not entries: no pair array per label, on a path that runs for every label of every alert.
    for (const k of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[k];
      if (typeof v === 'string' && !HOSTILE_KEYS.has(k)) out[k] = v;
    }
  }
  return out;
}
