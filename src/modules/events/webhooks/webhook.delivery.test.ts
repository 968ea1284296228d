import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createTestContext,
  LOOPBACK_EGRESS,
  type TestContext,
} from '../../../../test/helpers/context.ts';
import { commitEvent, startHookServer, waitFor } from '../../../../test/helpers/events.ts';
import { createProperty, userWithToken } from '../../../../test/helpers/factories.ts';
import { createLogger } from '../../../app/logger.ts';
import { resolveSecretsKey } from '../../../app/secrets.ts';
import type { CloudEvent } from '../outbox.ts';
import { type Relay, startRelay } from '../relay/relay.ts';
import { createWebhookSink } from '../sinks/webhook.sink.ts';
import { generateWebhookSecret } from './webhook.secret.ts';
import { UNDELIVERABLE } from './webhook.sender.ts';

async function startWebhookRelay(ctx: TestContext, retryWindowMs: number): Promise<Relay> {
  const logger = createLogger({ logLevel: 'silent' });
  return startRelay({
    db: ctx.db,
    databaseUrl: ctx.databaseUrl,
    sinks: [
      createWebhookSink({
        db: ctx.db,
        secretsKey: resolveSecretsKey(ctx.config),
        logger,
        retryWindowMs,
        allowedNetworks: ctx.config.webhookAllowedNetworks,
        retryBaseMs: 40,
        maxRetryDelayMs: 150,
        timeoutMs: 2000,
      }),
    ],
    logger,
    leaseMs: 5000,
    pollMs: 50,
  });
}

describe('webhook delivery through the relay', () => {
  let ctx: TestContext;
  let relay: Relay;
  let hotel: string;
  let otherHotel: string;
  let admin: string;

  beforeAll(async () => {
    ctx = await createTestContext({ env: LOOPBACK_EGRESS });
    relay = await startWebhookRelay(ctx, 3_600_000);
    hotel = (await createProperty(ctx.db)).id;
    otherHotel = (await createProperty(ctx.db)).id;
    admin = (await userWithToken(ctx.app, ctx.db, { role: 'PROPERTY_ADMIN', propertyIds: [hotel] })).token;
  });
  afterAll(async () => {
    await relay?.stop();
    await ctx?.close();
  });

  const subscribe = async (url: string, eventTypes: string[]) => {
    const response = await call(ctx.app, 'POST', '/api/webhooks/', {
      token: admin,
      body: { property_id: hotel, url, event_types: eventTypes },
    });
    expect(response.status).toBe(201);
    return response.body as { id: string; secret: string };
  };

  it('signs each delivery per Standard Webhooks: it verifies with the secret and fails with another', async () => {
    const endpoint = await startHookServer(200);
    try {
      const webhook = await subscribe(endpoint.url, ['pms.reservation.created']);
      const wanted = await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'r1' });
      await commitEvent(ctx.db, 'pms.inventory.updated', hotel, { nights: [] });
      await commitEvent(ctx.db, 'pms.reservation.created', otherHotel, { reservation_id: 'elsewhere' });
      const marker = await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'r2' });
      await waitFor(() => (endpoint.acceptedIds().includes(marker.id) ? true : undefined), {
        what: 'the webhooks',
      });

      expect(endpoint.acceptedIds()).toEqual([wanted.id, marker.id]);
      const [first] = endpoint.received;
      expect(first!.headers['webhook-id']).toBe(wanted.id);
      expect(first!.headers['content-type']).toBe('application/json');
      expect(new Webhook(webhook.secret).verify(first!.body, first!.headers)).toEqual(wanted);
      expect(() => new Webhook(generateWebhookSecret()).verify(first!.body, first!.headers)).toThrow(
        WebhookVerificationError,
      );
      const tampered = first!.body.replace('"r1"', '"r9"');
      expect(() => new Webhook(webhook.secret).verify(tampered, first!.headers)).toThrow(
        WebhookVerificationError,
      );

      // The relay logs a delivery once the endpoint's answer is back, which can be after it arrives.
      const log = await waitFor(
        async () => {
          const page = await call(ctx.app, 'GET', `/api/webhooks/${webhook.id}/deliveries/`, {
            token: admin,
          });
          const logged = (page.body.results ?? []) as Array<{ event_id: string }>;
          return logged.some((d) => d.event_id === marker.id) ? page : undefined;
        },
        { what: 'the last delivery to be logged' },
      );
      expect(log.status).toBe(200);
      expect(log.body.results.map((d: { event_id: string }) => d.event_id)).toEqual([marker.id, wanted.id]);
      expect(log.body.results[0]).toMatchObject({
        status: 'succeeded',
        attempt: 1,
        trigger: 'automatic',
        response_status: 200,
      });
      expect(log.body.results[0]).not.toHaveProperty('response_body');
    } finally {
      await endpoint.close();
    }
  });

  it('retries an endpoint answering 500 with backoff, logging each attempt, and loses nothing once it recovers', async () => {
    const endpoint = await startHookServer(500);
    try {
      const webhook = await subscribe(endpoint.url, ['pms.reservation.created', 'pms.reservation.cancelled']);
      const committed: CloudEvent[] = [];
      for (let i = 0; i < 5; i++) {
        const type = i % 2 ? 'pms.reservation.cancelled' : 'pms.reservation.created';
        committed.push(await commitEvent(ctx.db, type, hotel, { reservation_id: `r${i}` }));
      }
      const loggedAttempts = () =>
        ctx.db
          .selectFrom('webhook_delivery')
          .select(['event_id', 'attempt', 'status', 'response_status'])
          .where('subscription_id', '=', webhook.id)
          .orderBy('created_at')
          .execute();
      const failures = await waitFor(async () => {
        const rows = await loggedAttempts();
        return rows.length >= 3 ? rows : undefined;
      });
      // Order per subscription: while the first event fails, the later ones wait behind it.
      expect(new Set(endpoint.received.map((r) => r.headers['webhook-id']))).toEqual(
        new Set([committed[0]!.id]),
      );
      expect(failures.slice(0, 3)).toEqual(
        [1, 2, 3].map((attempt) => ({
          event_id: committed[0]!.id,
          attempt,
          status: 'failed',
          response_status: 500,
        })),
      );
      const failing = await call(ctx.app, 'GET', `/api/webhooks/${webhook.id}/`, { token: admin });
      expect(failing.body.delivery.failing_since).not.toBeNull();
      expect(failing.body.delivery.last_error).toContain('HTTP 500');

      endpoint.state.status = 200;
      await waitFor(() => (endpoint.acceptedIds().length === 5 ? true : undefined), { what: 'the backlog' });
      expect(endpoint.acceptedIds()).toEqual(committed.map((e) => e.id));
      // The lane records its success just after the endpoint answered.
      const recovered = await waitFor(async () => {
        const response = await call(ctx.app, 'GET', `/api/webhooks/${webhook.id}/`, { token: admin });
        return response.body.delivery.failing_since === null ? response : undefined;
      });
      expect(recovered.body.delivery).toEqual({
        failing_since: null,
        attempts: 0,
        next_attempt_at: null,
        last_error: null,
      });

      // Each success is logged just after the endpoint answered: page through a settled log.
      const settled = await waitFor(
        async () => {
          const rows = await loggedAttempts();
          return rows.filter((row) => row.status === 'succeeded').length === committed.length
            ? rows
            : undefined;
        },
        { what: 'every delivery to be logged' },
      );
      const log = await call(ctx.app, 'GET', `/api/webhooks/${webhook.id}/deliveries/?limit=2`, {
        token: admin,
      });
      expect(log.body.next_cursor).not.toBeNull();
      const next = await call(
        ctx.app,
        'GET',
        `/api/webhooks/${webhook.id}/deliveries/?limit=100&cursor=${log.body.next_cursor}`,
        {
          token: admin,
        },
      );
      const all = [...log.body.results, ...next.body.results];
      expect(all).toHaveLength(settled.length);
      expect(new Set(all.map((d: { id: string }) => d.id)).size).toBe(all.length);
    } finally {
      await endpoint.close();
    }
  });

  it('redelivers a logged delivery on request, with the same webhook-id, and logs it as manual', async () => {
    const endpoint = await startHookServer(200);
    try {
      const webhook = await subscribe(endpoint.url, ['pms.reservation.created']);
      const event = await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'again' });
      await waitFor(() => (endpoint.acceptedIds().includes(event.id) ? true : undefined));
      // The relay logs the delivery once the endpoint's answer is back, which can be after it arrives.
      const original = await waitFor(
        async () =>
          (await call(ctx.app, 'GET', `/api/webhooks/${webhook.id}/deliveries/`, { token: admin })).body
            .results[0],
        { what: 'the delivery to be logged' },
      );

      const redelivered = await call(
        ctx.app,
        'POST',
        `/api/webhooks/${webhook.id}/deliveries/${original.id}/redeliver/`,
        {
          token: admin,
        },
      );
      expect(redelivered.status).toBe(201);
      expect(redelivered.body).toMatchObject({
        event_id: event.id,
        trigger: 'manual',
        attempt: 2,
        status: 'succeeded',
      });
      expect(endpoint.acceptedIds()).toEqual([event.id, event.id]);
      expect(
        new Webhook(webhook.secret).verify(endpoint.received[1]!.body, endpoint.received[1]!.headers),
      ).toEqual(event);
      const unknown = await call(
        ctx.app,
        'POST',
        `/api/webhooks/${webhook.id}/deliveries/${crypto.randomUUID()}/redeliver/`,
        { token: admin },
      );
      expect(unknown.status).toBe(404);
    } finally {
      await endpoint.close();
    }
  });

  it('logs no part of what a target answered, and the same error for a closed port as for one that does not speak HTTP', async () => {
    const secret = 'internal-admin-panel-token-7d2e';
    const leaky = http.createServer((request, response) => {
      request.resume();
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`${secret} `.repeat(100));
    });
    const bannerSockets = new Set<net.Socket>();
    const banner = net.createServer((socket) => {
      bannerSockets.add(socket);
      socket.on('error', () => {});
      socket.end('SSH-2.0-OpenSSH_9.6\r\n');
    });
    const closed = net.createServer();
    for (const server of [leaky, banner, closed])
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = (server: net.Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const closedUrl = url(closed);
    await new Promise((resolve) => closed.close(resolve));
    try {
      const hooks = {
        leaky: await subscribe(url(leaky), ['pms.rates.updated']),
        banner: await subscribe(url(banner), ['pms.rates.updated']),
        closed: await subscribe(closedUrl, ['pms.rates.updated']),
      };
      await commitEvent(ctx.db, 'pms.rates.updated', hotel, { rate_plan: 'BAR' });
      const firstAttempt = async (id: string) =>
        waitFor(
          async () =>
            (await call(ctx.app, 'GET', `/api/webhooks/${id}/deliveries/`, { token: admin })).body.results.at(
              -1,
            ),
          { what: 'a logged attempt' },
        );
      const logged = {
        leaky: await firstAttempt(hooks.leaky.id),
        banner: await firstAttempt(hooks.banner.id),
        closed: await firstAttempt(hooks.closed.id),
      };
      const again = await call(
        ctx.app,
        'POST',
        `/api/webhooks/${hooks.leaky.id}/deliveries/${logged.leaky.id}/redeliver/`,
        { token: admin },
      );
      expect(again.status).toBe(201);
      expect(logged.leaky).toMatchObject({ status: 'failed', response_status: 500 });
      expect(logged.leaky.error).toBe('The endpoint answered HTTP 500.');
      expect(logged.banner).toMatchObject({ status: 'failed', response_status: null, error: UNDELIVERABLE });
      expect(logged.closed).toMatchObject({ status: 'failed', response_status: null, error: UNDELIVERABLE });
      const subscriptions = Object.values(hooks).map((hook) => hook.id);
      const everything = await Promise.all(
        subscriptions.map((id) => call(ctx.app, 'GET', `/api/webhooks/${id}/deliveries/`, { token: admin })),
      );
      const bodies = await ctx.db
        .selectFrom('webhook_delivery')
        .select('response_body')
        .where('subscription_id', 'in', subscriptions)
        .execute();
      expect(bodies.length).toBeGreaterThanOrEqual(4);
      expect(bodies.every((row) => row.response_body === null)).toBe(true);
      expect(JSON.stringify([again.body, ...everything.map((page) => page.body)])).not.toContain(secret);
      const lanes = await Promise.all(
        subscriptions.map((id) => call(ctx.app, 'GET', `/api/webhooks/${id}/`, { token: admin })),
      );
      expect(JSON.stringify(lanes.map((lane) => lane.body))).not.toContain(secret);
    } finally {
      leaky.closeAllConnections();
      await new Promise((resolve) => leaky.close(resolve));
      for (const socket of bannerSockets) socket.destroy();
      await new Promise((resolve) => banner.close(resolve));
    }
  });
});

describe('a webhook that keeps failing past its retry window', () => {
  let ctx: TestContext;
  let relay: Relay;

  beforeAll(async () => {
    ctx = await createTestContext({ env: LOOPBACK_EGRESS });
    relay = await startWebhookRelay(ctx, 300);
  });
  afterAll(async () => {
    await relay?.stop();
    await ctx?.close();
  });

  it('is disabled with an audit row and a pms.webhook.disabled event; re-enabling delivers what queued up', async () => {
    const hotel = (await createProperty(ctx.db)).id;
    const { token } = await userWithToken(ctx.app, ctx.db, { role: 'PROPERTY_ADMIN', propertyIds: [hotel] });
    const endpoint = await startHookServer(500);
    try {
      const created = await call(ctx.app, 'POST', '/api/webhooks/', {
        token,
        body: { property_id: hotel, url: endpoint.url, event_types: ['pms.reservation.created'] },
      });
      const first = await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'a' });
      const disabled = await waitFor(async () => {
        const webhook = await call(ctx.app, 'GET', `/api/webhooks/${created.body.id}/`, { token });
        return webhook.body.enabled ? undefined : webhook.body;
      });
      expect(disabled.disabled_reason).toContain('HTTP 500');

      const audit = await ctx.db
        .selectFrom('audit_log')
        .select(['action', 'actor_role'])
        .where('entity_id', '=', created.body.id)
        .where('action', '=', 'webhook.disabled')
        .execute();
      expect(audit).toEqual([{ action: 'webhook.disabled', actor_role: 'SYSTEM' }]);
      const events = await ctx.db
        .selectFrom('outbox_event')
        .select('envelope')
        .where('type', '=', 'pms.webhook.disabled')
        .execute();
      expect(events.map((e) => (e.envelope as unknown as CloudEvent).data)).toEqual([
        expect.objectContaining({ webhook_id: created.body.id, url: endpoint.url }),
      ]);
      const lane = await ctx.db
        .selectFrom('event_lane')
        .select('active')
        .where('lane_key', '=', created.body.id)
        .executeTakeFirstOrThrow();
      expect(lane.active).toBe(false);

      const second = await commitEvent(ctx.db, 'pms.reservation.created', hotel, { reservation_id: 'b' });
      endpoint.state.status = 200;
      const enabled = await call(ctx.app, 'PATCH', `/api/webhooks/${created.body.id}/`, {
        token,
        body: { enabled: true },
      });
      expect(enabled.body.enabled).toBe(true);
      await waitFor(() => (endpoint.acceptedIds().length === 2 ? true : undefined), { what: 'the backlog' });
      expect(endpoint.acceptedIds()).toEqual([first.id, second.id]);
    } finally {
      await endpoint.close();
    }
  });
});
