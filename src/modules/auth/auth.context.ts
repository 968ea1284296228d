import { ForbiddenError, NotFoundError } from '../../app/errors.ts';
import type { UserRole } from '../../db/schema.ts';

/** The authenticated user of a request, with the properties it may see. */
export interface Actor {
  id: string;
  email: string;
  role: UserRole;
  /** The properties this user is scoped to; SUPER_ADMIN sees every property regardless. */
  propertyIds: string[];
}

export function isSuperAdmin(actor: Actor): boolean {
  return actor.role === 'SUPER_ADMIN';
}

export function canSeeProperty(actor: Actor, propertyId: string): boolean {
  return isSuperAdmin(actor) || actor.propertyIds.includes(propertyId);
}

/** Properties the actor may see, or `null` for all of them. */
export function propertyScope(actor: Actor): string[] | null {
  return isSuperAdmin(actor) ? null : actor.propertyIds;
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
