import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  call,
  createTestContext,
  TEST_METRICS_TOKEN,
  type TestContext,
} from '../../../../test/helpers/context.ts';
import { commitEvent } from '../../../../test/helpers/events.ts';
import { createProperty, userWithToken } from '../../../../test/helpers/factories.ts';
import { registerSink, sequencePending } from './sequencer.repository.ts';

/** The value of one series in a Prometheus text scrape, or undefined when it is absent. */
function series(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function scrape(ctx: TestContext): Promise<string> {
  const response = await ctx.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
  });
  expect(response.statusCode).toBe(200);
  return response.body;
}

/** Backdates an event, so a lag measured from it has a known lower bound. */
async function backdate(ctx: TestContext, eventId: string, seconds: number): Promise<void> {
  await sql`UPDATE outbox_event SET created_at = now() - ${seconds} * interval '1 second' WHERE id = ${eventId}`.execute(
    ctx.db,
  );
}

describe('GET /metrics: event delivery backlog', () => {
  let ctx: TestContext;
  let hotelA: string;
  let hotelB: string;
  let root: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    hotelA = (await createProperty(ctx.db)).id;
    hotelB = (await createProperty(ctx.db)).id;
    root = (await userWithToken(ctx.app, ctx.db, { role: 'SUPER_ADMIN' })).token;
    await registerSink(ctx.db, 'kafka');
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('counts committed events without a position and the age of the oldest', async () => {
    const old = await commitEvent(ctx.db, 'pms.reservation.created', hotelA, { reservation_id: 'a1' });
    await commitEvent(ctx.db, 'pms.reservation.created', hotelB, { reservation_id: 'b1' });
    await backdate(ctx, old.id, 120);

    const text = await scrape(ctx);
    expect(series(text, 'pms_outbox_unsequenced_events')).toBe(2);
    expect(series(text, 'pms_outbox_sequencing_lag_seconds')).toBeGreaterThanOrEqual(120);
    expect(series(text, 'pms_outbox_sequencing_lag_seconds')).toBeLessThan(180);
    // No lane exists before the sequencer has run: no per-sink series yet.
    expect(series(text, 'pms_event_lanes_behind', '{sink="kafka"}')).toBeUndefined();
  });

  it('reports per sink the lanes behind and the age of the oldest undelivered event', async () => {
    expect((await sequencePending(ctx.db, { wait: true, batch: 100 })).sequenced).toBe(2);

    const text = await scrape(ctx);
    expect(series(text, 'pms_outbox_unsequenced_events')).toBe(0);
    expect(series(text, 'pms_outbox_sequencing_lag_seconds')).toBe(0);
    expect(series(text, 'pms_event_lanes_behind', '{sink="kafka"}')).toBe(2);
    expect(series(text, 'pms_event_lanes_failing', '{sink="kafka"}')).toBe(0);
    expect(series(text, 'pms_event_delivery_lag_seconds', '{sink="kafka"}')).toBeGreaterThanOrEqual(120);
  });

  it('counts a lane whose last delivery failed', async () => {
    await sql`UPDATE event_lane SET failing_since = now() WHERE sink = 'kafka' AND property_id = ${hotelA}`.execute(
      ctx.db,
    );
    expect(series(await scrape(ctx), 'pms_event_lanes_failing', '{sink="kafka"}')).toBe(1);
  });

  it('reads zero lag once every lane has delivered up to its head', async () => {
    await sql`UPDATE event_lane SET delivered_position = head_position, failing_since = NULL`.execute(ctx.db);
    const text = await scrape(ctx);
    expect(series(text, 'pms_event_lanes_behind', '{sink="kafka"}')).toBe(0);
    expect(series(text, 'pms_event_lanes_failing', '{sink="kafka"}')).toBe(0);
    expect(series(text, 'pms_event_delivery_lag_seconds', '{sink="kafka"}')).toBe(0);
  });

  it("measures a webhook's lag from the oldest event of the types it subscribed to", async () => {
    const created = await call(ctx.app, 'POST', '/api/webhooks/', {
      token: root,
      body: {
        property_id: hotelA,
        url: 'https://hooks.example.test/hook',
        event_types: ['pms.reservation.created'],
      },
    });
    expect(created.status).toBe(201);
    // An older event the subscription does not want, then a newer one it does.
    const unwanted = await commitEvent(ctx.db, 'pms.inventory.updated', hotelA, { nights: [] });
    const wanted = await commitEvent(ctx.db, 'pms.reservation.created', hotelA, { reservation_id: 'a2' });
    await backdate(ctx, unwanted.id, 600);
    await backdate(ctx, wanted.id, 60);
    await sequencePending(ctx.db, { wait: true, batch: 100 });

    const text = await scrape(ctx);
    expect(series(text, 'pms_event_lanes_behind', '{sink="webhook"}')).toBe(1);
    const lag = series(text, 'pms_event_delivery_lag_seconds', '{sink="webhook"}')!;
    expect(lag).toBeGreaterThanOrEqual(60);
    expect(lag).toBeLessThan(600);
    // The broker lane delivers every type, so its oldest pending event is the unwanted one.
    expect(series(text, 'pms_event_delivery_lag_seconds', '{sink="kafka"}')).toBeGreaterThanOrEqual(600);
  });
});

describe('GET /metrics while the database is gone', () => {
  it('still answers with the process metrics, the backlog unknown', async () => {
    const ctx = await createTestContext();
    try {
      expect(series(await scrape(ctx), 'pms_outbox_unsequenced_events')).toBe(0);
      const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
      await admin.connect();
      await admin.query(`DROP DATABASE ${new URL(ctx.databaseUrl).pathname.slice(1)} WITH (FORCE)`);
      await admin.end();

      const text = await scrape(ctx);
      expect(series(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
      // Unknown, not zero: an alert on the backlog must not read "all delivered".
      expect(series(text, 'pms_outbox_unsequenced_events')).toBeNaN();
      expect(series(text, 'pms_outbox_sequencing_lag_seconds')).toBeNaN();
      expect(text).not.toMatch(/^pms_event_delivery_lag_seconds\{/m);
    } finally {
      await ctx.close();
    }
  });
});
