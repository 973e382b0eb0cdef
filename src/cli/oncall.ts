import { zonedTime } from '../incidents/timeline-text.js';
import { describeFetchError, receiverUrl, UsageError, type Output } from './output.js';

/** Options of `alert-triage oncall`. */
export interface OncallOptions {
  url?: string | undefined;
  team?: string | undefined;
}

interface ShiftJson {
  contact: { id: string; name: string };
  from: string;
  until: string;
  override: boolean;
}

interface RotationJson {
  team?: string;
  timeZone: string | null;
  current: ShiftJson | null;
  next: ShiftJson | null;
}

/**
 * Who is on call now and next, asked of the running receiver (so run-time overrides count), with
 * API_TOKEN from the environment: the top level's rotation and every team's, or one team's.
 */
export async function oncall(opts: OncallOptions, env: NodeJS.ProcessEnv, io: Output): Promise<number> {
  const url = receiverUrl(opts.url, env);
  const token = env['API_TOKEN'];
  if (opts.team !== undefined && !/^[a-z0-9][a-z0-9._-]*$/.test(opts.team)) throw new UsageError(`"${opts.team}" is not a team id`);
  let res: Response;
  try {
    res = await fetch(`${url}/api/oncall${opts.team ? `?team=${opts.team}` : ''}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    io.err(`alert-triage: ${describeFetchError(err, url)}`);
    return 1;
  }
  if (res.status === 401) {
    io.err(`alert-triage: ${url} refused the credentials: set API_TOKEN to the receiver's API token`);
    return 1;
  }
  const body = (await res.json()) as RotationJson & { message?: string; teams?: RotationJson[] };
  if (!res.ok) {
    io.err(`alert-triage: ${body.message ?? `${url} answered ${res.status}`}`);
    return 1;
  }
  const rotations = opts.team ? [body] : [...(body.timeZone ? [body] : []), ...(body.teams ?? [])];
  for (const r of rotations) {
    io.out(`${r.team ?? '(top level)'} — ${r.timeZone ?? 'no rotation'}`);
    // Times in the rotation's zone, which the heading names.
    const zoned = r.timeZone ? zonedTime(r.timeZone, { zone: false }) : undefined;
    const at = (iso: string) => (zoned ? zoned(Date.parse(iso)) : iso);
    if (r.current) io.out(`  now:  ${describe(r.current, at)}`);
    if (r.next) io.out(`  next: ${describe(r.next, at)}`);
  }
  return 0;
}

function describe(s: ShiftJson, at: (iso: string) => string): string {
  return `${s.contact.name} (${s.contact.id}) from ${at(s.from)} until ${at(s.until)}${s.override ? ', override' : ''}`;
}
