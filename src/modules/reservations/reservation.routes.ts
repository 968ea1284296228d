import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestContext } from '../../app/request-context.ts';
import { IdParams, Page } from '../../app/schemas.ts';
import {
  AssignRoomBody,
  ChangeDepartureBody,
  CheckInBody,
  CodeParams,
  CreateReservationBody,
  IdempotencyHeaders,
  ListReservationsQuery,
  ModifyReservationBody,
  Reservation,
  UpdateDetailsBody,
} from './reservation.schemas.ts';
import { createReservationService, type LifecycleAction } from './reservation.service.ts';

const tags = ['reservations'];
const security = [{ bearerAuth: [] }];

const ACTIONS: Array<{ action: LifecycleAction; summary: string }> = [
  { action: 'cancel', summary: 'Cancel a reservation and release its nights (idempotent)' },
  { action: 'confirm', summary: 'Confirm a tentative reservation' },
  { action: 'check-in', summary: 'Check the guest in' },
  { action: 'check-out', summary: 'Check the guest out' },
  { action: 'no-show', summary: 'Mark a no-show and release the nights' },
];

export const reservationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const reservations = createReservationService(
    app.db,
    { policy: app.config.lockPolicy, timeoutMs: app.config.lockTimeoutMs },
    { maxBatch: app.config.bookingBatchMax },
  );

  app.post(
    '/api/reservations/create/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Create a reservation (one or more rooms), priced from its rate plans',
        description:
          'Send an Idempotency-Key header to make retries safe: the same key and body within 24 hours ' +
          'return the first response without booking again; the same key with another body is 422.',
        security,
        headers: IdempotencyHeaders,
        body: CreateReservationBody,
        response: { 201: Reservation },
      },
    },
    async (request, reply) => {
      const result = await reservations.create(
        requestContext(request),
        request.body,
        request.headers['idempotency-key'],
      );
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(result.status as 201).send(result.body as never);
    },
  );

  app.get(
    '/api/reservations/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'List reservations, newest first',
        security,
        querystring: ListReservationsQuery,
        response: { 200: Page(Reservation) },
      },
    },
    async (request) =>
      reservations.list(request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  app.get(
    '/api/reservations/by-code/:code/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'A reservation by its confirmation code',
        security,
        params: CodeParams,
        response: { 200: Reservation },
      },
    },
    async (request) => reservations.getByCode(request.actor, request.params.code),
  );

  app.get(
    '/api/reservations/:id/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'A reservation', security, params: IdParams, response: { 200: Reservation } },
    },
    async (request) => reservations.get(request.actor, request.params.id),
  );

  for (const { action, summary } of ACTIONS.filter((entry) => entry.action !== 'check-in')) {
    app.post(
      `/api/reservations/:id/${action}/`,
      {
        onRequest: app.authenticate,
        schema: { tags, summary, security, params: IdParams, response: { 200: Reservation } },
      },
      async (request) => reservations.transition(requestContext(request), request.params.id, action),
    );
  }

  app.post(
    '/api/reservations/:id/check-in/',
    {
      onRequest: app.authenticate,
      // No body at all means the defaults ({"assign": "auto"}); a body that is not an object is still refused.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags,
        summary: 'Check the guest in, giving rooms without one a clean, vacant room of their type',
        security,
        params: IdParams,
        body: CheckInBody,
        response: { 200: Reservation },
      },
    },
    async (request) =>
      reservations.transition(requestContext(request), request.params.id, 'check-in', {
        assign: request.body.assign,
      }),
  );

  app.post(
    '/api/reservations/:id/departure/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Extend or shorten a checked-in stay (a new check-out)',
        security,
        params: IdParams,
        body: ChangeDepartureBody,
        response: { 200: Reservation },
      },
    },
    async (request) => reservations.changeDeparture(requestContext(request), request.params.id, request.body),
  );

  app.patch(
    '/api/reservations/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "Edit the guest's name, e-mail or phone and the notes",
        security,
        params: IdParams,
        body: UpdateDetailsBody,
        response: { 200: Reservation },
      },
    },
    async (request) => reservations.updateDetails(requestContext(request), request.params.id, request.body),
  );

  app.post(
    '/api/reservations/:id/modify/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Change dates and/or rooms as one atomic swap, repriced',
        security,
        params: IdParams,
        body: ModifyReservationBody,
        response: { 200: Reservation },
      },
    },
    async (request) => reservations.modify(requestContext(request), request.params.id, request.body),
  );

  app.post(
    '/api/reservations/:id/assign-room/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Assign a physical room (or null to unassign)',
        security,
        params: IdParams,
        body: AssignRoomBody,
        response: { 200: Reservation },
      },
    },
    async (request) => reservations.assignRoom(requestContext(request), request.params.id, request.body),
  );
};
