// The process at its limits: a config file that would exhaust the YAML parser, a request body over
// the limit sent to a listening server over a real socket.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { freePort, tempDir } from './helpers.js';
import { start } from './fakes/server-process.js';
import { aliasBomb } from './config/yaml-bomb.js';

t.test('a YAML alias bomb at start: exit 78 naming the file, not a crash', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'triage.yml');
  writeFileSync(file, aliasBomb());
  const run = start({ TRIAGE_CONFIG: file, PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}` });
  t.equal(await run.exited, 78, run.output());
  t.match(run.output(), `configuration error: ${file}: invalid YAML: too many aliases`);
  t.notMatch(run.output(), /\n\s+at /, 'no stack trace');
});
