import { ConflictError, ForbiddenError } from '../../app/errors.ts';

/**
 * A PROPERTY_ADMIN acting on a guest who also stayed at a property it does not administer: edits,
 * merges and erasure change what every one of those hotels holds, so they are a SUPER_ADMIN's.
 * The answer says that much and nothing about the other properties.
 */
export class GuestSharedError extends ForbiddenError {
  constructor() {
    super(
      'This guest also has stays at properties you do not administer; a SUPER_ADMIN can do this.',
      'GUEST_SHARED',
    );
  }
}

/** The profile was erased: nothing of it may be edited or merged any more. */
export class GuestErasedError extends ConflictError {
  constructor(id: string) {
    super(`Guest ${id} was erased; an erased guest cannot be edited or merged.`, 'GUEST_ERASED');
  }
}

/** The e-mail (or phone) given identifies another guest profile; merging them is the way. */
export class GuestConflictError extends ConflictError {
  constructor(field: 'email' | 'phone') {
    super(
      `Another guest profile has this ${field === 'email' ? 'e-mail' : 'phone'}; merge the two profiles instead.`,
      'GUEST_CONFLICT',
      { field },
    );
  }
}
