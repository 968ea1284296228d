import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../../test/helpers/context.ts';
import { createProperty, userWithToken } from '../../../../test/helpers/factories.ts';

describe('/api/webhooks/ CRUD', () => {
  let ctx: TestContext;
  let hotel: string;
  let otherHotel: string;
  let admin: string;
  let staff: string;
  let otherAdmin: string;

  const create = (token: string, body: Record<string, unknown>) =>
    call(ctx.app, 'POST', '/api/webhooks/', { token, body });
  const valid = () => ({
    property_id: hotel,
    url: 'https://hooks.example.test/pms',
    event_types: ['pms.reservation.created', 'pms.reservation.cancelled'],
    description: 'Channel manager',
  });

  beforeAll(async () => {
    ctx = await createTestContext();
    hotel = (await createProperty(ctx.db)).id;
    otherHotel = (await createProperty(ctx.db)).id;
    admin = (await userWithToken(ctx.app, ctx.db, { role: 'PROPERTY_ADMIN', propertyIds: [hotel] })).token;
    staff = (await userWithToken(ctx.app, ctx.db, { role: 'STAFF', propertyIds: [hotel] })).token;
    otherAdmin = (await userWithToken(ctx.app, ctx.db, { role: 'PROPERTY_ADMIN', propertyIds: [otherHotel] }))
      .token;
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('creates a subscription and shows its signing secret once, never again', async () => {
    const created = await create(admin, valid());
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...valid(), enabled: true, disabled_reason: null });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const fetched = await call(ctx.app, 'GET', `/api/webhooks/${created.body.id}/`, { token: admin });
    expect(fetched.status).toBe(200);
    expect(fetched.body).not.toHaveProperty('secret');
    const listed = await call(ctx.app, 'GET', '/api/webhooks/', { token: admin });
    expect(listed.body.results.map((w: { id: string }) => w.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
    const stored = await ctx.db
      .selectFrom('webhook_subscription')
      .select('secret_encrypted')
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(stored.secret_encrypted).not.toContain(created.body.secret.slice(6));

    const audit = await ctx.db
      .selectFrom('audit_log')
      .select(['action', 'diff'])
      .where('entity_id', '=', created.body.id)
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['webhook.created']);
    expect(JSON.stringify(audit)).not.toContain(created.body.secret);
  });

  it('updates, disables, re-enables, rotates the secret and deletes, auditing each change', async () => {
    const { body: webhook } = await create(admin, valid());
    const updated = await call(ctx.app, 'PATCH', `/api/webhooks/${webhook.id}/`, {
      token: admin,
      body: {
        url: 'https://hooks.example.test/other',
        event_types: ['pms.inventory.updated'],
        enabled: false,
      },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      url: 'https://hooks.example.test/other',
      event_types: ['pms.inventory.updated'],
      enabled: false,
      disabled_reason: 'Disabled by a user.',
    });
    const enabled = await call(ctx.app, 'PATCH', `/api/webhooks/${webhook.id}/`, {
      token: admin,
      body: { enabled: true },
    });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null, disabled_at: null });

    const rotated = await call(ctx.app, 'POST', `/api/webhooks/${webhook.id}/rotate-secret/`, {
      token: admin,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(webhook.secret);

    const deleted = await call(ctx.app, 'DELETE', `/api/webhooks/${webhook.id}/`, { token: admin });
    expect(deleted.status).toBe(204);
    expect((await call(ctx.app, 'GET', `/api/webhooks/${webhook.id}/`, { token: admin })).status).toBe(404);
    const lanes = await ctx.db
      .selectFrom('event_lane')
      .select('lane_key')
      .where('lane_key', '=', webhook.id)
      .execute();
    expect(lanes).toEqual([]);
    const audit = await ctx.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_id', '=', webhook.id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'webhook.created',
      'webhook.updated',
      'webhook.updated',
      'webhook.secret_rotated',
      'webhook.deleted',
    ]);
  });

  it('is for property administrators of the property only: STAFF 403, another property 404', async () => {
    const { body: webhook } = await create(admin, valid());
    expect((await create(staff, valid())).status).toBe(403);
    expect((await call(ctx.app, 'GET', '/api/webhooks/', { token: staff })).status).toBe(403);
    expect((await call(ctx.app, 'GET', `/api/webhooks/${webhook.id}/`, { token: staff })).status).toBe(403);

    expect((await create(otherAdmin, valid())).status).toBe(404);
    expect((await call(ctx.app, 'GET', `/api/webhooks/${webhook.id}/`, { token: otherAdmin })).status).toBe(
      404,
    );
    const patch = await call(ctx.app, 'PATCH', `/api/webhooks/${webhook.id}/`, {
      token: otherAdmin,
      body: { enabled: false },
    });
    expect(patch.status).toBe(404);
    expect(
      (await call(ctx.app, 'DELETE', `/api/webhooks/${webhook.id}/`, { token: otherAdmin })).status,
    ).toBe(404);
    const deliveries = await call(ctx.app, 'GET', `/api/webhooks/${webhook.id}/deliveries/`, {
      token: otherAdmin,
    });
    expect(deliveries.status).toBe(404);
    const list = await call(ctx.app, 'GET', '/api/webhooks/', { token: otherAdmin });
    expect(list.body.results).toEqual([]);
    expect((await call(ctx.app, 'GET', '/api/webhooks/')).status).toBe(401);
  });

  it('accepts only http(s) URLs without credentials, known event types, and changes nothing otherwise', async () => {
    const before = await ctx.db.selectFrom('webhook_subscription').select('id').execute();
    for (const url of [
      'ftp://hooks.example.test/x',
      'javascript:alert(1)//',
      'file:///etc/passwd',
      'https://user:pass@hooks.example.test/',
      'not a url at all',
    ]) {
      const response = await create(admin, { ...valid(), url });
      expect(response.status, url).toBe(400);
      expect(response.body.code).toBe('VALIDATION_ERROR');
    }
    expect((await create(admin, { ...valid(), event_types: ['pms.nope'] })).status).toBe(400);
    expect((await create(admin, { ...valid(), event_types: [] })).status).toBe(400);
    expect((await create(admin, { ...valid(), secret: 'mine' })).status).toBe(400);
    const { body: webhook } = await create(admin, valid());
    const bad = await call(ctx.app, 'PATCH', `/api/webhooks/${webhook.id}/`, {
      token: admin,
      body: { url: 'gopher://x.test/' },
    });
    expect(bad.status).toBe(400);
    const after = await ctx.db.selectFrom('webhook_subscription').select(['id', 'url']).execute();
    expect(after).toHaveLength(before.length + 1);
    expect(after.find((w) => w.id === webhook.id)?.url).toBe(valid().url);
  });
});
