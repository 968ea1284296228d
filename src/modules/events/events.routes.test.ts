import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { commitEvent } from '../../../test/helpers/events.ts';
import { createProperty, userWithToken } from '../../../test/helpers/factories.ts';
import type { CloudEvent } from './outbox.ts';

describe('GET /api/events/ (replay)', () => {
  let ctx: TestContext;
  let hotelA: string;
  let hotelB: string;
  let staffA: string;
  let root: string;
  const aEvents: CloudEvent[] = [];
  let bEvent: CloudEvent;
  let globalEvent: CloudEvent;

  beforeAll(async () => {
    ctx = await createTestContext();
    hotelA = (await createProperty(ctx.db)).id;
    hotelB = (await createProperty(ctx.db)).id;
    staffA = (await userWithToken(ctx.app, ctx.db, { role: 'STAFF', propertyIds: [hotelA] })).token;
    root = (await userWithToken(ctx.app, ctx.db, { role: 'SUPER_ADMIN' })).token;
    aEvents.push(await commitEvent(ctx.db, 'pms.reservation.created', hotelA, { reservation_id: 'a1' }));
    bEvent = await commitEvent(ctx.db, 'pms.reservation.created', hotelB, { reservation_id: 'b1' });
    aEvents.push(await commitEvent(ctx.db, 'pms.inventory.updated', hotelA, { nights: [] }));
    globalEvent = await commitEvent(ctx.db, 'pms.integration.sync.completed', null, { runs: 1 });
    aEvents.push(await commitEvent(ctx.db, 'pms.reservation.cancelled', hotelA, { reservation_id: 'a1' }));
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('returns the envelopes of the properties a user can see, in commit order', async () => {
    const response = await call(ctx.app, 'GET', '/api/events/', { token: staffA });
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual(aEvents);
    expect(response.body.has_more).toBe(false);
    expect(response.body.last_event_id).toBe(aEvents[2]!.id);
  });

  it('lets SUPER_ADMIN see every event, including those without a property', async () => {
    const response = await call(ctx.app, 'GET', '/api/events/', { token: root });
    expect(response.body.results.map((e: CloudEvent) => e.id)).toEqual([
      aEvents[0]!.id,
      bEvent.id,
      aEvents[1]!.id,
      globalEvent.id,
      aEvents[2]!.id,
    ]);
  });

  it('pages with after= and limit= until has_more is false', async () => {
    const ids: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const query = new URLSearchParams({ limit: '2', ...(after ? { after } : {}) });
      const page = await call(ctx.app, 'GET', `/api/events/?${query}`, { token: root });
      expect(page.status).toBe(200);
      ids.push(...page.body.results.map((e: CloudEvent) => e.id));
      after = page.body.last_event_id;
      if (!page.body.has_more) break;
    }
    expect(ids).toHaveLength(5);
    const empty = await call(ctx.app, 'GET', `/api/events/?after=${after}`, { token: root });
    expect(empty.body).toEqual({ results: [], last_event_id: after, has_more: false });
  });

  it('filters by types and property_id', async () => {
    const byType = await call(
      ctx.app,
      'GET',
      '/api/events/?types=pms.reservation.created,pms.reservation.cancelled',
      {
        token: staffA,
      },
    );
    expect(byType.body.results.map((e: CloudEvent) => e.id)).toEqual([aEvents[0]!.id, aEvents[2]!.id]);
    const byProperty = await call(ctx.app, 'GET', `/api/events/?property_id=${hotelB}`, { token: root });
    expect(byProperty.body.results.map((e: CloudEvent) => e.id)).toEqual([bEvent.id]);
  });

  it("hides another property's events: 404 for its property_id or one of its event ids", async () => {
    const property = await call(ctx.app, 'GET', `/api/events/?property_id=${hotelB}`, { token: staffA });
    expect(property.status).toBe(404);
    const after = await call(ctx.app, 'GET', `/api/events/?after=${bEvent.id}`, { token: staffA });
    expect(after.status).toBe(404);
    const global = await call(ctx.app, 'GET', `/api/events/?after=${globalEvent.id}`, { token: staffA });
    expect(global.status).toBe(404);
  });

  it('refuses bad input with 400 and no token with 401', async () => {
    const unknownType = await call(ctx.app, 'GET', '/api/events/?types=pms.nope', { token: root });
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.code).toBe('VALIDATION_ERROR');
    const badAfter = await call(ctx.app, 'GET', '/api/events/?after=not-a-uuid', { token: root });
    expect(badAfter.status).toBe(400);
    const unknownAfter = await call(ctx.app, 'GET', `/api/events/?after=${crypto.randomUUID()}`, {
      token: root,
    });
    expect(unknownAfter.status).toBe(404);
    const anonymous = await call(ctx.app, 'GET', '/api/events/');
    expect(anonymous.status).toBe(401);
  });
});
