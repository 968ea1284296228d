import { ForbiddenError } from '../../app/errors.ts';
import { type Actor, isSuperAdmin } from '../auth/auth.context.ts';

/** Integrations are managed by administrators; STAFF may only read ingested bookings. */
export function assertIntegrationAdmin(actor: Actor): void {
  if (actor.role === 'STAFF') throw new ForbiddenError('Only administrators manage PMS integrations.');
}

/** Configs are global documents: only a SUPER_ADMIN uploads them. */
export function assertConfigAuthor(actor: Actor): void {
  if (!isSuperAdmin(actor)) throw new ForbiddenError('Only a SUPER_ADMIN uploads PMS configs.');
}
