import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../../test/helpers/context.ts';
import { createProperty, createRoomType, userWithToken } from '../../../../test/helpers/factories.ts';
import type { RoomType } from '../../../db/schema.ts';
import { applyImportedChanges } from '../../inventory/inventory.service.ts';
import type { CanonicalBooking } from '../pipeline/canonical.ts';
import {
  type BatchContext,
  foldDuplicates,
  importedConfirmationCode,
  timeOrderedId,
  writeBatch,
} from './ledger-batch.ts';
import { hotelLookups } from './lookup.repository.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(() => t?.close());

const booking = (overrides: Partial<CanonicalBooking> = {}): CanonicalBooking => ({
  external_id: 'B1',
  status: 'confirmed',
  check_in: '2031-04-01',
  check_out: '2031-04-03',
  guest: { first_name: 'Ada', last_name: 'Lovelace', full_name: 'Ada Lovelace', email: null, phone: null },
  room_type_code: 'DBL',
  room_number: null,
  adults: 2,
  children: 0,
  total_amount: '200.00',
  currency: 'EUR',
  source_updated_at: '2031-01-01T00:00:01.000Z',
  notes: null,
  ...overrides,
});

async function hotel(): Promise<{ ctx: BatchContext; dbl: RoomType; ste: RoomType }> {
  const property = await createProperty(t.db);
  const dbl = await createRoomType(t.db, property.id, { code: 'DBL', totalUnits: 5 });
  const ste = await createRoomType(t.db, property.id, { code: 'STE', totalUnits: 5 });
  const { token } = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
  const put = await call(t.app, 'PUT', `/api/integrations/pms/connections/${property.id}/`, {
    token,
    body: {
      pms_type: 'acme',
      version: '2.1',
      base_url: 'https://pms.example.test',
      hotel_external_id: 'X',
      secrets: { api_token: 'unused-token' },
    },
  });
  return {
    ctx: {
      runId: crypto.randomUUID(),
      propertyId: property.id,
      connectionId: put.body.id,
      source: 'pms:acme',
      lookups: await hotelLookups(t.db, property.id),
      applyImportedChanges,
    },
    dbl,
    ste,
  };
}

const write = (ctx: BatchContext, bookings: CanonicalBooking[]) =>
  t.db.transaction().execute((tx) => writeBatch(tx, ctx, bookings));

const stored = (ctx: BatchContext) =>
  t.db
    .selectFrom('reservation')
    .select(['status', 'check_in', 'check_out', 'version', 'source_updated_at', 'total_amount'])
    .where('property_id', '=', ctx.propertyId)
    .execute();

const nights = async (roomTypeId: string) =>
  Object.fromEntries(
    (
      await t.db
        .selectFrom('inventory_calendar')
        .select(['date', 'booked_units'])
        .where('room_type_id', '=', roomTypeId)
        .where('booked_units', '>', 0)
        .orderBy('date')
        .execute()
    ).map((n) => [n.date, n.booked_units]),
  );

describe('foldDuplicates', () => {
  it('keeps the newest version of each booking', () => {
    const folded = foldDuplicates([
      booking({ status: 'tentative', source_updated_at: '2031-01-01T00:00:02.000Z' }),
      booking({ external_id: 'B2' }),
      booking({ status: 'cancelled', source_updated_at: '2031-01-01T00:00:03.000Z' }),
      booking({ status: 'no_show', source_updated_at: '2031-01-01T00:00:01.000Z' }),
    ]);
    expect(folded.map((b) => [b.external_id, b.status])).toEqual([
      ['B1', 'cancelled'],
      ['B2', 'confirmed'],
    ]);
  });
});

describe('timeOrderedId', () => {
  it('makes RFC 9562 version-7 ids that carry the millisecond clock and differ from one another', () => {
    const now = Date.UTC(2031, 2, 1, 12, 0, 0, 123);
    const ids = Array.from({ length: 1000 }, () => timeOrderedId(now));
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Number.parseInt(id.replace('-', '').slice(0, 12), 16)).toBe(now);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(timeOrderedId(now) < timeOrderedId(now + 1)).toBe(true);
  });
});

describe('writeBatch', () => {
  it('folds duplicates inside a batch and counts them as unchanged', async () => {
    const { ctx } = await hotel();
    const outcome = await write(ctx, [
      booking({ status: 'tentative', source_updated_at: '2031-01-01T00:00:01.000Z' }),
      booking({ status: 'confirmed', source_updated_at: '2031-01-01T00:00:03.000Z', total_amount: '250.00' }),
      booking({ status: 'cancelled', source_updated_at: '2031-01-01T00:00:02.000Z' }),
    ]);
    expect(outcome).toMatchObject({ created: 1, updated: 0, unchanged: 2 });
    expect(await stored(ctx)).toMatchObject([{ status: 'confirmed', total_amount: '250.00', version: 1 }]);
  });

  it('never lets an older PMS version overwrite a newer one', async () => {
    const { ctx } = await hotel();
    await write(ctx, [booking({ source_updated_at: '2031-01-01T00:00:05.000Z', total_amount: '500.00' })]);
    const older = await write(ctx, [
      booking({ source_updated_at: '2031-01-01T00:00:04.000Z', status: 'cancelled' }),
    ]);
    expect(older).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    const same = await write(ctx, [
      booking({ source_updated_at: '2031-01-01T00:00:05.000Z', status: 'cancelled' }),
    ]);
    expect(same).toMatchObject({ updated: 0, unchanged: 1 });
    expect(await stored(ctx)).toMatchObject([{ status: 'confirmed', total_amount: '500.00', version: 1 }]);
    const newer = await write(ctx, [
      booking({ source_updated_at: '2031-01-01T00:00:06.000Z', status: 'cancelled' }),
    ]);
    expect(newer).toMatchObject({ updated: 1, unchanged: 0 });
    expect(await stored(ctx)).toMatchObject([{ status: 'cancelled', version: 2 }]);
  });

  it('counts a newer version with the same content as unchanged and only moves its timestamp', async () => {
    const { ctx } = await hotel();
    await write(ctx, [booking()]);
    const outcome = await write(ctx, [booking({ source_updated_at: '2031-02-01T00:00:00.000Z' })]);
    expect(outcome).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    const [row] = await stored(ctx);
    expect(row).toMatchObject({ version: 1 });
    expect(row!.source_updated_at!.toISOString()).toBe('2031-02-01T00:00:00.000Z');
  });

  it('holds nights, moves them when the stay or room type changes, and releases them on cancellation', async () => {
    const { ctx, dbl, ste } = await hotel();
    await write(ctx, [booking()]);
    expect(await nights(dbl.id)).toEqual({ '2031-04-01': 1, '2031-04-02': 1 });
    await write(ctx, [booking({ source_updated_at: '2031-01-01T00:00:02.000Z', check_out: '2031-04-04' })]);
    expect(await nights(dbl.id)).toEqual({ '2031-04-01': 1, '2031-04-02': 1, '2031-04-03': 1 });
    await write(ctx, [booking({ source_updated_at: '2031-01-01T00:00:03.000Z', room_type_code: 'STE' })]);
    expect(await nights(dbl.id)).toEqual({});
    expect(await nights(ste.id)).toEqual({ '2031-04-01': 1, '2031-04-02': 1 });
    await write(ctx, [
      booking({ source_updated_at: '2031-01-01T00:00:04.000Z', room_type_code: 'STE', status: 'no_show' }),
    ]);
    expect(await nights(ste.id)).toEqual({});
    await write(ctx, [
      booking({ source_updated_at: '2031-01-01T00:00:05.000Z', room_type_code: 'STE', status: 'checked_in' }),
    ]);
    expect(await nights(ste.id)).toEqual({ '2031-04-01': 1, '2031-04-02': 1 });
  });

  it('writes the calendar ledger summed per night and field for the batch, with the run, still summing to the calendar', async () => {
    const { ctx, dbl } = await hotel();
    await write(ctx, [
      booking(),
      booking({ external_id: 'B2' }),
      booking({ external_id: 'B3', check_in: '2031-04-02', check_out: '2031-04-04' }),
    ]);
    const ledger = () =>
      t.db
        .selectFrom('inventory_ledger')
        .select(['date', 'field', 'delta', 'reason', 'reservation_id', 'sync_run_id'])
        .where('room_type_id', '=', dbl.id)
        .where('reason', '=', 'pms.import')
        .orderBy('id')
        .execute();
    expect(await ledger()).toEqual([
      {
        date: '2031-04-01',
        field: 'booked_units',
        delta: 2,
        reason: 'pms.import',
        reservation_id: null,
        sync_run_id: ctx.runId,
      },
      {
        date: '2031-04-02',
        field: 'booked_units',
        delta: 3,
        reason: 'pms.import',
        reservation_id: null,
        sync_run_id: ctx.runId,
      },
      {
        date: '2031-04-03',
        field: 'booked_units',
        delta: 1,
        reason: 'pms.import',
        reservation_id: null,
        sync_run_id: ctx.runId,
      },
    ]);
    // B2 gives up its first night and keeps its second: the batch's net change on that second
    // night is zero, so it gets no row; the ledger still sums to the calendar.
    const next = { ...ctx, runId: crypto.randomUUID() };
    await write(next, [
      booking({
        external_id: 'B2',
        source_updated_at: '2031-01-01T00:00:02.000Z',
        check_in: '2031-04-02',
        check_out: '2031-04-03',
      }),
      booking({ external_id: 'B4', check_in: '2031-04-03', check_out: '2031-04-05' }),
    ]);
    const rows = await ledger();
    expect(rows.slice(3)).toEqual([
      {
        date: '2031-04-01',
        field: 'booked_units',
        delta: -1,
        reason: 'pms.import',
        reservation_id: null,
        sync_run_id: next.runId,
      },
      {
        date: '2031-04-03',
        field: 'booked_units',
        delta: 1,
        reason: 'pms.import',
        reservation_id: null,
        sync_run_id: next.runId,
      },
      {
        date: '2031-04-04',
        field: 'booked_units',
        delta: 1,
        reason: 'pms.import',
        reservation_id: null,
        sync_run_id: next.runId,
      },
    ]);
    const sums: Record<string, number> = {};
    for (const row of rows) sums[row.date] = (sums[row.date] ?? 0) + row.delta;
    expect(Object.fromEntries(Object.entries(sums).filter(([, units]) => units !== 0))).toEqual(
      await nights(dbl.id),
    );
  });

  it('records a booking of an unknown room type without inventory effect, and says so', async () => {
    const { ctx, dbl } = await hotel();
    const outcome = await write(ctx, [
      booking({ room_type_code: 'XXL' }),
      booking({ external_id: 'B2', room_type_code: null }),
    ]);
    expect(outcome).toMatchObject({ created: 2, withoutRoomType: 1 });
    expect(outcome.unknownRoomTypes).toEqual(new Map([['XXL', 1]]));
    expect(await nights(dbl.id)).toEqual({});
    const rooms = await t.db
      .selectFrom('reservation_room')
      .selectAll()
      .where('property_id', '=', ctx.propertyId)
      .execute();
    expect(rooms).toEqual([]);
  });

  it('writes the reservation events of what changed', async () => {
    const { ctx } = await hotel();
    await write(ctx, [booking()]);
    await write(ctx, [booking({ source_updated_at: '2031-01-01T00:00:02.000Z', status: 'checked_in' })]);
    await write(ctx, [booking({ source_updated_at: '2031-01-01T00:00:03.000Z', status: 'cancelled' })]);
    const events = await t.db
      .selectFrom('outbox_event')
      .select(['type', 'envelope'])
      .where('property_id', '=', ctx.propertyId)
      .where('type', 'like', 'pms.reservation.%')
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.type)).toEqual([
      'pms.reservation.created',
      'pms.reservation.modified',
      'pms.reservation.cancelled',
    ]);
    const last = events[2]!.envelope as any;
    expect(last.data).toMatchObject({
      change: 'cancelled',
      previous: { status: 'checked_in' },
      reservation: {
        external_id: 'B1',
        source: 'pms:acme',
        confirmation_code: importedConfirmationCode(ctx.propertyId, 'pms:acme', 'B1'),
      },
    });
  });
});
