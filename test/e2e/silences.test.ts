import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load-config.js';
import { api, freePort, postWebhook, shippedConfigText, tempDir } from '../helpers.js';
import { pagingApp } from '../notify/paging-helpers.js';
import { needs } from '../monitoring/tools.js';
import { WebClient } from '../web/web-client.js';

const AM = process.env['ALERTMANAGER_BIN'] ?? '/usr/bin/prometheus-alertmanager';
const AMTOOL = '/usr/bin/amtool';
const skip = needs(AM, 'prometheus-alertmanager (or set ALERTMANAGER_BIN)') || needs(AMTOOL, 'prometheus-alertmanager');
const MIN = 60_000;

interface AmSilence {
  id: string;
  status: { state: string };
  matchers: { name: string; value: string }[];
  createdBy: string;
  comment: string;
  endsAt: string;
}

/** `amtool silence query` against one peer: the active silences, as amtool reads them. */
function amtoolQuery(url: string): AmSilence[] {
  const r = spawnSync(AMTOOL, ['silence', 'query', '-o', 'json', `--alertmanager.url=${url}`], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`amtool failed: ${r.stderr}`);
  return JSON.parse(r.stdout || '[]') as AmSilence[];
}

t.test(
  'silences from the incident page in a real Alertmanager 0.25 HA pair: made, listed by amtool, shown, expired, made on the other peer when one is down, expired when the incident resolves, announced before they end',
  { skip },
  async (t) => {
    const dir = tempDir(t);
    const [web1, web2, gossip1, gossip2] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const am1 = `http://127.0.0.1:${web1}`;
    const am2 = `http://127.0.0.1:${web2}`;
    writeFileSync(join(dir, 'alertmanager.yml'), 'route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n');
    let logs = '';
    const peers: ChildProcess[] = [];
    const start = (web: number, gossip: number, other: number, n: number) => {
      const am = spawn(AM, [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, `am-${n}`)}`,
        `--web.listen-address=127.0.0.1:${web}`,
        `--cluster.listen-address=127.0.0.1:${gossip}`,
        `--cluster.advertise-address=127.0.0.1:${gossip}`,
        `--cluster.peer=127.0.0.1:${other}`,
        '--cluster.settle-timeout=1s',
        '--cluster.pushpull-interval=1s',
        '--cluster.gossip-interval=50ms',
        '--log.level=warn',
      ]);
      am.stderr.on('data', (d) => (logs += d));
      peers.push(am);
      return am;
    };
    t.teardown(() => {
      for (const p of peers) p.kill('SIGKILL');
    });
    const peer1 = start(web1, gossip1, gossip2, 1);
    start(web2, gossip2, gossip1, 2);
    for (const url of [am1, am2]) {
      await until(
        async () => ((await (await fetch(`${url}/api/v2/status`)).json()) as { cluster: { peers: unknown[] } }).cluster.peers.length === 2,
        `${url} to see both peers`,
        () => logs,
      );
    }

    // alert-triage with both peers configured, on a clock that starts now (Alertmanager refuses silences that ended).
    const clock = new ManualClock(Date.now());
    const triage = parseConfig(shippedConfigText(`\nalertmanager:\n  urls: ["${am1}", "${am2}/"]\n`), 'triage.yml');
    const p = await pagingApp(t, { triage }, { clock });
    const now = new Date(clock.now()).toISOString();
    const disk = (instance: string) => ({
      status: 'firing' as const,
      labels: { alertname: 'DiskFull', instance, severity: 'high' },
      annotations: { summary: `disk full on ${instance}` },
      startsAt: now,
      fingerprint: `disk-${instance}`,
    });
    await postWebhook(p.app, {
      version: '4',
      receiver: 'triage',
      status: 'firing',
      groupKey: '{}:{alertname="DiskFull"}',
      groupLabels: { alertname: 'DiskFull' },
      externalURL: am1,
      alerts: [disk('db-1'), disk('db-2')],
    });
    await p.settle();
    const browser = new WebClient(p.app);
    await browser.signIn('Carol Diaz');
    let page = (await browser.get('/incidents/1')).body;
    t.match(page, /No silence in Alertmanager matches this incident/);

    // 1. The whole group for an hour, from the page.
    let res = await browser.post('/incidents/1/silences', { scope: 'group', length: '1h' });
    t.equal(res.statusCode, 303, res.body);
    t.equal(res.headers.location, '/incidents/1#silences');
    // amtool on the OTHER peer lists it: made on one, gossiped to both.
    await until(
      async () => amtoolQuery(am2).length === 1,
      'the silence on peer 2',
      () => logs,
    );
    const [group] = amtoolQuery(am2);
    t.same(
      group!.matchers.map((m) => `${m.name}=${m.value}`),
      ['alertname=DiskFull'],
    );
    t.equal(group!.createdBy, 'Carol Diaz');
    t.match(group!.comment, /^alert-triage incident #1: DiskFull/);
    t.equal(Date.parse(group!.endsAt) - clock.now(), 60 * MIN);
    page = (await browser.get('/incidents/1')).body;
    t.match(page, /<code>\{alertname=&quot;DiskFull&quot;\}<\/code><br>by <strong>Carol Diaz<\/strong>, until <time/);
    t.match(page, /expired when the incident resolves/);
    t.match(page, /Expire now/);
    let json = (await api(p.app, 'GET', '/api/incidents/1/silences')).body;
    t.match(json.silences, [{ id: group!.id, madeHere: true, whenResolved: 'expired', createdBy: 'Carol Diaz' }]);
    const details = async () =>
      (await api(p.app, 'GET', '/api/incidents/1')).body as { timeline: { kind: string; detail: string; actor: string }[] };
    t.match(
      (await details()).timeline.find((e) => e.kind === 'silenced'),
      {
        actor: 'carol',
        detail:
          /^Silenced the whole group in Alertmanager \(\{alertname="DiskFull"\}\) until .*, expired when the incident resolves; silence /,
      },
    );

    // 2. One alert, until the incident resolves.
    res = await browser.post('/incidents/1/silences', { scope: 'alert', fingerprint: 'disk-db-2', length: 'resolved' });
    t.equal(res.statusCode, 303, res.body);
    await until(
      async () => amtoolQuery(am2).length === 2,
      'the second silence on peer 2',
      () => logs,
    );
    const one = amtoolQuery(am2).find((s) => s.id !== group!.id)!;
    t.same(one.matchers.map((m) => `${m.name}=${m.value}`).sort(), ['alertname=DiskFull', 'instance=db-2', 'severity=high']);
    t.match((await browser.get('/incidents/1')).body, /until the incident resolves: expired then/);

    // 3. "Expire now" from the page.
    res = await browser.post(`/incidents/1/silences/${group!.id}/expire`, {});
    t.equal(res.statusCode, 303, res.body);
    await until(
      async () => !amtoolQuery(am2).some((s) => s.id === group!.id),
      'the expiry on peer 2',
      () => logs,
    );
    t.match(
      (await details()).timeline.find((e) => e.kind === 'silence_expired'),
      { actor: 'carol', detail: `Silence ${group!.id} expired by hand` },
    );

    // 4. Peer 1 down (stopped by its pid): the next silence goes to peer 2. Kept after the incident resolves, on purpose.
    peer1.kill('SIGTERM');
    await once(peer1, 'exit');
    res = await browser.post('/incidents/1/silences', { scope: 'alert', fingerprint: 'disk-db-1', length: '4h', keep: 'on' });
    t.equal(res.statusCode, 303, res.body);
    const kept = amtoolQuery(am2).find((s) => s.matchers.some((m) => m.value === 'db-1'));
    t.ok(kept, 'made on peer 2');
    t.match((await browser.get('/incidents/1')).body, /kept after the incident resolves \(chosen when it was made\)/);

    await p.settle();
    // 5. 15 minutes before the 4-hour silence ends, with the incident still open, its channel is told once.
    t.equal((await api(p.app, 'POST', '/api/incidents/1/ack', { by: 'carol' })).status, 200);
    await p.fastForward(4 * 60 * MIN - 16 * MIN, 30 * MIN);
    t.notOk(
      (await details()).timeline.some((e) => e.kind === 'silence_ending'),
      'not yet',
    );
    await p.fastForward(2 * MIN, MIN);
    await p.fastForward(5 * MIN, MIN);
    const endings = (await details()).timeline.filter((e) => e.kind === 'silence_ending');
    t.equal(endings.length, 1, 'told once');
    t.match(
      endings[0]!.detail,
      /^Silence .* \(\{alertname="DiskFull", instance="db-1", severity="high"\}\) ends at .* while the incident is still open$/,
    );
    p.expect.slack('#incidents', /DiskFull/);
    // Each silence made is told in the incident's thread.
    p.expect.slack('#incidents', /^Silenced the whole group in Alertmanager \(\{alertname="DiskFull"\}\) until /);
    p.expect.slack('#incidents', /^Silenced one alert in Alertmanager \(\{.*db-2.*\}\) until the incident resolves/);
    p.expect.slack('#incidents', /^Silenced one alert in Alertmanager \(\{.*db-1.*\}\) until .*, kept after the incident resolves/);
    p.expect.slack('#incidents', /Acknowledged by carol/);
    p.expect.slack('#incidents', /Silence ending soon/);

    // 6. The incident resolves: the until-resolved silence is expired, the one kept on purpose stays.
    t.equal((await api(p.app, 'POST', '/api/incidents/1/resolve', { by: 'carol' })).status, 200);
    await p.app.triage.scheduler.tick();
    const left = amtoolQuery(am2);
    t.notOk(
      left.some((s) => s.id === one.id),
      'the until-resolved silence is expired',
    );
    t.ok(
      left.some((s) => s.id === kept!.id),
      'the kept one stays',
    );
    t.match(
      (await details()).timeline.find((e) => e.kind === 'silence_expired' && e.actor === 'system'),
      {
        detail: `Silence ${one.id} expired because the incident resolved`,
      },
    );
    json = (await api(p.app, 'GET', '/api/incidents/1/silences')).body;
    t.match(json.silences, [{ id: kept!.id, whenResolved: 'kept' }]);
    await p.settle();
    p.expect.slack('#incidents', /Resolved by carol/);
    for (const m of [...p.mail.received]) p.expect.email(m.rcptTo, /.*/);
    p.expect.nothingElse();
  },
);

async function until(check: () => Promise<boolean>, what: string, log: () => string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
