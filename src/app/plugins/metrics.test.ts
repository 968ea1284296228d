import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, TEST_METRICS_TOKEN, type TestContext } from '../../../test/helpers/context.ts';

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

  const scrape = () =>
    ctx.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
    });

  it('counts every response by method, route pattern and status, unmatched ones included', async () => {
    const before = (await scrape()).body;
    for (let i = 0; i < 3; i++)
      expect((await ctx.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/properties/' })).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'GET', url: '/no/such/route' })).statusCode).toBe(404);
    const after = (await scrape()).body;

    const healthz = 'method="GET",route="/healthz",status_code="200"';
    expect(count(after, healthz) - count(before, healthz)).toBe(3);
    const denied = 'method="GET",route="/api/properties/",status_code="401"';
    expect(count(after, denied) - count(before, denied)).toBe(1);
    const unmatched = 'method="GET",route="unmatched",status_code="404"';
    expect(count(after, unmatched) - count(before, unmatched)).toBe(1);
  });

  it('answers a scrape without the token, or with another one, 401 and no metrics', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Bearer ${TEST_METRICS_TOKEN}x`,
      TEST_METRICS_TOKEN,
    ]) {
      const response = await ctx.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(response.statusCode, String(authorization)).toBe(401);
      expect(response.json().code).toBe('UNAUTHENTICATED');
      expect(response.body).not.toContain('http_request_duration_seconds');
    }
    expect((await scrape()).statusCode).toBe(200);
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  it('is off: 403 METRICS_DISABLED saying which setting turns it on', async () => {
    const ctx = await createTestContext({ env: { METRICS_TOKEN: '' } });
    try {
      const response = await ctx.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json().code).toBe('METRICS_DISABLED');
      expect(response.json().detail).toContain('METRICS_TOKEN');
    } finally {
      await ctx.close();
    }
  });
});
