import { setTimeout as sleep } from 'node:timers/promises';
import type { LockPolicy } from '../../app/config.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { InventoryNight } from '../../db/schema.ts';
import { buildEnvelope, type CloudEvent } from '../events/outbox.ts';
import type { StayUnits } from './inventory.contract.ts';
import { InventoryBusyError } from './inventory.errors.ts';
import { freeUnits, LockedNights } from './inventory.nights.ts';
import * as repo from './inventory.repository.ts';

export interface LockSettings {
  policy: LockPolicy;
  timeoutMs: number;
}

/** How the calendar rows of this transaction are to be locked. */
export interface LockMode {
  nowait: boolean;
}

/** Fail-fast attempts before INVENTORY_BUSY; the backoff between them grows and is jittered. */
export const NOWAIT_ATTEMPTS = 8;
const BACKOFF_BASE_MS = 2;
const BACKOFF_CAP_MS = 40;

const LOCK_NOT_AVAILABLE = '55P03';
const DEADLOCK_DETECTED = '40P01';

function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
}

/**
 * Runs one inventory write in its own transaction under the lock policy. `wait` queues on the
 * rows for at most `lock_timeout`; `nowait` fails fast and retries the whole transaction a few
 * times with jittered backoff. Either way a lock that cannot be had ends as INVENTORY_BUSY, never
 * as a 5xx. A deadlock cannot happen between calendar writers (rows are locked in key order), but
 * if another lock order ever causes one, the transaction is retried like a busy lock.
 */
export async function inInventoryTransaction<T>(
  db: Db,
  settings: LockSettings,
  work: (tx: Tx, mode: LockMode) => Promise<T>,
): Promise<T> {
  const mode: LockMode = { nowait: settings.policy === 'nowait' };
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(async (tx) => {
        await repo.setLockTimeout(tx, settings.timeoutMs);
        return work(tx, mode);
      });
    } catch (error) {
      const state = sqlState(error);
      const retriable =
        (state === LOCK_NOT_AVAILABLE && mode.nowait) || (state === DEADLOCK_DETECTED && attempt < 3);
      if (retriable && attempt < NOWAIT_ATTEMPTS) {
        const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
        await sleep(Math.random() * ceiling);
        continue;
      }
      if (state === LOCK_NOT_AVAILABLE) throw new InventoryBusyError();
      throw error;
    }
  }
}

/** The smallest set of night ranges covering some stays (per room type, overlapping runs merged). */
export function rangesOf(stays: StayUnits[]): repo.NightRange[] {
  const byRoomType = new Map<string, Array<[string, string]>>();
  for (const stay of stays) {
    const list = byRoomType.get(stay.roomTypeId) ?? [];
    list.push([stay.checkIn, stay.checkOut]);
    byRoomType.set(stay.roomTypeId, list);
  }
  const ranges: repo.NightRange[] = [];
  for (const [roomTypeId, list] of [...byRoomType].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    let current: repo.NightRange | undefined;
    for (const [start, end] of list) {
      if (current && start <= current.end) {
        if (end > current.end) current.end = end;
      } else {
        current = { roomTypeId, start, end };
        ranges.push(current);
      }
    }
  }
  return ranges;
}

/** Locks every night of some stays (one statement, key order) and returns them for changing. */
export async function lockStays(
  tx: Tx,
  propertyId: string,
  stays: StayUnits[],
  mode: LockMode,
): Promise<LockedNights> {
  const rows = await repo.lockNights(tx, propertyId, rangesOf(stays), mode.nowait);
  return new LockedNights(propertyId, rows);
}

/** The wire shape of a night's counts in events and in the calendar. */
export function nightCounts(night: InventoryNight) {
  return {
    date: night.date,
    total_units: night.total_units,
    booked_units: night.booked_units,
    held_units: night.held_units,
    out_of_order_units: night.out_of_order_units,
    overbooking_limit: night.overbooking_limit,
    overbooked_units: night.overbooked_units,
    available_units: Math.max(0, freeUnits(night)),
    stop_sell: night.stop_sell,
  };
}

function byRoomType(nights: InventoryNight[]): Map<string, InventoryNight[]> {
  const groups = new Map<string, InventoryNight[]>();
  for (const night of nights) {
    const group = groups.get(night.room_type_id) ?? [];
    group.push(night);
    groups.set(night.room_type_id, group);
  }
  return groups;
}

/**
 * Writes what a transaction changed on its locked nights: the rows, their ledger entries and one
 * `pms.inventory.updated` event per room type (plus `pms.inventory.overbooked` for nights whose
 * imported excess grew), all in one statement. `extraEvents` rides along in the same statement.
 */
export async function writeLockedNights(
  tx: Tx,
  nights: LockedNights,
  reason: string,
  extraEvents: CloudEvent[] = [],
): Promise<void> {
  const changed = nights.changedNights();
  const events: CloudEvent[] = [...extraEvents];
  for (const [roomTypeId, group] of byRoomType(changed)) {
    events.push(
      buildEnvelope('pms.inventory.updated', nights.propertyId, {
        property_id: nights.propertyId,
        room_type_id: roomTypeId,
        reason,
        nights: group.map(nightCounts),
      }),
    );
  }
  for (const [roomTypeId, group] of byRoomType(nights.newlyOverbooked())) {
    events.push(
      buildEnvelope('pms.inventory.overbooked', nights.propertyId, {
        property_id: nights.propertyId,
        room_type_id: roomTypeId,
        reason,
        nights: group.map(nightCounts),
      }),
    );
  }
  await repo.writeNightChanges(tx, changed, nights.ledger, events);
}
