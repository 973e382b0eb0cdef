// Issue 19, point 3, for the process: a config in which a Critical or High pages nobody is refused
// in production, at start (exit 78) and on reload (400), naming the keys; a trial starts and warns.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { freePort, tempDir } from './helpers.js';
import { start, waitFor } from './fakes/server-process.js';
import { PAGES_NOBODY } from './paging/pages-nobody-config.js';

t.test(
  'a config in which a Critical or High pages nobody: refused in production at start (78) and on reload (400), naming the keys; a trial warns',
  async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'triage.yml');
    writeFileSync(file, PAGES_NOBODY);
    // E-mail is configured, so nothing but the routes themselves is at fault.
    const prodEnv = {
      NODE_ENV: 'production',
      WEBHOOK_TOKEN: 'w-token-1',
      API_TOKEN: 'a-token-1',
      SESSION_SECRET: 's'.repeat(32),
      SMTP_URL: 'smtp://127.0.0.1:2525',
      EMAIL_FROM: 'triage@example.com',
      TRIAGE_CONFIG: file,
    };
    const prod = start({ ...prodEnv, PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 'p.db')}` });
    t.equal(await prod.exited, 78);
    t.match(prod.output(), /routing\.critical and escalation\.critical: a critical incident would page nobody/);
    t.match(prod.output(), /routing\.high and escalation\.high/);
    t.match(prod.output(), /teams\[0\]\.routing\.high and teams\[0\]\.escalation\.high/);

    const trial = start({ TRIAGE_CONFIG: file, PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 't.db')}` });
    t.teardown(() => trial.child.kill('SIGKILL'));
    await waitFor(trial, 'alert-triage ready', 90_000);
    t.match(
      trial.output(),
      /"level":40.*routing\.critical and escalation\.critical: a critical incident would page nobody.*NODE_ENV=production refuses/,
    );
    trial.child.kill('SIGTERM');
    await trial.exited;

    // Production started on a config that pages someone; a reload to one that pages nobody is refused.
    const good = PAGES_NOBODY.replace(
      /^routing:[\s\S]*$/m,
      'routing:\n  critical: {channels: [], notify: [alice], email: true}\n  high: {channels: [], notify: [alice], email: true}\n  medium: {channels: []}\n  low: {channels: []}\n',
    );
    writeFileSync(file, good);
    const port = await freePort();
    const running = start({ ...prodEnv, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'r.db')}` });
    t.teardown(() => running.child.kill('SIGKILL'));
    await waitFor(running, 'alert-triage ready', 90_000);
    writeFileSync(file, PAGES_NOBODY);
    const res = await fetch(`http://127.0.0.1:${port}/-/reload`, { method: 'POST', headers: { authorization: 'Bearer a-token-1' } });
    t.equal(res.status, 400);
    t.match(
      ((await res.json()) as { message: string }).message,
      /reload refused, running config kept: .*routing\.critical and escalation\.critical/,
    );
    running.child.kill('SIGTERM');
    t.equal(await running.exited, 0);
  },
);
