import { NotFoundError } from '../../app/errors.ts';
import type { Tx } from '../../db/database.ts';
import type { ReservationStatus } from '../../db/schema.ts';
import { buildEnvelope, type CloudEvent } from '../events/outbox.ts';
import * as rooms from '../properties/room.repository.ts';
import { toRoomView } from '../properties/room.service.ts';
import { RoomUnavailableError } from './reservation.errors.ts';
import type { ReservationRoomRow, ReservationRow } from './reservation.repository.ts';
import * as repo from './reservation.repository.ts';
import * as roomRepo from './reservation.rooms.repository.ts';

/**
 * Which physical room a stay may hold. The database decides in the end (the exclusion constraint
 * reservation_room_one_stay_per_room_night: one holding stay per room and night); these checks run
 * first, under the room's row lock, to refuse with a message that names the other stay.
 */

const EXCLUSION_VIOLATION = '23P01';
const ONE_STAY_PER_ROOM_NIGHT = 'reservation_room_one_stay_per_room_night';

/** The exclusion constraint's refusal as ROOM_UNAVAILABLE; anything else goes on as it was. */
export function roomClash(error: unknown): never {
  const pg = error as { code?: string; constraint?: string };
  if (pg?.code === EXCLUSION_VIOLATION && pg.constraint === ONE_STAY_PER_ROOM_NIGHT) {
    throw new RoomUnavailableError(
      'The room is held by another stay on some of these nights (one room holds one stay a night).',
    );
  }
  throw error;
}

/** Out-of-order nights before `from` are over; a checked-in stay is only moved for what is left of it. */
function fromDate(status: ReservationStatus, checkIn: string, businessDate: string): string {
  return status === 'checked_in' && businessDate > checkIn ? businessDate : checkIn;
}

/** Why a room cannot hold a stay over [checkIn, checkOut), or undefined when it can (room locked by the caller). */
export async function whyRoomUnfit(
  tx: Tx,
  input: {
    roomId: string;
    number: string;
    reservationId: string;
    status: ReservationStatus;
    checkIn: string;
    checkOut: string;
    businessDate: string;
  },
): Promise<string | undefined> {
  const [clash] = await rooms.holdingStaysOfRooms(tx, {
    roomIds: [input.roomId],
    start: input.checkIn,
    end: input.checkOut,
    exceptReservationId: input.reservationId,
  });
  if (clash) {
    return (
      `Room ${input.number} is assigned to reservation ${clash.confirmation_code} ` +
      `(${clash.check_in} to ${clash.check_out}) on overlapping nights.`
    );
  }
  const from = fromDate(input.status, input.checkIn, input.businessDate);
  const [block] = await rooms.overlappingOutOfOrder(tx, [input.roomId], from, input.checkOut);
  if (block) {
    return `Room ${input.number} is out of order from ${block.start_date} to ${block.end_date}.`;
  }
  return undefined;
}

/** The business date of the reservation's hotel (its "today"). */
export async function hotelToday(tx: Tx, propertyId: string): Promise<string> {
  const date = await rooms.businessDate(tx, propertyId);
  if (!date) throw new NotFoundError('Property', propertyId);
  return date;
}

/**
 * Before a reservation's dates change (modify): locks its assigned rooms and unassigns each one
 * that would no longer fit the new stay, so the booking change goes through and the desk assigns
 * another room. Returns the rooms it unassigned.
 */
export async function keepFittingRooms(
  tx: Tx,
  row: ReservationRow,
  assigned: Array<Pick<ReservationRoomRow, 'id' | 'room_id'>>,
  checkIn: string,
  checkOut: string,
): Promise<string[]> {
  const roomIds = [...new Set(assigned.flatMap((room) => (room.room_id ? [room.room_id] : [])))];
  if (roomIds.length === 0) return [];
  const locked = await roomRepo.lockRooms(tx, roomIds);
  const today = await hotelToday(tx, row.property_id);
  const dropped: string[] = [];
  for (const room of locked) {
    const why = await whyRoomUnfit(tx, {
      roomId: room.id,
      number: room.number,
      reservationId: row.id,
      status: row.status,
      checkIn,
      checkOut,
      businessDate: today,
    });
    if (why) dropped.push(room.id);
  }
  for (const line of assigned) {
    if (line.room_id && dropped.includes(line.room_id)) await repo.setRoomAssignment(tx, line.id, null);
  }
  return dropped;
}

/**
 * Before a stay is extended: locks its assigned rooms and refuses (ROOM_UNAVAILABLE) when one of
 * them is held by another stay or out of order on an added night. A guest in the house keeps the
 * room or the stay stays as it was.
 */
export async function assertRoomsStayFree(
  tx: Tx,
  row: ReservationRow,
  assigned: Array<Pick<ReservationRoomRow, 'room_id'>>,
  checkOut: string,
): Promise<void> {
  const roomIds = [...new Set(assigned.flatMap((room) => (room.room_id ? [room.room_id] : [])))];
  if (roomIds.length === 0) return;
  const today = await hotelToday(tx, row.property_id);
  for (const room of await roomRepo.lockRooms(tx, roomIds)) {
    const why = await whyRoomUnfit(tx, {
      roomId: room.id,
      number: room.number,
      reservationId: row.id,
      status: row.status,
      checkIn: row.check_out,
      checkOut,
      businessDate: today,
    });
    if (why) throw new RoomUnavailableError(`${why} The stay cannot be extended in its room.`);
  }
}

export type CheckInAssignment = 'auto' | 'none';

/**
 * At check-in, gives every room of the reservation without one a free clean room of its type
 * (inspected first). Refused (ROOM_UNAVAILABLE, nothing changes) when a type has rooms but none
 * fits; a type with no rooms recorded here is checked in without one, as is `none`. Returns the
 * rooms it assigned.
 */
export async function assignAtCheckIn(
  tx: Tx,
  row: ReservationRow,
  lines: Array<Pick<ReservationRoomRow, 'id' | 'room_id' | 'room_type_id'>>,
  mode: CheckInAssignment,
): Promise<string[]> {
  if (mode === 'none') return [];
  const unassigned = lines.filter((line) => line.room_id === null);
  if (unassigned.length === 0) return [];
  const today = await hotelToday(tx, row.property_id);
  const taken = lines.flatMap((line) => (line.room_id ? [line.room_id] : []));
  const assigned: string[] = [];
  for (const line of unassigned) {
    const skipped: string[] = [];
    let room: roomRepo.LockedRoom | undefined;
    // The pick's snapshot may predate an assignment that committed while it waited; the fresh
    // check after the lock sees it, and the next room is tried (a handful at most).
    for (let attempt = 0; attempt < 10 && !room; attempt++) {
      const candidate = await roomRepo.lockFreeCleanRoom(tx, {
        propertyId: row.property_id,
        roomTypeId: line.room_type_id,
        reservationId: row.id,
        checkIn: row.check_in,
        checkOut: row.check_out,
        from: fromDate('checked_in', row.check_in, today),
        exclude: [...taken, ...skipped],
      });
      if (!candidate) break;
      const why = await whyRoomUnfit(tx, {
        roomId: candidate.id,
        number: candidate.number,
        reservationId: row.id,
        status: 'checked_in',
        checkIn: row.check_in,
        checkOut: row.check_out,
        businessDate: today,
      });
      if (why || (await roomRepo.occupiedBy(tx, candidate.id, row.id))) skipped.push(candidate.id);
      else room = candidate;
    }
    if (!room) {
      if ((await roomRepo.countRoomsOfType(tx, line.room_type_id)) === 0) continue;
      throw new RoomUnavailableError(
        `No clean, vacant room of room type ${line.room_type_id} is free for ${row.check_in} to ${row.check_out}. ` +
          'Assign a room first (assign-room), or check in with {"assign": "none"}.',
      );
    }
    await repo.setRoomAssignment(tx, line.id, room.id).catch(roomClash);
    taken.push(room.id);
    assigned.push(room.id);
  }
  return assigned;
}

/**
 * What a lifecycle action does to the reservation's rooms before its status changes: check-in
 * assigns rooms (see assignAtCheckIn), check-out leaves them dirty. True when assignments changed.
 */
export async function roomsBeforeTransition(
  tx: Tx,
  row: ReservationRow,
  action: string,
  lines: Array<Pick<ReservationRoomRow, 'id' | 'room_id' | 'room_type_id'>>,
  assign: CheckInAssignment = 'auto',
): Promise<boolean> {
  if (action === 'check-in') return (await assignAtCheckIn(tx, row, lines, assign)).length > 0;
  if (action === 'check-out')
    await markDirty(
      tx,
      lines.flatMap((line) => (line.room_id ? [line.room_id] : [])),
    );
  return false;
}

/** `pms.room.updated` for the rooms a check-in (now occupied) or check-out (vacant, dirty) changed. */
export function roomEventsOfTransition(
  tx: Tx,
  row: ReservationRow,
  action: string,
  lines: Array<Pick<ReservationRoomRow, 'room_id'>>,
): Promise<CloudEvent[]> {
  if (action !== 'check-in' && action !== 'check-out') return Promise.resolve([]);
  const roomIds = lines.flatMap((line) => (line.room_id ? [line.room_id] : []));
  return roomEvents(tx, row.property_id, roomIds, action === 'check-in' ? 'checked_in' : 'checked_out', {
    reservation_id: row.id,
  });
}

/** Rooms a guest has left: housekeeping has to clean them. */
export function markDirty(tx: Tx, roomIds: string[]): Promise<void> {
  return rooms.setHousekeeping(tx, [...new Set(roomIds)], 'dirty');
}

/** `pms.room.updated` for rooms whose state changed, with each room as GET …/rooms/{id}/ shows it now. */
export async function roomEvents(
  tx: Tx,
  propertyId: string,
  roomIds: string[],
  change: string,
  extra: Record<string, unknown> = {},
): Promise<CloudEvent[]> {
  const unique = [...new Set(roomIds)];
  if (unique.length === 0) return [];
  const states = await rooms.listRoomStates(tx, propertyId, { roomIds: unique, limit: unique.length });
  return states.map((state) =>
    buildEnvelope('pms.room.updated', propertyId, { change, room: toRoomView(state), ...extra }),
  );
}
