import { ConflictError } from '../../app/errors.ts';
import type { Actor } from './auth.context.ts';

/**
 * An email signs in to one account across all hotels, so a taken one cannot be given out again.
 * Only a SUPER_ADMIN, who sees every user anyway, is told that a user has it; anyone else gets one
 * answer for every unusable address, whoever holds it (their own STAFF, another hotel's user, an
 * administrator), so it says nothing about users outside their scope (docs/api.md).
 */
export function emailUnavailable(actor: Actor, email: string): ConflictError {
  if (actor.role === 'SUPER_ADMIN') {
    return new ConflictError(`A user with email ${email} already exists.`, 'CONFLICT');
  }
  return new ConflictError(
    'This email address cannot be used. Choose another one, or ask a super administrator.',
    'EMAIL_UNAVAILABLE',
  );
}

/** The unique index on lower(email) refused a write: a concurrent request took the address first. */
export function isEmailTaken(error: unknown): boolean {
  const pgError = error as { code?: unknown; constraint?: unknown } | null;
  return pgError?.code === '23505' && pgError.constraint === 'app_user_email_idx';
}
