import { RE2JS } from 're2js';

/** Label set of one alert, in a null-prototype object so hostile keys cannot reach Object.prototype. */
export type Labels = Readonly<Record<string, string>>;

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One Alertmanager-style matcher: `name="value"`, `name!="value"`, `name=~"regex"` or `name!~"regex"`. */
export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** The matcher as written, for messages. */
  readonly text: string;
  matches(labels: Labels): boolean;
}

export class MatcherSyntaxError extends Error {
  override name = 'MatcherSyntaxError';
}

const MATCHER = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

/**
 * Parses one matcher the way Alertmanager does: the value may be quoted (with \" \\ \n escapes)
 * or bare, and regexes are fully anchored. A missing label matches as the empty string.
 */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new MatcherSyntaxError(`"${text}" is not a matcher such as name="value", name!="value", name=~"regex" or name!~"regex"`);
  const [, name, op, raw] = m as unknown as [string, string, MatchOp, string];
  const value = unquote(raw, text);
  let test: (v: string) => boolean;
  if (op === '=' || op === '!=') {
    test = (v) => v === value;
  } else {
    // Alertmanager compiles "^(?:" + value + ")$" with Go's RE2. So do we, with an RE2 engine: it
    // runs in time linear in the label's length (a backtracking RegExp does not), reads (?i) and the other inline flags itself, and refuses what Go refuses
    // (lookarounds, backreferences) so that a rule means here what it means in Alertmanager.
    let re: RE2JS;
    try {
      re = RE2JS.compile(`^(?:${value})$`);
    } catch (err) {
      throw new MatcherSyntaxError(`"${text}" has an invalid regular expression: ${(err as Error).message}`);
    }
    test = (v) => re.matches(v);
  }
  const negate = op === '!=' || op === '!~';
  return {
    name,
    op,
    value,
    text,
    matches: (labels) => test(labels[name] ?? '') !== negate,
  };
}

function unquote(raw: string, text: string): string {
  if (!raw.startsWith('"')) {
    if (raw.includes('"')) throw new MatcherSyntaxError(`"${text}" has an unbalanced quote`);
    return raw;
  }
  if (raw.length < 2 || !raw.endsWith('"')) throw new MatcherSyntaxError(`"${text}" has an unterminated quoted value`);
  const body = raw.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const next = body[++i];
      if (next === 'n') out += '\n';
      else if (next === '"' || next === '\\') out += next;
      else throw new MatcherSyntaxError(`"${text}" has an invalid escape \\${next ?? ''}`);
    } else if (c === '"') {
      throw new MatcherSyntaxError(`"${text}" has an unescaped quote inside its value`);
    } else {
      out += c;
    }
  }
  return out;
}

/** True when every matcher matches (an empty list matches everything, as in Alertmanager). */
export function matchAll(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((m) => m.matches(labels));
}
