import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestContext } from '../../app/request-context.ts';
import { IdParams, Page } from '../../app/schemas.ts';
import {
  ErasureResult,
  GuestDetail,
  GuestSummary,
  ListGuestsQuery,
  MergeGuestBody,
  UpdateGuestBody,
} from './guest.schemas.ts';
import { createGuestService } from './guest.service.ts';

const tags = ['guests'];
const security = [{ bearerAuth: [] }];

/** `/api/guests/`: guest profiles across the hotel group, their stays, edits, merges and erasure. */
export const guestRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const guests = createGuestService(app.db);

  app.get(
    '/api/guests/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Search guest profiles (those with stays at your properties)',
        security,
        querystring: ListGuestsQuery,
        response: { 200: Page(GuestSummary) },
      },
    },
    async (request) => guests.list(request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  app.get(
    '/api/guests/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'A guest profile with its stays at your properties',
        security,
        params: IdParams,
        response: { 200: GuestDetail },
      },
    },
    async (request) => guests.get(request.actor, request.params.id),
  );

  app.patch(
    '/api/guests/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "Edit a guest profile's details (administrators of all its stays)",
        security,
        params: IdParams,
        body: UpdateGuestBody,
        response: { 200: GuestSummary },
      },
    },
    async (request) => guests.update(requestContext(request), request.params.id, request.body),
  );

  app.post(
    '/api/guests/:id/merge/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Merge a duplicate profile into this one (administrators of all their stays)',
        security,
        params: IdParams,
        body: MergeGuestBody,
        response: { 200: GuestSummary },
      },
    },
    async (request) => guests.merge(requestContext(request), request.params.id, request.body.duplicate_id),
  );

  app.post(
    '/api/guests/:id/erase/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "Erase the guest's personal data everywhere it is stored (right to erasure)",
        description:
          'Anonymises the profile, its per-booking guest records, its reservations’ notes, and the guest’s ' +
          'values in events, audit entries, stored responses and quarantined PMS records. Reservations, ' +
          'amounts and inventory are unchanged. SUPER_ADMIN, or a PROPERTY_ADMIN of every property the ' +
          'guest stayed at (else 403 GUEST_SHARED).',
        security,
        params: IdParams,
        response: { 200: ErasureResult },
      },
    },
    async (request) => guests.erase(requestContext(request), request.params.id),
  );
};
