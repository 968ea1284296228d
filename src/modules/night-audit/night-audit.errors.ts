import { ConflictError } from '../../app/errors.ts';

/** Another night audit of the property holds it right now; this one did nothing. */
export class NightAuditRunningError extends ConflictError {
  constructor(propertyId: string) {
    super(
      `A night audit of property ${propertyId} is running right now; its result will show on the property.`,
      'NIGHT_AUDIT_RUNNING',
    );
  }
}
