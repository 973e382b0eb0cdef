import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The repository root, where monitoring/ and docker-compose.yml live. */
export const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * A Debian tool the test needs: `false` when present (the test runs), or the skip message that
 * says how to install it.
 */
export function needs(binary: string, debianPackage: string): false | string {
  return existsSync(binary) ? false : `needs ${binary}: apt-get update && apt-get install -y ${debianPackage}`;
}

/** Runs a command in the repository root and returns its exit code and output. */
export function run(cmd: string, args: string[], cwd = ROOT): { code: number | null; output: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
