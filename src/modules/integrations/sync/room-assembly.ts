import { Decimal } from 'decimal.js';
import type { CanonicalStatus } from '../config/config.types.ts';
import { type CanonicalBooking, type CanonicalRoom, roomsOf } from '../pipeline/canonical.ts';

/**
 * The rooms of a booking as the PMS last described them, keyed within the booking: by the room's
 * own PMS id, or `#<position>` for a PMS that gives rooms no id. Pure: no database here.
 */
export interface RoomState {
  key: string;
  position: number;
  room: CanonicalRoom;
  /** The room's own version (a grouped record's modification time); null when unknown. */
  updatedAt: string | null;
}

/** Statuses that hold their nights; cancelled and no_show release them (DESIGN.md §5). */
export const HOLDS = (status: CanonicalStatus | null) => status !== 'cancelled' && status !== 'no_show';

/** A booking whose rooms differ: in house if any room is, else coming if any is, else gone. */
const PRECEDENCE: CanonicalStatus[] = ['checked_in', 'confirmed', 'tentative', 'checked_out'];

/** The rooms of one record that carries its whole booking (format v1, or nested rooms). */
export function keyedRooms(booking: CanonicalBooking): RoomState[] {
  return roomsOf(booking).map((room, i) => ({
    key: room.external_id ?? `#${i + 1}`,
    position: i + 1,
    room,
    updatedAt: booking.source_updated_at,
  }));
}

const later = (a: string | null, b: string | null) => (a ?? '') > (b ?? '');

/** What is stored of a grouped booking: its booking-level fields and each room's state. */
export interface StoredGroup {
  booking: CanonicalBooking;
  rooms: RoomState[];
}

export interface GroupAssembly {
  /** The whole booking after this batch: its rooms, and the fields derived from them. */
  booking: CanonicalBooking;
  rooms: RoomState[];
  /** Incoming records refused, by their index in the batch, with why. */
  rejected: Array<{ index: number; reason: string }>;
  /** Incoming records older than what is stored of their room (they change nothing). */
  stale: number[];
  /** Incoming records applied. */
  applied: number[];
}

/**
 * Assembles a grouped booking (one PMS record per room, sharing the group's id) from what is
 * stored and this batch's records of it: each room takes its newest record (a record no newer
 * than the stored room changes nothing); rooms that moved to another group leave. The booking
 * holds one stay, so a record whose room holds nights on another stay than the group's other
 * holding rooms is refused (the group's stay is that of its rooms this batch does not touch, else
 * that of its newest record). The status follows the rooms (in house, coming, departed, else
 * cancelled or no-show), and the total is the sum of the holding rooms' amounts.
 */
export function assembleGroup(input: {
  externalId: string;
  stored: StoredGroup | undefined;
  incoming: Array<{ index: number; booking: CanonicalBooking }>;
  removedKeys: ReadonlySet<string>;
}): GroupAssembly {
  const { stored } = input;
  const storedByKey = new Map((stored?.rooms ?? []).map((r) => [r.key, r]));
  const rooms = new Map(storedByKey);
  for (const key of input.removedKeys) rooms.delete(key);
  let nextPosition = Math.max(0, ...(stored?.rooms ?? []).map((r) => r.position)) + 1;
  const fromBatch = new Map<string, number>();
  const stale: number[] = [];
  const ordered = [...input.incoming].sort((a, b) =>
    (a.booking.source_updated_at ?? '').localeCompare(b.booking.source_updated_at ?? ''),
  );
  for (const { index, booking } of ordered) {
    const room = roomsOf(booking)[0]!;
    const key = room.external_id ?? '#1';
    const before = rooms.get(key);
    const at = booking.source_updated_at;
    // Against what is stored, a tie changes nothing; within the batch, the later record wins a tie.
    const superseded = fromBatch.get(key);
    if (
      before?.updatedAt &&
      at &&
      (superseded === undefined ? at <= before.updatedAt : at < before.updatedAt)
    ) {
      stale.push(index);
      continue;
    }
    if (superseded !== undefined) stale.push(superseded);
    rooms.set(key, {
      key,
      position: before?.position ?? nextPosition++,
      room: { ...room, status: booking.status, check_in: booking.check_in, check_out: booking.check_out },
      updatedAt: at,
    });
    fromBatch.set(key, index);
  }

  // One stay per booking: the stay of the holding rooms this batch leaves alone, else the newest record's.
  const holding = (r: RoomState) => HOLDS(r.room.status);
  const untouched = [...rooms.values()].filter((r) => holding(r) && !fromBatch.has(r.key));
  const touched = [...rooms.values()]
    .filter((r) => holding(r) && fromBatch.has(r.key))
    .sort((a, b) => (later(a.updatedAt, b.updatedAt) ? -1 : 1));
  const anchor = untouched[0] ?? touched[0];
  const rejected: GroupAssembly['rejected'] = [];
  if (anchor) {
    for (const room of touched) {
      if (room.room.check_in === anchor.room.check_in && room.room.check_out === anchor.room.check_out)
        continue;
      const index = fromBatch.get(room.key)!;
      rejected.push({
        index,
        reason:
          `room ${room.key} stays ${room.room.check_in} → ${room.room.check_out}, the group's other rooms ` +
          `${anchor.room.check_in} → ${anchor.room.check_out}: the rooms of one booking share its stay here ` +
          '(replay this record once the whole group has moved)',
      });
      fromBatch.delete(room.key);
      const previous = storedByKey.get(room.key);
      if (previous && !input.removedKeys.has(room.key)) rooms.set(room.key, previous);
      else rooms.delete(room.key);
    }
  }
  const applied = [...fromBatch.values()];
  const list = [...rooms.values()].sort((a, b) => a.position - b.position);
  const newest = input.incoming
    .filter((r) => applied.includes(r.index))
    .sort((a, b) => (later(a.booking.source_updated_at, b.booking.source_updated_at) ? -1 : 1))[0]?.booking;
  // Booking-level fields (guest, notes, currency) come from the newest version, stored or incoming.
  const base =
    newest && (!stored || !later(stored.booking.source_updated_at, newest.source_updated_at))
      ? newest
      : (stored?.booking ?? newest!);
  const holdingRooms = list.filter(holding);
  let status: CanonicalStatus;
  let stay: { check_in: string; check_out: string };
  if (holdingRooms.length > 0) {
    status = PRECEDENCE.find((s) => holdingRooms.some((r) => r.room.status === s))!;
    stay = { check_in: holdingRooms[0]!.room.check_in!, check_out: holdingRooms[0]!.room.check_out! };
  } else {
    status = list.length > 0 && list.every((r) => r.room.status === 'no_show') ? 'no_show' : 'cancelled';
    stay = newest ?? stored?.booking ?? base;
  }
  const counted = holdingRooms.length > 0 ? holdingRooms : list;
  const total = counted.reduce((sum, r) => sum.plus(r.room.amount ?? 0), new Decimal(0)).toFixed();
  const versions = [stored?.booking.source_updated_at ?? null, ...list.map((r) => r.updatedAt)];
  const updatedAt = versions.reduce<string | null>((max, v) => (later(v, max) ? v : max), null);
  const first = list[0]?.room;
  return {
    booking: {
      external_id: input.externalId,
      status,
      check_in: stay.check_in,
      check_out: stay.check_out,
      guest: base.guest,
      room_type_code: first?.room_type_code ?? null,
      room_number: first?.room_number ?? null,
      adults: first?.adults ?? null,
      children: first?.children ?? null,
      total_amount: total,
      currency: base.currency,
      source_updated_at: updatedAt,
      notes: base.notes,
      rate_plan_code: first?.rate_plan_code ?? null,
      rooms: list.map((r) => r.room),
      grouped: true,
    },
    rooms: list,
    rejected,
    stale,
    applied,
  };
}
