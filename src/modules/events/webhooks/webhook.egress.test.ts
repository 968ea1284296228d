import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, type TestContext } from '../../../../test/helpers/context.ts';
import { createProperty, userWithToken } from '../../../../test/helpers/factories.ts';
import { parseEgressPolicy } from '../../../app/egress.ts';
import type { CloudEvent } from '../outbox.ts';
import { sendWebhook } from './webhook.sender.ts';

const event: CloudEvent = {
  specversion: '1.0',
  id: '0190a5b0-0000-7000-8000-000000000001',
  type: 'pms.reservation.created',
  source: 'pms',
  subject: '0190a5b0-0000-7000-8000-00000000beef',
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  data: {},
} as unknown as CloudEvent;

describe('webhook targets: WEBHOOK_ALLOWED_NETWORKS at registration', () => {
  let open: TestContext;
  let strict: TestContext;
  let openHotel: string;
  let strictHotel: string;
  let openRoot: string;
  let strictRoot: string;

  beforeAll(async () => {
    open = await createTestContext({ env: { WEBHOOK_ALLOWED_NETWORKS: 'external,private,loopback' } });
    // The default: public addresses only.
    strict = await createTestContext();
    openHotel = (await createProperty(open.db)).id;
    strictHotel = (await createProperty(strict.db)).id;
    openRoot = (await userWithToken(open.app, open.db, { role: 'SUPER_ADMIN' })).token;
    strictRoot = (await userWithToken(strict.app, strict.db, { role: 'SUPER_ADMIN' })).token;
  });
  afterAll(async () => {
    await open?.close();
    await strict?.close();
  });

  const subscribe = (ctx: TestContext, token: string, propertyId: string, url: string) =>
    call(ctx.app, 'POST', '/api/webhooks/', {
      token,
      body: { property_id: propertyId, url, event_types: ['pms.reservation.created'] },
    });

  it('refuses the cloud metadata address even when private and loopback are allowed, and creates nothing', async () => {
    const response = await subscribe(open, openRoot, openHotel, 'http://169.254.169.254/latest/meta-data/');
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_ERROR');
    expect(response.body.errors).toEqual([
      {
        pointer: '/body/url',
        message:
          'must not target 169.254.169.254, which WEBHOOK_ALLOWED_NETWORKS (external,private,loopback) does not allow',
      },
    ]);
    expect(await open.db.selectFrom('webhook_subscription').select('id').execute()).toEqual([]);
    // Loopback is allowed there because the setting names it.
    expect((await subscribe(open, openRoot, openHotel, 'http://127.0.0.1:9/hook')).status).toBe(201);
  });

  it('by default (external only), refuses loopback and private targets on create and on update', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://[::1]/hook',
      'https://10.0.0.5/hook',
    ]) {
      const response = await subscribe(strict, strictRoot, strictHotel, url);
      expect(response.status, url).toBe(400);
      expect(response.body.errors[0].message, url).toMatch(
        /^must not target .*, which WEBHOOK_ALLOWED_NETWORKS \(external\)/,
      );
    }
    const created = await subscribe(strict, strictRoot, strictHotel, 'https://hooks.example.test/pms');
    expect(created.status).toBe(201);
    const moved = await call(strict.app, 'PATCH', `/api/webhooks/${created.body.id}/`, {
      token: strictRoot,
      body: { url: 'http://192.168.1.20/pms' },
    });
    expect(moved.status).toBe(400);
    const stored = await call(strict.app, 'GET', `/api/webhooks/${created.body.id}/`, { token: strictRoot });
    expect(stored.body.url).toBe('https://hooks.example.test/pms');
  });
});

describe('webhook targets: WEBHOOK_ALLOWED_NETWORKS at delivery', () => {
  let server: http.Server;
  let port: number;
  let hits = 0;

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      hits++;
      request.resume();
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (url: string, networks?: string) =>
    sendWebhook({
      url,
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      event,
      timeoutMs: 5_000,
      allowedNetworks: networks === undefined ? undefined : parseEgressPolicy(networks).policy,
    });

  it('refuses a name that resolves to a refused address, without connecting', async () => {
    const before = hits;
    const attempt = await send(`http://localhost:${port}/hook`, 'external');
    expect(attempt).toMatchObject({ ok: false, responseStatus: null });
    // The address it resolves to is for the server's log, not the tenant's.
    // The same words as for a name that does not resolve: which one it is would map internal names.
    expect(attempt.error).toBe('localhost does not resolve to an address this server may reach.');
    expect(hits).toBe(before);
  });

  it('says the same of a name that does not resolve at all (.invalid never does)', async () => {
    const attempt = await send('http://pms-test.invalid/hook', 'external');
    expect(attempt).toMatchObject({ ok: false, responseStatus: null });
    expect(attempt.error).toBe('pms-test.invalid does not resolve to an address this server may reach.');
  });

  it('refuses an address written in the URL, without connecting', async () => {
    const before = hits;
    const attempt = await send(`http://127.0.0.1:${port}/hook`, 'external');
    expect(attempt.ok).toBe(false);
    expect(attempt.error).toBe('127.0.0.1 is not an address this server may reach (allowed: external).');
    expect(hits).toBe(before);
  });

  it('delivers to the same receiver only when the policy names loopback (the default does not)', async () => {
    const before = hits;
    expect(await send(`http://127.0.0.1:${port}/hook`)).toMatchObject({ ok: false, responseStatus: null });
    expect(hits).toBe(before);
    expect(await send(`http://localhost:${port}/hook`, 'loopback')).toMatchObject({
      ok: true,
      responseStatus: 204,
    });
    expect(await send(`http://127.0.0.1:${port}/hook`, 'external,loopback')).toMatchObject({ ok: true });
    expect(hits).toBe(before + 2);
  });
});
