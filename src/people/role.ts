/** What a person may do, each role including the ones before it. */
export const ROLES = ['viewer', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What each role adds, in words, for refusals and the docs. */
export const ROLE_WORDS: Record<Role, string> = {
  viewer: 'read incidents',
  responder: 'acknowledge, resolve, write notes, tick the checklist, save the review and take on-call overrides for oneself',
  admin: 'take overrides for anyone, reload the config, end anyone’s sessions and use every API',
};

/** True when `have` includes everything `need` allows; no role at all (null) includes nothing. */
export function roleAtLeast(have: Role | null, need: Role): boolean {
  return have !== null && ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** The stronger of two roles. */
export function higherRole(a: Role | null, b: Role | null): Role | null {
  if (a === null) return b;
  if (b === null) return a;
  return ROLES.indexOf(a) >= ROLES.indexOf(b) ? a : b;
}
