import type { ApiKeyScope } from '../../db/schema.ts';

export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['search', 'book', 'reservations:read', 'events'];

/**
 * The only routes an API key reaches, each with the scope it needs (docs/api.md, "Partner
 * credentials"). Every other route, user management, configuration, webhooks, integrations and the
 * front desk's operations included, answers a key 403 INSUFFICIENT_SCOPE before reading the request:
 * a route is closed to keys until it is listed here. Keyed by method and path as registered.
 */
export const API_KEY_ROUTES: Readonly<Record<string, ApiKeyScope>> = {
  // search: what a booking engine shows before it sells.
  'GET /api/properties/': 'search',
  'GET /api/properties/:id/': 'search',
  'GET /api/properties/:id/room-types/': 'search',
  'GET /api/properties/:id/room-types/:room_type_id/': 'search',
  'GET /api/rates/plans/': 'search',
  'GET /api/rates/plans/:id/': 'search',
  'GET /api/rates/grid/': 'search',
  'GET /api/rates/quote/': 'search',
  'POST /api/inventory/check/': 'search',
  'GET /api/inventory/calendar/': 'search',
  // book: selling a stay, changing and cancelling it.
  'POST /api/inventory/holds/': 'book',
  'GET /api/inventory/holds/:id/': 'book',
  'DELETE /api/inventory/holds/:id/': 'book',
  'POST /api/reservations/create/': 'book',
  'POST /api/reservations/:id/confirm/': 'book',
  'POST /api/reservations/:id/modify/': 'book',
  'PATCH /api/reservations/:id/': 'book',
  'POST /api/reservations/:id/cancel/': 'book',
  'GET /api/reservations/': 'reservations:read',
  'GET /api/reservations/:id/': 'reservations:read',
  'GET /api/reservations/by-code/:code/': 'reservations:read',
  'GET /api/events/': 'events',
};

/** The scope a route needs of a key, or undefined when keys may not use it. HEAD is its GET. */
export function scopeOfRoute(method: string, url: string | undefined): ApiKeyScope | undefined {
  if (url === undefined) return undefined;
  return API_KEY_ROUTES[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}
