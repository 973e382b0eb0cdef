import t from 'tap';
import { parseRfc3339 } from '../../src/ingest/normalize.js';

t.test('RFC 3339 times only, as Alertmanager (Go) writes them', async (t) => {
  const table: [string, string | undefined][] = [
    ['2026-11-23T22:07:46Z', '2026-11-23T22:07:46.000Z'],
    ['2026-11-23T22:07:46.5Z', '2026-11-23T22:07:46.500Z'],
    ['2026-11-23T22:07:46.123456789Z', '2026-11-23T22:07:46.123Z'],
    ['2026-11-23T23:07:46+01:00', '2026-11-23T22:07:46.000Z'],
    ['2026-11-23T20:37:46-01:30', '2026-11-23T22:07:46.000Z'],
    ['2026-11-23t22:07:46z', '2026-11-23T22:07:46.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    // What Date.parse takes but RFC 3339 is not.
    ['1', undefined],
    ['2026', undefined],
    ['2026-11-23', undefined],
    ['2026-11-23T22:07:46', undefined],
    ['2026-11-23 22:07:46Z', undefined],
    ['Mon, 23 Nov 2026 22:07:46 GMT', undefined],
    ['November 23, 2026', undefined],
    ['+002026-11-23T22:07:46Z', undefined],
    [' 2026-11-23T22:07:46Z', undefined],
    // Out of range.
    ['2026-02-29T00:00:00Z', undefined],
    ['2026-02-30T00:00:00Z', undefined],
    ['2026-13-01T00:00:00Z', undefined],
    ['2026-11-23T24:00:00Z', undefined],
    ['2026-11-23T22:60:00Z', undefined],
    ['2026-11-23T22:07:60Z', undefined],
    ['2026-11-23T22:07:46+24:00', undefined],
    ['9999-99-99T99:99:99Z', undefined],
  ];
  for (const [text, want] of table) {
    const ms = parseRfc3339(text);
    t.equal(ms === undefined ? undefined : new Date(ms).toISOString(), want, JSON.stringify(text));
  }
  // Go's zero time, which Alertmanager sends as "no end yet", is a time before the epoch.
  t.ok(parseRfc3339('0001-01-01T00:00:00Z')! < 0);
  t.equal(new Date(parseRfc3339('0099-06-01T00:00:00Z')!).getUTCFullYear(), 99, 'the year 99 is not 1999');
});
