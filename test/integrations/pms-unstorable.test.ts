import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookingWorld } from '../booking/world.ts';
import { connectAcme, startAcmeStub } from '../guests/world.ts';
import { createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { createRoomType } from '../helpers/factories.ts';

/**
 * A PMS record holding a character PostgreSQL cannot store (NUL, in text or in jsonb) is a bad
 * record like any other: quarantined with its reason, while the rest of the page lands. It must
 * not fail the batch it is in, nor the run.
 */
let t: TestContext;
let stub: Awaited<ReturnType<typeof startAcmeStub>>;

beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  stub = await startAcmeStub();
});
afterAll(async () => {
  await stub?.close();
  await t?.close();
});

describe('a PMS record with a NUL character', () => {
  it('is quarantined with its reason, and the other records of the page are imported', async () => {
    const world = await bookingWorld(t);
    await createRoomType(t.db, world.property.id, { code: 'STD', totalUnits: 20 });
    const record = (id: number, first: string, comment?: string) => ({
      id,
      state: 'BOOKED',
      arrival: '2031-03-10',
      departure: '2031-03-12',
      guest: { first, last: 'Guest', contact: { email: `guest${id}@example.test` } },
      room: { category: 'STD' },
      pax: { adults: 2, children: 0 },
      price: { total: '200.00', currency: 'EUR' },
      ...(comment === undefined ? {} : { comment }),
      updated: '2031-01-01T10:00:00Z',
    });
    stub.records.push(
      record(1, 'Ada'),
      record(2, 'Nul\u0000Name'),
      record(3, 'Grace', 'bad\u0000note'),
      record(4, 'Alan'),
      { ...record(5, 'Edsger'), ['extra\u0000key']: true } as ReturnType<typeof record>,
    );
    const sync = await connectAcme(t, world.admin.token, world.property.id, stub.url);
    const run = await sync();
    const errors = await t.db.selectFrom('ingestion_error').select(['external_id', 'message']).execute();
    expect(run, JSON.stringify(errors)).toMatchObject({ status: 'partial', created: 2, quarantined: 3 });

    const imported = await t.db
      .selectFrom('reservation')
      .select('external_id')
      .where('property_id', '=', world.property.id)
      .orderBy('external_id')
      .execute();
    expect(imported.map((r) => r.external_id)).toEqual(['1', '4']);
    const quarantined = await t.db
      .selectFrom('ingestion_error')
      .select(['external_id', 'message', 'raw'])
      .where('property_id', '=', world.property.id)
      .orderBy('external_id')
      .execute();
    expect(
      quarantined.map((q) => q.external_id),
      JSON.stringify(quarantined),
    ).toEqual(['2', '3', '5']);
    for (const row of quarantined) {
      expect(row.message).toMatch(/NUL/);
      // The raw payload is kept, with the character shown rather than lost (jsonb refuses U+0000).
      expect(JSON.stringify(row.raw)).not.toContain('\\u0000');
    }
  });
});
