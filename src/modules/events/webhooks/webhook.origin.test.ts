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
import { type Relay, startRelay } from '../relay/relay.ts';
import { createWebhookSink } from '../sinks/webhook.sink.ts';

/**
 * Issue #17: a webhook re-pointed at another origin (scheme, host, port) gets a new signing
 * secret, shown once in the PATCH answer. Events signed with the secret the old receiver trusts
 * never reach the new one, where they could be replayed to the old. Real receivers over HTTP.
 */
describe('a webhook URL moved to another origin', () => {
  let ctx: TestContext;
  let relay: Relay;
  let hotel: string;
  let admin: string;

  beforeAll(async () => {
    ctx = await createTestContext({ env: LOOPBACK_EGRESS });
    const logger = createLogger({ logLevel: 'silent' });
    relay = await startRelay({
      db: ctx.db,
      databaseUrl: ctx.databaseUrl,
      sinks: [
        createWebhookSink({
          db: ctx.db,
          secretsKey: resolveSecretsKey(ctx.config),
          logger,
          retryWindowMs: 3_600_000,
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
    hotel = (await createProperty(ctx.db)).id;
    admin = (await userWithToken(ctx.app, ctx.db, { role: 'PROPERTY_ADMIN', propertyIds: [hotel] })).token;
  });
  afterAll(async () => {
    await relay?.stop();
    await ctx?.close();
  });

  type Receiver = Awaited<ReturnType<typeof startHookServer>>;
  /** Commits an event and waits until `receiver` has it; returns what arrived. */
  const deliver = async (receiver: Receiver, reservation: string) => {
    const event = await commitEvent(ctx.db, 'pms.reservation.created', hotel, {
      reservation_id: reservation,
    });
    return waitFor(() => receiver.received.find((r) => r.headers['webhook-id'] === event.id), {
      what: `event ${reservation} at the receiver`,
    });
  };
  const secretRotations = async (id: string) =>
    (
      await ctx.db
        .selectFrom('audit_log')
        .select('diff')
        .where('entity_id', '=', id)
        .where('action', '=', 'webhook.secret_rotated')
        .execute()
    ).length;

  it('gets a new signing secret, shown once; a change within the origin keeps it', async () => {
    const first = await startHookServer(200);
    const second = await startHookServer(200);
    try {
      const created = await call(ctx.app, 'POST', '/api/webhooks/', {
        token: admin,
        body: { property_id: hotel, url: first.url, event_types: ['pms.reservation.created'] },
      });
      expect(created.status).toBe(201);
      const { id, secret: oldSecret } = created.body as { id: string; secret: string };
      const atFirst = await deliver(first, 'r1');
      expect(new Webhook(oldSecret).verify(atFirst.body, atFirst.headers)).toMatchObject({
        data: { reservation_id: 'r1' },
      });

      const moved = await call(ctx.app, 'PATCH', `/api/webhooks/${id}/`, {
        token: admin,
        body: { url: second.url },
      });
      expect(moved.status).toBe(200);
      expect(moved.body.url).toBe(second.url);
      const newSecret = moved.body.secret as string;
      expect(newSecret).toMatch(/^whsec_/);
      expect(newSecret).not.toBe(oldSecret);
      expect(await secretRotations(id)).toBe(1);
      const shown = await call(ctx.app, 'GET', `/api/webhooks/${id}/`, { token: admin });
      expect(shown.body).not.toHaveProperty('secret');

      // The new receiver gets events the old secret does not verify: nothing to replay to the old one.
      const atSecond = await deliver(second, 'r2');
      expect(new Webhook(newSecret).verify(atSecond.body, atSecond.headers)).toMatchObject({
        data: { reservation_id: 'r2' },
      });
      expect(() => new Webhook(oldSecret).verify(atSecond.body, atSecond.headers)).toThrow(
        WebhookVerificationError,
      );
      expect(first.received).toHaveLength(1);

      // Same scheme, host and port, another path: the receiver is the same, so is the secret.
      const samePlace = await call(ctx.app, 'PATCH', `/api/webhooks/${id}/`, {
        token: admin,
        body: { url: `${second.url}/v2?x=1`, event_types: ['pms.reservation.created'] },
      });
      expect(samePlace.status).toBe(200);
      expect(samePlace.body).not.toHaveProperty('secret');
      expect(await secretRotations(id)).toBe(1);
      const again = await deliver(second, 'r3');
      expect(new Webhook(newSecret).verify(again.body, again.headers)).toMatchObject({
        data: { reservation_id: 'r3' },
      });

      // Changes without a URL never rotate.
      const renamed = await call(ctx.app, 'PATCH', `/api/webhooks/${id}/`, {
        token: admin,
        body: { description: 'renamed' },
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body).not.toHaveProperty('secret');
      expect(await secretRotations(id)).toBe(1);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
