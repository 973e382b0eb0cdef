// Who a subscribe request is counted for (web/status-routes.ts): the client behind the trusted
// proxies, and one IPv6 /64 as one client.
import t from 'tap';
import { clientAddress, subscribeClient } from '../../src/web/status-routes.js';
import { trustedProxies } from '../../src/web/session.js';
import { makeApp } from '../helpers.js';

t.test('the client of a request: the peer, or the last address a trusted proxy was reached from', async (t) => {
  const trusted = trustedProxies(['10.0.0.0/8', '2001:db8:ffff::/48']);
  t.equal(clientAddress('198.51.100.1', '203.0.113.9', trusted), '198.51.100.1', 'an untrusted peer: its X-Forwarded-For is not believed');
  t.equal(clientAddress('10.1.2.3', '203.0.113.9', trusted), '203.0.113.9');
  t.equal(clientAddress('::ffff:10.1.2.3', '203.0.113.9', trusted), '203.0.113.9', 'an IPv4 peer seen as IPv6');
  t.equal(
    clientAddress('10.1.2.3', '1.1.1.1, 203.0.113.9, 10.9.9.9', trusted),
    '203.0.113.9',
    'what the client wrote itself is left of it',
  );
  t.equal(clientAddress('10.1.2.3', ['1.1.1.1', '203.0.113.9'], trusted), '203.0.113.9', 'repeated headers');
  t.equal(clientAddress('10.1.2.3', 'junk, 203.0.113.9', trusted), '203.0.113.9');
  t.equal(clientAddress('10.1.2.3', undefined, trusted), '10.1.2.3', 'no header: the proxy itself');
  t.equal(clientAddress('10.1.2.3', '10.4.4.4', trusted), '10.4.4.4', 'only proxies: the farthest');
  t.equal(clientAddress('2001:db8:ffff::1', '2001:db8:1::5', trusted), '2001:db8:1::5');
});

t.test('a client is an IPv4 address, or the /64 of an IPv6 one', async (t) => {
  t.equal(subscribeClient('203.0.113.9'), '203.0.113.9');
  t.equal(subscribeClient('::ffff:203.0.113.9'), '203.0.113.9');
  t.equal(subscribeClient('2001:db8:1:2::7'), '2001:db8:1:2::/64');
  t.equal(subscribeClient('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64', 'leading zeros dropped');
  t.equal(subscribeClient('2001:DB8:1:2:0:0:0:1'), '2001:db8:1:2::/64');
  t.equal(subscribeClient('2001:db8::1'), '2001:db8:0:0::/64');
  t.equal(subscribeClient('::1'), '0:0:0:0::/64');
  t.equal(subscribeClient('fe80::1%eth0'), 'fe80:0:0:0::/64', 'a zone is not part of it');
});

t.test('behind a trusted proxy (STATUS_TRUSTED_PROXIES) each client has its own limit; the proxy is not one client', async (t) => {
  const { app } = await makeApp(t, {
    config: {
      statusTrustedProxies: ['10.0.0.1'],
      channels: { smtpUrl: 'smtp://127.0.0.1:9', emailFrom: 'status@example.com' },
    },
  });
  const ask = (n: number, client: string, peer = '10.0.0.1') =>
    app.inject({
      method: 'POST',
      url: '/status/subscribe',
      remoteAddress: peer,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': client },
      payload: `email=reader${n}%40example.com`,
    });
  const codes = [];
  for (let n = 0; n < 11; n++) codes.push((await ask(n, '203.0.113.9')).statusCode);
  t.same(codes, [...Array<number>(10).fill(200), 429], 'one client: ten requests');
  t.equal((await ask(11, '198.51.100.4')).statusCode, 200, 'another client through the same proxy is not held back');
  t.equal((await ask(12, '198.51.100.4', '192.0.2.50')).statusCode, 200, 'an untrusted peer is counted as itself');
  t.equal((await ask(13, '198.51.100.5', '203.0.113.9')).statusCode, 429, 'whatever it writes in X-Forwarded-For');
});
