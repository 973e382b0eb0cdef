// The storm benchmark's load balancer: one address in front of the replicas, as a TCP balancer in
// processes of its own (node:cluster, the primary handing each connection to a worker in turn; each
// worker a round-robin TcpProxy over the replicas). In processes of their own because a 10,000-group
// storm from two Alertmanagers opens 20,000 connections at once, each held twice by a proxy, past one
// process's limit of open files here (ulimit -Hn 20,000); split over the workers it fits.
// node --import tsx test/bench/balancer-process.ts <port> <workers> <upstream,upstream,...>
// Prints one JSON line when every worker listens ({"ready":true}) and then, each second, the
// connections accepted and the socket errors seen ({"accepted":n,"errors":{...}}). SIGTERM stops it
// and its workers.
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { TcpProxy } from '../fakes/tcp-proxy.js';

type Stats = { accepted: number; errors: Record<string, number> };

if (cluster.isPrimary) {
  const [port, workers, upstreams] = process.argv.slice(2);
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({ args: [port!, workers!, upstreams!] });
  const stats = new Map<Worker, Stats>();
  const forked = Array.from({ length: Number(workers) }, () => cluster.fork());
  for (const w of forked) w.on('message', (m: Stats) => stats.set(w, m));
  await Promise.all(forked.map((w) => once(w, 'listening')));
  console.log(JSON.stringify({ ready: true }));
  const report = setInterval(() => {
    const total: Stats = { accepted: 0, errors: {} };
    for (const s of stats.values()) {
      total.accepted += s.accepted;
      for (const [k, n] of Object.entries(s.errors)) total.errors[k] = (total.errors[k] ?? 0) + n;
    }
    console.log(JSON.stringify(total));
  }, 1000);
  process.once('SIGTERM', () => {
    clearInterval(report);
    // Each worker by its pid; the primary ends once they have.
    const alive = forked.filter((w) => !w.isDead());
    for (const w of alive) w.process.kill('SIGTERM');
    void Promise.all(alive.map((w) => once(w, 'exit'))).then(() => process.exit(0));
  });
} else {
  const [port, , upstreams] = process.argv.slice(2);
  const proxy = new TcpProxy(upstreams!.split(',').map(Number));
  await proxy.start(Number(port));
  const report = setInterval(
    () => process.send?.({ accepted: proxy.accepted, errors: Object.fromEntries(proxy.errors) } satisfies Stats),
    1000,
  );
  process.once('SIGTERM', () => {
    clearInterval(report);
    void proxy.stop().then(() => process.exit(0));
  });
}
