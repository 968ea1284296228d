import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../../app/request-context.ts';
import { Page } from '../../app/schemas.ts';
import {
  CreateRoomBody,
  ListRoomsQuery,
  PropertyParams,
  Room,
  RoomParams,
  UpdateRoomBody,
} from './property.schemas.ts';
import { createRoomService } from './room.service.ts';

const secured = [{ bearerAuth: [] }];
const NoContent = { 204: Type.Null() };

export const roomRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const rooms = createRoomService(app.db);
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
};
