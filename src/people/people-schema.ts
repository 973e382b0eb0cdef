import Type, { type Static } from 'typebox';
import { ROLES } from './role.js';

/** A role as written in the config. */
export const RoleText = Type.Unsafe<(typeof ROLES)[number]>({ type: 'string', enum: [...ROLES] });

/**
 * The `people` section of config/triage.yml: who may do what. A contact's own role is its
 * `access` (in `contacts`); this section sets the rest.
 */
export const PeopleSchema = Type.Object(
  {
    /** The role of a contact without `access` (default responder). */
    defaultRole: Type.Optional(RoleText),
    /**
     * Someone the identity provider knows but the config does not: `refuse` (told why, not signed in),
     * `none` (the default: signed in with no role, they see who they are and whom to ask), or a role.
     */
    unknown: Type.Optional(Type.Union([Type.Literal('refuse'), Type.Literal('none'), RoleText])),
    /** The ID token claim that holds the e-mail address a contact is matched by (default `email`). */
    emailClaim: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** Accept an address whose email_verified claim is missing (some providers never send it; default false). */
    allowUnverifiedEmail: Type.Optional(Type.Boolean()),
    /** The claim that lists the person's groups (default `groups`). */
    groupsClaim: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** Identity-provider group → role; a person gets the highest of their contact's role and their groups'. */
    groups: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 300 }), RoleText)),
  },
  { additionalProperties: false },
);
export type RawPeople = Static<typeof PeopleSchema>;
