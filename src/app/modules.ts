import type { FastifyInstance } from 'fastify';
import { auditRoutes } from '../modules/audit/audit.routes.ts';
import { apiKeyRoutes } from '../modules/auth/api-key.routes.ts';
import { authRoutes } from '../modules/auth/auth.routes.ts';
import { eventsRoutes } from '../modules/events/events.routes.ts';
import { webhookRoutes } from '../modules/events/webhooks/webhook.routes.ts';
import { guestRoutes } from '../modules/guests/guest.routes.ts';
import { integrationsPlugin } from '../modules/integrations/integrations.plugin.ts';
import { inventoryRoutes } from '../modules/inventory/inventory.routes.ts';
import { nightAuditRoutes } from '../modules/night-audit/night-audit.routes.ts';
import { opsRoutes } from '../modules/ops/ops.routes.ts';
import { propertyRoutes } from '../modules/properties/property.routes.ts';
import { ratesRoutes } from '../modules/rates/rates.routes.ts';
import { realtimeRoutes } from '../modules/realtime/realtime.routes.ts';
import { reservationRoutes } from '../modules/reservations/reservation.routes.ts';
import { webRoutes } from '../modules/web/web.plugin.ts';

/**
 * Each domain module exports one plugin that wires its own routes and services;
 * this list is the only place that knows them all.
 */
export async function moduleRoutes(app: FastifyInstance): Promise<void> {
  await app.register(opsRoutes);
  await app.register(realtimeRoutes);
  // `pms start --role realtime` serves only the health checks and the live feeds.
  if (app.role === 'realtime') return;
  await app.register(authRoutes);
  await app.register(apiKeyRoutes);
  await app.register(propertyRoutes);
  await app.register(ratesRoutes);
  await app.register(inventoryRoutes);
  await app.register(reservationRoutes);
  await app.register(guestRoutes);
  await app.register(nightAuditRoutes);
  await app.register(integrationsPlugin);
  await app.register(auditRoutes);
  await app.register(webRoutes);
  await app.register(eventsRoutes);
  await app.register(webhookRoutes);
}
