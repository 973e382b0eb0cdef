import t from 'tap';
import { alert, API_TOKEN, makeApp, payload, postWebhook, uniqueGroup } from '../helpers.js';

const get = (app: Awaited<ReturnType<typeof makeApp>>['app'], token: string, remoteAddress = '127.0.0.1') =>
  app.inject({ method: 'GET', url: '/api/incidents', headers: { authorization: `Bearer ${token}` }, remoteAddress });

t.test('wrong bearer tokens are limited per client address: 429 with Retry-After, never on the webhook', async (t) => {
  const { app, clock } = await makeApp(t);
  const codes: number[] = [];
  for (let i = 0; i < 31; i++) codes.push((await get(app, `guess-${i}`)).statusCode);
  t.same(codes.slice(0, 30), Array(30).fill(401), 'thirty wrong tokens a minute are answered');
  t.equal(codes[30], 429, 'then 429');
  const limited = await get(app, API_TOKEN);
  t.equal(limited.statusCode, 429, 'the right token waits too, from that address');
  t.equal(limited.headers['retry-after'], '60');
  t.match(limited.json(), { error: 'Too Many Requests' });
  t.equal((await get(app, API_TOKEN, '10.0.0.9')).statusCode, 200, 'another address is not held up');
  t.equal((await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]))).statusCode, 200, 'the webhook from the same address');
  clock.advance(60_000);
  t.equal((await get(app, API_TOKEN)).statusCode, 200, 'after the window');
});

t.test('wrong secrets for one personal token are limited per token, from any address', async (t) => {
  const { app } = await makeApp(t);
  const prefix = 'tri_0badc0de';
  const codes: number[] = [];
  for (let i = 0; i < 11; i++) codes.push((await get(app, `${prefix}_${String(i).padStart(43, 'x')}`, `10.0.${i}.1`)).statusCode);
  t.same(codes, [...Array(10).fill(401), 429], 'ten guesses at one token from ten addresses, then 429');
  t.equal((await get(app, 'tri_1badc0de_' + 'x'.repeat(43), '10.9.9.9')).statusCode, 401, 'another token is not held up');
});
