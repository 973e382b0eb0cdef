import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The repository root, where monitoring/ and docker-compose.yml live. */
export const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * Whether a missing tool is an error rather than a skip: CI sets `CI` (as .ci/run and most CI
 * services do) and installs every tool, so there a skip could only hide a broken install.
 */
export function toolsRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/**
 * A Debian tool the test needs: `false` when present (the test runs), or the skip message that
 * says how to install it. Under CI (`toolsRequired`) a missing tool throws instead, which fails
 * the test file with that message.
 */
export function needs(binary: string, debianPackage: string, env: NodeJS.ProcessEnv = process.env): false | string {
  if (existsSync(binary)) return false;
  const message = `needs ${binary}: apt-get update && apt-get install -y ${debianPackage}`;
  if (toolsRequired(env)) throw new Error(`${message} (CI is set: a missing tool fails instead of skipping)`);
  return message;
}

/** Runs a command in the repository root and returns its exit code and output. */
export function run(cmd: string, args: string[], cwd = ROOT): { code: number | null; output: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
