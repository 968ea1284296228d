import type { Tx } from '../../db/database.ts';

/**
 * The inventory operations other modules rely on (reservations, holds, PMS ingestion). The
 * inventory module implements them in inventory.service.ts; this file fixes their shape so the
 * modules can be built side by side. Every function takes the caller's transaction and locks the
 * calendar rows it touches in (room_type_id, date) order before changing them (invariant 1).
 */

/** Units of one room type over a stay's nights: check_in inclusive, check_out exclusive. */
export interface StayUnits {
  roomTypeId: string;
  checkIn: string;
  checkOut: string;
  units: number;
}

export interface ImportedChange {
  reservationId: string;
  /** Nights the booking held before this change (empty for a new booking or one that held none). */
  release: StayUnits[];
  /** Nights the booking holds after this change (empty when it is cancelled or a no-show). */
  take: StayUnits[];
}

export interface OverbookedNight {
  roomTypeId: string;
  date: string;
  /** The night's overbooked_units after the change. */
  overbookedUnits: number;
}

/**
 * Applies the inventory effect of imported bookings (an external PMS is the truth for its hotel):
 * releases, then takes, all nights locked in key order in one step. Capacity is never a reason to
 * refuse: units beyond a night's sellable capacity are recorded in overbooked_units (invariant 2),
 * and `pms.inventory.overbooked` / `pms.inventory.updated` events are written to the outbox.
 * Nights with no calendar row are created from the room type's total_units. Writes ledger rows.
 */
export type ApplyImportedChanges = (
  tx: Tx,
  input: {
    propertyId: string;
    changes: ImportedChange[];
    reason: string;
    actorId: string | null;
    /**
     * A PMS sync run's batch: the ledger gets one row per night, field and reason for the whole
     * call, carrying this run id, instead of one per reservation and night (the run's
     * `pms.reservation.*` events name the reservations). Without it, every row names its reservation.
     */
    syncRunId?: string;
  },
) => Promise<{ overbooked: OverbookedNight[] }>;
