import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BookingWorld, bookingWorld } from '../booking/world.ts';
import { call, createTestContext, type TestContext } from '../helpers/context.ts';
import { databaseFingerprint } from '../helpers/db-fingerprint.ts';
import { unique, userWithToken } from '../helpers/factories.ts';
import { book, profileOfReservation } from './world.ts';

/**
 * /api/guests/: profiles are seen only through the properties a user may see, with the stays at
 * those properties only; edits and merges are audited and announced; a PROPERTY_ADMIN changes only
 * guests whose stays are all at its properties; bad input gets a clear 4xx and changes nothing.
 */

let t: TestContext;
let a: BookingWorld;
let b: BookingWorld;
let superToken: string;
/** Stays at A and at B. */
let shared: { profileId: string; email: string; atA: string; atB: string };
/** One stay, at A. */
let onlyA: { profileId: string; email: string; phone: string; reservation: string };

const get = (url: string, token: string) => call(t.app, 'GET', url, { token });
const ids = (res: { body: { results: Array<{ id: string }> } }) => res.body.results.map((r) => r.id);

async function unchanged<T>(request: () => Promise<T>): Promise<T> {
  const before = await databaseFingerprint(t.db);
  const result = await request();
  expect(await databaseFingerprint(t.db)).toBe(before);
  return result;
}

async function eventsOf(type: string, guestId: string) {
  const rows = await t.db
    .selectFrom('outbox_event')
    .select(['property_id', 'envelope'])
    .where('type', '=', type)
    .execute();
  return rows.filter(
    (row) =>
      (row.envelope as any).data.guest?.id === guestId || (row.envelope as any).data.guest_id === guestId,
  );
}

beforeAll(async () => {
  t = await createTestContext();
  a = await bookingWorld(t);
  b = await bookingWorld(t);
  superToken = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
  const sharedEmail = `${unique('shared')}@example.test`;
  const atA = await book(t, a.staff.token, a, {
    first_name: 'Shared',
    last_name: 'Guest',
    email: sharedEmail,
  });
  const atB = await book(
    t,
    b.staff.token,
    b,
    { full_name: 'Shared Guest', email: sharedEmail },
    {
      check_in: '2031-03-20',
      check_out: '2031-03-23',
    },
  );
  shared = { profileId: await profileOfReservation(t, atA.id), email: sharedEmail, atA: atA.id, atB: atB.id };
  const email = `${unique('only')}@example.test`;
  const phone = `+33 1 ${String(Date.now()).slice(-8)}`;
  const mine = await book(t, a.staff.token, a, { full_name: 'Zelda Onlya', email, phone });
  onlyA = { profileId: await profileOfReservation(t, mine.id), email, phone, reservation: mine.id };
});
afterAll(() => t.close());

describe('reading guests', () => {
  it("lists the guests of the caller's properties, with the stays it may see", async () => {
    const asA = await get('/api/guests/?limit=500', a.admin.token);
    expect(asA.status).toBe(200);
    expect(ids(asA)).toEqual(expect.arrayContaining([shared.profileId, onlyA.profileId]));
    const asB = await get('/api/guests/?limit=500', b.staff.token);
    expect(ids(asB)).toContain(shared.profileId);
    expect(ids(asB)).not.toContain(onlyA.profileId);
    const seenBy = async (token: string) =>
      (await get(`/api/guests/?email=${shared.email}`, token)).body.results[0];
    // Each sees the guest's stays at its own hotel only: nothing tells A of the stay at B.
    expect(await seenBy(a.staff.token)).toMatchObject({
      stay_count: 1,
      last_check_in: '2031-03-10',
      property_ids: [a.property.id],
      full_name: 'Shared Guest',
      email: shared.email,
      erased: false,
    });
    expect(await seenBy(b.admin.token)).toMatchObject({
      stay_count: 1,
      last_check_in: '2031-03-20',
      property_ids: [b.property.id],
    });
    expect(await seenBy(superToken)).toMatchObject({ stay_count: 2, last_check_in: '2031-03-20' });
  });

  it('filters by name, e-mail and phone digits, and pages with a cursor', async () => {
    const find = async (query: string) => ids(await get(`/api/guests/?${query}`, a.admin.token));
    expect(await find('name=zelda%20ONL')).toEqual([onlyA.profileId]);
    expect(await find(`email=${onlyA.email.slice(2, 12).toUpperCase()}`)).toEqual([onlyA.profileId]);
    const digits = onlyA.phone.replace(/\D/g, '');
    expect(await find(`phone=${digits.slice(-6)}`)).toEqual([onlyA.profileId]);
    expect(
      await find(`phone=${encodeURIComponent(`(${digits.slice(-8, -4)}) ${digits.slice(-4)}`)}`),
    ).toEqual([onlyA.profileId]);
    expect(await find('search=zelda')).toEqual([onlyA.profileId]);
    expect(await find(`search=${digits.slice(-7)}`)).toEqual([onlyA.profileId]);
    expect(await find('name=nobody-is-called-this')).toEqual([]);
    expect(await find(`property_id=${a.property.id}&email=${shared.email}`)).toEqual([shared.profileId]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/api/guests/?limit=1${cursor ? `&cursor=${cursor}` : ''}`, a.admin.token);
      expect(page.body.results.length).toBeLessThanOrEqual(1);
      seen.push(...ids(page));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(ids(await get('/api/guests/?limit=500', a.admin.token)));
  });

  it('shows one guest with its stays at the properties the caller may see; others get 404', async () => {
    const asA = await get(`/api/guests/${shared.profileId}/`, a.admin.token);
    expect(asA.status).toBe(200);
    expect(asA.body.stays).toEqual([
      expect.objectContaining({
        reservation_id: shared.atA,
        property_id: a.property.id,
        nights: 2,
        status: 'confirmed',
        guest_name: 'Shared Guest',
      }),
    ]);
    const asSuper = await get(`/api/guests/${shared.profileId}/`, superToken);
    expect(asSuper.body.stays.map((s: { reservation_id: string }) => s.reservation_id)).toEqual([
      shared.atB,
      shared.atA,
    ]);
    for (const token of [b.admin.token, b.staff.token]) {
      const res = await get(`/api/guests/${onlyA.profileId}/`, token);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
    expect((await get(`/api/guests/${crypto.randomUUID()}/`, superToken)).status).toBe(404);
  });

  it('refuses bad filters with 400 or 404, never a 500', async () => {
    for (const [query, status] of [
      ['cursor=bm90LWEtY3Vyc29y', 400],
      [
        `cursor=${Buffer.from(JSON.stringify(['not a time', crypto.randomUUID()])).toString('base64url')}`,
        400,
      ],
      [
        `cursor=${Buffer.from(JSON.stringify([new Date().toISOString(), 'not-a-uuid'])).toString('base64url')}`,
        400,
      ],
      ['phone=abc', 400],
      ['limit=0', 400],
      ['name=', 400],
      ['unknown=1', 400],
      [`property_id=${b.property.id}`, 404],
    ] as const) {
      const res = await get(`/api/guests/?${query}`, a.admin.token);
      expect(res.status, query).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });
});

describe('editing a guest', () => {
  it('edits the details, audited and announced at each property of the guest; the new e-mail finds the guest', async () => {
    const email = `${unique('zelda.new')}@example.test`;
    const res = await call(t.app, 'PATCH', `/api/guests/${onlyA.profileId}/`, {
      token: a.admin.token,
      body: { first_name: 'Zelda', last_name: 'Onlya-Smith', email },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ full_name: 'Zelda Onlya-Smith', email, phone: onlyA.phone });
    const audit = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('entity_type', '=', 'guest_profile')
      .where('entity_id', '=', onlyA.profileId)
      .execute();
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'guest_profile.updated',
        property_id: a.property.id,
        diff: {
          first_name: [null, 'Zelda'],
          last_name: [null, 'Onlya-Smith'],
          full_name: ['Zelda Onlya', 'Zelda Onlya-Smith'],
          email: [onlyA.email, email],
        },
      }),
    ]);
    const events = await eventsOf('pms.guest.updated', onlyA.profileId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      property_id: a.property.id,
      envelope: { data: { change: 'details_updated', guest: { email }, previous: { email: onlyA.email } } },
    });
    const booked = await book(t, a.staff.token, a, { full_name: 'Z', email: email.toUpperCase() });
    expect(await profileOfReservation(t, booked.id)).toBe(onlyA.profileId);
    onlyA.email = email;
    // The same details again change nothing.
    await unchanged(() =>
      call(t.app, 'PATCH', `/api/guests/${onlyA.profileId}/`, { token: a.admin.token, body: { email } }),
    );
  });

  it("refuses a guest with stays elsewhere to a PROPERTY_ADMIN (GUEST_SHARED), staff, and another guest's e-mail", async () => {
    const patch = (token: string, id: string, body: unknown) =>
      unchanged(() => call(t.app, 'PATCH', `/api/guests/${id}/`, { token, body }));
    const sharedByA = await patch(a.admin.token, shared.profileId, { phone: '+1 555 0100 200' });
    expect(sharedByA.status).toBe(403);
    expect(sharedByA.body.code).toBe('GUEST_SHARED');
    expect(sharedByA.body.detail).not.toContain(b.property.id);
    expect((await patch(a.staff.token, onlyA.profileId, { phone: '+1 555' })).body.code).toBe('FORBIDDEN');
    expect((await patch(b.admin.token, onlyA.profileId, { phone: '+1 555' })).status).toBe(404);
    const taken = await patch(superToken, onlyA.profileId, { email: shared.email.toUpperCase() });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'GUEST_CONFLICT', field: 'email' });
    for (const body of [
      { first_name: null, last_name: null, full_name: '  ' },
      { full_name: null, first_name: null, last_name: null },
    ]) {
      const res = await patch(a.admin.token, onlyA.profileId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
    }
    for (const body of [{}, { email: 'not-an-email' }, { nickname: 'Z' }, { full_name: 'x'.repeat(201) }]) {
      const res = await patch(a.admin.token, onlyA.profileId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('lets a SUPER_ADMIN edit a shared guest, announced at both properties', async () => {
    const res = await call(t.app, 'PATCH', `/api/guests/${shared.profileId}/`, {
      token: superToken,
      body: { phone: '+1 555 0100 200' },
    });
    expect(res.status).toBe(200);
    const events = await eventsOf('pms.guest.updated', shared.profileId);
    expect(events.map((e) => e.property_id).sort()).toEqual([a.property.id, b.property.id].sort());
  });
});

describe('merging guests', () => {
  it('moves the duplicate’s stays, e-mails and phones to the profile kept, and removes the duplicate', async () => {
    const phone = `+49 30 ${String(Date.now()).slice(-8)}`;
    const keeperBooking = await book(t, a.staff.token, a, {
      full_name: 'Max Mustermann',
      email: `${unique('max')}@example.test`,
    });
    const duplicateBooking = await book(t, a.staff.token, a, { full_name: 'M. Mustermann', phone });
    const keeper = await profileOfReservation(t, keeperBooking.id);
    const duplicate = await profileOfReservation(t, duplicateBooking.id);
    expect(keeper).not.toBe(duplicate);

    const refused = async (token: string, id: string, duplicateId: string, status: number, code: string) => {
      const res = await unchanged(() =>
        call(t.app, 'POST', `/api/guests/${id}/merge/`, { token, body: { duplicate_id: duplicateId } }),
      );
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.code).toBe(code);
    };
    await refused(a.admin.token, keeper, keeper, 400, 'VALIDATION_ERROR');
    await refused(a.admin.token, keeper, crypto.randomUUID(), 400, 'VALIDATION_ERROR');
    await refused(a.admin.token, keeper, shared.profileId, 403, 'GUEST_SHARED');
    await refused(a.staff.token, keeper, duplicate, 403, 'FORBIDDEN');
    await refused(b.admin.token, keeper, duplicate, 404, 'NOT_FOUND');

    const res = await call(t.app, 'POST', `/api/guests/${keeper}/merge/`, {
      token: a.admin.token,
      body: { duplicate_id: duplicate },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // The kept profile's own details stay; what it lacked comes from the duplicate.
    expect(res.body).toMatchObject({ id: keeper, full_name: 'Max Mustermann', phone, stay_count: 2 });
    expect(await profileOfReservation(t, duplicateBooking.id)).toBe(keeper);
    expect((await get(`/api/guests/${duplicate}/`, a.admin.token)).status).toBe(404);
    const again = await book(t, a.staff.token, a, { full_name: 'Max', phone: phone.replace(/ /g, '') });
    expect(await profileOfReservation(t, again.id)).toBe(keeper);
    const events = await eventsOf('pms.guest.updated', keeper);
    expect(events.map((e) => (e.envelope as any).data)).toEqual([
      expect.objectContaining({ change: 'merged', merged_guest_id: duplicate }),
    ]);
  });
});

describe('erasing a guest: who may', () => {
  it('refuses staff, a PROPERTY_ADMIN of some of the stays (GUEST_SHARED) and other hotels (404), and erases for the administrator of all', async () => {
    const erase = (token: string, id: string) => call(t.app, 'POST', `/api/guests/${id}/erase/`, { token });
    for (const [token, id, status, code] of [
      [a.staff.token, onlyA.profileId, 403, 'FORBIDDEN'],
      [a.admin.token, shared.profileId, 403, 'GUEST_SHARED'],
      [b.admin.token, onlyA.profileId, 404, 'NOT_FOUND'],
    ] as const) {
      const res = await unchanged(() => erase(token, id));
      expect(res.status).toBe(status);
      expect(res.body.code).toBe(code);
    }
    const done = await erase(a.admin.token, onlyA.profileId);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.guest).toMatchObject({
      erased: true,
      full_name: null,
      email: null,
      phone: null,
      stay_count: 2,
    });
    expect(done.body.erased).toMatchObject({ guest_rows: 2, quarantined_records: 0 });
    const edit = await unchanged(() =>
      call(t.app, 'PATCH', `/api/guests/${onlyA.profileId}/`, {
        token: a.admin.token,
        body: { full_name: 'Back' },
      }),
    );
    expect(edit.status).toBe(409);
    expect(edit.body.code).toBe('GUEST_ERASED');
    const merge = await unchanged(() =>
      call(t.app, 'POST', `/api/guests/${onlyA.profileId}/merge/`, {
        token: superToken,
        body: { duplicate_id: shared.profileId },
      }),
    );
    expect(merge.body.code).toBe('GUEST_ERASED');
    // The erased e-mail belongs to nobody now: a new booking with it is a new guest.
    const next = await book(t, a.staff.token, a, { full_name: 'New', email: onlyA.email });
    expect(await profileOfReservation(t, next.id)).not.toBe(onlyA.profileId);
  });
});
