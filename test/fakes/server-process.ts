import { spawn, type ChildProcess } from 'node:child_process';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A service process started by a test. */
export interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node src/server.ts` with only the given environment (and PATH), and node's own `nodeArgs` (--cpu-prof, say). */
export function start(env: Record<string, string>, nodeArgs: string[] = []): Running {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/**
 * Waits until the process has printed `text`. The bound is generous: tsx compiles every source file
 * on a cold start, which took over 20 s on a shared machine under load (a bound, never a speed check).
 */
export async function waitFor(r: Running, text: string, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!r.output().includes(text)) {
    if (Date.now() > deadline || r.child.exitCode !== null) throw new Error(`never saw "${text}" in:\n${r.output()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
