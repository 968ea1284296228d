import type { InventoryNight, LedgerField } from '../../db/schema.ts';
import type { StayUnits } from './inventory.contract.ts';
import { nightsOf } from './inventory.dates.ts';
import { type BlockedNight, InventoryConflictError } from './inventory.errors.ts';
import type { LockedNightRow } from './inventory.repository.ts';

/** Who and what a change is for; every ledger row carries it. */
export interface LedgerRef {
  reason: string;
  reservationId?: string | null;
  holdId?: string | null;
  /** The PMS sync run of an imported change summed over a batch of bookings (no reservation). */
  syncRunId?: string | null;
  actorId: string | null;
}

export interface LedgerEntry extends LedgerRef {
  propertyId: string;
  roomTypeId: string;
  date: string;
  field: LedgerField;
  delta: number;
}

/** A direct change: `take`/`release` move booked units, `hold`/`unhold` move held units. */
export interface DirectChange {
  take?: StayUnits[];
  release?: StayUnits[];
  hold?: StayUnits[];
  unhold?: StayUnits[];
}

export interface CapacityChange {
  totalUnits?: number;
  outOfOrderUnits?: number;
  overbookingLimit?: number;
  stopSell?: boolean;
}

type Counts = Pick<
  InventoryNight,
  | 'total_units'
  | 'booked_units'
  | 'held_units'
  | 'out_of_order_units'
  | 'overbooking_limit'
  | 'overbooked_units'
  | 'stop_sell'
>;

const COUNT_FIELDS: LedgerField[] = [
  'total_units',
  'booked_units',
  'held_units',
  'out_of_order_units',
  'overbooking_limit',
  'overbooked_units',
  'stop_sell',
];

export const nightKey = (roomTypeId: string, date: string) => `${roomTypeId}|${date}`;

/** Units a night can still sell directly: total − out of order + overbooking limit − booked − held. */
export function freeUnits(night: Counts): number {
  return (
    night.total_units -
    night.out_of_order_units +
    night.overbooking_limit -
    night.booked_units -
    night.held_units
  );
}

function fieldValue(night: Counts, field: LedgerField): number {
  const value = night[field];
  return typeof value === 'boolean' ? Number(value) : value;
}

/** Per night, the sum of units over several stays (a booking's rooms may share room types). */
function unitsByNight(stays: StayUnits[] | undefined, into: Map<string, number>, sign: number): void {
  for (const stay of stays ?? []) {
    for (const date of nightsOf(stay.checkIn, stay.checkOut)) {
      const key = nightKey(stay.roomTypeId, date);
      into.set(key, (into.get(key) ?? 0) + sign * stay.units);
    }
  }
}

/**
 * The calendar rows one transaction has locked, changed in memory and written back once.
 * Every rule of invariant 2 is decided here, against the locked (so current) counts; every
 * change appends ledger entries, so the ledger always sums to the calendar.
 */
export class LockedNights {
  private readonly rows = new Map<string, LockedNightRow>();
  private readonly before = new Map<string, Counts>();
  readonly ledger: LedgerEntry[] = [];
  readonly propertyId: string;

  constructor(propertyId: string, locked: LockedNightRow[]) {
    this.propertyId = propertyId;
    for (const row of locked) {
      const key = nightKey(row.room_type_id, row.date);
      this.rows.set(key, { ...row });
      this.before.set(key, { ...row });
    }
  }

  get(roomTypeId: string, date: string): LockedNightRow | undefined {
    return this.rows.get(nightKey(roomTypeId, date));
  }

  /**
   * Applies a direct change all-or-nothing. Nights that gain units (booked + held grows) must be
   * loaded, open for sale, free of imported overbooking and have the room; a hold turned into a
   * booking adds nothing, so it is never refused. Returns the nights that refused, or [] when applied.
   */
  applyDirect(change: DirectChange, ref: LedgerRef): BlockedNight[] {
    const booked = new Map<string, number>();
    const held = new Map<string, number>();
    unitsByNight(change.take, booked, 1);
    unitsByNight(change.release, booked, -1);
    unitsByNight(change.hold, held, 1);
    unitsByNight(change.unhold, held, -1);
    const keys = [...new Set([...booked.keys(), ...held.keys()])];

    const blocked: BlockedNight[] = [];
    for (const key of keys) {
      const gain = (booked.get(key) ?? 0) + (held.get(key) ?? 0);
      const row = this.rows.get(key);
      if (!row) {
        if (gain > 0) {
          const [roomTypeId, date] = key.split('|') as [string, string];
          blocked.push({ room_type_id: roomTypeId, date, reason: 'NOT_LOADED', available_units: 0 });
          continue;
        }
        throw new Error(`Inventory night ${key} is released but was never loaded.`);
      }
      if (gain <= 0) continue;
      const free = Math.max(0, freeUnits(row));
      const reason = row.stop_sell
        ? 'STOP_SELL'
        : row.overbooked_units > 0 || free < gain
          ? 'SOLD_OUT'
          : undefined;
      if (reason) {
        blocked.push({ room_type_id: row.room_type_id, date: row.date, reason, available_units: free });
      }
    }
    if (blocked.length > 0) return blocked;

    this.change(keys, ref, (row, key) => {
      row.booked_units += booked.get(key) ?? 0;
      row.held_units += held.get(key) ?? 0;
      if (row.booked_units < 0 || row.held_units < 0) {
        throw new Error(`Inventory night ${key} would release more units than it holds.`);
      }
    });
    this.absorbOverbooking(keys, ref);
    return [];
  }

  /**
   * Imported bookings are never refused (the external PMS is the truth for its hotel): what does
   * not fit a night's sellable capacity is counted in overbooked_units. A release takes back
   * overbooked units first.
   */
  applyImported(release: StayUnits[], take: StayUnits[], ref: LedgerRef): void {
    const released = new Map<string, number>();
    const taken = new Map<string, number>();
    unitsByNight(release, released, 1);
    unitsByNight(take, taken, 1);
    const keys = [...new Set([...released.keys(), ...taken.keys()])];
    for (const key of keys) {
      if (!this.rows.has(key)) throw new Error(`Inventory night ${key} was not loaded before an import.`);
    }
    this.change(keys, ref, (row, key) => {
      let back = released.get(key) ?? 0;
      const fromOverbooked = Math.min(back, row.overbooked_units);
      row.overbooked_units -= fromOverbooked;
      back -= fromOverbooked;
      // A release larger than what the night holds (a booking imported before its nights were
      // loaded) stops at zero rather than failing the import.
      row.booked_units -= Math.min(back, row.booked_units);
      const units = taken.get(key) ?? 0;
      const fits = Math.min(units, Math.max(0, freeUnits(row)));
      row.booked_units += fits;
      row.overbooked_units += units - fits;
    });
    this.absorbOverbooking(keys, ref);
  }

  /**
   * An admin change of capacity or stop-sell over some nights. Refused (nothing changes) when a
   * night would end with more units sold or held than it can sell.
   */
  adjust(roomTypeId: string, dates: string[], change: CapacityChange, ref: LedgerRef): void {
    const keys = dates.map((date) => nightKey(roomTypeId, date));
    for (const key of keys) {
      const row = this.rows.get(key);
      if (!row) continue;
      const next = {
        ...row,
        total_units: change.totalUnits ?? row.total_units,
        out_of_order_units: change.outOfOrderUnits ?? row.out_of_order_units,
        overbooking_limit: change.overbookingLimit ?? row.overbooking_limit,
      };
      if (next.out_of_order_units > next.total_units) {
        throw new InventoryConflictError(
          roomTypeId,
          row.date,
          `out_of_order_units (${next.out_of_order_units}) would exceed total_units (${next.total_units}).`,
        );
      }
      if (freeUnits(next) < 0) {
        throw new InventoryConflictError(
          roomTypeId,
          row.date,
          `${row.booked_units} booked and ${row.held_units} held units would exceed the sellable ` +
            `capacity of ${next.total_units - next.out_of_order_units + next.overbooking_limit}.`,
        );
      }
    }
    const present = keys.filter((key) => this.rows.has(key));
    this.change(present, ref, (row) => {
      if (change.totalUnits !== undefined) row.total_units = change.totalUnits;
      if (change.outOfOrderUnits !== undefined) row.out_of_order_units = change.outOfOrderUnits;
      if (change.overbookingLimit !== undefined) row.overbooking_limit = change.overbookingLimit;
      if (change.stopSell !== undefined) row.stop_sell = change.stopSell;
    });
    this.absorbOverbooking(present, ref);
  }

  /** Nights whose counts differ from what was locked: the rows to write back. */
  changedNights(): LockedNightRow[] {
    const changed: LockedNightRow[] = [];
    for (const [key, row] of this.rows) {
      const before = this.before.get(key)!;
      if (COUNT_FIELDS.some((field) => fieldValue(row, field) !== fieldValue(before, field))) {
        changed.push(row);
      }
    }
    return changed;
  }

  /** Nights whose overbooked count grew in this transaction (they raise pms.inventory.overbooked). */
  newlyOverbooked(): LockedNightRow[] {
    return this.changedNights().filter(
      (row) => row.overbooked_units > this.before.get(nightKey(row.room_type_id, row.date))!.overbooked_units,
    );
  }

  /**
   * When a night has room again (a release, more capacity), imported excess moves back into
   * booked units, so overbooked_units always counts the true excess.
   */
  private absorbOverbooking(keys: string[], ref: LedgerRef): void {
    const candidates = keys.filter((key) => {
      const row = this.rows.get(key);
      return row !== undefined && row.overbooked_units > 0 && freeUnits(row) > 0;
    });
    if (candidates.length === 0) return;
    this.change(candidates, { ...ref, reason: 'overbooking.absorbed' }, (row) => {
      const moved = Math.min(row.overbooked_units, freeUnits(row));
      row.overbooked_units -= moved;
      row.booked_units += moved;
    });
  }

  /**
   * Folds the ledger entries from position `from` on into one per night, field and reason, each
   * attributed to `ref` instead of a reservation. Sums are kept (entries that cancel out vanish),
   * so the ledger still sums to the calendar; a bulk import writes a row per night it moved
   * rather than per booking-night.
   */
  foldLedger(from: number, ref: { syncRunId: string; actorId: string | null }): void {
    const folded = new Map<string, LedgerEntry>();
    for (const entry of this.ledger.splice(from)) {
      const key = `${entry.roomTypeId}|${entry.date}|${entry.field}|${entry.reason}`;
      const seen = folded.get(key);
      if (seen) seen.delta += entry.delta;
      else
        folded.set(key, {
          reason: entry.reason,
          reservationId: null,
          holdId: null,
          syncRunId: ref.syncRunId,
          actorId: ref.actorId,
          propertyId: entry.propertyId,
          roomTypeId: entry.roomTypeId,
          date: entry.date,
          field: entry.field,
          delta: entry.delta,
        });
    }
    for (const entry of folded.values()) if (entry.delta !== 0) this.ledger.push(entry);
  }

  /** Runs `mutate` on each night and appends one ledger entry per field that moved. */
  private change(keys: string[], ref: LedgerRef, mutate: (row: InventoryNight, key: string) => void): void {
    for (const key of keys) {
      const row = this.rows.get(key)!;
      const was: Counts = { ...row };
      mutate(row, key);
      for (const field of COUNT_FIELDS) {
        const delta = fieldValue(row, field) - fieldValue(was, field);
        if (delta !== 0) {
          this.ledger.push({
            ...ref,
            propertyId: row.property_id,
            roomTypeId: row.room_type_id,
            date: row.date,
            field,
            delta,
          });
        }
      }
    }
  }
}
