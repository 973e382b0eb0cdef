import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfigFile } from '../../src/config/load-config.js';
import { API_TOKEN, makeApp, shippedConfigText, tempDir } from '../helpers.js';
import { aliasBomb } from '../config/yaml-bomb.js';

t.test('POST /-/reload of a YAML alias bomb is a 400 naming the file; the running config is kept', async (t) => {
  const file = join(tempDir(t), 'triage.yml');
  writeFileSync(file, shippedConfigText());
  const { app } = await makeApp(t, { config: { loadConfig: () => loadConfigFile(file) } });
  const reload = () => app.inject({ method: 'POST', url: '/-/reload', headers: { authorization: `Bearer ${API_TOKEN}` } });
  writeFileSync(file, aliasBomb());
  const res = await reload();
  t.equal(res.statusCode, 400, res.body);
  t.match(res.json(), { message: `reload refused, running config kept: ${file}: invalid YAML: too many aliases` });
  writeFileSync(file, shippedConfigText());
  t.equal((await reload()).statusCode, 200, 'still reloads a good file');
});
