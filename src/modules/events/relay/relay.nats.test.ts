import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../../../test/helpers/context.ts';
import {
  commitEvent,
  deleteStream,
  isolatedStream,
  NATS_URL,
  reachable,
  readStream,
  streamCount,
  waitFor,
} from '../../../../test/helpers/events.ts';
import { createProperty } from '../../../../test/helpers/factories.ts';
import { createLogger } from '../../../app/logger.ts';
import { appendEvent } from '../outbox.ts';
import { createNatsSink } from '../sinks/nats.sink.ts';
import { type Relay, startRelay } from './relay.ts';
import { registerSink } from './sequencer.repository.ts';

const natsUp = await reachable(NATS_URL);
if (!natsUp) console.warn(`[relay.nats.test] skipped: no NATS server at ${NATS_URL}`);

describe.skipIf(!natsUp)('relay to NATS JetStream (real server)', () => {
  let ctx: TestContext;
  let relay: Relay;
  let nc: NatsConnection;
  const { stream, prefix } = isolatedStream('relay');

  beforeAll(async () => {
    ctx = await createTestContext();
    await registerSink(ctx.db, 'nats');
    const logger = createLogger({ logLevel: 'silent' });
    relay = await startRelay({
      db: ctx.db,
      databaseUrl: ctx.databaseUrl,
      sinks: [
        createNatsSink({ url: NATS_URL, stream, subjectPrefix: prefix, publishTimeoutMs: 2000, logger }),
      ],
      logger,
      leaseMs: 10_000,
      pollMs: 200,
    });
    nc = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    await relay?.stop();
    await nc?.close();
    await deleteStream(NATS_URL, stream);
    await ctx?.close();
  });

  it('publishes each committed event exactly as committed, with its id as Nats-Msg-Id, in order per property', async () => {
    const hotel = await createProperty(ctx.db);
    const other = await createProperty(ctx.db);
    const committed = await ctx.db.transaction().execute(async (tx) => [
      await appendEvent(tx, 'pms.reservation.created', hotel.id, { reservation_id: 'r1', total: '120.00' }),
      await appendEvent(tx, 'pms.inventory.updated', hotel.id, {
        nights: [{ date: '2030-01-01', booked: 1 }],
      }),
    ]);
    const later = await commitEvent(ctx.db, 'pms.reservation.cancelled', hotel.id, { reservation_id: 'r1' });
    const elsewhere = await commitEvent(ctx.db, 'pms.reservation.created', other.id, {
      reservation_id: 'r2',
    });
    const global = await commitEvent(ctx.db, 'pms.integration.sync.completed', null, { runs: 3 });
    const all = [...committed, later, elsewhere, global];

    await waitFor(async () => ((await streamCount(nc, stream)) >= all.length ? true : undefined), {
      what: 'the events in the stream',
    });
    const messages = await readStream(nc, stream);
    expect(messages).toHaveLength(all.length);
    for (const event of all) {
      const message = messages.find((m) => m.msgId === event.id);
      expect(message, event.type).toBeDefined();
      expect(message!.subject).toBe(`${prefix}${event.type}`);
      expect(message!.event).toEqual(event);
    }
    const hotelOrder = messages.filter((m) => m.event.subject === hotel.id).map((m) => m.msgId);
    expect(hotelOrder).toEqual([committed[0]!.id, committed[1]!.id, later.id]);
  });

  it('shares the lanes between two relays running at once, still in order per property', async () => {
    const hotels = await Promise.all(Array.from({ length: 6 }, () => createProperty(ctx.db)));
    const logger = createLogger({ logLevel: 'silent' });
    // Two lanes at a time per relay, so neither can take every property's lane by itself.
    const counting = (sends: { count: number }) => {
      const sink = createNatsSink({
        url: NATS_URL,
        stream,
        subjectPrefix: prefix,
        publishTimeoutMs: 2000,
        logger,
      });
      return {
        ...sink,
        concurrency: 2,
        batchSize: 20,
        async open(lane: Parameters<typeof sink.open>[0]) {
          const target = (await sink.open(lane))!;
          return {
            send: async (event: Parameters<typeof target.send>[0], attempt: number) => {
              await target.send(event, attempt);
              sends.count++;
            },
          };
        },
      };
    };
    const first = { count: 0 };
    const second = { count: 0 };
    await relay.stop();
    relay = await startRelay({
      db: ctx.db,
      databaseUrl: ctx.databaseUrl,
      sinks: [counting(first)],
      logger,
      leaseMs: 10_000,
      pollMs: 200,
    });
    const other = await startRelay({
      db: ctx.db,
      databaseUrl: ctx.databaseUrl,
      sinks: [counting(second)],
      logger,
      leaseMs: 10_000,
      pollMs: 200,
    });
    try {
      const before = await streamCount(nc, stream);
      await Promise.all(
        hotels.map(async (hotel) => {
          for (let i = 0; i < 60; i++) await commitEvent(ctx.db, 'pms.inventory.updated', hotel.id, { i });
        }),
      );
      await waitFor(async () => ((await streamCount(nc, stream)) >= before + 360 ? true : undefined), {
        what: 'both relays to publish everything',
      });
      expect(first.count).toBeGreaterThan(0);
      expect(second.count).toBeGreaterThan(0);
      const messages = await readStream(nc, stream);
      expect(messages).toHaveLength(before + 360);
      for (const hotel of hotels) {
        const committed = await ctx.db
          .selectFrom('outbox_event')
          .select('id')
          .where('property_id', '=', hotel.id)
          .orderBy('position')
          .execute();
        expect(messages.filter((m) => m.event.subject === hotel.id).map((m) => m.msgId)).toEqual(
          committed.map((e) => e.id),
        );
      }
    } finally {
      await other.stop();
    }
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    const hotel = await createProperty(ctx.db);
    const before = await streamCount(nc, stream);
    let rolledBackId = '';
    await expect(
      ctx.db.transaction().execute(async (tx) => {
        rolledBackId = (
          await appendEvent(tx, 'pms.reservation.created', hotel.id, { reservation_id: 'gone' })
        ).id;
        throw new Error('booking failed');
      }),
    ).rejects.toThrow('booking failed');
    // Delivered in order per property: once the marker is there, the rolled-back event would be too.
    const marker = await commitEvent(ctx.db, 'pms.reservation.created', hotel.id, { reservation_id: 'kept' });
    await waitFor(async () => ((await streamCount(nc, stream)) >= before + 1 ? true : undefined));
    const messages = await readStream(nc, stream);
    expect(messages.map((m) => m.msgId)).toContain(marker.id);
    expect(messages.map((m) => m.msgId)).not.toContain(rolledBackId);
    expect(messages).toHaveLength(before + 1);
    const stored = await ctx.db
      .selectFrom('outbox_event')
      .select('id')
      .where('id', '=', rolledBackId)
      .execute();
    expect(stored).toHaveLength(0);
  });
});
