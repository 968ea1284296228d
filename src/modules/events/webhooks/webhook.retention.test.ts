import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../../test/helpers/context.ts';
import { createProperty, userWithToken } from '../../../../test/helpers/factories.ts';
import { insertDelivery } from './webhook.repository.ts';
import { purgeDeliveryLog } from './webhook.service.ts';

const DAY_MS = 86_400_000;

describe('webhook delivery log retention', () => {
  let ctx: TestContext;
  let admin: string;
  const subscriptions: Array<{ id: string; propertyId: string }> = [];

  /** Logs one attempt for a subscription, `ageDays` old. */
  async function logAttempt(subscription: { id: string; propertyId: string }, ageDays: number) {
    const row = await insertDelivery(ctx.db, {
      subscription_id: subscription.id,
      property_id: subscription.propertyId,
      event_id: crypto.randomUUID(),
      event_type: 'pms.reservation.created',
      attempt: 1,
      trigger: 'automatic',
      status: 'succeeded',
      response_status: 204,
      error: null,
      duration_ms: 3,
    });
    await sql`UPDATE webhook_delivery SET created_at = now() - ${ageDays} * interval '1 day' WHERE id = ${row.id}`.execute(
      ctx.db,
    );
    return row.id;
  }

  const logged = async (subscriptionId: string) =>
    (
      await call(ctx.app, 'GET', `/api/webhooks/${subscriptionId}/deliveries/?limit=100`, { token: admin })
    ).body.results.map((d: { id: string }) => d.id);

  beforeAll(async () => {
    ctx = await createTestContext();
    admin = (await userWithToken(ctx.app, ctx.db, { role: 'SUPER_ADMIN' })).token;
    for (let i = 0; i < 2; i++) {
      const propertyId = (await createProperty(ctx.db)).id;
      const created = await call(ctx.app, 'POST', '/api/webhooks/', {
        token: admin,
        body: {
          property_id: propertyId,
          url: 'https://hooks.example.test/pms',
          event_types: ['pms.reservation.created'],
        },
      });
      expect(created.status).toBe(201);
      subscriptions.push({ id: created.body.id, propertyId });
    }
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('deletes every attempt older than the cut-off, across subscriptions and batches, and keeps the rest', async () => {
    const [first, second] = subscriptions as [(typeof subscriptions)[0], (typeof subscriptions)[0]];
    const kept = [await logAttempt(first, 1), await logAttempt(first, 29), await logAttempt(second, 0)];
    for (const age of [31, 45, 60, 90, 400]) await logAttempt(first, age);
    for (const age of [31, 32]) await logAttempt(second, age);

    // A batch of 2 makes the first subscription take three rounds (2 + 2 + 1).
    expect(await purgeDeliveryLog(ctx.db, new Date(Date.now() - 30 * DAY_MS), 2)).toBe(7);

    expect(new Set(await logged(first.id))).toEqual(new Set(kept.slice(0, 2)));
    expect(await logged(second.id)).toEqual([kept[2]]);
  });

  it('finds nothing to delete on a second run', async () => {
    expect(await purgeDeliveryLog(ctx.db, new Date(Date.now() - 30 * DAY_MS), 2)).toBe(0);
    expect(await logged(subscriptions[0]!.id)).toHaveLength(2);
  });
});
