import type { RawPeople } from './people-schema.js';
import type { Identity, Person, SignInMethod } from './person.js';
import { higherRole, type Role } from './role.js';

/** Who may do what, from the `people` section and the contacts' `access`. */
export interface PeopleConfig {
  defaultRole: Role;
  unknown: 'refuse' | 'none' | Role;
  emailClaim: string;
  allowUnverifiedEmail: boolean;
  groupsClaim: string;
  groups: Readonly<Record<string, Role>>;
}

/** The part of a contact that says who they are and their role (paging's Contact is one). */
export interface PersonRecord {
  id: string;
  name: string;
  email?: string | undefined;
  access?: Role | undefined;
}

export const DEFAULT_PEOPLE: PeopleConfig = {
  defaultRole: 'responder',
  unknown: 'none',
  emailClaim: 'email',
  allowUnverifiedEmail: false,
  groupsClaim: 'groups',
  groups: {},
};

export function parsePeople(raw: RawPeople | undefined): PeopleConfig {
  return {
    defaultRole: raw?.defaultRole ?? DEFAULT_PEOPLE.defaultRole,
    unknown: raw?.unknown ?? DEFAULT_PEOPLE.unknown,
    emailClaim: raw?.emailClaim ?? DEFAULT_PEOPLE.emailClaim,
    allowUnverifiedEmail: raw?.allowUnverifiedEmail ?? false,
    groupsClaim: raw?.groupsClaim ?? DEFAULT_PEOPLE.groupsClaim,
    groups: { ...raw?.groups },
  };
}

/** The contact an e-mail address belongs to (case-insensitive), if any. */
export function contactByEmail<C extends PersonRecord>(contacts: readonly C[], email: string): C | undefined {
  const e = email.trim().toLowerCase();
  return contacts.find((c) => c.email?.toLowerCase() === e);
}

/**
 * A person's role now: the highest of their contact's (its `access`, else the default) and their
 * groups' (people.groups); for someone who is no contact and in no mapped group, people.unknown
 * (`refuse` and `none` both mean no role here: a refused person has no session to ask with).
 */
export function roleOf(people: PeopleConfig, contacts: readonly PersonRecord[], who: Pick<Identity, 'contact' | 'groups'>): Role | null {
  const contact = who.contact === null ? undefined : contacts.find((c) => c.id === who.contact);
  let role: Role | null = contact ? (contact.access ?? people.defaultRole) : null;
  for (const g of who.groups) role = higherRole(role, people.groups[g] ?? null);
  if (role === null && !contact) role = people.unknown === 'refuse' || people.unknown === 'none' ? null : people.unknown;
  return role;
}

/** The identity of a contact of the config. */
export function identityOfContact(c: PersonRecord, groups: readonly string[] = []): Identity {
  return { key: c.id, contact: c.id, name: c.name, email: c.email ?? null, groups };
}

/**
 * The person acting, with their role now. The shared API_TOKEN (and the built-in form, which
 * checks it) is the admin's: whoever holds it can do everything through the API anyway.
 */
export function personOf(people: PeopleConfig, contacts: readonly PersonRecord[], who: Identity, via: SignInMethod): Person {
  const role = via === 'api-token' || via === 'form' ? 'admin' : roleOf(people, contacts, who);
  return { ...who, role, via };
}
