import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { readEnv } from '../../src/config/env.js';
import { freePort, makeApp, tempDir } from '../helpers.js';
import { needs, ROOT, run } from '../monitoring/tools.js';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

t.test('the Dockerfile: multi-stage, the same install and build as CI, non-root, volume, health check', async (t) => {
  const froms = instructions.filter((l) => l.startsWith('FROM '));
  t.equal(froms.length, 2, 'two stages');
  for (const f of froms) t.match(f, /^FROM node:(22|24)-bookworm-slim\b/, 'a supported Node LTS (22 or 24), slim');
  const runs = instructions.filter((l) => l.startsWith('RUN '));
  t.ok(
    runs.some((r) => /\bnpm ci\b/.test(r)),
    'installs with npm ci, as .ci/run does',
  );
  t.match(readFileSync(join(ROOT, '.ci/run'), 'utf8'), /\bnpm ci\b/);
  t.ok(
    runs.some((r) => /npm run build && npm prune --omit=dev/.test(r)),
    'builds, then drops dev dependencies',
  );
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  t.equal(pkg.scripts.prestart, 'npm run build', 'npm start runs the same build');
  t.ok(instructions.includes('USER node'), 'runs as the unprivileged node user');
  t.ok(instructions.includes('VOLUME ["/app/data"]'), 'the SQLite directory is a volume');
  t.ok(instructions.includes('STOPSIGNAL SIGTERM'));
  const cmd = JSON.parse(instructions.find((l) => l.startsWith('CMD '))!.slice(4));
  t.same(cmd, ['node', 'dist/src/server.js']);
  t.equal(pkg.scripts.start, 'node dist/src/server.js', 'the same entry point as npm start');
  for (const copy of instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
    const sources = copy.split(/\s+/).slice(1, -1);
    for (const s of sources) t.ok(existsSync(join(ROOT, s)), `COPY source ${s} exists`);
  }
});

t.test("engines lists the Node versions that are run: the image's and this machine's, and no end-of-life one beyond them", async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const engines = pkg.engines.node as string;
  // A union of caret ranges ("^20.19.0 || ^22.11.0"): same major, at least that minor and patch.
  t.match(engines, /^\^\d+\.\d+\.\d+( \|\| \^\d+\.\d+\.\d+)*$/, 'engines is a union of caret ranges');
  const ranges = engines.split(' || ').map((r) => r.slice(1).split('.').map(Number));
  const satisfies = (version: string) => {
    const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
    return ranges.some(([M, m, p]) => major === M && (minor > m! || (minor === m && patch >= p!)));
  };
  t.equal(lock.packages[''].engines.node, engines, 'the lock file says the same');
  const imageMajors = instructions.filter((l) => l.startsWith('FROM ')).map((l) => /^FROM node:(\d+)-/.exec(l)![1]);
  for (const major of new Set(imageMajors)) t.ok(satisfies(`${major}.11.0`), `the image's Node ${major} is declared`);
  t.ok(satisfies(process.versions.node), `the Node running these tests (${process.versions.node}) is declared`);
  for (const old of ['18.20.0', '20.0.0', '21.7.0']) t.notOk(satisfies(old), `${old} is not`);
  t.notOk(satisfies('25.0.0'), 'nor a future major nobody has tested');
});

t.test("the Dockerfile's HEALTHCHECK command answers for a ready receiver and fails for a dead one", async (t) => {
  const health = instructions.find((l) => l.startsWith('HEALTHCHECK '))!;
  const argv = JSON.parse(health.slice(health.indexOf('CMD ') + 4)) as string[];
  t.equal(argv[0], 'node');
  t.match(argv.join(' '), /\/readyz/);
  const { app } = await makeApp(t);
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });
  // Asynchronously: the receiver answering it runs in this process.
  const probe = (p: number) =>
    new Promise<number | null>((resolve) =>
      execFile(process.execPath, argv.slice(1), { env: { PORT: String(p) }, timeout: 10_000 }, (err) =>
        resolve(err ? ((err as { code?: number }).code ?? null) : 0),
      ),
    );
  t.equal(await probe(port), 0, 'healthy');
  t.equal(await probe(await freePort()), 1, 'unhealthy when nothing answers');
});

t.test(
  'docker-compose.yml validates and describes the whole stack',
  { skip: needs('/usr/bin/docker-compose', 'docker-compose') },
  async (t) => {
    const dir = tempDir(t);
    const envFile = join(dir, 'empty.env');
    writeFileSync(envFile, '');
    // An empty --env-file and a bare environment: what a fresh clone without .env sees, even when
    // the developer running the tests has a .env of their own.
    const compose = (args: string[], env: Record<string, string>) =>
      spawnSync('docker-compose', ['--env-file', envFile, '-f', 'docker-compose.yml', ...args], {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] ?? '', ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const tokens = { WEBHOOK_TOKEN: 'w', API_TOKEN: 'a' };
    const quiet = compose(['config', '-q'], tokens);
    t.equal(quiet.status, 0, quiet.stderr);

    const config = parse(compose(['config'], tokens).stdout);
    const always = ['alert-triage', 'alertmanager', 'grafana', 'mailpit', 'prometheus'];
    t.same(
      Object.keys(config.services)
        .filter((s) => !config.services[s].profiles)
        .sort(),
      always,
      'the services without a profile',
    );
    t.same(config.services.postgres.profiles, ['postgres', 'ha'], 'PostgreSQL only starts with its profiles');
    const ports = (s: string) => publishedPorts(config.services[s].ports).map((p) => p.published);
    t.same(ports('alert-triage'), [9095]);
    t.same(ports('prometheus'), [9090]);
    t.same(ports('alertmanager'), [9093]);
    t.same(ports('grafana'), [3000]);
    t.ok(ports('mailpit').includes(8025), 'Mailpit web UI');
    t.match(config.services['alert-triage'].environment, { WEBHOOK_TOKEN: 'w', API_TOKEN: 'a', SMTP_URL: 'smtp://mailpit:1025' });
    t.equal(config.services.alertmanager.environment.WEBHOOK_TOKEN, 'w', 'Alertmanager sends the token the receiver expects');
    // docker-compose 1.x prints volumes as "source:target:mode", newer versions as objects.
    const volumes = (service: string) =>
      ((config.services[service].volumes ?? []) as (string | { source: string; target: string })[]).map((v) => {
        if (typeof v !== 'string') return v;
        const [source, target] = v.split(':') as [string, string];
        return { source, target };
      });
    t.same(volumes('alert-triage'), [{ source: 'triage-data', target: '/app/data' }], 'the SQLite data lives in a named volume');
    let binds = 0;
    for (const service of Object.keys(config.services)) {
      for (const v of volumes(service)) {
        if (!v.source.startsWith('/')) continue;
        binds++;
        t.ok(existsSync(v.source), `${service}: bind mount ${v.source} exists`);
      }
    }
    t.ok(binds >= 4, 'monitoring config is mounted into Prometheus, Alertmanager and Grafana');

    // The files the stack mounts are themselves valid.
    if (!needs('/usr/bin/promtool', 'prometheus')) t.equal(run('promtool', ['check', 'config', 'monitoring/prometheus.yml']).code, 0);
    if (!needs('/usr/bin/amtool', 'prometheus-alertmanager'))
      t.equal(run('amtool', ['check-config', 'monitoring/alertmanager.yml']).code, 0);
  },
);

t.test(
  'docker compose up on a fresh clone: demo tokens, loopback ports, health checks, read-only anonymous Grafana',
  { skip: needs('/usr/bin/docker-compose', 'docker-compose') },
  async (t) => {
    // A directory with nothing but the compose file: no .env, nothing in the environment but PATH.
    const clone = tempDir(t);
    copyFileSync(join(ROOT, 'docker-compose.yml'), join(clone, 'docker-compose.yml'));
    const compose = (args: string[]) =>
      spawnSync('docker-compose', args, { cwd: clone, env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8', timeout: 60_000 });
    const quiet = compose(['config', '-q']);
    t.equal(quiet.status, 0, `docker-compose config without .env: ${quiet.stderr}`);
    const out = compose(['--profile', 'postgres', '--profile', 'ha', 'config']);
    t.equal(out.status, 0, out.stderr);
    const config = parse(out.stdout);
    const services = Object.keys(config.services);
    t.ok(services.includes('postgres'), 'every service, the profile one too');
    t.ok(services.includes('alert-triage-lb'), "and the ha profile's");
    const ha = compose(['--profile', 'ha', 'config', '-q']);
    t.equal(ha.status, 0, `docker-compose --profile ha config without .env: ${ha.stderr}`);

    for (const name of services) {
      const service = config.services[name];
      for (const p of publishedPorts(service.ports))
        t.equal(p.hostIp, '127.0.0.1', `${name}: port ${p.published} is published on 127.0.0.1 only`);
      const test = service.healthcheck?.test as string[] | undefined;
      t.ok(
        Array.isArray(test) && test[0] === 'CMD' && test.length > 1 && !service.healthcheck.disable,
        `${name} has a health check (${JSON.stringify(test)})`,
      );
    }

    // The receiver's check is the image's own, so it probes the same /readyz the image does.
    const imageCheck = JSON.parse(instructions.find((l) => l.startsWith('HEALTHCHECK '))!.replace(/^.*CMD /, '')) as string[];
    t.match(config.services['alert-triage'].healthcheck.test.join(' '), /\/readyz/);
    t.equal(config.services['alert-triage'].healthcheck.test[1], imageCheck[0], 'runs node, as the image does');

    // Demo tokens, clearly marked, shared by Alertmanager and the receiver.
    const env = config.services['alert-triage'].environment as Record<string, string>;
    for (const k of ['WEBHOOK_TOKEN', 'API_TOKEN']) t.match(env[k], /^demo-.*-CHANGE-ME$/, `${k} is a marked demo token`);
    t.equal(config.services.alertmanager.environment.WEBHOOK_TOKEN, env['WEBHOOK_TOKEN']);
    t.match(config.services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD, /CHANGE-ME$/, 'a marked demo Grafana password');

    // The demo is not production, and production with these tokens would refuse to start.
    t.not(env['NODE_ENV'], 'production', 'the demo runs with NODE_ENV=development');
    t.equal(readEnv(env).production, false);
    t.throws(() => readEnv({ ...env, NODE_ENV: 'production' }), {
      name: 'ConfigError',
      message: /WEBHOOK_TOKEN and API_TOKEN: .*placeholder/,
    });
    const { WEBHOOK_TOKEN: _w, API_TOKEN: _a, ...noTokens } = env;
    t.throws(
      () => readEnv({ ...noTokens, NODE_ENV: 'production' }),
      { message: /required when NODE_ENV=production/ },
      'and missing tokens stay refused',
    );

    // Grafana: anonymous visitors are read-only viewers at most.
    const grafana = config.services.grafana.environment as Record<string, string>;
    if (grafana['GF_AUTH_ANONYMOUS_ENABLED'] === 'true')
      t.equal(grafana['GF_AUTH_ANONYMOUS_ORG_ROLE'], 'Viewer', 'anonymous access is Viewer only');
    t.equal(grafana['GF_USERS_ALLOW_SIGN_UP'], 'false', 'nobody can sign up');
  },
);

t.test(
  'the ha profile: two replicas on one PostgreSQL, one balancer in front of both, two clustered Alertmanagers posting to it',
  { skip: needs('/usr/bin/docker-compose', 'docker-compose') },
  async (t) => {
    const dir = tempDir(t);
    const envFile = join(dir, 'empty.env');
    writeFileSync(envFile, '');
    const out = spawnSync('docker-compose', ['--env-file', envFile, '-f', 'docker-compose.yml', '--profile', 'ha', 'config'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    t.equal(out.status, 0, out.stderr);
    const services = parse(out.stdout).services as Record<string, Record<string, any>>;
    const inHa = Object.keys(services)
      .filter((s) => services[s]!['profiles']?.includes('ha'))
      .sort();
    t.same(inHa, ['alert-triage-1', 'alert-triage-2', 'alert-triage-lb', 'alertmanager-1', 'alertmanager-2', 'postgres']);

    // The replicas: the same image, the same database, the same secrets.
    const replicas = ['alert-triage-1', 'alert-triage-2'].map((s) => services[s]!);
    const pg = services['postgres']!['environment'] as Record<string, string>;
    for (const r of replicas) {
      t.equal(r['image'], services['alert-triage']!['image'], 'the image the demo builds');
      const url = new URL(r['environment'].DATABASE_URL);
      t.match(url.protocol, /^postgres(ql)?:$/, 'on PostgreSQL');
      t.equal(url.hostname, 'postgres', 'the compose PostgreSQL');
      t.equal(decodeURIComponent(url.username), pg['POSTGRES_USER']);
      t.equal(decodeURIComponent(url.password), pg['POSTGRES_PASSWORD']);
      t.equal(url.pathname, `/${pg['POSTGRES_DB']}`);
      t.match(r['depends_on'], { postgres: { condition: 'service_healthy' } }, 'starts once PostgreSQL is healthy');
      t.match(r['healthcheck'].test.join(' '), /\/readyz/);
      t.same(publishedPorts(r['ports']), [], 'reached through the balancer only');
      t.doesNotThrow(() => readEnv(r['environment']), 'a valid environment');
    }
    const [a, b] = replicas.map((r) => r['environment'] as Record<string, string>);
    for (const k of ['DATABASE_URL', 'SESSION_SECRET', 'WEBHOOK_TOKEN', 'API_TOKEN', 'PUBLIC_URL'])
      t.equal(a![k], b![k], `both replicas have the same ${k}`);
    t.ok(a!['SESSION_SECRET']!.length >= 32, 'a session secret the service accepts');
    t.throws(() => readEnv({ ...a, NODE_ENV: 'production' }), { name: 'ConfigError' }, 'the demo secrets are refused in production');

    // The balancer: haproxy, round robin over exactly the two replicas, each checked on /readyz.
    const lb = services['alert-triage-lb']!;
    const mount = (lb['volumes'] as (string | { source: string; target: string })[]).map((v) =>
      typeof v === 'string' ? { source: v.split(':')[0]!, target: v.split(':')[1]! } : v,
    );
    const cfgMount = mount.find((v) => v.target === '/usr/local/etc/haproxy/haproxy.cfg');
    t.ok(cfgMount && existsSync(cfgMount.source), 'its config file is mounted');
    const cfg = readFileSync(join(ROOT, 'deploy/ha/haproxy.cfg'), 'utf8')
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
    t.ok(cfg.includes('bind :9095'), 'listens on 9095');
    t.same(
      publishedPorts(lb['ports']).map((p) => p.published),
      [9096],
      'published beside the demo receiver',
    );
    t.ok(cfg.includes('balance roundrobin'));
    t.ok(cfg.includes('option httpchk GET /readyz'), 'checks /readyz');
    t.match(
      cfg.find((l) => l.startsWith('default-server ')),
      /\bcheck\b.*\bobserve layer4\b/,
      'actively and passively',
    );
    const servers = cfg.filter((l) => l.startsWith('server ')).map((l) => l.split(/\s+/)[2]);
    t.same(servers, ['alert-triage-1:9095', 'alert-triage-2:9095'], 'both replicas, on their port');

    // Two Alertmanagers, each peering the other, both posting to the balancer.
    const cmd = (s: string) => (services[s]!['entrypoint'] as string[]).join(' ');
    for (const [self, peer] of [
      ['alertmanager-1', 'alertmanager-2'],
      ['alertmanager-2', 'alertmanager-1'],
    ] as const) {
      t.match(cmd(self), /--cluster\.listen-address=0\.0\.0\.0:9094\b/, `${self} listens for its peer`);
      t.match(cmd(self), new RegExp(`--cluster\\.peer=${peer}:9094\\b`), `${self} peers ${peer}`);
      t.match(cmd(self), /--config\.file=\/etc\/alertmanager\/alertmanager\.yml/);
      const volumes = (services[self]!['volumes'] as (string | { source: string; target: string })[]).map((v) =>
        typeof v === 'string' ? { source: v.split(':')[0]!, target: v.split(':')[1]! } : v,
      );
      t.equal(volumes.find((v) => v.target === '/etc/alertmanager/alertmanager.yml')?.source, join(ROOT, 'deploy/ha/alertmanager.yml'));
      t.equal(services[self]!['environment'].WEBHOOK_TOKEN, a!['WEBHOOK_TOKEN'], `${self} sends the token the replicas expect`);
    }
    const haAm = parse(readFileSync(join(ROOT, 'deploy/ha/alertmanager.yml'), 'utf8'));
    const urls = haAm.receivers.flatMap((r: { webhook_configs?: { url: string }[] }) => (r.webhook_configs ?? []).map((w) => w.url));
    t.same(urls, ['http://alert-triage-lb:9095/webhook/alertmanager'], 'the one webhook goes to the balancer');
    // Nothing else differs from the demo's Alertmanager config.
    const demo = parse(readFileSync(join(ROOT, 'monitoring/alertmanager.yml'), 'utf8'));
    demo.receivers.find((r: { name: string }) => r.name === 'alert-triage').webhook_configs[0].url = urls[0];
    t.same(haAm, demo, 'deploy/ha/alertmanager.yml is monitoring/alertmanager.yml but for the URL');
    if (!needs('/usr/bin/amtool', 'prometheus-alertmanager'))
      t.equal(run('amtool', ['check-config', 'deploy/ha/alertmanager.yml']).code, 0);
  },
);

/** Published ports as docker-compose 1.x ("127.0.0.1:9095:9095/tcp") or 2.x (objects) prints them. */
function publishedPorts(
  ports: (string | { host_ip?: string; published: string | number })[] | undefined,
): { hostIp: string; published: number }[] {
  return (ports ?? []).map((p) => {
    if (typeof p !== 'string') return { hostIp: p.host_ip ?? '0.0.0.0', published: Number(p.published) };
    const parts = p.replace(/\/\w+$/, '').split(':');
    return parts.length === 3 ? { hostIp: parts[0]!, published: Number(parts[1]) } : { hostIp: '0.0.0.0', published: Number(parts[0]) };
  });
}
