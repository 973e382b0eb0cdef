#!/usr/bin/env node
// Entry point of the `alert-triage` command: the compiled CLI, or, in a development checkout that
// has not been built, the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
let main;
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  try {
    const { tsImport } = await import('tsx/esm/api');
    ({ main } = await tsImport('../src/cli/main.ts', import.meta.url));
  } catch {
    process.stderr.write('alert-triage: not built yet; run `npm run build` first\n');
    process.exit(1);
  }
}
process.exitCode = await main(process.argv.slice(2), process.env);
