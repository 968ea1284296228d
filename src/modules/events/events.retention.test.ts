import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext, workerDeps } from '../../../test/helpers/context.ts';
import { commitEvent } from '../../../test/helpers/events.ts';
import { createProperty, userWithToken } from '../../../test/helpers/factories.ts';
import { isBeforeRetention, pruneOutbox, startOutboxRetention } from './events.retention.ts';
import type { EventType } from './outbox.ts';
import { registerSink, sequencePending } from './relay/sequencer.repository.ts';
import { insertDelivery } from './webhooks/webhook.repository.ts';

const DAY_MS = 86_400_000;
const cutoff = () => new Date(Date.now() - 90 * DAY_MS);

describe('outbox retention', () => {
  let ctx: TestContext;
  let root: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    root = (await userWithToken(ctx.app, ctx.db, { role: 'SUPER_ADMIN' })).token;
  });
  afterAll(async () => {
    await ctx?.close();
  });

  /** Commits events of a property, one per type, and numbers them as the relay would. */
  async function commitAll(propertyId: string, types: EventType[], options: { sequence?: boolean } = {}) {
    const ids: string[] = [];
    for (const type of types) ids.push((await commitEvent(ctx.db, type, propertyId)).id);
    if (options.sequence !== false) await sequencePending(ctx.db, { wait: true, batch: 1000 });
    return ids;
  }

  /** Makes an event `days` old: its row's time and its UUIDv7 id (and the envelope's) as if minted then. */
  async function backdate(id: string, days: number): Promise<string> {
    const old = uuidv7({ msecs: Date.now() - days * DAY_MS });
    await sql`
      UPDATE outbox_event
      SET id = ${old}, created_at = now() - ${days} * interval '1 day',
          envelope = jsonb_set(envelope, '{id}', to_jsonb(${old}::text))
      WHERE id = ${id}`.execute(ctx.db);
    return old;
  }

  /** Commits and numbers events, then makes each `days` old; returns their (new) ids. */
  async function commitOld(propertyId: string, types: EventType[], days = 100): Promise<string[]> {
    const old: string[] = [];
    for (const id of await commitAll(propertyId, types)) old.push(await backdate(id, days));
    return old;
  }

  /** A webhook subscription of the property to one event type (its lane starts at the current position). */
  const subscribe = (propertyId: string, type: EventType) =>
    call(ctx.app, 'POST', '/api/webhooks/', {
      token: root,
      body: { property_id: propertyId, url: 'https://hooks.example.test/pms', event_types: [type] },
    });

  const kept = async (ids: string[]) =>
    (await ctx.db.selectFrom('outbox_event').select('id').where('id', 'in', ids).execute())
      .map((r) => r.id)
      .sort();

  const positionOf = async (id: string) =>
    Number(
      (
        await ctx.db
          .selectFrom('outbox_event')
          .select('position')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).position,
    );

  it('removes sequenced events older than the window, in batches, and keeps newer and unsequenced ones', async () => {
    const property = (await createProperty(ctx.db)).id;
    // In position order, as time made them: the aged events first.
    const aged = await commitAll(property, [
      'pms.reservation.created',
      'pms.inventory.updated',
      'pms.reservation.cancelled',
    ]);
    const fresh = await commitAll(property, ['pms.reservation.created', 'pms.inventory.updated']);
    const old = [await backdate(aged[0]!, 91), await backdate(aged[1]!, 120), await backdate(aged[2]!, 400)];
    // Committed long ago by the clock, but never numbered: no lane can have delivered it yet.
    const [pending] = await commitAll(property, ['pms.rates.updated'], { sequence: false });
    const unsequenced = await backdate(pending!, 200);
    const recent = await backdate(fresh[1]!, 89);

    // Batches of 2: the first two aged events, then the third with the first fresh one, where the walk stops.
    expect(await pruneOutbox(ctx.db, cutoff(), 2)).toBe(3);
    expect(await kept([...fresh, recent, ...old, unsequenced])).toEqual(
      [fresh[0]!, recent, unsequenced].sort(),
    );
    expect(await pruneOutbox(ctx.db, cutoff(), 2)).toBe(0);
    // The later tests number events: this one would join them.
    await sql`DELETE FROM outbox_event WHERE id = ${unsequenced}`.execute(ctx.db);
  });

  it('keeps what an active lane of an enabled broker sink has still to deliver, until it has', async () => {
    await registerSink(ctx.db, 'nats');
    try {
      const property = (await createProperty(ctx.db)).id;
      const old = await commitOld(property, [
        'pms.reservation.created',
        'pms.inventory.updated',
        'pms.reservation.cancelled',
      ]);

      expect(await pruneOutbox(ctx.db, cutoff())).toBe(0);
      expect(await kept(old)).toEqual([...old].sort());

      // The lane delivered the first two: they may go, the third waits.
      await sql`UPDATE event_lane SET delivered_position = ${await positionOf(old[1]!)}
                WHERE sink = 'nats' AND property_id = ${property}`.execute(ctx.db);
      expect(await pruneOutbox(ctx.db, cutoff())).toBe(2);
      expect(await kept(old)).toEqual([old[2]!]);

      // A sink retired for good no longer holds anything back.
      await sql`UPDATE event_sink SET enabled = false WHERE name = 'nats'`.execute(ctx.db);
      expect(await pruneOutbox(ctx.db, cutoff())).toBe(1);
      expect(await kept(old)).toEqual([]);
    } finally {
      await sql`DELETE FROM event_lane WHERE sink = 'nats'`.execute(ctx.db);
      await sql`DELETE FROM event_sink WHERE name = 'nats'`.execute(ctx.db);
    }
  });

  it('a webhook lane holds back only the events up to its head, and nothing once its subscription is off', async () => {
    const property = (await createProperty(ctx.db)).id;
    const created = await subscribe(property, 'pms.reservation.created');
    expect(created.status).toBe(201);
    const old = await commitOld(property, [
      'pms.reservation.created',
      'pms.inventory.updated',
      'pms.reservation.created',
      'pms.inventory.updated',
    ]);

    // The lane's head is the last event it subscribed to: the one after it is nobody's to deliver.
    expect(await pruneOutbox(ctx.db, cutoff())).toBe(1);
    expect(await kept(old)).toEqual(old.slice(0, 3).sort());

    const disabled = await call(ctx.app, 'PATCH', `/api/webhooks/${created.body.id}/`, {
      token: root,
      body: { enabled: false },
    });
    expect(disabled.status).toBe(200);
    expect(await pruneOutbox(ctx.db, cutoff())).toBe(3);
    expect(await kept(old)).toEqual([]);
  });

  it('answers 410 EVENT_EXPIRED for an after= the history no longer holds, and 404 for an unknown recent id', async () => {
    const property = (await createProperty(ctx.db)).id;
    const [first, second] = await commitAll(property, ['pms.reservation.created', 'pms.inventory.updated']);
    const gone = await backdate(first!, 120);
    expect(await pruneOutbox(ctx.db, cutoff())).toBe(1);

    const expired = await call(ctx.app, 'GET', `/api/events/?after=${gone}`, { token: root });
    expect(expired.status).toBe(410);
    expect(expired.body.code).toBe('EVENT_EXPIRED');
    expect(expired.body.detail).toContain('90 days');

    const unknown = await call(ctx.app, 'GET', `/api/events/?after=${uuidv7()}`, { token: root });
    expect(unknown.status).toBe(404);

    // Replaying from the start begins at the oldest event kept.
    const all = await call(ctx.app, 'GET', `/api/events/?property_id=${property}`, { token: root });
    expect(all.body.results.map((e: { id: string }) => e.id)).toEqual([second]);
  });

  it('redelivering a logged attempt whose event was removed is 410 EVENT_EXPIRED', async () => {
    const property = (await createProperty(ctx.db)).id;
    const created = await subscribe(property, 'pms.rates.updated');
    const [sent] = await commitAll(property, ['pms.rates.updated']);
    // Delivered (the lane is past it) and logged, then older than the window.
    await sql`UPDATE event_lane SET delivered_position = head_position WHERE lane_key = ${created.body.id}`.execute(
      ctx.db,
    );
    const old = await backdate(sent!, 100);
    const delivery = await insertDelivery(ctx.db, {
      subscription_id: created.body.id,
      property_id: property,
      event_id: old,
      event_type: 'pms.rates.updated',
      attempt: 1,
      trigger: 'automatic',
      status: 'succeeded',
      response_status: 204,
      error: null,
      duration_ms: 2,
    });
    expect(await pruneOutbox(ctx.db, cutoff())).toBe(1);

    const response = await call(
      ctx.app,
      'POST',
      `/api/webhooks/${created.body.id}/deliveries/${delivery.id}/redeliver/`,
      { token: root },
    );
    expect(response.status).toBe(410);
    expect(response.body.code).toBe('EVENT_EXPIRED');
  });

  it('the worker prunes at start with EVENT_RETENTION_DAYS, and not at all with 0', async () => {
    const property = (await createProperty(ctx.db)).id;
    const old = await commitOld(property, ['pms.reservation.created', 'pms.inventory.updated']);
    const off = await startOutboxRetention(workerDeps(ctx, { ...ctx.config, eventRetentionDays: 0 }));
    await off();
    expect(await kept(old)).toEqual([...old].sort());

    // A window of 120 days keeps events 100 days old; 90 removes them. Stopping waits for the first run.
    const wide = await startOutboxRetention(workerDeps(ctx, { ...ctx.config, eventRetentionDays: 120 }));
    await wide();
    expect(await kept(old)).toEqual([...old].sort());
    const stop = await startOutboxRetention(workerDeps(ctx, { ...ctx.config, eventRetentionDays: 90 }));
    await stop();
    expect(await kept(old)).toEqual([]);
  });

  it('tells an expired id by its UUIDv7 time, only when a window is set', () => {
    const now = Date.now();
    const old = uuidv7({ msecs: now - 91 * DAY_MS });
    expect(isBeforeRetention(old, 90, now)).toBe(true);
    expect(isBeforeRetention(uuidv7({ msecs: now - 89 * DAY_MS }), 90, now)).toBe(false);
    expect(isBeforeRetention(old, 0, now)).toBe(false);
    // A random (version 4) id carries no time.
    expect(isBeforeRetention('00000000-0000-4000-8000-000000000000', 90, now)).toBe(false);
  });
});
