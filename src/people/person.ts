import { roleAtLeast, ROLE_WORDS, type Role } from './role.js';

/** How a person proved who they are. */
export type SignInMethod =
  /** OpenID Connect: the identity provider's ID token. */
  | 'oidc'
  /** An authenticating proxy's header (AUTH_PROXY_HEADER), from a trusted address. */
  | 'proxy'
  /** The built-in form with the shared API_TOKEN (a local trial). */
  | 'form'
  /** A personal API token made on /me. */
  | 'personal-token'
  /** API_TOKEN itself: the admin's bootstrap and automation token. */
  | 'api-token'
  /** A Slack user pressing a button, matched to a contact by Slack id. */
  | 'slack';

/**
 * Who someone is, as stored with a session or a personal token: enough to find their role again at
 * each request (a reload that changes a contact's role applies at once).
 */
export interface Identity {
  /** Stable across sign-ins: the contact id, else `email:<address>` (someone the config does not know). */
  key: string;
  /** The contact of the config this person is, when they are one. */
  contact: string | null;
  /** The name shown and recorded in timelines: the contact's name, else the identity provider's. */
  name: string;
  email: string | null;
  /** The identity provider's groups at sign-in (for roles mapped from groups). */
  groups: readonly string[];
}

/**
 * The person acting on a request: every route gets it the same way (`req.person`), whatever way
 * they signed in. `role` is null for someone signed in whom the config gives no role.
 */
export interface Person extends Identity {
  role: Role | null;
  via: SignInMethod;
}

/** Why `person` may not do what needs `need`, in words; undefined when they may. */
export function refusal(person: Pick<Person, 'name' | 'role'> | undefined, need: Role): string | undefined {
  if (person && roleAtLeast(person.role, need)) return undefined;
  const what = `This needs the ${need} role (${ROLE_WORDS[need]})`;
  if (!person) return `${what}: sign in first.`;
  const have = person.role ? `the ${person.role} role` : 'no role';
  return `${what}; ${person.name} has ${have}. An admin can give it in the config (the contact's "access", or an identity-provider group under people.groups).`;
}

/** What the timeline and the actions record as the actor. */
export function actorOf(p: Pick<Person, 'name' | 'contact'>): { name: string; contact: string | undefined } {
  return { name: p.name, contact: p.contact ?? undefined };
}
