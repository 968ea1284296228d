import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../../app/request-context.ts';
import { Page } from '../../app/schemas.ts';
import {
  CreateOutOfOrderBody,
  CreateRoomBody,
  HousekeepingBody,
  ListRoomsQuery,
  OutOfOrder,
  OutOfOrderParams,
  PropertyParams,
  ReturnToServiceBody,
  Room,
  RoomParams,
  UpdateRoomBody,
} from './property.schemas.ts';
import { createHousekeeping } from './room.housekeeping.ts';
import { createOutOfOrder } from './room.out-of-order.ts';
import { createRoomService } from './room.service.ts';

const secured = [{ bearerAuth: [] }];
const NoContent = { 204: Type.Null() };

export const roomRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const rooms = createRoomService(app.db);
  const housekeeping = createHousekeeping(app.db);
  const outOfOrder = createOutOfOrder(app.db, {
    policy: app.config.lockPolicy,
    timeoutMs: app.config.lockTimeoutMs,
  });
  const tags = ['rooms'];
  app.get(
    '/api/properties/:id/rooms/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'List the rooms of a property',
        security: secured,
        params: PropertyParams,
        querystring: ListRoomsQuery,
        response: { 200: Page(Room) },
      },
    },
    async (request) =>
      rooms.list(request.actor, request.params.id, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  app.post(
    '/api/properties/:id/rooms/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Create a room',
        security: secured,
        params: PropertyParams,
        body: CreateRoomBody,
        response: { 201: Room },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await rooms.create(requestContext(request), request.params.id, request.body)),
  );

  app.get(
    '/api/properties/:id/rooms/:room_id/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'Get a room', security: secured, params: RoomParams, response: { 200: Room } },
    },
    async (request) => rooms.get(request.actor, request.params.id, request.params.room_id),
  );

  app.patch(
    '/api/properties/:id/rooms/:room_id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Update a room',
        security: secured,
        params: RoomParams,
        body: UpdateRoomBody,
        response: { 200: Room },
      },
    },
    async (request) =>
      rooms.update(requestContext(request), request.params.id, request.params.room_id, request.body),
  );

  app.delete(
    '/api/properties/:id/rooms/:room_id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Delete a room (refused while a current stay has it assigned)',
        security: secured,
        params: RoomParams,
        response: NoContent,
      },
    },
    async (request, reply) => {
      await rooms.remove(requestContext(request), request.params.id, request.params.room_id);
      return reply.status(204).send(null);
    },
  );
  app.post(
    '/api/properties/:id/rooms/:room_id/housekeeping/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Mark a room clean, dirty or inspected (staff of the property may)',
        security: secured,
        params: RoomParams,
        body: HousekeepingBody,
        response: { 200: Room },
      },
    },
    async (request) =>
      housekeeping.setStatus(
        requestContext(request),
        request.params.id,
        request.params.room_id,
        request.body.housekeeping_status,
      ),
  );

  app.get(
    '/api/properties/:id/rooms/:room_id/out-of-order/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "A room's out-of-order blocks, latest first",
        security: secured,
        params: RoomParams,
        response: { 200: Type.Object({ results: Type.Array(OutOfOrder) }) },
      },
    },
    async (request) => outOfOrder.list(request.actor, request.params.id, request.params.room_id),
  );

  app.post(
    '/api/properties/:id/rooms/:room_id/out-of-order/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "Put a room out of order for some nights (counted in its room type's out_of_order_units)",
        security: secured,
        params: RoomParams,
        body: CreateOutOfOrderBody,
        response: { 201: OutOfOrder },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await outOfOrder.create(
            requestContext(request),
            request.params.id,
            request.params.room_id,
            request.body,
          ),
        ),
  );

  app.post(
    '/api/properties/:id/rooms/:room_id/out-of-order/:block_id/return/',
    {
      onRequest: app.authenticate,
      // No body at all means the defaults (back in service from the business date).
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags,
        summary: 'Return a room to service: its block ends and the remaining nights go back on sale',
        security: secured,
        params: OutOfOrderParams,
        body: ReturnToServiceBody,
        response: { 200: OutOfOrder },
      },
    },
    async (request) =>
      outOfOrder.returnToService(
        requestContext(request),
        request.params.id,
        request.params.room_id,
        request.params.block_id,
        request.body,
      ),
  );
};
