import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import type { FastifyBaseLogger } from 'fastify';
import { buildApp } from '../src/app.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { API_TOKEN, shippedConfig, tempDir } from './helpers.js';
import { join } from 'node:path';

t.test('probes and scrapes are not written to the request log; other requests are', async (t) => {
  const lines: { msg: string; req?: { url: string }; level: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink) as unknown as FastifyBaseLogger;
  const store = new SqliteStore({ path: join(tempDir(t), 'triage.db') });
  const app = buildApp({ triage: shippedConfig, apiToken: API_TOKEN, dispatch: { autoStart: false } }, { store, logger });
  t.teardown(() => app.close());
  await app.ready();
  for (const url of ['/healthz', '/readyz', '/metrics', '/healthz']) t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
  t.equal((await app.inject({ method: 'GET', url: '/api/incidents', headers: { authorization: `Bearer ${API_TOKEN}` } })).statusCode, 200);
  const requestLines = lines.filter((l) => l.msg === 'incoming request');
  t.same(
    requestLines.map((l) => l.req?.url),
    ['/api/incidents'],
    'only the API request is logged',
  );
});
