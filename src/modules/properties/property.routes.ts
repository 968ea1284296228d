import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../../app/request-context.ts';
import { Page } from '../../app/schemas.ts';
import {
  CreatePropertyBody,
  ListPropertiesQuery,
  Property,
  PropertyParams,
  UpdatePropertyBody,
} from './property.schemas.ts';
import { createPropertyService } from './property.service.ts';
import { roomRoutes } from './room.routes.ts';
import { roomTypeRoutes } from './room-type.routes.ts';

const secured = [{ bearerAuth: [] }];
const NoContent = { 204: Type.Null() };

/** Properties (hotels); their room types and rooms are wired by the plugins registered at the end. */
export const propertyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const properties = createPropertyService(app.db);
  const tags = ['properties'];
  app.get(
    '/api/properties/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'List the properties the caller may see',
        security: secured,
        querystring: ListPropertiesQuery,
        response: { 200: Page(Property) },
      },
    },
    async (request) => properties.list(request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  app.post(
    '/api/properties/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Create a property (SUPER_ADMIN)',
        security: secured,
        body: CreatePropertyBody,
        response: { 201: Property },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await properties.create(requestContext(request), request.body)),
  );

  app.get(
    '/api/properties/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Get a property',
        security: secured,
        params: PropertyParams,
        response: { 200: Property },
      },
    },
    async (request) => properties.get(request.actor, request.params.id),
  );

  app.patch(
    '/api/properties/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Update a property (its administrators)',
        security: secured,
        params: PropertyParams,
        body: UpdatePropertyBody,
        response: { 200: Property },
      },
    },
    async (request) => properties.update(requestContext(request), request.params.id, request.body),
  );

  app.delete(
    '/api/properties/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary:
          'Delete a property with its room types and rooms (SUPER_ADMIN; refused while reservations exist)',
        security: secured,
        params: PropertyParams,
        response: NoContent,
      },
    },
    async (request, reply) => {
      await properties.remove(requestContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  await app.register(roomTypeRoutes);
  await app.register(roomRoutes);
};
