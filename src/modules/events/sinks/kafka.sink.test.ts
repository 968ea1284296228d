import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../../../test/helpers/context.ts';
import { commitEvent, waitFor } from '../../../../test/helpers/events.ts';
import { createProperty } from '../../../../test/helpers/factories.ts';
import { createLogger } from '../../../app/logger.ts';
import { freePort } from '../../../db/embedded.ts';
import { type Relay, startRelay } from '../relay/relay.ts';
import { registerSink } from '../relay/sequencer.repository.ts';
import {
  createKafkaProducer,
  createKafkaSink,
  KAFKA_PRODUCER_CONFIG,
  type KafkaProducer,
  type KafkaRecord,
  kafkaClientConfig,
} from './kafka.sink.ts';

// No Kafka broker can run on these machines: the contract is tested against kafkajs itself and a
// fake producer behind the same narrow interface (docs/events.md says so).
const logger = createLogger({ logLevel: 'silent' });

/** Records what the relay produces; fails the first `failures` sends like a broker that is down. */
function fakeProducer(failures = 0) {
  const sent: KafkaRecord[] = [];
  let connects = 0;
  let left = failures;
  const producer: KafkaProducer = {
    async connect() {
      connects++;
    },
    async send(record) {
      if (left > 0) {
        left--;
        throw new Error('KafkaJSConnectionError: Connection error: connect ECONNREFUSED');
      }
      sent.push(record);
      return [{ topicName: record.topic, partition: 0, errorCode: 0 }];
    },
    async disconnect() {},
  };
  return { producer, sent, connects: () => connects };
}

describe('Kafka producer contract (kafkajs)', () => {
  it('configures an idempotent producer with one request in flight and acks from all replicas', () => {
    expect(KAFKA_PRODUCER_CONFIG).toMatchObject({ idempotent: true, maxInFlightRequests: 1 });
    expect(KAFKA_PRODUCER_CONFIG.retry.retries).toBeGreaterThanOrEqual(1);
    const client = kafkaClientConfig(['127.0.0.1:9092'], 2000, logger);
    expect(client).toMatchObject({
      clientId: 'pms-relay',
      brokers: ['127.0.0.1:9092'],
      requestTimeout: 2000,
    });
    // kafkajs accepts the settings (it refuses an idempotent producer without retries, for one).
    const real: KafkaProducer = new Kafka(client).producer(KAFKA_PRODUCER_CONFIG);
    expect(typeof real.send).toBe('function');
    expect(() => new Kafka(client).producer({ ...KAFKA_PRODUCER_CONFIG, retry: { retries: 0 } })).toThrow(
      /retries/,
    );
  });
});

describe('Kafka sink through the relay', () => {
  let ctx: TestContext;
  const relays: Relay[] = [];

  const relayWith = async (producer: KafkaProducer) => {
    const relay = await startRelay({
      db: ctx.db,
      databaseUrl: ctx.databaseUrl,
      sinks: [createKafkaSink({ producer, sendTimeoutMs: 3000, retryBaseMs: 40 })],
      logger,
      leaseMs: 10_000,
      pollMs: 50,
    });
    relays.push(relay);
    return relay;
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    await registerSink(ctx.db, 'kafka');
  });
  afterAll(async () => {
    for (const relay of relays) await relay.stop();
    await ctx?.close();
  });

  it('produces topic = type, key = property id, ce_id = event id, value = the envelope, in order per property', async () => {
    const fake = fakeProducer();
    const relay = await relayWith(fake.producer);
    const hotel = (await createProperty(ctx.db)).id;
    const created = await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'k1' });
    const updated = await commitEvent(ctx.db, 'pms.inventory.updated', hotel, { nights: [] });
    const global = await commitEvent(ctx.db, 'pms.integration.sync.completed', null, { runs: 2 });
    await waitFor(() => (fake.sent.length >= 3 ? true : undefined));
    await relay.stop();

    for (const record of fake.sent) {
      expect(record.acks).toBe(-1);
      expect(record.messages).toHaveLength(1);
    }
    const byId = new Map(fake.sent.map((r) => [r.messages[0]!.headers.ce_id, r]));
    for (const event of [created, updated, global]) {
      const record = byId.get(event.id)!;
      expect(record.topic).toBe(event.type);
      expect(record.messages[0]!.key).toBe(event.subject);
      expect(JSON.parse(record.messages[0]!.value)).toEqual(event);
      expect(record.messages[0]!.headers).toEqual({
        ce_id: event.id,
        ce_type: event.type,
        ce_source: event.source,
        ce_specversion: '1.0',
        'content-type': 'application/cloudevents+json',
      });
    }
    const hotelOrder = fake.sent
      .filter((r) => r.messages[0]!.key === hotel)
      .map((r) => r.messages[0]!.headers.ce_id);
    expect(hotelOrder).toEqual([created.id, updated.id]);
    expect(fake.connects()).toBe(1);
  });

  it('keeps retrying while the broker refuses, then delivers everything in order', async () => {
    const fake = fakeProducer(4);
    const relay = await relayWith(fake.producer);
    const hotel = (await createProperty(ctx.db)).id;
    const events = [];
    for (let i = 0; i < 6; i++)
      events.push(await commitEvent(ctx.db, 'pms.reservation.modified', hotel, { i }));
    await waitFor(() => (fake.sent.length >= 6 ? true : undefined));
    await relay.stop();
    expect(fake.sent.map((r) => r.messages[0]!.headers.ce_id)).toEqual(events.map((e) => e.id));
  });

  it('with a real kafkajs producer and no broker, the lane fails and keeps its events for later', async () => {
    const port = await freePort();
    const relay = await relayWith(createKafkaProducer([`127.0.0.1:${port}`], 300, logger));
    const hotel = (await createProperty(ctx.db)).id;
    await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'waiting' });
    const lane = await waitFor(
      async () => {
        const row = await ctx.db
          .selectFrom('event_lane')
          .selectAll()
          .where('sink', '=', 'kafka')
          .where('property_id', '=', hotel)
          .executeTakeFirst();
        return row && row.attempts >= 1 ? row : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await relay.stop();
    expect(lane.last_error).toBeTruthy();
    expect(Number(lane.delivered_position)).toBeLessThan(Number(lane.head_position));
  });
});
