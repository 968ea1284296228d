import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, nightsOf } from '../../src/modules/inventory/inventory.dates.ts';
import { releaseExpiredHolds } from '../../src/modules/inventory/inventory.holds.ts';
import { applyImportedChanges } from '../../src/modules/inventory/inventory.service.ts';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import {
  createDefaultRatePlan,
  createProperty,
  createRoomType,
  userWithToken,
} from '../helpers/factories.ts';
import { inventoryProblems } from './invariants.ts';
import { insertImportedReservation } from './world.ts';

/**
 * Random sequences of book / cancel / modify / hold / confirm / release / expire / capacity
 * change / room-type capacity change / PMS import and its cancellation run against the real API
 * (imports through the inventory module's applyImportedChanges, as the sync does). A small model predicts every answer (so no refusal is
 * spurious and no sale is wrong), and after each sequence every night must satisfy: booked =
 * the units of the reservations holding it, held = the active holds, the ledger sums to the
 * calendar, and invariant 2 holds.
 */
let t: TestContext;
let token: string;
beforeAll(async () => {
  t = await createTestContext();
  token = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
});
afterAll(() => t.close());

const FIRST = '2031-05-01';
const DAYS = 8;
const CAPACITY = [3, 2];

const stayArb = fc.record({
  type: fc.integer({ min: 0, max: 1 }),
  start: fc.integer({ min: 0, max: DAYS - 2 }),
  length: fc.integer({ min: 1, max: 3 }),
});

const commandArb = fc.oneof(
  fc.record({ kind: fc.constant('book' as const), stay: stayArb, rooms: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('modify' as const), pick: fc.nat(), stay: stayArb }),
  fc.record({ kind: fc.constant('hold' as const), stay: stayArb, units: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ kind: fc.constant('confirm' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('expire' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('capacity' as const),
    stay: stayArb,
    total: fc.integer({ min: 0, max: 4 }),
    stopSell: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('retotal' as const),
    type: fc.integer({ min: 0, max: 1 }),
    total: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({ kind: fc.constant('import' as const), stay: stayArb, units: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('unimport' as const), pick: fc.nat() }),
);
type Command = typeof commandArb extends fc.Arbitrary<infer C> ? C : never;

interface ModelNight {
  total: number;
  booked: number;
  held: number;
  overbooked: number;
  stopSell: boolean;
}

interface ModelStay {
  type: number;
  checkIn: string;
  checkOut: string;
}

class Model {
  nights = new Map<string, ModelNight>();
  reservations: Array<{
    id: string;
    type: number;
    checkIn: string;
    checkOut: string;
    rooms: number;
    active: boolean;
  }> = [];
  imports: Array<ModelStay & { id: string; units: number; active: boolean }> = [];
  /** Each room type's own total_units (what a PATCH compares with). */
  roomTypeTotals = [...CAPACITY];
  holds: Array<{
    id: string;
    type: number;
    checkIn: string;
    checkOut: string;
    units: number;
    active: boolean;
    confirmed: boolean;
  }> = [];

  constructor() {
    for (const [type, total] of CAPACITY.entries()) {
      for (let d = 0; d < DAYS; d++)
        this.nights.set(`${type}|${addDays(FIRST, d)}`, {
          total,
          booked: 0,
          held: 0,
          overbooked: 0,
          stopSell: false,
        });
    }
  }

  private each(type: number, checkIn: string, checkOut: string) {
    return nightsOf(checkIn, checkOut).map((date) => this.nights.get(`${type}|${date}`));
  }

  /** Would adding `units` to these nights be a legal direct sale? */
  fits(
    type: number,
    checkIn: string,
    checkOut: string,
    units: number,
    releasing?: { type: number; checkIn: string; checkOut: string; units: number },
  ) {
    return nightsOf(checkIn, checkOut).every((date) => {
      const night = this.nights.get(`${type}|${date}`);
      if (!night) return false;
      const freed =
        releasing && releasing.type === type && releasing.checkIn <= date && releasing.checkOut > date
          ? releasing.units
          : 0;
      if (freed >= units) return true;
      // Imported excess on a night stops direct sales there.
      return (
        !night.stopSell && night.overbooked === 0 && night.booked - freed + night.held + units <= night.total
      );
    });
  }

  /**
   * One direct change (a modification releases and takes at once): every delta first, then
   * freed capacity absorbs imported excess on the nights it touched, as the server does.
   */
  move(
    ...deltas: Array<
      [type: number, checkIn: string, checkOut: string, field: 'booked' | 'held', units: number]
    >
  ) {
    const touched = deltas.flatMap(([type, checkIn, checkOut, field, units]) => {
      const nights = this.each(type, checkIn, checkOut);
      for (const night of nights) night![field] += units;
      return nights;
    });
    this.absorb(touched);
  }

  /** An import never refuses: what does not fit goes to overbooked. */
  take(stay: ModelStay, units: number) {
    for (const night of this.each(stay.type, stay.checkIn, stay.checkOut)) {
      const fits = Math.min(units, Math.max(0, night!.total - night!.booked - night!.held));
      night!.booked += fits;
      night!.overbooked += units - fits;
    }
  }

  /** An import's release takes overbooked units back first. */
  release(stay: ModelStay, units: number) {
    const nights = this.each(stay.type, stay.checkIn, stay.checkOut);
    for (const night of nights) {
      const fromOverbooked = Math.min(units, night!.overbooked);
      night!.overbooked -= fromOverbooked;
      night!.booked -= Math.min(units - fromOverbooked, night!.booked);
    }
    this.absorb(nights);
  }

  absorb(nights: Array<ModelNight | undefined>) {
    for (const night of nights) {
      const moved = Math.min(night!.overbooked, Math.max(0, night!.total - night!.booked - night!.held));
      night!.overbooked -= moved;
      night!.booked += moved;
    }
  }

  nightsOfType(type: number) {
    return [...this.nights.entries()].filter(([key]) => key.startsWith(`${type}|`)).map(([, night]) => night);
  }
}

const stayDates = (stay: { start: number; length: number }) => {
  const checkIn = addDays(FIRST, stay.start);
  return { checkIn, checkOut: addDays(checkIn, Math.min(stay.length, DAYS - stay.start)) };
};

async function runSequence(commands: Command[]) {
  const property = await createProperty(t.db);
  const roomTypes = await Promise.all(
    CAPACITY.map((units) => createRoomType(t.db, property.id, { totalUnits: units })),
  );
  const preload = await call(t.app, 'POST', '/api/inventory/preload/', {
    token,
    body: { property_id: property.id, start_date: FIRST, end_date: addDays(FIRST, DAYS - 1) },
  });
  expect(preload.status).toBe(200);
  // Rooms are booked without a rate plan: the property's default plan prices them.
  await createDefaultRatePlan(t.db, property.id, { start: FIRST, end: addDays(FIRST, DAYS + 30) });
  const model = new Model();
  const post = (url: string, body?: unknown) =>
    call(t.app, 'POST', url, { token, ...(body !== undefined && { body }) });
  const reservation = (type: number, checkIn: string, checkOut: string, rooms: number, holdId?: string) => ({
    property_id: property.id,
    check_in: checkIn,
    check_out: checkOut,
    guest: { full_name: 'Property Test' },
    rooms: Array.from({ length: rooms }, () => ({ room_type_id: roomTypes[type]!.id })),
    ...(holdId && { hold_id: holdId }),
  });

  for (const command of commands) {
    const label = JSON.stringify(command);
    switch (command.kind) {
      case 'book': {
        const { checkIn, checkOut } = stayDates(command.stay);
        const expected = model.fits(command.stay.type, checkIn, checkOut, command.rooms);
        const res = await post(
          '/api/reservations/create/',
          reservation(command.stay.type, checkIn, checkOut, command.rooms),
        );
        expect(res.status, label).toBe(expected ? 201 : 409);
        if (expected) {
          model.move([command.stay.type, checkIn, checkOut, 'booked', command.rooms]);
          model.reservations.push({
            id: res.body.id,
            type: command.stay.type,
            checkIn,
            checkOut,
            rooms: command.rooms,
            active: true,
          });
        } else expect(res.body.code).toBe('INVENTORY_UNAVAILABLE');
        break;
      }
      case 'cancel': {
        const target = model.reservations[command.pick % Math.max(1, model.reservations.length)];
        if (!target) break;
        const res = await post(`/api/reservations/${target.id}/cancel/`);
        expect(res.status, label).toBe(200);
        if (target.active)
          model.move([target.type, target.checkIn, target.checkOut, 'booked', -target.rooms]);
        target.active = false;
        break;
      }
      case 'modify': {
        const target = model.reservations[command.pick % Math.max(1, model.reservations.length)];
        if (!target) break;
        const { checkIn, checkOut } = stayDates(command.stay);
        const res = await post(`/api/reservations/${target.id}/modify/`, {
          check_in: checkIn,
          check_out: checkOut,
          rooms: Array.from({ length: target.rooms }, () => ({
            room_type_id: roomTypes[command.stay.type]!.id,
          })),
        });
        if (!target.active) {
          expect(res.status, label).toBe(409);
          expect(res.body.code).toBe('INVALID_STATE_TRANSITION');
          break;
        }
        const expected = model.fits(command.stay.type, checkIn, checkOut, target.rooms, {
          ...target,
          units: target.rooms,
        });
        expect(res.status, label).toBe(expected ? 200 : 409);
        if (expected) {
          model.move(
            [target.type, target.checkIn, target.checkOut, 'booked', -target.rooms],
            [command.stay.type, checkIn, checkOut, 'booked', target.rooms],
          );
          Object.assign(target, { type: command.stay.type, checkIn, checkOut });
        }
        break;
      }
      case 'hold': {
        const { checkIn, checkOut } = stayDates(command.stay);
        const expected = model.fits(command.stay.type, checkIn, checkOut, command.units);
        const res = await post('/api/inventory/holds/', {
          room_type_id: roomTypes[command.stay.type]!.id,
          check_in: checkIn,
          check_out: checkOut,
          units: command.units,
        });
        expect(res.status, label).toBe(expected ? 201 : 409);
        if (expected) {
          model.move([command.stay.type, checkIn, checkOut, 'held', command.units]);
          model.holds.push({
            id: res.body.id,
            type: command.stay.type,
            checkIn,
            checkOut,
            units: command.units,
            active: true,
            confirmed: false,
          });
        }
        break;
      }
      case 'confirm': {
        const hold = model.holds[command.pick % Math.max(1, model.holds.length)];
        if (!hold) break;
        const res = await post(
          '/api/reservations/create/',
          reservation(hold.type, hold.checkIn, hold.checkOut, hold.units, hold.id),
        );
        expect(res.status, label).toBe(hold.active ? 201 : 409);
        if (hold.active) {
          model.move(
            [hold.type, hold.checkIn, hold.checkOut, 'held', -hold.units],
            [hold.type, hold.checkIn, hold.checkOut, 'booked', hold.units],
          );
          model.reservations.push({
            id: res.body.id,
            type: hold.type,
            checkIn: hold.checkIn,
            checkOut: hold.checkOut,
            rooms: hold.units,
            active: true,
          });
          hold.active = false;
          hold.confirmed = true;
        }
        break;
      }
      case 'release':
      case 'expire': {
        const hold = model.holds[command.pick % Math.max(1, model.holds.length)];
        if (!hold) break;
        if (command.kind === 'release') {
          const res = await call(t.app, 'DELETE', `/api/inventory/holds/${hold.id}/`, { token });
          expect(res.status, label).toBe(hold.confirmed ? 409 : 200);
        } else {
          await t.db
            .updateTable('inventory_hold')
            .set({ expires_at: new Date(Date.now() - 1000) })
            .where('id', '=', hold.id)
            .execute();
          await releaseExpiredHolds(t.db, { policy: 'wait', timeoutMs: 5000 });
        }
        if (hold.active) model.move([hold.type, hold.checkIn, hold.checkOut, 'held', -hold.units]);
        hold.active = false;
        break;
      }
      case 'capacity': {
        const { checkIn, checkOut } = stayDates(command.stay);
        const nights = nightsOf(checkIn, checkOut).map(
          (date) => model.nights.get(`${command.stay.type}|${date}`)!,
        );
        const expected = nights.every((night) => night.booked + night.held <= command.total);
        const res = await post('/api/inventory/adjust/', {
          room_type_id: roomTypes[command.stay.type]!.id,
          start_date: checkIn,
          end_date: addDays(checkOut, -1),
          total_units: command.total,
          stop_sell: command.stopSell,
        });
        expect(res.status, label).toBe(expected ? 200 : 409);
        if (expected) {
          for (const night of nights)
            Object.assign(night, { total: command.total, stopSell: command.stopSell });
          model.absorb(nights);
        } else expect(res.body.code).toBe('INVENTORY_CONFLICT');
        break;
      }
      case 'retotal': {
        // Only a new total moves the calendar; the same total leaves nights adjusted since alone.
        const moves = command.total !== model.roomTypeTotals[command.type];
        const nights = model.nightsOfType(command.type);
        const expected = !moves || nights.every((night) => night.booked + night.held <= command.total);
        const res = await call(
          t.app,
          'PATCH',
          `/api/properties/${property.id}/room-types/${roomTypes[command.type]!.id}/`,
          { token, body: { total_units: command.total } },
        );
        expect(res.status, label).toBe(expected ? 200 : 409);
        if (!expected) expect(res.body.code).toBe('INVENTORY_CONFLICT');
        else if (moves) {
          for (const night of nights) night.total = command.total;
          model.absorb(nights);
          model.roomTypeTotals[command.type] = command.total;
        }
        break;
      }
      case 'import':
      case 'unimport': {
        const imported =
          command.kind === 'import'
            ? {
                ...stayDates(command.stay),
                type: command.stay.type,
                units: command.units,
                id: '',
                active: true,
              }
            : model.imports[command.pick % Math.max(1, model.imports.length)];
        if (!imported || (command.kind === 'unimport' && !imported.active)) break;
        const stay = {
          roomTypeId: roomTypes[imported.type]!.id,
          checkIn: imported.checkIn,
          checkOut: imported.checkOut,
          units: imported.units,
        };
        if (command.kind === 'import') {
          imported.id = await insertImportedReservation(t.db, property.id, stay, crypto.randomUUID());
          model.imports.push(imported);
        } else {
          await t.db
            .updateTable('reservation')
            .set({ status: 'cancelled' })
            .where('id', '=', imported.id)
            .execute();
          imported.active = false;
        }
        await t.db.transaction().execute((tx) =>
          applyImportedChanges(tx, {
            propertyId: property.id,
            changes: [
              {
                reservationId: imported.id,
                release: command.kind === 'unimport' ? [stay] : [],
                take: command.kind === 'import' ? [stay] : [],
              },
            ],
            reason: 'pms.import',
            actorId: null,
          }),
        );
        if (command.kind === 'import') model.take(imported, imported.units);
        else model.release(imported, imported.units);
        break;
      }
    }
  }
  expect(await inventoryProblems(t.db, property.id)).toEqual([]);
  const calendar = await call(
    t.app,
    'GET',
    `/api/inventory/calendar/?property_id=${property.id}&start=${FIRST}&end=${addDays(FIRST, DAYS - 1)}`,
    { token },
  );
  for (const night of calendar.body.results) {
    const type = roomTypes.findIndex((rt) => rt.id === night.room_type_id);
    const modelled = model.nights.get(`${type}|${night.date}`)!;
    expect(
      [night.total_units, night.booked_units, night.held_units, night.overbooked_units, night.stop_sell],
      `${type} ${night.date}`,
    ).toEqual([modelled.total, modelled.booked, modelled.held, modelled.overbooked, modelled.stopSell]);
  }
}

describe('inventory under random operation sequences', () => {
  it('keeps the calendar equal to the reservations, the ledger and the model; invariant 2 always holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 10, maxLength: 40, size: 'max' }), runSequence),
      {
        numRuns: 40,
        interruptAfterTimeLimit: 120_000,
      },
    );
  }, 180_000);
});
