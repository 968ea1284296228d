import { Decimal } from 'decimal.js';
import { NotFoundError, ValidationError } from '../../app/errors.ts';
import type { Db, Tx } from '../../db/database.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import type { Actor } from '../auth/auth.context.ts';
import { buildEnvelope } from '../events/outbox.ts';
import { nightCount, nightsOf } from '../inventory/inventory.dates.ts';
import { InventoryUnavailableError, type NightReason } from '../inventory/inventory.errors.ts';
import {
  inInventoryTransaction,
  type LockSettings,
  lockStays,
  writeLockedNights,
} from '../inventory/inventory.locking.ts';
import * as inventoryRepo from '../inventory/inventory.repository.ts';
import { MAX_STAY_NIGHTS, rateReasons } from '../inventory/inventory.service.ts';
import { lockSalesState } from '../properties/business-date.repository.ts';
import { PropertyInactiveError } from '../properties/business-date.ts';
import { quoteStay } from '../rates/rates.service.ts';
import { auditFields, staysOf } from './reservation.booking.ts';
import {
  ExternalReservationError,
  InvalidStateTransitionError,
  RestrictionViolatedError,
} from './reservation.errors.ts';
import { RatePlanRequiredError } from './reservation.front-desk.ts';
import { loadView, loadVisible } from './reservation.read.ts';
import * as repo from './reservation.repository.ts';
import { assertRoomsStayFree, roomClash } from './reservation.rooms.ts';
import * as stayRepo from './reservation.stay.repository.ts';
import type { ReservationView } from './reservation.view.ts';

type WriteContext = RequestContext & { actor: Actor };
type RoomView = ReservationView['rooms'][number];

export interface GuestDetailsInput {
  guest?: {
    first_name?: string | null;
    last_name?: string | null;
    full_name?: string | null;
    email?: string | null;
    phone?: string | null;
  };
  notes?: string | null;
}

/** Rules of the whole stay that an extension still answers to; arrival-day rules are past. */
const STAY_RULES: NightReason[] = ['MIN_STAY', 'MAX_STAY'];

/**
 * The added nights' prices of each room, from its rate plan as a booking would price them (its
 * occupancy included), refused when the rules forbid the longer stay: stop-sell and no rate on an
 * added night, closed to departure on the new check-out, and minimum / maximum stay of the whole
 * stay. Closed to arrival is not asked: the guest has arrived. A complimentary room costs 0.00 a
 * night; a room booked without a plan before plans were required is priced on the property's
 * default plan, as a booking without one is (RATE_PLAN_REQUIRED when there is none).
 */
async function priceAddedNights(
  tx: Tx,
  row: repo.ReservationRow,
  rooms: RoomView[],
  checkOut: string,
  defaultRatePlanId: string | null,
): Promise<Array<Array<{ date: string; amount: string }>>> {
  const violations: ConstructorParameters<typeof RestrictionViolatedError>[0] = [];
  const priced: Array<Array<{ date: string; amount: string }>> = [];
  const quotes = new Map<string, ReturnType<typeof quoteStay>>();
  const unpriced = rooms.flatMap((room, index) =>
    !room.rate_plan_id && !room.complimentary && !defaultRatePlanId ? [index] : [],
  );
  if (unpriced.length > 0) throw new RatePlanRequiredError(unpriced);
  for (const room of rooms) {
    if (room.complimentary) {
      priced.push(nightsOf(row.check_out, checkOut).map((date) => ({ date, amount: '0.00' })));
      continue;
    }
    const ratePlanId = (room.rate_plan_id ?? defaultRatePlanId)!;
    const key = `${ratePlanId}|${room.room_type_id}|${room.adults}|${room.children}`;
    if (!quotes.has(key)) {
      quotes.set(
        key,
        quoteStay(tx, {
          propertyId: row.property_id,
          ratePlanId,
          roomTypeId: room.room_type_id,
          checkIn: row.check_in,
          checkOut,
          adults: room.adults,
          children: room.children,
        }),
      );
    }
    const quote = await quotes.get(key)!;
    rateReasons(quote).forEach((reasons, i) => {
      const night = quote.nights[i]!;
      const relevant: NightReason[] =
        night.date >= row.check_out ? reasons.filter((r) => r !== 'CLOSED_TO_ARRIVAL') : [];
      if (i === 0) relevant.push(...reasons.filter((r) => STAY_RULES.includes(r)));
      if (
        relevant.length > 0 &&
        !violations.some((v) => v.rate_plan_id === ratePlanId && v.date === night.date)
      ) {
        violations.push({
          room_type_id: room.room_type_id,
          rate_plan_id: ratePlanId,
          date: night.date,
          reasons: relevant,
        });
      }
    });
    priced.push(
      quote.nights
        .filter((night) => night.date >= row.check_out)
        .map((night) => ({ date: night.date, amount: new Decimal(night.amount ?? 0).toFixed(2) })),
    );
  }
  if (violations.length > 0) throw new RestrictionViolatedError(violations);
  return priced;
}

const sum = (nights: Array<{ amount: string }>) =>
  nights.reduce((total, night) => total.plus(night.amount), new Decimal(0));

/** Departure changes and guest details of existing reservations (issue #23, "Stays"). */
export function createStayChanges(db: Db, lock: LockSettings) {
  return {
    /**
     * Extends or shortens a checked-in stay to a new check-out. Added nights are taken and given
     * nights released under the calendar's locks in (room_type_id, date) order, as a booking's;
     * added nights are priced from the rate plan, and the assigned rooms must be free for them.
     * The same check-out again changes nothing.
     */
    async changeDeparture(
      ctx: WriteContext,
      id: string,
      input: { check_out: string },
    ): Promise<ReservationView> {
      const current = await loadVisible(db, ctx.actor, id);
      const nights = nightCount(current.check_in, input.check_out);
      if (!(nights >= 1)) {
        throw new ValidationError(`check_out must be after the stay's check-in (${current.check_in}).`, [
          { pointer: '/body/check_out', message: `must be after ${current.check_in}` },
        ]);
      }
      if (nights > MAX_STAY_NIGHTS) {
        throw new ValidationError(`A stay can be at most ${MAX_STAY_NIGHTS} nights.`, [
          {
            pointer: '/body/check_out',
            message: `is more than ${MAX_STAY_NIGHTS} nights after ${current.check_in}`,
          },
        ]);
      }
      return inInventoryTransaction(db, lock, async (tx, mode) => {
        // The property first, as a booking takes it (the night audit holds it while it rolls the date).
        const sales = await lockSalesState(tx, current.property_id);
        const row = await repo.lockReservation(tx, id);
        if (!row || !sales) throw new NotFoundError('Reservation', id);
        if (row.status !== 'checked_in') {
          throw new InvalidStateTransitionError(
            id,
            row.status,
            'have its departure changed (change the dates with modify/)',
          );
        }
        if (row.source !== 'direct') throw new ExternalReservationError(id, row.source);
        const before = await loadView(tx, row);
        const checkOut = input.check_out;
        if (checkOut === row.check_out) return before;
        const today = sales.business_date;
        // Added nights are a sale: an inactive hotel makes none (shortening gives nights back).
        if (checkOut > row.check_out && sales.status !== 'active') throw new PropertyInactiveError(sales);
        if (checkOut < today) {
          throw new ValidationError(
            `check_out ${checkOut} is before the hotel's business date ${today}: nights that are over cannot be given back.`,
            [{ pointer: '/body/check_out', message: `must not be before the business date ${today}` }],
          );
        }
        const extending = checkOut > row.check_out;
        let newNights: Array<Array<{ date: string; amount: string }>>;
        let delta = new Decimal(0);
        if (extending) {
          await assertRoomsStayFree(tx, row, before.rooms, checkOut);
          const added = await priceAddedNights(tx, row, before.rooms, checkOut, sales.default_rate_plan_id);
          newNights = before.rooms.map((room, n) => [...room.nightly_prices, ...added[n]!]);
          for (const nightsOfRoom of added) delta = delta.plus(sum(nightsOfRoom));
        } else {
          newNights = before.rooms.map((room) =>
            room.nightly_prices.filter((night) => night.date < checkOut),
          );
          before.rooms.forEach((room) => {
            delta = delta.minus(sum(room.nightly_prices.filter((night) => night.date >= checkOut)));
          });
        }
        for (const [n, room] of before.rooms.entries()) {
          await stayRepo.setRoomNights(tx, room.id, {
            nightly_prices: newNights[n]!,
            amount: sum(newNights[n]!).toFixed(2),
          });
        }
        const updated = await stayRepo
          .setDeparture(tx, id, {
            check_out: checkOut,
            total_amount: new Decimal(row.total_amount).plus(delta).toFixed(2),
          })
          .catch(roomClash);
        const after = await loadView(tx, updated);
        const change = extending ? 'extended' : 'shortened';
        await recordAudit(tx, ctx, {
          action: `reservation.${change}`,
          entityType: 'reservation',
          entityId: id,
          propertyId: row.property_id,
          before: auditFields(before),
          after: auditFields(after),
        });
        const event = buildEnvelope('pms.reservation.modified', row.property_id, {
          reservation: after,
          change,
          previous: auditFields(before),
        });
        // The nights between the two departures, all rooms of the reservation.
        const between = staysOf(
          before.rooms,
          extending ? row.check_out : checkOut,
          extending ? checkOut : row.check_out,
        );
        const locked = await lockStays(tx, row.property_id, between, mode);
        const blocked = locked.applyDirect(extending ? { take: between } : { release: between }, {
          reason: `reservation.${change}`,
          reservationId: id,
          actorId: ctx.actor.id,
        });
        if (blocked.length > 0) throw new InventoryUnavailableError(blocked);
        await writeLockedNights(tx, locked, `reservation.${change}`, [event]);
        return after;
      });
    },

    /**
     * Corrects the guest's name, e-mail or phone and the notes of a reservation, whatever its
     * status; imported reservations change in their PMS. Sending what is already stored changes nothing.
     */
    async updateDetails(ctx: WriteContext, id: string, input: GuestDetailsInput): Promise<ReservationView> {
      if (input.guest === undefined && input.notes === undefined) {
        throw new ValidationError('Give guest or notes to change.');
      }
      await loadVisible(db, ctx.actor, id);
      return db.transaction().execute(async (tx) => {
        const row = await repo.lockReservation(tx, id);
        if (!row) throw new NotFoundError('Reservation', id);
        if (row.source !== 'direct') throw new ExternalReservationError(id, row.source);
        const before = await loadView(tx, row);
        const guest = input.guest ? mergeGuest(before.guest, input.guest) : undefined;
        const notes = input.notes === undefined ? undefined : input.notes?.trim() || null;
        const guestChanged =
          guest !== undefined &&
          (['first_name', 'last_name', 'full_name', 'email', 'phone'] as const).some(
            (field) => guest[field] !== (before.guest?.[field] ?? null),
          );
        const notesChanged = notes !== undefined && notes !== before.notes;
        if (!guestChanged && !notesChanged) return before;

        let guestId = row.guest_id;
        if (guestChanged) {
          if (guestId) await stayRepo.updateGuest(tx, guestId, guest!);
          else
            guestId = (
              await stayRepo.insertGuest(tx, {
                id: crypto.randomUUID(),
                property_id: row.property_id,
                ...guest!,
              })
            ).id;
        }
        const updated = await stayRepo.setDetails(tx, id, {
          ...(notesChanged && { notes }),
          ...(guestId !== row.guest_id && guestId !== null && { guest_id: guestId }),
        });
        const after = await loadView(tx, updated);
        const details = (view: ReservationView) => ({ guest: view.guest, notes: view.notes });
        const audited = (view: ReservationView) => ({ ...view.guest, id: undefined, notes: view.notes });
        await recordAudit(tx, ctx, {
          action: 'reservation.details_updated',
          entityType: 'reservation',
          entityId: id,
          propertyId: row.property_id,
          before: audited(before),
          after: audited(after),
        });
        await inventoryRepo.insertEvents(tx, [
          buildEnvelope('pms.reservation.modified', row.property_id, {
            reservation: after,
            change: 'details_updated',
            previous: details(before),
          }),
        ]);
        return after;
      });
    },
  };
}

type GuestFields = Pick<repo.GuestRow, 'first_name' | 'last_name' | 'full_name' | 'email' | 'phone'>;

/**
 * The guest after an edit: a field sent replaces it (null or blank clears it); a new first or last
 * name without a full name gives a full name made of them. A guest needs a name.
 */
function mergeGuest(
  current: GuestFields | null,
  input: NonNullable<GuestDetailsInput['guest']>,
): GuestFields {
  const pick = (field: keyof GuestFields) =>
    input[field] === undefined ? (current?.[field] ?? null) : input[field]?.trim() || null;
  const first = pick('first_name');
  const last = pick('last_name');
  const namesSent = input.first_name !== undefined || input.last_name !== undefined;
  const full =
    input.full_name !== undefined
      ? pick('full_name') || [first, last].filter(Boolean).join(' ') || null
      : namesSent
        ? [first, last].filter(Boolean).join(' ') || current?.full_name || null
        : (current?.full_name ?? null);
  if (!full) {
    throw new ValidationError('The guest needs a name.', [
      { pointer: '/body/guest/full_name', message: 'give full_name, or first_name and/or last_name' },
    ]);
  }
  return { first_name: first, last_name: last, full_name: full, email: pick('email'), phone: pick('phone') };
}
