import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BookingWorld, bookingWorld } from '../booking/world.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { createRoomType, unique, userWithToken } from '../helpers/factories.ts';
import { book, connectAcme, profileOfReservation, startAcmeStub } from './world.ts';

/**
 * Guest profiles are linked by the database (migration 0090), whoever writes a guest row: direct
 * bookings, PMS imports, guest corrections and plain SQL, one profile per normalised e-mail (or
 * phone when there is no e-mail), also when many bookings of a new guest arrive at once.
 */

let t: TestContext;
let world: BookingWorld;
let superToken: string;

const keyOf = (key: string) =>
  t.db.selectFrom('guest_profile_key').select('profile_id').where('key', '=', key).execute();

beforeAll(async () => {
  // 24 connections: the race below holds 20 transactions open at once.
  t = await createTestContext({ env: LOOPBACK_EGRESS, poolSize: 24 });
  world = await bookingWorld(t, { units: 200 });
  superToken = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
});
afterAll(() => t.close());

describe('linking guests to profiles', () => {
  it('links the bookings of one e-mail, however it is written, to one profile; no contact, a profile each', async () => {
    const email = `${unique('ada')}@Example.TEST`;
    const first = await book(t, world.staff.token, world, { full_name: 'Ada Lovelace', email });
    const second = await book(t, world.staff.token, world, {
      full_name: 'A. Lovelace',
      email: email.toUpperCase(),
      phone: '+44 20 7946 0001',
    });
    const profile = await profileOfReservation(t, first.id);
    expect(await profileOfReservation(t, second.id)).toBe(profile);
    expect(await keyOf(`email:${email.toLowerCase()}`)).toEqual([{ profile_id: profile }]);
    // The profile keeps the details of the booking that made it.
    const row = await t.db
      .selectFrom('guest_profile')
      .selectAll()
      .where('id', '=', profile)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ full_name: 'Ada Lovelace', email, phone: null, erased_at: null });

    const anonymous = [
      await book(t, world.staff.token, world, { full_name: 'Walk In' }),
      await book(t, world.staff.token, world, { full_name: 'Walk In' }),
    ];
    const profiles = await Promise.all(anonymous.map((r) => profileOfReservation(t, r.id)));
    expect(new Set(profiles).size).toBe(2);
  });

  it('without an e-mail, links by phone: "+" or "00" and a "(0)" are one number, a national number is another', async () => {
    const digits = String(Date.now()).slice(-8);
    const spellings = [`+44 (0) 20 ${digits}`, `0044 20-${digits}`, `+4420${digits}`];
    const bookings = [];
    for (const phone of spellings)
      bookings.push(await book(t, world.staff.token, world, { full_name: 'P', phone }));
    const national = await book(t, world.staff.token, world, { full_name: 'P', phone: `020 ${digits}` });
    const withEmail = await book(t, world.staff.token, world, {
      full_name: 'P',
      phone: spellings[0],
      email: `${unique('p')}@example.test`,
    });
    const profiles = await Promise.all(bookings.map((r) => profileOfReservation(t, r.id)));
    expect(new Set(profiles).size).toBe(1);
    expect(await keyOf(`phone:+4420${digits}`)).toEqual([{ profile_id: profiles[0] }]);
    expect(await profileOfReservation(t, national.id)).not.toBe(profiles[0]);
    expect(await keyOf(`phone:020${digits}`)).toHaveLength(1);
    // An e-mail decides, whatever the phone.
    expect(await profileOfReservation(t, withEmail.id)).not.toBe(profiles[0]);
  });

  it('links a booking imported from a PMS to the profile of a direct booking of the same e-mail', async () => {
    const email = `${unique('hedy')}@example.test`;
    const direct = await book(t, world.staff.token, world, { full_name: 'Hedy Lamarr', email });
    const other = await bookingWorld(t);
    await createRoomType(t.db, other.property.id, { code: 'STD', totalUnits: 50 });
    const stub = await startAcmeStub();
    try {
      const sync = await connectAcme(t, superToken, other.property.id, stub.url);
      stub.records.push({
        id: 1,
        state: 'BOOKED',
        arrival: '2031-03-20',
        departure: '2031-03-22',
        guest: { first: 'Hedy', last: 'Lamarr', contact: { email: `  ${email.toUpperCase()} ` } },
        room: { category: 'std' },
        updated: '2030-01-01T00:00:00Z',
      });
      expect(await sync()).toMatchObject({ created: 1, quarantined: 0 });
    } finally {
      await stub.close();
    }
    const imported = await t.db
      .selectFrom('reservation')
      .select('id')
      .where('property_id', '=', other.property.id)
      .where('source', '=', 'pms:acme')
      .executeTakeFirstOrThrow();
    expect(await profileOfReservation(t, imported.id)).toBe(await profileOfReservation(t, direct.id));
  });

  it("moves a corrected booking's guest to the profile of its new e-mail; the profile it leaves empty goes", async () => {
    const right = `${unique('right')}@example.test`;
    const existing = await book(t, world.staff.token, world, { full_name: 'Grace Hopper', email: right });
    const typo = await book(t, world.staff.token, world, {
      full_name: 'Grace Hopper',
      email: 'grace@exmaple.test',
    });
    const typoProfile = await profileOfReservation(t, typo.id);
    const res = await call(t.app, 'PATCH', `/api/reservations/${typo.id}/`, {
      token: world.staff.token,
      body: { guest: { email: right } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await profileOfReservation(t, typo.id)).toBe(await profileOfReservation(t, existing.id));
    expect(
      await t.db.selectFrom('guest_profile').select('id').where('id', '=', typoProfile).execute(),
    ).toEqual([]);
    expect(await keyOf('email:grace@exmaple.test')).toEqual([]);

    // A guest alone on its profile keeps it when it gets a new e-mail nobody has.
    const alone = await book(t, world.staff.token, world, { full_name: 'Radia Perlman' });
    const aloneProfile = await profileOfReservation(t, alone.id);
    const fresh = `${unique('radia')}@example.test`;
    await call(t.app, 'PATCH', `/api/reservations/${alone.id}/`, {
      token: world.staff.token,
      body: { guest: { email: fresh } },
    });
    expect(await profileOfReservation(t, alone.id)).toBe(aloneProfile);
    expect(await keyOf(`email:${fresh}`)).toEqual([{ profile_id: aloneProfile }]);
  });

  it('keeps an erased guest row erased, whoever writes it afterwards', async () => {
    const booked = await book(t, world.staff.token, world, {
      full_name: 'Erased',
      email: `${unique('e')}@example.test`,
    });
    await t.db
      .updateTable('guest')
      .set({
        first_name: null,
        last_name: null,
        full_name: null,
        email: null,
        phone: null,
        erased_at: new Date(),
      })
      .where('id', '=', booked.guest.id)
      .execute();
    await t.db
      .updateTable('guest')
      .set({ full_name: 'Back Again', email: 'back@example.test', erased_at: null })
      .where('id', '=', booked.guest.id)
      .execute();
    const row = await t.db
      .selectFrom('guest')
      .selectAll()
      .where('id', '=', booked.guest.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ full_name: null, email: null });
    expect(row.erased_at).not.toBeNull();
    expect(await keyOf('email:back@example.test')).toEqual([]);
  });
});

describe('one profile per guest under concurrency', () => {
  it('books one new guest at six hotels at once, three times each: one profile holds all eighteen', async () => {
    const hotels = await Promise.all(Array.from({ length: 6 }, () => bookingWorld(t)));
    const email = `${unique('rush')}@example.test`;
    const spellings = [email, email.toUpperCase(), email.replace(/^r/, 'R')];
    const results = await Promise.allSettled(
      hotels.flatMap((hotel) =>
        spellings.map((spelling) =>
          book(t, hotel.staff.token, hotel, { full_name: 'Rush Hour', email: spelling }),
        ),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const linked = await t.db
      .selectFrom('guest')
      .select((eb) => [
        eb.fn.count<string>('id').as('rows'),
        eb.fn.count<string>('profile_id').distinct().as('profiles'),
      ])
      .where(sql<boolean>`lower(btrim(email)) = ${email}`)
      .executeTakeFirstOrThrow();
    expect(linked).toEqual({ rows: 18, profiles: 1 });
    expect(await keyOf(`email:${email}`)).toHaveLength(1);
  });

  it('inserts one new guest from twenty transactions at once: one profile, and no profile left behind', async () => {
    const count = () =>
      t.db
        .selectFrom('guest_profile')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
        .then((r) => Number(r.n));
    const before = await count();
    const email = `${unique('race')}@example.test`;
    const racers = 20;
    let arrived = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    await Promise.all(
      Array.from({ length: racers }, (_, i) =>
        t.db.transaction().execute(async (tx) => {
          // Every transaction has begun before any inserts, so they overlap for real.
          await sql`SELECT 1`.execute(tx);
          if (++arrived === racers) open();
          await gate;
          await tx
            .insertInto('guest')
            .values({
              property_id: world.property.id,
              full_name: `Racer ${i}`,
              email: i % 2 === 0 ? email : email.toUpperCase(),
            })
            .execute();
        }),
      ),
    );
    const linked = await t.db
      .selectFrom('guest')
      .select('profile_id')
      .distinct()
      .where(sql<boolean>`lower(email) = ${email}`)
      .execute();
    expect(linked).toHaveLength(1);
    expect(await count()).toBe(before + 1);
    expect(await keyOf(`email:${email}`)).toEqual(linked);
  });

  it('erases a guest while it books again at five hotels: no new booking joins the erased profile', async () => {
    const email = `${unique('again')}@example.test`;
    const first = await book(t, world.staff.token, world, { full_name: 'Twice', email });
    const erased = await profileOfReservation(t, first.id);
    const hotels = await Promise.all(Array.from({ length: 5 }, () => bookingWorld(t)));
    const [erasure, ...bookings] = await Promise.allSettled([
      call(t.app, 'POST', `/api/guests/${erased}/erase/`, { token: superToken }),
      ...hotels.flatMap((hotel) =>
        [1, 2].map(() => book(t, hotel.staff.token, hotel, { full_name: 'Twice', email })),
      ),
    ]);
    expect(erasure).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
    expect(bookings.filter((b) => b.status === 'rejected')).toEqual([]);
    // Booked before the erasure took the profile: erased with it; after: a new profile.
    const rows = await t.db
      .selectFrom('guest')
      .select(['profile_id', 'email', 'erased_at'])
      .where((eb) => eb.or([eb('profile_id', '=', erased), eb(sql<string>`lower(email)`, '=', email)]))
      .execute();
    expect(rows).toHaveLength(11);
    for (const row of rows.filter((r) => r.profile_id === erased)) {
      expect(row).toMatchObject({ email: null, erased_at: expect.any(Date) });
    }
    const others = rows.filter((r) => r.profile_id !== erased);
    expect(others.every((r) => r.email === email && r.erased_at === null)).toBe(true);
    expect(new Set(others.map((r) => r.profile_id)).size).toBeLessThanOrEqual(1);
    expect(await keyOf(`email:${email}`)).toEqual(
      others.length > 0 ? [{ profile_id: others[0]!.profile_id }] : [],
    );
  });
});
