import { ConflictError } from '../../app/errors.ts';

/** A room type's capacity cannot change because a night's bookings and holds would no longer fit. */
export class InventoryConflictError extends ConflictError {
  constructor(message: string, details: Record<string, unknown>) {
    super(message, 'INVENTORY_CONFLICT', details);
  }
}
