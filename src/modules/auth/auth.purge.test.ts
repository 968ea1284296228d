import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext, workerDeps } from '../../../test/helpers/context.ts';
import { createUser } from '../../../test/helpers/factories.ts';
import { purgeExpiredRefreshTokens } from './auth.service.ts';
import { startRefreshTokenPurge } from './auth.worker.ts';

const HOUR_MS = 3_600_000;

describe('expired refresh tokens', () => {
  let ctx: TestContext;
  let user: Awaited<ReturnType<typeof createUser>>;

  beforeAll(async () => {
    ctx = await createTestContext();
    user = await createUser(ctx.db);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  /** A refresh token row of the user that expired (or expires) `hoursFromNow` from now. */
  async function tokenRow(hoursFromNow: number): Promise<string> {
    const id = crypto.randomUUID();
    await ctx.db
      .insertInto('refresh_token')
      .values({
        id,
        user_id: user.id,
        family_id: crypto.randomUUID(),
        expires_at: new Date(Date.now() + hoursFromNow * HOUR_MS),
      })
      .execute();
    return id;
  }

  const present = async (ids: string[]) =>
    (await ctx.db.selectFrom('refresh_token').select('id').where('id', 'in', ids).execute())
      .map((r) => r.id)
      .sort();

  it('are deleted in batches once past the cut-off; others stay, and a live token still refreshes', async () => {
    const signedIn = await call(ctx.app, 'POST', '/api/auth/token/', {
      body: { email: user.email, password: user.password },
    });
    expect(signedIn.status).toBe(200);
    const old = [await tokenRow(-48), await tokenRow(-30), await tokenRow(-25)];
    const keep = [await tokenRow(-1), await tokenRow(24)];

    // Batches of 2: two statements delete the three tokens that expired over a day ago.
    expect(await purgeExpiredRefreshTokens(ctx.db, new Date(Date.now() - 24 * HOUR_MS), 2)).toBe(3);
    expect(await present([...old, ...keep])).toEqual([...keep].sort());

    const refreshed = await call(ctx.app, 'POST', '/api/auth/token/refresh/', {
      body: { refresh: signedIn.body.refresh },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access).toEqual(expect.any(String));
  });

  it('the worker purges at start, keeping tokens that expired less than a day ago', async () => {
    const stale = await tokenRow(-26);
    const recent = await tokenRow(-2);
    const stop = await startRefreshTokenPurge(workerDeps(ctx));
    await stop();
    expect(await present([stale, recent])).toEqual([recent]);
  });
});
