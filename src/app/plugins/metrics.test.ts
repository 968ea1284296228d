import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../../test/helpers/context.ts';

describe('GET /metrics: request durations', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const count = (text: string, labels: string) =>
    Number(
      text.match(new RegExp(`^http_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm'))?.[1] ?? 0,
    );

  it('counts every response by method, route pattern and status, unmatched ones included', async () => {
    const before = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (let i = 0; i < 3; i++)
      expect((await ctx.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/properties/' })).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'GET', url: '/no/such/route' })).statusCode).toBe(404);
    const after = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;

    const healthz = 'method="GET",route="/healthz",status_code="200"';
    expect(count(after, healthz) - count(before, healthz)).toBe(3);
    const denied = 'method="GET",route="/api/properties/",status_code="401"';
    expect(count(after, denied) - count(before, denied)).toBe(1);
    const unmatched = 'method="GET",route="unmatched",status_code="404"';
    expect(count(after, unmatched) - count(before, unmatched)).toBe(1);
  });
});
