import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookingWorld, reservationBody } from '../../../test/booking/world.ts';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { userWithToken } from '../../../test/helpers/factories.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(() => t.close());

describe('GET /api/audit/', () => {
  it("lists an administrator's properties only, newest first, with filters and a cursor", async () => {
    const mine = await bookingWorld(t);
    const theirs = await bookingWorld(t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(t.app, 'POST', '/api/reservations/create/', {
        token: mine.staff.token,
        body: reservationBody(mine),
      });
      ids.push(res.body.id);
    }
    await call(t.app, 'POST', '/api/reservations/create/', {
      token: theirs.staff.token,
      body: reservationBody(theirs),
    });

    const list = (query: string, token = mine.admin.token) =>
      call(t.app, 'GET', `/api/audit/?${query}`, { token });
    const all = await list('entity_type=reservation');
    expect(all.status).toBe(200);
    expect(all.body.results.map((r: any) => r.entity_id)).toEqual([...ids].reverse());
    expect(all.body.results.every((r: any) => r.property_id === mine.property.id)).toBe(true);

    const first = await list('entity_type=reservation&limit=2');
    expect(first.body.results).toHaveLength(2);
    const second = await list(`entity_type=reservation&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.results.map((r: any) => r.entity_id)).toEqual([ids[0]]);
    expect(second.body.next_cursor).toBeNull();

    expect((await list(`property_id=${theirs.property.id}`)).status).toBe(404);
    expect((await list('cursor=%%%')).status).toBe(400);
    expect((await list('', mine.staff.token)).status).toBe(403);

    const root = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
    const everything = await list(`property_id=${theirs.property.id}&entity_type=reservation`, root.token);
    expect(everything.body.results).toHaveLength(1);
    expect(everything.body.results[0]).toMatchObject({ action: 'reservation.created', actor_role: 'STAFF' });
  });
});
