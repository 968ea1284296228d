import { request as httpRequest } from 'node:http';
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

describe('the refresh token as an HttpOnly cookie (X-Refresh-Token: cookie)', () => {
  const COOKIE_MODE = { 'x-refresh-token': 'cookie' };

  /** The pms_refresh cookie a response sets: its value and its attributes, lower-cased. */
  function refreshCookie(headers: Record<string, unknown>) {
    const all = [headers['set-cookie'] ?? []].flat() as string[];
    const line = all.find((c) => c.startsWith('pms_refresh='));
    if (!line) return undefined;
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    return {
      value: decodeURIComponent(pair!.slice('pms_refresh='.length)),
      attributes: attributes.map((a) => a.toLowerCase()),
    };
  }

  async function cookieLogin(headers: Record<string, string> = {}) {
    const user = await createUser(t.db);
    const res = await call(t.app, 'POST', '/api/auth/token/', {
      headers: { ...COOKIE_MODE, ...headers },
      body: { email: user.email, password: user.password },
    });
    expect(res.status).toBe(200);
    return { user, res, cookie: refreshCookie(res.headers)! };
  }

  const refreshWith = (cookie: string | undefined, headers: Record<string, string> = COOKIE_MODE) =>
    call(t.app, 'POST', '/api/auth/token/refresh/', {
      headers: { ...headers, ...(cookie ? { cookie: `pms_refresh=${cookie}` } : {}) },
      body: {},
    });

  it('sets an HttpOnly, SameSite=Strict cookie scoped to the token endpoints, and keeps it out of the body', async () => {
    const { res, cookie } = await cookieLogin();
    expect(Object.keys(res.body)).toEqual(['access']);
    expect(cookie.value.split('.')).toHaveLength(3);
    expect(cookie.attributes).toEqual(
      expect.arrayContaining(['httponly', 'samesite=strict', 'path=/api/auth/token/', 'max-age=1209600']),
    );
    // Plain HTTP here: a Secure cookie would never come back.
    expect(cookie.attributes).not.toContain('secure');
    const me = await call(t.app, 'GET', '/api/auth/me/', { token: res.body.access });
    expect(me.status).toBe(200);
  });

  it('marks the cookie Secure when the page came over HTTPS (a TLS proxy in front: the Origin says so)', async () => {
    const { cookie } = await cookieLogin({ origin: 'https://pms.example' });
    expect(cookie.attributes).toContain('secure');
  });

  it('leaves API clients that send no header as they were: the pair in the body, no cookie', async () => {
    const user = await createUser(t.db);
    const res = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: user.email, password: user.password },
    });
    expect(Object.keys(res.body).sort()).toEqual(['access', 'refresh']);
    expect(res.headers['set-cookie']).toBeUndefined();
    const rotated = await call(t.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: res.body.refresh },
    });
    expect(Object.keys(rotated.body).sort()).toEqual(['access', 'refresh']);
    expect(rotated.headers['set-cookie']).toBeUndefined();
    const missing = await call(t.app, 'POST', '/api/auth/token/refresh/', { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('VALIDATION_ERROR');
  });

  it('rotates through the cookie; a replayed cookie is refused, cleared, and ends the whole sign-in', async () => {
    const { cookie } = await cookieLogin();
    const second = await refreshWith(cookie.value);
    expect(second.status).toBe(200);
    expect(Object.keys(second.body)).toEqual(['access']);
    const next = refreshCookie(second.headers)!;
    expect(next.value).not.toBe(cookie.value);
    expect(next.attributes).toEqual(
      expect.arrayContaining(['httponly', 'samesite=strict', 'path=/api/auth/token/']),
    );

    const replay = await refreshWith(cookie.value);
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('UNAUTHENTICATED');
    const cleared = refreshCookie(replay.headers)!;
    expect(cleared.value).toBe('');
    expect(cleared.attributes).toContain('path=/api/auth/token/');
    expect(
      cleared.attributes.some((a) => a === 'max-age=0' || a.startsWith('expires=thu, 01 jan 1970')),
    ).toBe(true);
    // The theft check revoked the family: the newest cookie is dead too.
    expect((await refreshWith(next.value)).status).toBe(401);
  });

  it('uses the cookie only with the header, which no cross-site form can send (CSRF)', async () => {
    const { cookie } = await cookieLogin();
    // A cross-site page can make the browser post with its cookies, but not with this header.
    const noHeader = await refreshWith(cookie.value, {});
    expect(noHeader.status).toBe(400);
    expect(noHeader.body.code).toBe('VALIDATION_ERROR');
    expect(noHeader.headers['set-cookie']).toBeUndefined();
    const form = await t.app.inject({
      method: 'POST',
      url: '/api/auth/token/refresh/',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-refresh-token': 'cookie',
        cookie: `pms_refresh=${cookie.value}`,
      },
      payload: 'refresh=',
    });
    expect(form.statusCode).toBe(415);
    const badHeader = await refreshWith(cookie.value, { 'x-refresh-token': cookie.value });
    expect(badHeader.status).toBe(400);
    expect(badHeader.body.code).toBe('VALIDATION_ERROR');
    // None of those used it up.
    expect((await refreshWith(cookie.value)).status).toBe(200);

    const noCookie = await refreshWith(undefined);
    expect(noCookie.status).toBe(401);
    expect(noCookie.body.code).toBe('UNAUTHENTICATED');
  });

  it('revokes the sign-in and clears the cookie on logout; revoking twice or without a cookie is fine', async () => {
    const { res, cookie } = await cookieLogin();
    const rotated = refreshCookie((await refreshWith(cookie.value)).headers)!;
    const out = await call(t.app, 'POST', '/api/auth/token/revoke/', {
      headers: { ...COOKIE_MODE, cookie: `pms_refresh=${rotated.value}` },
      body: {},
    });
    expect(out.status).toBe(204);
    const cleared = refreshCookie(out.headers)!;
    expect(cleared.value).toBe('');
    expect(cleared.attributes).toEqual(
      expect.arrayContaining(['httponly', 'samesite=strict', 'path=/api/auth/token/']),
    );
    expect((await refreshWith(rotated.value)).status).toBe(401);
    // Its sign-in's access tokens end with it.
    expect((await call(t.app, 'GET', '/api/auth/me/', { token: res.body.access })).status).toBe(401);

    const again = await call(t.app, 'POST', '/api/auth/token/revoke/', {
      headers: { ...COOKIE_MODE, cookie: `pms_refresh=${rotated.value}` },
      body: {},
    });
    expect(again.status).toBe(204);
    const none = await call(t.app, 'POST', '/api/auth/token/revoke/', { headers: COOKIE_MODE, body: {} });
    expect(none.status).toBe(204);
  });

  it('lets API clients revoke a refresh token from the body, and refuses a missing or forged one', async () => {
    const user = await createUser(t.db);
    const pair = await call(t.app, 'POST', '/api/auth/token/', {
      body: { email: user.email, password: user.password },
    });
    const out = await call(t.app, 'POST', '/api/auth/token/revoke/', {
      body: { refresh: pair.body.refresh },
    });
    expect(out.status).toBe(204);
    expect(out.headers['set-cookie']).toBeUndefined();
    const after = await call(t.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: pair.body.refresh },
    });
    expect(after.status).toBe(401);

    const missing = await call(t.app, 'POST', '/api/auth/token/revoke/', { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('VALIDATION_ERROR');
    const forged = await call(t.app, 'POST', '/api/auth/token/revoke/', {
      body: { refresh: `${pair.body.refresh.slice(0, -4)}AAAA` },
    });
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('UNAUTHENTICATED');
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

  it('counts attempts per address across accounts: a spray from one address stops, others sign in', async () => {
    const perAddress = 12;
    const limited = await createTestContext({
      env: { LOGIN_RATE_LIMIT_PER_MINUTE: '3', LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: String(perAddress) },
    });
    try {
      const url = `${await limited.app.listen({ port: 0, host: '127.0.0.1' })}/api/auth/token/`;
      // Real connections from two loopback addresses (Linux answers for all of 127.0.0.0/8).
      const signIn = (localAddress: string, email: string, password: string) =>
        new Promise<{ status: number; body: { code?: string } }>((resolve, reject) => {
          const sent = httpRequest(
            url,
            { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } },
            (response) => {
              let text = '';
              response.on('data', (chunk) => {
                text += chunk;
              });
              response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
            },
          );
          sent.on('error', reject);
          sent.end(JSON.stringify({ email, password }));
        });
      const sprayer = '127.0.0.2';
      const bystander = '127.0.0.3';
      const victims = await Promise.all(Array.from({ length: perAddress + 8 }, () => createUser(limited.db)));
      // One guess per account, all at once: each account stays under its own limit of 3.
      const sprayed = await Promise.all(victims.map((v) => signIn(sprayer, v.email, 'Summer2024!')));
      expect(sprayed.filter((r) => r.status === 401)).toHaveLength(perAddress);
      const refused = sprayed.filter((r) => r.status === 429);
      expect(refused).toHaveLength(8);
      for (const r of refused) expect(r.body.code).toBe('RATE_LIMITED');
      // Even the right password is refused from that address now; another address is untouched.
      expect((await signIn(sprayer, victims[0]!.email, victims[0]!.password)).status).toBe(429);
      expect((await signIn(bystander, victims[1]!.email, 'Summer2024!')).status).toBe(401);
      expect((await signIn(bystander, victims[1]!.email, victims[1]!.password)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
