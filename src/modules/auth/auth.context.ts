import { ForbiddenError, NotFoundError } from '../../app/errors.ts';
import type { ApiKeyScope, UserRole } from '../../db/schema.ts';

/** What a partner's API key grants (docs/api.md, "Partner credentials"). */
export interface ApiKeyGrant {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  /** Every property, present and future (only a SUPER_ADMIN creates such a key). */
  allProperties: boolean;
  rateLimitPerMinute: number;
}

/**
 * The authenticated user or API key of a request, with the properties it may see. An API key acts
 * with the role STAFF at its properties, the least a user has, so a service check never grants a
 * key more than the front desk; which routes it reaches at all is its scopes' business.
 */
export interface Actor {
  /** The user's id, or the API key's. */
  id: string;
  /** The user's email; absent for an API key. */
  email?: string;
  role: UserRole;
  /** The properties this user is scoped to; SUPER_ADMIN sees every property regardless. */
  propertyIds: string[];
  /** Set when the caller is an API key rather than a signed-in user. */
  apiKey?: ApiKeyGrant;
}

export function isSuperAdmin(actor: Actor): boolean {
  return actor.role === 'SUPER_ADMIN';
}

function seesEveryProperty(actor: Actor): boolean {
  return isSuperAdmin(actor) || actor.apiKey?.allProperties === true;
}

export function canSeeProperty(actor: Actor, propertyId: string): boolean {
  return seesEveryProperty(actor) || actor.propertyIds.includes(propertyId);
}

/** Properties the actor may see, or `null` for all of them. */
export function propertyScope(actor: Actor): string[] | null {
  return seesEveryProperty(actor) ? null : actor.propertyIds;
}

/** A user never learns that another property's data exists: 404, not 403. */
export function assertCanSeeProperty(
  actor: Actor,
  propertyId: string,
  entity = 'Property',
  id = propertyId,
): void {
  if (!canSeeProperty(actor, propertyId)) throw new NotFoundError(entity, id);
}

/** For writes that need admin rights over a property the actor can see. */
export function assertCanAdminProperty(actor: Actor, propertyId: string): void {
  assertCanSeeProperty(actor, propertyId);
  if (actor.role === 'STAFF') throw new ForbiddenError('Only property administrators may change this.');
}

export function assertRole(actor: Actor, ...roles: UserRole[]): void {
  if (!roles.includes(actor.role)) {
    throw new ForbiddenError(`This action needs one of the roles: ${roles.join(', ')}.`);
  }
}
