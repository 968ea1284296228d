import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createProperty, createRoomType, unique, userWithToken } from '../../../test/helpers/factories.ts';

let t: TestContext;
let hotel: string;
let otherHotel: string;
let roomType: string;
let superToken: string;
let adminToken: string;
let staffToken: string;
let otherAdminToken: string;

beforeAll(async () => {
  t = await createTestContext();
  hotel = (await createProperty(t.db, { currency: 'CHF' })).id;
  otherHotel = (await createProperty(t.db)).id;
  roomType = (await createRoomType(t.db, hotel)).id;
  superToken = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
  adminToken = (await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [hotel] })).token;
  staffToken = (await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [hotel] })).token;
  otherAdminToken = (await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [otherHotel] }))
    .token;
});
afterAll(() => t.close());

async function createPlan(body: Record<string, unknown>, token = adminToken) {
  const res = await call(t.app, 'POST', '/api/rates/plans/', {
    token,
    body: { property_id: hotel, code: unique('BAR'), name: 'Best available', ...body },
  });
  if (res.status !== 201) throw new Error(`plan not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const planCount = async () =>
  Number(
    (
      await t.db
        .selectFrom('rate_plan')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('rate plan CRUD', () => {
  it('creates a plan with the property currency by default, audited and announced', async () => {
    const res = await call(t.app, 'POST', '/api/rates/plans/', {
      token: adminToken,
      body: {
        property_id: hotel,
        code: 'BAR',
        name: 'Best available rate',
        cancellation_policy: { free_until_days: 2, penalty: 'first_night' },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      property_id: hotel,
      code: 'BAR',
      currency: 'CHF',
      parent_rate_plan_id: null,
      offset_type: null,
      offset_value: null,
      cancellation_policy: { free_until_days: 2, penalty: 'first_night' },
      is_active: true,
    });
    const audit = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('entity_id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({
      action: 'rate_plan.created',
      property_id: hotel,
      actor_role: 'PROPERTY_ADMIN',
    });
    const events = await t.db
      .selectFrom('outbox_event')
      .select('envelope')
      .where('type', '=', 'pms.rates.updated')
      .where('property_id', '=', hotel)
      .execute();
    expect(events.map((e) => (e.envelope as any).data.rate_plan_id)).toContain(res.body.id);
  });

  it('reads, updates and deletes a plan', async () => {
    const plan = await createPlan({ currency: 'EUR' });
    expect(plan.currency).toBe('EUR');
    const got = await call(t.app, 'GET', `/api/rates/plans/${plan.id}/`, { token: staffToken });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(plan);

    const patched = await call(t.app, 'PATCH', `/api/rates/plans/${plan.id}/`, {
      token: adminToken,
      body: {
        name: 'Renamed',
        cancellation_policy: { free_until_days: null, penalty: 'percent', penalty_percent: '50' },
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Renamed',
      code: plan.code,
      cancellation_policy: { free_until_days: null, penalty: 'percent', penalty_percent: '50.00' },
    });
    const audit = await t.db
      .selectFrom('audit_log')
      .select('diff')
      .where('entity_id', '=', plan.id)
      .where('action', '=', 'rate_plan.updated')
      .executeTakeFirstOrThrow();
    expect(audit.diff).toMatchObject({ name: ['Best available', 'Renamed'] });

    const deleted = await call(t.app, 'DELETE', `/api/rates/plans/${plan.id}/`, { token: adminToken });
    expect(deleted.status).toBe(204);
    const gone = await call(t.app, 'GET', `/api/rates/plans/${plan.id}/`, { token: adminToken });
    expect(gone.status).toBe(404);
  });

  it('lists a property’s plans with cursor pagination', async () => {
    const property = (await createProperty(t.db)).id;
    const { token } = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [property] });
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      codes.push((await createPlan({ property_id: property }, superToken)).code);
    }
    const first = await call(t.app, 'GET', `/api/rates/plans/?property_id=${property}&limit=2`, { token });
    expect(first.status).toBe(200);
    expect(first.body.results).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call(
      t.app,
      'GET',
      `/api/rates/plans/?property_id=${property}&limit=2&cursor=${first.body.next_cursor}`,
      { token },
    );
    expect(second.body.results).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    expect([...first.body.results, ...second.body.results].map((p: any) => p.code)).toEqual(codes);
    // Without a filter, a scoped user sees only its own properties' plans.
    const all = await call(t.app, 'GET', '/api/rates/plans/?limit=500', { token });
    expect(all.body.results.every((p: any) => p.property_id === property)).toBe(true);
  });

  it('refuses a duplicate code in the same property with 409, but allows it in another', async () => {
    const plan = await createPlan({});
    const again = await call(t.app, 'POST', '/api/rates/plans/', {
      token: adminToken,
      body: { property_id: hotel, code: plan.code, name: 'Twin' },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('CONFLICT');
    const elsewhere = await call(t.app, 'POST', '/api/rates/plans/', {
      token: superToken,
      body: { property_id: otherHotel, code: plan.code, name: 'Twin' },
    });
    expect(elsewhere.status).toBe(201);
    const other = await createPlan({});
    const rename = await call(t.app, 'PATCH', `/api/rates/plans/${other.id}/`, {
      token: adminToken,
      body: { code: plan.code },
    });
    expect(rename.status).toBe(409);
  });

  it('answers bad input with 400 and writes nothing', async () => {
    const parent = await createPlan({});
    const before = await planCount();
    const bodies: Record<string, unknown>[] = [
      {},
      { property_id: hotel, code: 'X', name: 'x', extra: true },
      { property_id: hotel, code: 'has space', name: 'x' },
      { property_id: hotel, code: 'X', name: 'x', currency: 'eur' },
      {
        property_id: hotel,
        code: 'X',
        name: 'x',
        cancellation_policy: { free_until_days: -1, penalty: 'none' },
      },
      { property_id: hotel, code: 'X', name: 'x', cancellation_policy: { free_until_days: 2 } },
      {
        property_id: hotel,
        code: 'X',
        name: 'x',
        cancellation_policy: { free_until_days: 2, penalty: 'percent' },
      },
      {
        property_id: hotel,
        code: 'X',
        name: 'x',
        cancellation_policy: { free_until_days: 2, penalty: 'percent', penalty_percent: '150' },
      },
      {
        property_id: hotel,
        code: 'X',
        name: 'x',
        cancellation_policy: { free_until_days: 2, penalty: 'full_stay', penalty_percent: '10' },
      },
      {
        property_id: hotel,
        code: 'X',
        name: 'x',
        cancellation_policy: { free_until_days: null, penalty: 'none' },
      },
      {
        property_id: hotel,
        code: 'X',
        name: 'x',
        cancellation_policy: { free_until_days: 1, penalty: 'none', x: 1 },
      },
      { property_id: hotel, code: 'X', name: 'x', offset_type: 'percent', offset_value: '-10.00' },
      { property_id: hotel, code: 'X', name: 'x', parent_rate_plan_id: parent.id },
      { property_id: hotel, code: 'X', name: 'x', parent_rate_plan_id: parent.id, offset_type: 'percent' },
      {
        property_id: hotel,
        code: 'X',
        name: 'x',
        parent_rate_plan_id: parent.id,
        offset_type: 'percent',
        offset_value: '-150.00',
      },
      {
        property_id: hotel,
        code: 'X',
        name: 'x',
        parent_rate_plan_id: parent.id,
        offset_type: 'amount',
        offset_value: 10,
      },
      {
        property_id: hotel,
        code: 'X',
        name: 'x',
        parent_rate_plan_id: parent.id,
        offset_type: 'amount',
        offset_value: '1.234',
      },
    ];
    for (const body of bodies) {
      const res = await call(t.app, 'POST', '/api/rates/plans/', { token: adminToken, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
    }
    const patch = await call(t.app, 'PATCH', `/api/rates/plans/${parent.id}/`, {
      token: adminToken,
      body: {},
    });
    expect(patch.status).toBe(400);
    expect(await planCount()).toBe(before);
  });

  it('scopes plans to the user’s properties', async () => {
    const plan = await createPlan({});
    const staffWrite = await call(t.app, 'POST', '/api/rates/plans/', {
      token: staffToken,
      body: { property_id: hotel, code: unique('S'), name: 'Staff plan' },
    });
    expect(staffWrite.status).toBe(403);
    expect(
      (await call(t.app, 'PATCH', `/api/rates/plans/${plan.id}/`, { token: staffToken, body: { name: 'n' } }))
        .status,
    ).toBe(403);
    expect((await call(t.app, 'DELETE', `/api/rates/plans/${plan.id}/`, { token: staffToken })).status).toBe(
      403,
    );

    expect(
      (await call(t.app, 'GET', `/api/rates/plans/${plan.id}/`, { token: otherAdminToken })).status,
    ).toBe(404);
    expect(
      (
        await call(t.app, 'PATCH', `/api/rates/plans/${plan.id}/`, {
          token: otherAdminToken,
          body: { name: 'n' },
        })
      ).status,
    ).toBe(404);
    expect(
      (await call(t.app, 'DELETE', `/api/rates/plans/${plan.id}/`, { token: otherAdminToken })).status,
    ).toBe(404);
    const foreignCreate = await call(t.app, 'POST', '/api/rates/plans/', {
      token: otherAdminToken,
      body: { property_id: hotel, code: unique('F'), name: 'Foreign' },
    });
    expect(foreignCreate.status).toBe(404);
    const list = await call(t.app, 'GET', `/api/rates/plans/?property_id=${hotel}`, {
      token: otherAdminToken,
    });
    expect(list.body.results).toEqual([]);
    expect((await call(t.app, 'GET', `/api/rates/plans/${plan.id}/`)).status).toBe(401);
  });
});

describe('derived plans', () => {
  it('takes the parent’s currency and refuses another one', async () => {
    const parent = await createPlan({ currency: 'USD' });
    const child = await createPlan({
      parent_rate_plan_id: parent.id,
      offset_type: 'percent',
      offset_value: '-10',
    });
    expect(child).toMatchObject({ currency: 'USD', offset_type: 'percent', offset_value: '-10.00' });
    const wrong = await call(t.app, 'POST', '/api/rates/plans/', {
      token: adminToken,
      body: {
        property_id: hotel,
        code: unique('D'),
        name: 'd',
        currency: 'CHF',
        parent_rate_plan_id: parent.id,
        offset_type: 'amount',
        offset_value: '5',
      },
    });
    expect(wrong.status).toBe(400);
    const recurrency = await call(t.app, 'PATCH', `/api/rates/plans/${parent.id}/`, {
      token: adminToken,
      body: { currency: 'GBP' },
    });
    expect(recurrency.status).toBe(409);
  });

  it('refuses a parent of another property, itself, a cycle, or a chain deeper than three', async () => {
    const foreign = await call(t.app, 'POST', '/api/rates/plans/', {
      token: superToken,
      body: { property_id: otherHotel, code: unique('F'), name: 'Foreign' },
    });
    const derive = (parent: string) => ({
      parent_rate_plan_id: parent,
      offset_type: 'amount',
      offset_value: '-1.00',
    });
    const crossProperty = await call(t.app, 'POST', '/api/rates/plans/', {
      token: superToken,
      body: { property_id: hotel, code: unique('X'), name: 'x', ...derive(foreign.body.id) },
    });
    expect(crossProperty.status).toBe(400);

    const a = await createPlan({});
    const b = await createPlan(derive(a.id));
    const c = await createPlan(derive(b.id));
    const d = await createPlan(derive(c.id));
    const tooDeep = await call(t.app, 'POST', '/api/rates/plans/', {
      token: adminToken,
      body: { property_id: hotel, code: unique('E'), name: 'e', ...derive(d.id) },
    });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.detail).toMatch(/at most 3/);

    const self = await call(t.app, 'PATCH', `/api/rates/plans/${b.id}/`, {
      token: adminToken,
      body: { parent_rate_plan_id: b.id },
    });
    expect(self.status).toBe(400);
    const cycle = await call(t.app, 'PATCH', `/api/rates/plans/${a.id}/`, {
      token: adminToken,
      body: derive(c.id),
    });
    expect(cycle.status).toBe(400);
    // Re-parenting b under a fresh root keeps the chain at three levels: allowed.
    const root = await createPlan({});
    const moved = await call(t.app, 'PATCH', `/api/rates/plans/${b.id}/`, {
      token: adminToken,
      body: { parent_rate_plan_id: root.id },
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      parent_rate_plan_id: root.id,
      offset_type: 'amount',
      offset_value: '-1.00',
    });
    // Hanging b's subtree (three levels) under another derived plan would make four.
    const e = await createPlan(derive(root.id));
    const deeper = await call(t.app, 'PATCH', `/api/rates/plans/${b.id}/`, {
      token: adminToken,
      body: { parent_rate_plan_id: e.id },
    });
    expect(deeper.status).toBe(400);
  });

  it('lets only one of two concurrent re-parentings that would close a cycle succeed', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await createPlan({});
      const b = await createPlan({});
      const [ab, ba] = await Promise.all([
        call(t.app, 'PATCH', `/api/rates/plans/${a.id}/`, {
          token: adminToken,
          body: { parent_rate_plan_id: b.id, offset_type: 'percent', offset_value: '5' },
        }),
        call(t.app, 'PATCH', `/api/rates/plans/${b.id}/`, {
          token: adminToken,
          body: { parent_rate_plan_id: a.id, offset_type: 'percent', offset_value: '5' },
        }),
      ]);
      expect([ab.status, ba.status].sort()).toEqual([200, 400]);
    }
  });

  it('turns a base plan derived only once its stored amounts are cleared', async () => {
    const parent = await createPlan({});
    const plan = await createPlan({});
    const set = await call(t.app, 'PUT', '/api/rates/daily/', {
      token: adminToken,
      body: {
        rate_plan_id: plan.id,
        room_type_id: roomType,
        start_date: '2031-03-01',
        end_date: '2031-03-03',
        amount: '80.00',
        min_stay: 2,
      },
    });
    expect(set.status).toBe(200);
    const derive = { parent_rate_plan_id: parent.id, offset_type: 'percent', offset_value: '-5' };
    const refused = await call(t.app, 'PATCH', `/api/rates/plans/${plan.id}/`, {
      token: adminToken,
      body: derive,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/3 nights/);
    const cleared = await call(t.app, 'PUT', '/api/rates/daily/', {
      token: adminToken,
      body: {
        rate_plan_id: plan.id,
        room_type_id: roomType,
        start_date: '2031-03-01',
        end_date: '2031-03-03',
        amount: null,
      },
    });
    expect(cleared.body.changed).toBe(3);
    const accepted = await call(t.app, 'PATCH', `/api/rates/plans/${plan.id}/`, {
      token: adminToken,
      body: derive,
    });
    expect(accepted.status).toBe(200);
    // Back to a base plan: the offset goes with the parent.
    const detached = await call(t.app, 'PATCH', `/api/rates/plans/${plan.id}/`, {
      token: adminToken,
      body: { parent_rate_plan_id: null },
    });
    expect(detached.body).toMatchObject({ parent_rate_plan_id: null, offset_type: null, offset_value: null });
  });
});

describe('deleting a plan', () => {
  it('is refused while a derived plan or a reservation uses it', async () => {
    const parent = await createPlan({});
    const child = await createPlan({
      parent_rate_plan_id: parent.id,
      offset_type: 'amount',
      offset_value: '-3',
    });
    const refused = await call(t.app, 'DELETE', `/api/rates/plans/${parent.id}/`, { token: adminToken });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('RESOURCE_IN_USE');

    const reservation = await t.db
      .insertInto('reservation')
      .values({
        property_id: hotel,
        confirmation_code: unique('C'),
        status: 'confirmed',
        check_in: '2031-01-01',
        check_out: '2031-01-02',
        total_amount: '0',
        currency: 'CHF',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto('reservation_room')
      .values({
        reservation_id: reservation.id,
        property_id: hotel,
        room_type_id: roomType,
        rate_plan_id: child.id,
        amount: '0',
        nightly_prices: JSON.stringify([]),
      })
      .execute();
    const inUse = await call(t.app, 'DELETE', `/api/rates/plans/${child.id}/`, { token: adminToken });
    expect(inUse.status).toBe(409);
    expect(inUse.body.code).toBe('RESOURCE_IN_USE');
    expect(inUse.body.detail).toMatch(/1 reservations/);
    expect((await call(t.app, 'GET', `/api/rates/plans/${child.id}/`, { token: adminToken })).status).toBe(
      200,
    );
  });

  it('removes the plan’s daily rates with it', async () => {
    const plan = await createPlan({});
    await call(t.app, 'PUT', '/api/rates/daily/', {
      token: adminToken,
      body: {
        rate_plan_id: plan.id,
        room_type_id: roomType,
        start_date: '2031-05-01',
        end_date: '2031-05-02',
        amount: '50',
      },
    });
    expect((await call(t.app, 'DELETE', `/api/rates/plans/${plan.id}/`, { token: superToken })).status).toBe(
      204,
    );
    const left = await t.db
      .selectFrom('daily_rate')
      .select('date')
      .where('rate_plan_id', '=', plan.id)
      .execute();
    expect(left).toEqual([]);
  });
});
