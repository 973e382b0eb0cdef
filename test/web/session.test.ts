import t from 'tap';
import { decodeSession, encodeSession, matchContact, trustedProxies, viewerFor } from '../../src/web/session.js';

const contacts = [{ id: 'carol', name: 'Carol Diaz', email: 'Carol@Example.com', roles: [] }];

t.test('a session holds the viewer until it expires; anything malformed is no session', async (t) => {
  const v = decodeSession(encodeSession({ name: 'Carol Diaz', contact: 'carol' }, 2000), 1000);
  t.same(v, { name: 'Carol Diaz', contact: 'carol' });
  t.equal(decodeSession(encodeSession({ name: 'x' }, 1000), 1000), undefined, 'expired');
  for (const bad of [
    '',
    'not base64 json',
    Buffer.from('{"n":1,"e":9e15}').toString('base64url'),
    Buffer.from('{"n":"x"}').toString('base64url'),
  ])
    t.equal(decodeSession(bad, 0), undefined);
});

t.test('a name or e-mail is the contact it names, case-insensitively', async (t) => {
  t.equal(matchContact(contacts, 'carol@example.COM')?.id, 'carol');
  t.equal(matchContact(contacts, ' carol diaz ')?.id, 'carol');
  t.same(viewerFor(contacts, 'CAROL'), { name: 'Carol Diaz', contact: 'carol' });
  t.same(viewerFor(contacts, ' Eve '), { name: 'Eve' });
});

t.test('trusted proxies: addresses and ranges, v4 (also v4-mapped) and v6', async (t) => {
  const trusted = trustedProxies(['10.0.0.0/8', '192.168.1.7', '::1', 'fd00::/8']);
  for (const ok of ['10.1.2.3', '::ffff:10.9.9.9', '192.168.1.7', '::1', 'fd00::5']) t.ok(trusted(ok), ok);
  for (const no of ['11.0.0.1', '192.168.1.8', '::2', undefined, '']) t.notOk(trusted(no), String(no));
  t.throws(() => trustedProxies(['proxy.local']), /"proxy.local" is not an IP address or a CIDR range/);
  t.throws(() => trustedProxies(['10.0.0.0/40']));
});
