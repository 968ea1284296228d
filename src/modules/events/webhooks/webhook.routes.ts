import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../../../app/request-context.ts';
import { IdParams, Page } from '../../../app/schemas.ts';
import { resolveSecretsKey } from '../../../app/secrets.ts';
import {
  CreateWebhookBody,
  DeliveriesQuery,
  Delivery,
  DeliveryParams,
  ListWebhooksQuery,
  UpdatedWebhook,
  UpdateWebhookBody,
  Webhook,
  WebhookWithSecret,
} from './webhook.schemas.ts';
import { createWebhookService } from './webhook.service.ts';

const tags = ['webhooks'];
const security = [{ bearerAuth: [] }];

/** `/api/webhooks/`: per-property subscriptions, their delivery log and manual redelivery. */
export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const webhooks = createWebhookService(app.db, {
    secretsKey: resolveSecretsKey(app.config),
    timeoutMs: 10_000,
    allowedNetworks: app.config.webhookAllowedNetworks,
    eventRetentionDays: app.config.eventRetentionDays,
    logger: app.log,
  });

  app.post(
    '/api/webhooks/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Subscribe an endpoint to a property’s events (the secret is shown only here)',
        security,
        body: CreateWebhookBody,
        response: { 201: WebhookWithSecret },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await webhooks.create(requestContext(request), request.body)),
  );

  app.get(
    '/api/webhooks/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'List webhook subscriptions',
        security,
        querystring: ListWebhooksQuery,
        response: { 200: Page(Webhook) },
      },
    },
    async (request) => webhooks.list(request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  app.get(
    '/api/webhooks/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Get a webhook subscription',
        security,
        params: IdParams,
        response: { 200: Webhook },
      },
    },
    async (request) => webhooks.get(request.actor, request.params.id),
  );

  app.patch(
    '/api/webhooks/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Change a webhook subscription (URL, event types, enabled)',
        description:
          'A `url` on another origin (scheme, host or port) replaces the signing secret: the new one is in this answer only.',
        security,
        params: IdParams,
        body: UpdateWebhookBody,
        response: { 200: UpdatedWebhook },
      },
    },
    async (request) => webhooks.update(requestContext(request), request.params.id, request.body),
  );

  app.delete(
    '/api/webhooks/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Delete a webhook subscription and its log',
        security,
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await webhooks.remove(requestContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/webhooks/:id/rotate-secret/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Replace the signing secret (the new one is shown only here)',
        security,
        params: IdParams,
        response: { 200: WebhookWithSecret },
      },
    },
    async (request) => webhooks.rotateSecret(requestContext(request), request.params.id),
  );

  app.get(
    '/api/webhooks/:id/deliveries/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'The delivery log: one entry per attempt, newest first',
        security,
        params: IdParams,
        querystring: DeliveriesQuery,
        response: { 200: Page(Delivery) },
      },
    },
    async (request) =>
      webhooks.deliveries(request.actor, request.params.id, {
        ...request.query,
        limit: request.query.limit ?? 50,
      }),
  );

  app.post(
    '/api/webhooks/:id/deliveries/:delivery_id/redeliver/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Send a logged delivery’s event again now',
        security,
        params: DeliveryParams,
        response: { 201: Delivery },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await webhooks.redeliver(requestContext(request), request.params.id, request.params.delivery_id),
        ),
  );
};
