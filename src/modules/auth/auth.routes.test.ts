import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { createUser, login, userWithToken } from '../../../test/helpers/factories.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(() => t.close());

describe('POST /api/auth/token/', () => {
  it('returns an access and a refresh token for valid credentials', async () => {
    const user = await createUser(t.db);
    const res = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: user.email, password: user.password },
    });
    expect(res.status).toBe(200);
    expect(res.body.access.split('.')).toHaveLength(3);
    expect(res.body.refresh.split('.')).toHaveLength(3);
    const me = await call(t.app, 'GET', '/api/auth/me/', { token: res.body.access });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(user.email);
    expect(me.body).not.toHaveProperty('password_hash');
  });

  it('accepts the email in any case', async () => {
    const user = await createUser(t.db);
    const res = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: user.email.toUpperCase(), password: user.password },
    });
    expect(res.status).toBe(200);
  });

  it('refuses a wrong password and an unknown email with the same 401', async () => {
    const user = await createUser(t.db);
    const wrong = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: user.email, password: 'nope-nope-nope' },
    });
    const unknown = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: 'ghost@example.test', password: 'x' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('UNAUTHENTICATED');
    expect(unknown.status).toBe(401);
    expect(unknown.body.detail).toBe(wrong.body.detail);
  });

  it('refuses a deactivated user', async () => {
    const user = await createUser(t.db, { isActive: false });
    const res = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: user.email, password: user.password },
    });
    expect(res.status).toBe(401);
  });

  it('answers malformed bodies with 400 VALIDATION_ERROR', async () => {
    for (const body of [
      {},
      { email: 'a@b.c' },
      { email: 1, password: 2 },
      { email: 'a@b.c', password: 'x', extra: 1 },
    ]) {
      const res = await call(t.app, 'POST', '/api/auth/token/', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    const raw = await t.app.inject({
      method: 'POST',
      url: '/api/auth/token/',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    expect(raw.statusCode).toBe(400);
    expect(JSON.parse(raw.body).code).toBe('VALIDATION_ERROR');
  });
});

describe('POST /api/auth/token/refresh/', () => {
  it('rotates the refresh token, and a reused one revokes the whole family', async () => {
    const user = await createUser(t.db);
    const first = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: user.email, password: user.password },
    });
    const second = await call(t.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: first.body.refresh },
    });
    expect(second.status).toBe(200);
    expect(second.body.refresh).not.toBe(first.body.refresh);

    // The first token was used already: presenting it again is theft, so the family dies.
    const replay = await call(t.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: first.body.refresh },
    });
    expect(replay.status).toBe(401);
    const afterTheft = await call(t.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: second.body.refresh },
    });
    expect(afterTheft.status).toBe(401);
  });

  it('lets only one of two concurrent refreshes with the same token through', async () => {
    const user = await createUser(t.db);
    const pair = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: user.email, password: user.password },
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        call(t.app, 'POST', '/api/auth/token/refresh/', { body: { refresh: pair.body.refresh } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(7);
  });

  it('refuses an access token presented as a refresh token', async () => {
    const { token } = await userWithToken(t.app, t.db);
    const res = await call(t.app, 'POST', '/api/auth/token/refresh/', { body: { refresh: token } });
    expect(res.status).toBe(401);
  });
});

describe('bearer tokens', () => {
  it('refuses a missing, forged, expired or refresh token', async () => {
    const user = await createUser(t.db);
    const pair = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: user.email, password: user.password },
    });
    const forged = await new SignJWT({ role: 'SUPER_ADMIN', token_type: 'access' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer('pms')
      .setJti('x')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    const expired = await new SignJWT({ role: 'STAFF', token_type: 'access' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer('pms')
      .setJti('y')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(t.jwtKey);
    const tampered = `${pair.body.access.slice(0, -4)}AAAA`;
    for (const token of [undefined, forged, expired, tampered, pair.body.refresh, 'not-a-jwt']) {
      const res = await call(t.app, 'GET', '/api/auth/me/', { token });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    }
    const expiredRes = await call(t.app, 'GET', '/api/auth/me/', { token: expired });
    expect(expiredRes.body.detail).toMatch(/expired/);
  });

  it('stops working once the user is deactivated', async () => {
    const user = await createUser(t.db);
    const token = await login(t.app, user.email);
    expect((await call(t.app, 'GET', '/api/auth/me/', { token })).status).toBe(200);
    // A change made outside the API (here in SQL) reaches the process's user cache by NOTIFY.
    const evicted = t.app.authCache.invalidated(user.id);
    await t.db.updateTable('app_user').set({ is_active: false }).where('id', '=', user.id).execute();
    await evicted;
    expect((await call(t.app, 'GET', '/api/auth/me/', { token })).status).toBe(401);
  });
});

describe('login rate limit', () => {
  it('answers 429 RATE_LIMITED after too many attempts for one account', async () => {
    const limited = await createTestContext({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await call(limited.app, 'POST', '/api/auth/token/', {
          body: { email: 'v@x.test', password: 'guess' },
        });
        statuses.push(res.status);
        if (res.status === 429) expect(res.body.code).toBe('RATE_LIMITED');
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});
