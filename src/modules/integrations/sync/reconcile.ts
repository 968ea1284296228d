import { addDays, todayIn } from '../../../app/dates.ts';
import type { Tx } from '../../../db/database.ts';
import { recordAudit } from '../../audit/audit.repository.ts';
import { buildEnvelope } from '../../events/outbox.ts';
import type { ApplyImportedChanges, StayUnits } from '../../inventory/inventory.contract.ts';
import type { ReconciliationSpec } from '../config/config.types.ts';
import type { RecordOutcome } from '../pipeline/pipeline.ts';
import * as repo from './reconcile.repository.ts';
import { insertEvents } from './upsert.repository.ts';

/** What a reconciliation found, saved on the run (`reconciliation`) and listed per booking. */
export interface ReconciliationReport {
  window: { from: string; to: string };
  action: 'report' | 'cancel';
  /** Bookings of the window the hotel held (tentative or confirmed). */
  checked: number;
  vanished: number;
  cancelled: number;
  /** Why nothing was cancelled although the config says `cancel`. */
  held_back: string | null;
}

/**
 * Bookings a full listing no longer returns (v2 `reconciliation`): the run tells every record it
 * read, and at its end the hotel's imported bookings arriving in the window that the PMS did not
 * list are reported, and cancelled when the config says so (their nights released through the
 * inventory service, an event and an audit row each). Only a run that read the whole listing
 * from the initial cursor can tell that a booking is gone.
 */
export class VanishedBookings {
  private readonly seen = new Set<string>();
  private unreadable = 0;

  private readonly spec: ReconciliationSpec;

  constructor(spec: ReconciliationSpec) {
    this.spec = spec;
  }

  /** Every record of the listing counts as seen, quarantined ones included (the PMS still has them). */
  observe(outcome: RecordOutcome): void {
    const id = outcome.ok ? outcome.booking.external_id : outcome.externalId;
    if (id === null) this.unreadable += 1;
    else this.seen.add(id);
  }

  async finish(
    tx: Tx,
    ctx: {
      runId: string;
      propertyId: string;
      source: string;
      timezone: string;
      applyImportedChanges: ApplyImportedChanges;
    },
  ): Promise<ReconciliationReport> {
    const from = todayIn(ctx.timezone);
    const to = addDays(from, this.spec.window_days);
    const window = await repo.bookingsArriving(tx, ctx.propertyId, ctx.source, from, to);
    const vanished = window.filter((b) => !this.seen.has(b.external_id));
    const maxShare = this.spec.max_share ?? 0.5;
    let heldBack: string | null = null;
    if (this.spec.action === 'cancel' && vanished.length > 0) {
      if (this.unreadable > 0) {
        heldBack = `${this.unreadable} record(s) of the listing had no readable external id: any of them may be one of these bookings`;
      } else if (vanished.length / window.length > maxShare) {
        heldBack = `${vanished.length} of the window's ${window.length} bookings are missing, more than max_share ${maxShare}: a listing that partial looks like a PMS fault`;
      }
    }
    const cancel = this.spec.action === 'cancel' && heldBack === null ? vanished : [];
    await repo.recordVanished(
      tx,
      vanished.map((b) => ({
        sync_run_id: ctx.runId,
        property_id: ctx.propertyId,
        reservation_id: b.id,
        external_id: b.external_id,
        check_in: b.check_in,
        check_out: b.check_out,
        status_before: b.status,
        action: cancel.length > 0 ? 'cancelled' : 'reported',
      })),
    );
    if (cancel.length > 0) await this.cancel(tx, ctx, cancel);
    const report: ReconciliationReport = {
      window: { from, to },
      action: this.spec.action,
      checked: window.length,
      vanished: vanished.length,
      cancelled: cancel.length,
      held_back: heldBack,
    };
    await repo.saveReconciliation(tx, ctx.runId, report);
    return report;
  }

  /** Cancels through the same path as a cancellation the PMS sent: the calendar, events, audit. */
  private async cancel(
    tx: Tx,
    ctx: { runId: string; propertyId: string; source: string; applyImportedChanges: ApplyImportedChanges },
    bookings: repo.WindowBooking[],
  ): Promise<void> {
    const held = await repo.heldRoomTypes(
      tx,
      bookings.map((b) => b.id),
    );
    await repo.cancelVanished(
      tx,
      bookings.map((b) => b.id),
    );
    await insertEvents(
      tx,
      bookings.map((b) =>
        buildEnvelope('pms.reservation.cancelled', ctx.propertyId, {
          reservation: {
            id: b.id,
            property_id: ctx.propertyId,
            confirmation_code: b.confirmation_code,
            status: 'cancelled',
            check_in: b.check_in,
            check_out: b.check_out,
            room_type_id: held.get(b.id)?.[0] ?? null,
            source: ctx.source,
            external_id: b.external_id,
            total_amount: b.total_amount,
            currency: b.currency,
          },
          change: 'cancelled',
          reason: 'vanished_at_pms',
          previous_status: b.status,
          sync_run_id: ctx.runId,
        }),
      ),
    );
    for (const b of bookings) {
      await recordAudit(
        tx,
        { actor: null, requestId: null },
        {
          action: 'pms.reservation.vanished_cancelled',
          entityType: 'reservation',
          entityId: b.id,
          propertyId: ctx.propertyId,
          diff: { status: [b.status, 'cancelled'], external_id: b.external_id, sync_run_id: ctx.runId },
        },
      );
    }
    const changes = bookings
      .map((b) => {
        const units = new Map<string, number>();
        for (const id of held.get(b.id) ?? []) units.set(id, (units.get(id) ?? 0) + 1);
        const release: StayUnits[] = [...units].map(([roomTypeId, n]) => ({
          roomTypeId,
          checkIn: b.check_in,
          checkOut: b.check_out,
          units: n,
        }));
        return { reservationId: b.id, release, take: [] };
      })
      .filter((c) => c.release.length > 0);
    if (changes.length > 0) {
      await ctx.applyImportedChanges(tx, {
        propertyId: ctx.propertyId,
        changes,
        reason: 'pms.vanished',
        actorId: null,
        syncRunId: ctx.runId,
      });
    }
  }
}
