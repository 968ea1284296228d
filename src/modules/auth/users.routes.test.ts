import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createProperty, createUser, unique, userWithToken } from '../../../test/helpers/factories.ts';

let t: TestContext;
let propertyA: string;
let propertyB: string;
let superAdmin: { id: string; token: string };
let adminA: { id: string; token: string };
let staffA: { id: string; token: string };

beforeAll(async () => {
  t = await createTestContext();
  propertyA = (await createProperty(t.db)).id;
  propertyB = (await createProperty(t.db)).id;
  superAdmin = await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' });
  adminA = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [propertyA] });
  staffA = await userWithToken(t.app, t.db, { role: 'STAFF', propertyIds: [propertyA] });
});
afterAll(() => t.close());

const newUser = (overrides: Record<string, unknown> = {}) => ({
  email: `${unique('u')}@example.test`,
  password: 'a-long-password',
  role: 'STAFF',
  property_ids: [propertyA],
  ...overrides,
});

async function userCount(): Promise<number> {
  const row = await t.db
    .selectFrom('app_user')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('a PROPERTY_ADMIN managing users', () => {
  it('creates STAFF for its own property, who can then log in and see that property', async () => {
    const body = newUser({ full_name: 'Front Desk' });
    const res = await call(t.app, 'POST', '/api/auth/users/', { token: adminA.token, body });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      email: body.email,
      role: 'STAFF',
      full_name: 'Front Desk',
      is_active: true,
      property_ids: [propertyA],
      last_login_at: null,
    });
    expect(res.body).not.toHaveProperty('password');
    expect(res.body).not.toHaveProperty('password_hash');
    const login = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: body.email, password: body.password },
    });
    expect(login.status).toBe(200);
    const property = await call(t.app, 'GET', `/api/properties/${propertyA}/`, { token: login.body.access });
    expect(property.status).toBe(200);
    const audit = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('entity_id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ action: 'user.created', actor_id: adminA.id, property_id: propertyA });
    expect(JSON.stringify(audit.diff)).not.toContain(body.password);
  });

  it('is refused (403) for another property, a mix of properties, no property or a non-STAFF role', async () => {
    const before = await userCount();
    for (const body of [
      newUser({ property_ids: [propertyB] }),
      newUser({ property_ids: [propertyA, propertyB] }),
      newUser({ property_ids: [] }),
      newUser({ property_ids: undefined }),
      newUser({ role: 'PROPERTY_ADMIN' }),
      newUser({ role: 'SUPER_ADMIN', property_ids: [] }),
    ]) {
      const res = await call(t.app, 'POST', '/api/auth/users/', { token: adminA.token, body });
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    }
    expect(await userCount()).toBe(before);
  });

  it('does not see users of other properties: 404 on get, update and delete, absent from lists', async () => {
    const staffB = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyB] });
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { full_name: 'Hijacked' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await call(t.app, method, `/api/auth/users/${staffB.id}/`, { token: adminA.token, body });
      expect(res.status, method).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
    const still = await t.db
      .selectFrom('app_user')
      .selectAll()
      .where('id', '=', staffB.id)
      .executeTakeFirst();
    expect(still?.full_name).toBeNull();

    const list = await call(t.app, 'GET', '/api/auth/users/?limit=500', { token: adminA.token });
    const ids = list.body.results.map((u: { id: string }) => u.id);
    expect(ids).toContain(staffA.id);
    expect(ids).not.toContain(staffB.id);
    expect(ids).not.toContain(superAdmin.id);
    const filtered = await call(t.app, 'GET', `/api/auth/users/?property_id=${propertyB}`, {
      token: adminA.token,
    });
    expect(filtered.status).toBe(200);
    expect(filtered.body.results).toEqual([]);
    const superUser = await call(t.app, 'GET', `/api/auth/users/${superAdmin.id}/`, { token: adminA.token });
    expect(superUser.status).toBe(404);
  });

  it('updates and deletes its STAFF, but may not move them to another property or promote them', async () => {
    const staff = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyA] });
    const url = `/api/auth/users/${staff.id}/`;
    const renamed = await call(t.app, 'PATCH', url, {
      token: adminA.token,
      body: { full_name: 'Night Audit' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.full_name).toBe('Night Audit');
    for (const body of [
      { property_ids: [propertyB] },
      { property_ids: [propertyA, propertyB] },
      { property_ids: [] },
      { role: 'PROPERTY_ADMIN' },
    ]) {
      const res = await call(t.app, 'PATCH', url, { token: adminA.token, body });
      expect(res.status, JSON.stringify(body)).toBe(403);
    }
    const unchanged = await call(t.app, 'GET', url, { token: adminA.token });
    expect(unchanged.body).toMatchObject({ role: 'STAFF', property_ids: [propertyA] });
    expect((await call(t.app, 'DELETE', url, { token: adminA.token })).status).toBe(204);
    expect((await call(t.app, 'GET', url, { token: superAdmin.token })).status).toBe(404);
  });

  it('may see, but not change, another administrator of its property', async () => {
    const otherAdmin = await createUser(t.db, { role: 'PROPERTY_ADMIN', propertyIds: [propertyA] });
    const url = `/api/auth/users/${otherAdmin.id}/`;
    expect((await call(t.app, 'GET', url, { token: adminA.token })).status).toBe(200);
    expect(
      (await call(t.app, 'PATCH', url, { token: adminA.token, body: { is_active: false } })).status,
    ).toBe(403);
    expect((await call(t.app, 'DELETE', url, { token: adminA.token })).status).toBe(403);
  });

  it('changes its own name and password, but not its own role or properties', async () => {
    const admin = await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [propertyA] });
    const url = `/api/auth/users/${admin.id}/`;
    const own = await call(t.app, 'PATCH', url, { token: admin.token, body: { full_name: 'Me' } });
    expect(own.status).toBe(200);
    for (const body of [{ role: 'SUPER_ADMIN' }, { property_ids: [propertyA, propertyB] }]) {
      const res = await call(t.app, 'PATCH', url, { token: admin.token, body });
      expect(res.status, JSON.stringify(body)).toBe(403);
    }
  });
});

describe('STAFF and user management', () => {
  it('gets 403 for listing, creating, reading others, updating and deleting', async () => {
    const other = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyA] });
    const before = await userCount();
    const attempts = [
      ['GET', '/api/auth/users/', undefined],
      ['POST', '/api/auth/users/', newUser()],
      ['GET', `/api/auth/users/${other.id}/`, undefined],
      ['PATCH', `/api/auth/users/${other.id}/`, { full_name: 'x' }],
      ['DELETE', `/api/auth/users/${other.id}/`, undefined],
      ['PATCH', `/api/auth/users/${staffA.id}/`, { full_name: 'self' }],
    ] as const;
    for (const [method, url, body] of attempts) {
      const res = await call(t.app, method, url, { token: staffA.token, body });
      expect(res.status, `${method} ${url}`).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    }
    expect(await userCount()).toBe(before);
  });

  it('may read its own record', async () => {
    const res = await call(t.app, 'GET', `/api/auth/users/${staffA.id}/`, { token: staffA.token });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(staffA.id);
  });
});

describe('a SUPER_ADMIN managing users', () => {
  it('creates users of every role, changes role and properties, and deletes them', async () => {
    for (const role of ['SUPER_ADMIN', 'PROPERTY_ADMIN', 'STAFF']) {
      const res = await call(t.app, 'POST', '/api/auth/users/', {
        token: superAdmin.token,
        body: newUser({ role, property_ids: role === 'SUPER_ADMIN' ? [] : [propertyB] }),
      });
      expect(res.status, role).toBe(201);
      expect(res.body.role).toBe(role);
    }
    const staff = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyA] });
    const url = `/api/auth/users/${staff.id}/`;
    const promoted = await call(t.app, 'PATCH', url, {
      token: superAdmin.token,
      body: { role: 'PROPERTY_ADMIN', property_ids: [propertyA, propertyB] },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe('PROPERTY_ADMIN');
    expect([...promoted.body.property_ids].sort()).toEqual([propertyA, propertyB].sort());
    expect((await call(t.app, 'DELETE', url, { token: superAdmin.token })).status).toBe(204);
  });

  it('cannot delete its own account (409)', async () => {
    const res = await call(t.app, 'DELETE', `/api/auth/users/${superAdmin.id}/`, { token: superAdmin.token });
    expect(res.status).toBe(409);
  });

  it('ends every session of a user it deactivates or gives a new password', async () => {
    for (const change of [{ is_active: false }, { password: 'another-long-password' }]) {
      const user = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyA] });
      const pair = await call(t.app, 'POST', '/api/auth/token/', {
        body: { email: user.email, password: user.password },
      });
      const res = await call(t.app, 'PATCH', `/api/auth/users/${user.id}/`, {
        token: superAdmin.token,
        body: change,
      });
      expect(res.status).toBe(200);
      const refresh = await call(t.app, 'POST', '/api/auth/token/refresh/', {
        body: { refresh: pair.body.refresh },
      });
      expect(refresh.status, JSON.stringify(change)).toBe(401);
    }
  });
});

describe('email uniqueness', () => {
  it('refuses a second user with the same email in any case (409 CONFLICT), on create and update', async () => {
    const existing = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyA] });
    const dup = await call(t.app, 'POST', '/api/auth/users/', {
      token: superAdmin.token,
      body: newUser({ email: existing.email.toUpperCase() }),
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('CONFLICT');
    const other = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyA] });
    const clash = await call(t.app, 'PATCH', `/api/auth/users/${other.id}/`, {
      token: superAdmin.token,
      body: { email: existing.email },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('CONFLICT');
  });

  it('gives a PROPERTY_ADMIN one answer for any taken email, whoever holds it, on create and update', async () => {
    const ownStaff = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyA] });
    const otherHotelStaff = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyB] });
    const otherHotelAdmin = await createUser(t.db, { role: 'PROPERTY_ADMIN', propertyIds: [propertyB] });
    const superUser = await createUser(t.db, { role: 'SUPER_ADMIN' });
    const editable = await createUser(t.db, { role: 'STAFF', propertyIds: [propertyA] });
    const before = await userCount();
    const answers: unknown[] = [];
    for (const taken of [ownStaff, otherHotelStaff, otherHotelAdmin, superUser]) {
      for (const email of [taken.email, taken.email.toUpperCase()]) {
        const created = await call(t.app, 'POST', '/api/auth/users/', {
          token: adminA.token,
          body: newUser({ email }),
        });
        const changed = await call(t.app, 'PATCH', `/api/auth/users/${editable.id}/`, {
          token: adminA.token,
          body: { email },
        });
        for (const res of [created, changed]) {
          expect(res.status, email).toBe(409);
          answers.push({ code: res.body.code, detail: res.body.detail });
        }
      }
    }
    // Identical answers, naming neither the address nor that a user (or which kind of user) has it.
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    const [answer] = answers as Array<{ code: string; detail: string }>;
    expect(answer!.code).toBe('EMAIL_UNAVAILABLE');
    expect(answer!.detail).not.toMatch(/exist|user with|@/i);
    expect(await userCount()).toBe(before);
    const unchanged = await call(t.app, 'GET', `/api/auth/users/${editable.id}/`, { token: adminA.token });
    expect(unchanged.body.email).toBe(editable.email);

    // The SUPER_ADMIN sees every user anyway, and is told plainly.
    const dup = await call(t.app, 'POST', '/api/auth/users/', {
      token: superAdmin.token,
      body: newUser({ email: otherHotelStaff.email }),
    });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 'CONFLICT' });
    expect(dup.body.detail).toMatch(/already exists/);
  });

  it('answers a PROPERTY_ADMIN that loses a race for an email as it answers a taken one', async () => {
    const email = `${unique('race')}@example.test`;
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(t.app, 'POST', '/api/auth/users/', { token: adminA.token, body: newUser({ email }) }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((r) => r.status === 409)) expect(r.body.code).toBe('EMAIL_UNAVAILABLE');
  });

  it('lets exactly one of many concurrent creations with one email through', async () => {
    const email = `${unique('race')}@example.test`;
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(t.app, 'POST', '/api/auth/users/', { token: superAdmin.token, body: newUser({ email }) }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((r) => r.status === 409)) expect(r.body.code).toBe('CONFLICT');
    const rows = await t.db.selectFrom('app_user').select('id').where('email', '=', email).execute();
    expect(rows).toHaveLength(1);
  });
});

describe('property_ids', () => {
  it('refuses unknown, malformed or repeated property ids with 400 and creates nothing', async () => {
    const before = await userCount();
    for (const property_ids of [[crypto.randomUUID()], ['not-a-uuid'], [propertyA, propertyA], propertyA]) {
      const res = await call(t.app, 'POST', '/api/auth/users/', {
        token: superAdmin.token,
        body: newUser({ property_ids }),
      });
      expect(res.status, JSON.stringify(property_ids)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(
        res.body.errors.some((e: { pointer: string }) => e.pointer.startsWith('/body/property_ids')),
      ).toBe(true);
    }
    expect(await userCount()).toBe(before);
  });

  it('follows a property that is deleted: the user loses it', async () => {
    const property = await createProperty(t.db);
    const staff = await createUser(t.db, { role: 'STAFF', propertyIds: [property.id, propertyA] });
    expect(
      (await call(t.app, 'DELETE', `/api/properties/${property.id}/`, { token: superAdmin.token })).status,
    ).toBe(204);
    const res = await call(t.app, 'GET', `/api/auth/users/${staff.id}/`, { token: superAdmin.token });
    expect(res.body.property_ids).toEqual([propertyA]);
  });
});

describe('login rate limit', () => {
  it('counts attempts per account, so one account under attack does not lock out another', async () => {
    const limited = await createTestContext({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const victim = await createUser(limited.db);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await call(limited.app, 'POST', '/api/auth/token/', {
          body: { email: 'attacked@example.test', password: 'guess' },
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
      const other = await call(limited.app, 'POST', '/api/auth/token/', {
        body: { email: victim.email, password: victim.password },
      });
      expect(other.status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
