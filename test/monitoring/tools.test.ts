import t from 'tap';
import { needs, toolsRequired } from './tools.js';

t.test('a missing tool is a skip with the install command, and a failure under CI', async (t) => {
  const missing = '/nonexistent/alert-triage-tool';
  t.equal(needs(process.execPath, 'nodejs', {}), false, 'present: the test runs');
  t.equal(needs(missing, 'some-package', {}), `needs ${missing}: apt-get update && apt-get install -y some-package`);
  for (const off of ['', '0', 'false', 'FALSE'])
    t.equal(needs(missing, 'p', { CI: off }), `needs ${missing}: apt-get update && apt-get install -y p`, `CI="${off}" still skips`);
  t.throws(() => needs(missing, 'some-package', { CI: 'true' }), {
    message: /needs \/nonexistent\/alert-triage-tool: .*some-package.*CI is set/,
  });
  t.throws(() => needs(missing, 'p', { CI: '1' }));
  t.equal(needs(process.execPath, 'nodejs', { CI: 'true' }), false, 'present under CI: the test runs');
  t.ok(toolsRequired({ CI: 'true' }));
  t.notOk(toolsRequired({}));
});
