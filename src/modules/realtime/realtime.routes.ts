import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { FEED_NAMES, FEEDS } from './realtime.feeds.ts';
import { createRealtimeHub, type RealtimeHub } from './realtime.hub.ts';
import { registerRealtimeMetrics } from './realtime.metrics.ts';

declare module 'fastify' {
  interface FastifyInstance {
    realtime: RealtimeHub;
  }
}

/** `/ws/inventory/` and `/ws/reservations/`: read-only live feeds (docs/realtime.md). */
export async function realtimeRoutes(app: FastifyInstance): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  const hub = createRealtimeHub({
    db: app.db,
    databaseUrl: app.databaseUrl,
    authenticate: (token) => app.auth.authenticate(token),
    forgetUser: (userId) => app.authCache.invalidate(userId),
    logger: app.log.child({ component: 'realtime' }),
    caps: {
      maxSocketsPerUser: app.config.realtimeMaxSocketsPerUser,
      maxSocketsPerAddress: app.config.realtimeMaxSocketsPerAddress,
      subscribesPerMinute: app.config.realtimeSubscribesPerMinute,
    },
    metrics: registerRealtimeMetrics(app),
  });
  app.decorate('realtime', hub);
  app.addHook('preClose', async () => {
    await hub.close();
  });

  for (const feed of FEED_NAMES) {
    app.get(FEEDS[feed].path, { websocket: true, schema: { hide: true } }, (socket, request) => {
      hub.accept(feed, socket, request.headers.authorization, request.ip);
    });
  }
}
