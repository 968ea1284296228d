import { DomainError } from '../../app/errors.ts';

export interface OccupancyProblem {
  room_type_id: string;
  max_occupancy: number;
  adults: number;
  children: number;
  /** The field to fix, e.g. `/body/rooms/2` or `/querystring/adults`. */
  pointer: string;
}

/** More guests in one unit than its room type's max_occupancy (adults and children count alike). */
export class OccupancyExceededError extends DomainError {
  constructor(problems: OccupancyProblem[]) {
    const first = problems[0]!;
    super(
      'OCCUPANCY_EXCEEDED',
      422,
      `${first.adults} adult(s) and ${first.children} child(ren) exceed the room type's maximum occupancy of ` +
        `${first.max_occupancy}.`,
      {
        rooms: problems.map(({ pointer: _, ...room }) => room),
        errors: problems.map((p) => ({
          pointer: p.pointer,
          message: `must hold at most ${p.max_occupancy} guests`,
        })),
      },
    );
  }
}

/** Refuses the units that hold more guests than their room type allows, naming each of them. */
export function assertOccupancy(
  rooms: Array<{ roomTypeId: string; adults: number; children: number; pointer: string }>,
  maxOccupancy: (roomTypeId: string) => number | undefined,
): void {
  const problems: OccupancyProblem[] = [];
  for (const room of rooms) {
    const max = maxOccupancy(room.roomTypeId);
    if (max !== undefined && room.adults + room.children > max) {
      problems.push({
        room_type_id: room.roomTypeId,
        max_occupancy: max,
        adults: room.adults,
        children: room.children,
        pointer: room.pointer,
      });
    }
  }
  if (problems.length > 0) throw new OccupancyExceededError(problems);
}
