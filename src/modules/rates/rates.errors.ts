import { ConflictError, ResourceInUseError, ValidationError } from '../../app/errors.ts';

export class RatePlanCodeTakenError extends ConflictError {
  constructor(code: string) {
    super(`A rate plan with code ${code} already exists for this property.`, 'CONFLICT', {
      errors: [{ pointer: '/body/code', message: 'is already used by another rate plan of this property' }],
    });
  }
}

export class RatePlanInUseError extends ResourceInUseError {}

/** A parent that would make a cycle, cross properties, or derive too deeply. */
export class RatePlanHierarchyError extends ValidationError {
  constructor(message: string) {
    super(message, [{ pointer: '/body/parent_rate_plan_id', message }]);
  }
}

/** A base plan that stores nightly amounts cannot silently become derived and lose them. */
export class RatePlanHasAmountsError extends ConflictError {
  constructor(storedNights: number) {
    super(
      `The rate plan stores amounts for ${storedNights} nights; a derived plan takes its amounts from its ` +
        'parent. Clear them first (PUT /api/rates/daily/ with "amount": null) or create a new derived plan.',
      'CONFLICT',
    );
  }
}

export class DerivedPlanAmountError extends ValidationError {
  constructor() {
    super(
      'The rate plan is derived: its amounts follow its parent plan and its offset, so they cannot be set ' +
        'per night. Set the parent plan’s amounts, or change this plan’s offset.',
      [{ pointer: '/body/amount', message: 'cannot be set on a derived rate plan' }],
    );
  }
}

export class DateRangeTooLongError extends ValidationError {
  constructor(nights: number, max: number, pointer: string) {
    super(`The date range covers ${nights} nights; at most ${max} are allowed per request. Split it.`, [
      { pointer, message: `must be at most ${max} nights after the start` },
    ]);
  }
}
