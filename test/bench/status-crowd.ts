// A crowd of visitors reloading /status and its JSON summary, in a process of its own so that the
// webhooks' load generator does not share its event loop (status-bench.ts starts it). Half the page
// loads revalidate with the ETag they have (a browser reloading), half ask afresh; all take brotli
// and gzip, as browsers do. Prints {"ready":true} once loaded (tsx's compiling costs a second or two
// of CPU, which must not fall in the measured window), then one JSON line: answers per second, p99,
// and how they ended.
// tsx test/bench/status-crowd.ts BASE_URL SECONDS CONNECTIONS
import autocannon from 'autocannon';

const [base, seconds = '10', connections = '200'] = process.argv.slice(2);
const encodings = { 'accept-encoding': 'gzip, deflate, br' };
const first = await fetch(`${base}/status`, { headers: encodings });
const etag = first.headers.get('etag') ?? '';
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
const r = await autocannon({
  url: `${base}/status`,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    { method: 'GET', path: '/status', headers: encodings },
    { method: 'GET', path: '/status', headers: { ...encodings, 'if-none-match': etag } },
    { method: 'GET', path: '/status/summary.json', headers: encodings },
  ],
});
const busy = r.statusCodeStats?.['503']?.count ?? 0;
process.stdout.write(
  `${JSON.stringify({
    rps: r.requests.average,
    p99: r.latency.p99,
    ok: r['2xx'],
    notModified: r['3xx'],
    busy503: busy,
    otherStatus: r.non2xx - r['3xx'] - busy,
    errors: r.errors,
  })}\n`,
);
