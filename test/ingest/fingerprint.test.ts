import t from 'tap';
import { labelsFingerprint } from '../../src/ingest/fingerprint.js';
import { derivedGroupKey } from '../../src/ingest/normalize.js';
import { fixture } from '../helpers.js';

t.test("the fingerprint is Alertmanager's, for every alert of the real Alertmanager 0.25 captures", async (t) => {
  let n = 0;
  for (const name of ['firing-two-alerts', 'firing-with-one-resolved']) {
    for (const a of fixture(name).body.alerts) {
      t.equal(labelsFingerprint(a.labels), a.fingerprint, `${name}: ${JSON.stringify(a.labels)}`);
      n++;
    }
  }
  t.equal(n, 4, 'every alert compared');
});

t.test("the fingerprint follows Go's FNV-1a over sorted UTF-8 name/value pairs", async (t) => {
  // Go's fnv.New64a().Sum64() of nothing: the offset basis, as model.LabelsToSignature returns for no labels.
  t.equal(labelsFingerprint({}), 'cbf29ce484222325');
  // The order the labels are written in does not matter; the names are sorted.
  t.equal(labelsFingerprint({ b: '2', a: '1' }), labelsFingerprint({ a: '1', b: '2' }));
  // The separator byte keeps {a: "bc"} and {ab: "c"} apart.
  t.not(labelsFingerprint({ a: 'bc' }), labelsFingerprint({ ab: 'c' }));
  // 16 hex digits, leading zeros kept.
  t.match(labelsFingerprint({ alertname: 'x' }), /^[0-9a-f]{16}$/);
  // Go sorts by bytes (code points): U+FFFD sorts before U+1F525, where UTF-16 order puts the surrogate pair first.
  const byBytes = labelsFingerprint({ '\uFFFD': '1', '🔥': '2' });
  t.equal(
    byBytes,
    manual([
      ['\uFFFD', '1'],
      ['🔥', '2'],
    ]),
    'code point order',
  );
  t.not(
    byBytes,
    manual([
      ['🔥', '2'],
      ['\uFFFD', '1'],
    ]),
  );
});

/** FNV-1a 64 over pairs in the order given, written out long-hand from the algorithm's definition. */
function manual(pairs: [string, string][]): string {
  let h = 0xcbf29ce484222325n;
  const bytes = pairs.flatMap(([k, v]) => [...Buffer.from(k, 'utf8'), 0xff, ...Buffer.from(v, 'utf8'), 0xff]);
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

t.test("a missing groupKey is Alertmanager's form, from the receiver and the group labels", async (t) => {
  t.equal(derivedGroupKey('ops', { service: 'api', alertname: 'Down' }), '{"ops"}:{alertname="Down", service="api"}');
  t.equal(derivedGroupKey('ops', {}), '{"ops"}:{}');
  t.not(derivedGroupKey('ops', { a: 'b' }), derivedGroupKey('dev', { a: 'b' }));
});
