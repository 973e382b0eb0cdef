import t from 'tap';
import { responderOf } from '../../src/http/acting-person.js';
import type { Person } from '../../src/people/person.js';

const person = (p: Partial<Person>): Person => ({
  key: 'sam',
  contact: null,
  name: 'Sam Admin',
  email: 'sam@example.org',
  groups: [],
  role: 'admin',
  via: 'personal-token',
  ...p,
});

t.test('who an incident action is recorded as: the person acting; a name given only by API_TOKEN, and marked so', async (t) => {
  t.same(
    responderOf(person({}), 'api', 'Mallory'),
    { name: 'Sam Admin', contact: undefined, via: 'api' },
    "an admin's own token (no contact) cannot name someone else: `by` is ignored",
  );
  t.same(responderOf(person({ key: 'carol', contact: 'carol', name: 'Carol Diaz', role: 'responder', via: 'oidc' }), 'web'), {
    name: 'Carol Diaz',
    contact: 'carol',
    via: 'web',
  });
  t.same(
    responderOf(person({ key: 'api-token', name: 'api', via: 'api-token' }), 'api', 'Carol Diaz'),
    { name: 'Carol Diaz', via: 'api', recordedBy: 'API_TOKEN' },
    'API_TOKEN names whom it acts for, and the entry says API_TOKEN recorded it',
  );
  t.same(responderOf(person({ key: 'api-token', name: 'api', via: 'api-token' }), 'api'), { name: 'api', contact: undefined, via: 'api' });
  t.same(
    responderOf(person({ key: 'carol', contact: 'carol', name: 'Carol Diaz', via: 'form' }), 'web'),
    { name: 'Carol Diaz', contact: 'carol', via: 'web', recordedBy: 'API_TOKEN' },
    'the built-in form (API_TOKEN and a name typed) is marked too',
  );
});
