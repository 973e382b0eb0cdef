/**
 * Alertmanager's fingerprint of a label set (Prometheus common/model's LabelSet.Fingerprint, the
 * same as LabelsToSignature): 64-bit FNV-1a over the label names in byte order, each name and value
 * followed by the separator byte 0xff (which valid UTF-8 never holds), written as 16 hex digits.
 * An alert posted without a fingerprint gets the one Alertmanager would have given it, so the same
 * alert is one alert whichever way it arrives.
 */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels);
  // Go sorts by UTF-8 bytes, which is code point order; JavaScript's default sort is UTF-16 code
  // unit order, which puts U+10000 and above before U+E000-U+FFFF.
  names.sort(byCodePoint);
  let hash = FNV_OFFSET;
  for (const name of names) {
    hash = addBytes(hash, ENCODER.encode(name));
    hash = addByte(hash, SEPARATOR);
    hash = addBytes(hash, ENCODER.encode(labels[name]));
    hash = addByte(hash, SEPARATOR);
  }
  return hash.toString(16).padStart(16, '0');
}

const ENCODER = new TextEncoder();
const FNV_OFFSET = 14695981039346656037n;
const FNV_PRIME = 1099511628211n;
const SEPARATOR = 0xff;

function addByte(hash: bigint, byte: number): bigint {
  return BigInt.asUintN(64, (hash ^ BigInt(byte)) * FNV_PRIME);
}

function addBytes(hash: bigint, bytes: Uint8Array): bigint {
  for (const b of bytes) hash = addByte(hash, b);
  return hash;
}

function byCodePoint(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done || cb.done) return ca.done && cb.done ? 0 : ca.done ? -1 : 1;
    const d = ca.value.codePointAt(0)! - cb.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
