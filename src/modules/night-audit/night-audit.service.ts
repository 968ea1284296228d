import { NotFoundError } from '../../app/errors.ts';
import type { Db, Tx } from '../../db/database.ts';
import { type RequestContext, recordAudit, systemContext } from '../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty } from '../auth/auth.context.ts';
import { buildEnvelope, type CloudEvent } from '../events/outbox.ts';
import { addDays } from '../inventory/inventory.dates.ts';
import {
  inInventoryTransaction,
  type LockSettings,
  lockStays,
  writeLockedNights,
} from '../inventory/inventory.locking.ts';
import { loadHorizon } from '../inventory/inventory.service.ts';
import { localDate } from '../properties/business-date.ts';
import { auditFields, staysOf } from '../reservations/reservation.booking.ts';
import { computeFee, feeColumns } from '../reservations/reservation.fees.ts';
import * as reservationRepo from '../reservations/reservation.repository.ts';
import { toReservationView } from '../reservations/reservation.view.ts';
import { NightAuditRunningError } from './night-audit.errors.ts';
import * as repo from './night-audit.repository.ts';

/**
 * The night audit of a property (docs/inventory.md, "Business date and night audit"): when the
 * hotel's local day has passed, it rolls the business date to the local today, marks the direct
 * reservations that did not arrive as no-shows (with their no-show fee, releasing their nights),
 * and keeps the calendar loaded `horizonDays` nights ahead. Idempotent: a second run finds the
 * date current, no one left to mark and the nights there.
 */

export interface NoShowOutcome {
  reservation_id: string;
  confirmation_code: string;
  check_in: string;
  fee_amount: string;
  fee_currency: string;
}

export interface NightAuditResult {
  property_id: string;
  code: string;
  /** `busy`: another night audit of this property was running; nothing was done. */
  outcome: 'audited' | 'busy';
  business_date_before: string;
  business_date: string;
  rolled: boolean;
  no_shows: NoShowOutcome[];
  nights_created: number;
}

export interface AuditOptions {
  /** The instant the audit takes as now (tests move it; the hotel's time zone turns it into a day). */
  at?: Date;
  horizonDays: number;
  /** Check the whole horizon for missing nights, not only when the date rolls. */
  checkHorizon?: boolean;
}

/** Marks the no-shows in one go: fee per reservation, one lock of all their nights, one write. */
async function markNoShows(
  tx: Tx,
  ctx: RequestContext,
  property: repo.AuditedProperty,
  businessDate: string,
  at: Date,
  lockMode: { nowait: boolean },
): Promise<NoShowOutcome[]> {
  const rows = await repo.lockNoShows(tx, property.id, businessDate);
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const [rooms, guests] = await Promise.all([
    reservationRepo.findRooms(tx, ids),
    reservationRepo.findGuests(
      tx,
      rows.flatMap((row) => (row.guest_id ? [row.guest_id] : [])),
    ),
  ]);
  const events: CloudEvent[] = [];
  const released: Array<{ id: string; stays: ReturnType<typeof staysOf> }> = [];
  const outcomes: NoShowOutcome[] = [];
  for (const row of rows) {
    const own = rooms.filter((room) => room.reservation_id === row.id);
    const guest = guests.find((g) => g.id === row.guest_id) ?? null;
    const before = toReservationView(row, guest, own);
    const fee = computeFee('no_show', {
      checkIn: row.check_in,
      currency: row.currency,
      timeZone: property.timezone,
      at,
      rooms: own,
    });
    const updated = await reservationRepo.updateReservation(tx, row.id, {
      status: 'no_show',
      ...feeColumns(fee),
    });
    const after = toReservationView(updated, guest, own);
    await recordAudit(tx, ctx, {
      action: 'reservation.no_show',
      entityType: 'reservation',
      entityId: row.id,
      propertyId: property.id,
      before: auditFields(before),
      after: { ...auditFields(after), cause: 'night_audit' },
    });
    events.push(
      buildEnvelope('pms.reservation.modified', property.id, {
        reservation: after,
        change: 'no_show',
        previous_status: row.status,
        fee: after.fee,
        cause: 'night_audit',
      }),
    );
    released.push({ id: row.id, stays: staysOf(own, row.check_in, row.check_out) });
    outcomes.push({
      reservation_id: row.id,
      confirmation_code: row.confirmation_code,
      check_in: row.check_in,
      fee_amount: fee.amount,
      fee_currency: fee.currency,
    });
  }
  const nights = await lockStays(
    tx,
    property.id,
    released.flatMap((r) => r.stays),
    lockMode,
  );
  for (const { id, stays } of released) {
    nights.applyDirect(
      { release: stays },
      { reason: 'reservation.no_show', reservationId: id, actorId: ctx.actor?.id ?? null },
    );
  }
  await writeLockedNights(tx, nights, 'reservation.no_show', events);
  return outcomes;
}

/** One property's night audit in one transaction; `busy` when another audit of it is running. */
export async function auditProperty(
  db: Db,
  lock: LockSettings,
  propertyId: string,
  options: AuditOptions & { ctx?: RequestContext },
): Promise<NightAuditResult> {
  const at = options.at ?? new Date();
  const ctx = options.ctx ?? systemContext;
  return inInventoryTransaction(db, lock, async (tx, mode) => {
    if (!(await repo.tryAuditLock(tx, propertyId))) return busyResult(propertyId);
    const property = await repo.lockProperty(tx, propertyId);
    if (!property) throw new NotFoundError('Property', propertyId);
    const today = localDate(property.timezone, at);
    // The business date only moves forward: a hotel whose time zone moved west keeps its day.
    const rolled = property.business_date < today;
    const businessDate = rolled ? today : property.business_date;
    let noShows: NoShowOutcome[] = [];
    if (rolled) {
      noShows = await markNoShows(tx, ctx, property, businessDate, at, mode);
      await repo.setBusinessDate(tx, property.id, businessDate);
    }
    let nightsCreated = 0;
    // An inactive hotel sells nothing: its calendar is not extended (imports load their own nights).
    if (property.status === 'active' && (rolled || options.checkHorizon)) {
      const end = addDays(businessDate, options.horizonDays);
      const short = await repo.roomTypesShortOfHorizon(tx, property.id, businessDate, end);
      if (short.length > 0) {
        nightsCreated = await loadHorizon(
          tx,
          property.id,
          short,
          businessDate,
          options.horizonDays,
          ctx.actor?.id ?? null,
        );
      }
    }
    if (rolled || nightsCreated > 0) {
      await recordAudit(tx, ctx, {
        action: 'property.night_audit',
        entityType: 'property',
        entityId: property.id,
        propertyId: property.id,
        diff: {
          business_date: [property.business_date, businessDate],
          no_shows: noShows.length,
          nights_created: nightsCreated,
        },
      });
    }
    return {
      property_id: property.id,
      code: property.code,
      outcome: 'audited' as const,
      business_date_before: property.business_date,
      business_date: businessDate,
      rolled,
      no_shows: noShows,
      nights_created: nightsCreated,
    };
  });
}

function busyResult(propertyId: string): NightAuditResult {
  return {
    property_id: propertyId,
    code: '',
    outcome: 'busy',
    business_date_before: '',
    business_date: '',
    rolled: false,
    no_shows: [],
    nights_created: 0,
  };
}

/**
 * Audits every property whose local day has passed (all of them with `checkHorizon`), one
 * transaction each, reporting a line per property. A property that fails is reported and the
 * others go on; the next run tries it again.
 */
export async function runNightAudit(
  db: Db,
  lock: LockSettings,
  options: AuditOptions & { propertyId?: string; log?: (line: string) => void },
): Promise<{ audited: NightAuditResult[]; failed: Array<{ property_id: string; error: unknown }> }> {
  const at = options.at ?? new Date();
  const log = options.log ?? (() => {});
  const properties = await repo.listProperties(db, options.propertyId);
  const due = properties.filter(
    (property) => options.checkHorizon || property.business_date < localDate(property.timezone, at),
  );
  const audited: NightAuditResult[] = [];
  const failed: Array<{ property_id: string; error: unknown }> = [];
  for (const [index, property] of due.entries()) {
    const prefix = `[${index + 1}/${due.length}] ${property.code}:`;
    try {
      const result = await auditProperty(db, lock, property.id, { ...options, at });
      audited.push(result);
      log(
        result.outcome === 'busy'
          ? `${prefix} skipped, another night audit of it is running`
          : `${prefix} business date ${result.business_date}` +
              (result.rolled ? ` (rolled from ${result.business_date_before})` : ' (current)') +
              `, ${result.no_shows.length} no-show(s), ${result.nights_created} night(s) created`,
      );
    } catch (error) {
      failed.push({ property_id: property.id, error });
      log(`${prefix} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { audited, failed };
}

/** The manual trigger behind the API: an administrator of the property audits it now. */
export function createNightAuditService(db: Db, lock: LockSettings, options: { horizonDays: number }) {
  return {
    async run(ctx: RequestContext & { actor: Actor }, propertyId: string): Promise<NightAuditResult> {
      assertCanAdminProperty(ctx.actor, propertyId);
      const result = await auditProperty(db, lock, propertyId, {
        horizonDays: options.horizonDays,
        checkHorizon: true,
        ctx,
      });
      if (result.outcome === 'busy') throw new NightAuditRunningError(propertyId);
      return result;
    },
  };
}
