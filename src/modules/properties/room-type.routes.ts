import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../../app/request-context.ts';
import { Page } from '../../app/schemas.ts';
import {
  CreateRoomTypeBody,
  ListRoomTypesQuery,
  PropertyParams,
  RoomType,
  RoomTypeParams,
  UpdateRoomTypeBody,
} from './property.schemas.ts';
import { createRoomTypeService } from './room-type.service.ts';

const secured = [{ bearerAuth: [] }];
const NoContent = { 204: Type.Null() };

export const roomTypeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const roomTypes = createRoomTypeService(app.db, { horizonDays: app.config.inventoryHorizonDays });
  const tags = ['room types'];
  app.get(
    '/api/properties/:id/room-types/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'List the room types of a property',
        security: secured,
        params: PropertyParams,
        querystring: ListRoomTypesQuery,
        response: { 200: Page(RoomType) },
      },
    },
    async (request) =>
      roomTypes.list(request.actor, request.params.id, {
        ...request.query,
        limit: request.query.limit ?? 50,
      }),
  );

  app.post(
    '/api/properties/:id/room-types/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Create a room type',
        security: secured,
        params: PropertyParams,
        body: CreateRoomTypeBody,
        response: { 201: RoomType },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await roomTypes.create(requestContext(request), request.params.id, request.body)),
  );

  app.get(
    '/api/properties/:id/room-types/:room_type_id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Get a room type',
        security: secured,
        params: RoomTypeParams,
        response: { 200: RoomType },
      },
    },
    async (request) => roomTypes.get(request.actor, request.params.id, request.params.room_type_id),
  );

  app.patch(
    '/api/properties/:id/room-types/:room_type_id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Update a room type; a new total_units also moves its future calendar nights',
        security: secured,
        params: RoomTypeParams,
        body: UpdateRoomTypeBody,
        response: { 200: RoomType },
      },
    },
    async (request) =>
      roomTypes.update(requestContext(request), request.params.id, request.params.room_type_id, request.body),
  );

  app.delete(
    '/api/properties/:id/room-types/:room_type_id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Delete a room type (refused while rooms, reservations or holds use it)',
        security: secured,
        params: RoomTypeParams,
        response: NoContent,
      },
    },
    async (request, reply) => {
      await roomTypes.remove(requestContext(request), request.params.id, request.params.room_type_id);
      return reply.status(204).send(null);
    },
  );
};
