import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { tempDir } from '../helpers.js';
import { ROOT, toolsRequired } from '../monitoring/tools.js';

const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
const commands = ci
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const THIS_FILE = relative(ROOT, new URL(import.meta.url).pathname);

t.test('CI kills nothing by name: no pkill or killall in CI, the tests or the service', async (t) => {
  const byName = /\b(pkill|killall)\b/;
  t.notOk(
    commands.some((l) => byName.test(l)),
    '.ci/run',
  );
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = join(dir, name);
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (/\.(ts|js|sh)$/.test(name) && path !== THIS_FILE) files.push(path);
    }
  };
  for (const dir of ['src', 'test', 'bin', '.ci']) walk(dir);
  t.ok(files.length > 20);
  for (const f of files) t.notMatch(readFileSync(join(ROOT, f), 'utf8'), byName, `${f} stops nothing by name`);
});

t.test("CI keeps the packages' daemons from starting with a policy-rc.d that forbids it, only during the install", async (t) => {
  const install = commands.findIndex((l) => /^apt-get install\b/.test(l));
  const write = commands.findIndex((l) => /^printf .*>"\$POLICY_RC_D"$/.test(l));
  t.ok(install > 0 && write > 0 && write < install, 'the policy is written before apt-get install');
  t.match(ci, /^POLICY_RC_D=\/usr\/sbin\/policy-rc\.d$/m, 'where invoke-rc.d and deb-systemd-invoke look');
  t.ok(commands.findIndex((l) => l === 'rm -f "$POLICY_RC_D"') > install, 'and removed after it');
  t.ok(commands.indexOf('if [ ! -e "$POLICY_RC_D" ]; then') < write, "a host's own policy is kept");
  // What the written policy answers: 101, "action forbidden by policy".
  const policy = join(tempDir(t), 'policy-rc.d');
  const printf = commands[write]!.replace('"$POLICY_RC_D"', JSON.stringify(policy));
  t.equal(spawnSync('bash', ['-c', `${printf} && chmod 755 ${JSON.stringify(policy)}`]).status, 0);
  t.equal(spawnSync(policy, ['prometheus', 'start']).status, 101);
});

t.test('CI turns a missing tool into a failure, with the variable the tests read', async (t) => {
  const exported = /^export CI=(\S+)$/m.exec(ci);
  t.ok(exported, '.ci/run exports CI');
  t.ok(toolsRequired({ CI: exported?.[1] }), `CI=${exported?.[1]} makes the tests require their tools`);
  t.ok(ci.indexOf('export CI=') < ci.indexOf('npm test'), 'before the tests run');
});

t.test('CI installs every Debian package a test needs, so none of them skips there', async (t) => {
  const install = commands.find((l) => /^apt-get install\b/.test(l)) ?? '';
  const wanted = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = join(dir, name);
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && name !== 'tools.test.ts')
        for (const m of readFileSync(join(ROOT, path), 'utf8').matchAll(/\bneeds\([^,()]+,\s*'([a-z0-9.+-]+)'/g)) wanted.add(m[1]!);
    }
  };
  // tools.test.ts tests needs() itself, with made-up packages.
  walk('test');
  t.ok(wanted.has('chromium'), 'the browser tests need chromium');
  for (const pkg of wanted) t.match(install, new RegExp(`\\s${pkg.replace(/[.+]/g, '\\$&')}(\\s|$)`), `.ci/run installs ${pkg}`);
});

t.test('CI runs the suite on Node 22 LTS as well, with better-sqlite3 built against its headers', async (t) => {
  t.ok(
    commands.findIndex((l) => /^\.ci\/node22( |$)/.test(l)) > commands.indexOf('npm ci && npm test'),
    '.ci/run calls .ci/node22 after the suite on the host Node',
  );
  // The whole suite: it passed whole on Node 22 on these machines (docs/development.md).
  t.equal(
    commands.find((l) => l.startsWith('.ci/node22')),
    '.ci/node22',
    'the whole suite, not a subset',
  );
  const node22 = readFileSync(join(ROOT, '.ci/node22'), 'utf8');
  t.ok(statSync(join(ROOT, '.ci/node22')).mode & 0o111, 'executable');
  t.match(node22, /npm install --no-save [^\n]*"node@\$NODE22_VERSION"/, "the npm registry's node package");
  t.match(node22, /npm_config_nodedir="\$dist" npm rebuild better-sqlite3/, 'compiled against that Node, from its own headers');
  t.match(node22, /^npx tap "\$@"$/m, 'then the suite');
  t.match(node22, /^trap restore EXIT$/m, "and the host Node's build of better-sqlite3 is put back, even on failure");
});
