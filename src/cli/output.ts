/** Where a command writes: stdout for results, stderr for errors (tests pass their own). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A command-line mistake: the message and the usage go to stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The receiver's base URL: --url, or http://127.0.0.1:$PORT. */
export function receiverUrl(url: string | undefined, env: NodeJS.ProcessEnv): string {
  return (url ?? `http://127.0.0.1:${env['PORT'] || 9095}`).replace(/\/+$/, '');
}

/** A fetch error in words an operator can act on. */
export function describeFetchError(err: unknown, url: string): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return `nothing answers at ${url} (is alert-triage running? use --url)`;
  if ((err as Error).name === 'TimeoutError') return `${url} did not answer within 5s`;
  return `${url}: ${cause?.code ?? (err as Error).message}`;
}
