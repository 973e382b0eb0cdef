/** One build to benchmark: a label, the checkout it runs from, and the environment knobs it runs with. */
export interface Variant {
  label: string;
  root: string;
  env: Record<string, string>;
}

/**
 * Parses `LABEL=DIR[:ENV=V,ENV=V]`. Splits at the first `=` and the first `:` only, and each knob at
 * its first `=`: `String.split` with a limit drops what follows (`'a=dir:K=V'.split('=', 2)` is
 * `['a', 'dir:K']`), which once ran every variant with its knobs silently lost.
 */
export function parseVariant(spec: string): Variant {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`a variant is LABEL=DIR[:ENV=V,...], not ${JSON.stringify(spec)}`);
  const rest = spec.slice(eq + 1);
  const colon = rest.indexOf(':');
  const root = colon < 0 ? rest : rest.slice(0, colon);
  const env: Record<string, string> = {};
  for (const knob of colon < 0
    ? []
    : rest
        .slice(colon + 1)
        .split(',')
        .filter(Boolean)) {
    const at = knob.indexOf('=');
    if (at <= 0) throw new Error(`a knob is ENV=V, not ${JSON.stringify(knob)}`);
    env[knob.slice(0, at)] = knob.slice(at + 1);
  }
  return { label: spec.slice(0, eq), root, env };
}
