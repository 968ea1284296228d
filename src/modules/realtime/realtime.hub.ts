import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import type { Actor } from '../auth/auth.context.ts';
import {
  listen,
  OUTBOX_CHANNEL,
  type OutboxNotice,
  type PgListener,
  parseOutboxNotice,
} from '../events/pg-listener.ts';
import { CLOSE, type ConnectionLimits, type LiveSocket, RealtimeConnection } from './realtime.connection.ts';
import { type FeedName, feedOf } from './realtime.feeds.ts';
import { findPropertyTimezone, loadEnvelopes, loadSnapshot } from './realtime.snapshot.ts';

export interface HubOptions {
  db: Db;
  databaseUrl: string | undefined;
  authenticate(token: string): Promise<Actor>;
  logger: FastifyBaseLogger;
  limits?: Partial<ConnectionLimits>;
  heartbeatMs?: number;
}

export interface RealtimeHub {
  accept(feed: FeedName, socket: LiveSocket, authorization: string | undefined): RealtimeConnection;
  /** Connections open in this process. */
  readonly size: number;
  close(): Promise<void>;
}

const DEFAULT_LIMITS: ConnectionLimits = {
  maxBufferedBytes: 1_048_576,
  maxPendingEvents: 1_000,
  authTimeoutMs: 10_000,
};

/**
 * The process-wide side of realtime: one LISTEN connection per process (started with the first
 * subscription), which loads each committed event once and fans it out, in commit order, to this
 * process's sockets. Other processes do the same with their own sockets.
 */
export function createRealtimeHub(options: HubOptions): RealtimeHub {
  const { db, logger } = options;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const connections = new Set<RealtimeConnection>();
  const subscribers = new Map<string, Set<RealtimeConnection>>();
  const keyOf = (feed: FeedName, propertyId: string) => `${feed}|${propertyId}`;

  let listener: PgListener | undefined;
  let starting: Promise<void> | undefined;
  let closed = false;
  const queue: Array<OutboxNotice & { key: string }> = [];
  let flushing = false;

  const signalGapToAll = () => {
    for (const connection of connections) connection.signalGap();
  };

  // Notifications arrive in commit order; batches are loaded and delivered one after another.
  const flush = async () => {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, 500);
        // Envelopes too large for the notification are loaded by seq.
        const missing = batch.filter((notice) => !notice.envelope).map((notice) => notice.seq);
        let loaded = new Map<number, unknown>();
        try {
          if (missing.length > 0) loaded = await loadEnvelopes(db, missing);
        } catch (error) {
          logger.error({ err: error }, 'loading events for realtime clients failed');
          signalGapToAll();
          continue;
        }
        for (const notice of batch) {
          const envelope = notice.envelope ?? loaded.get(notice.seq);
          const audience = subscribers.get(notice.key);
          if (!envelope || !audience) continue;
          const eventJson = JSON.stringify(envelope);
          for (const connection of audience) connection.deliver(notice.property_id!, eventJson);
        }
      }
    } finally {
      flushing = false;
    }
  };

  const onNotification = (_channel: string, payload: string) => {
    const notice = parseOutboxNotice(payload);
    if (!notice?.property_id) return;
    const feed = feedOf(notice.type);
    if (!feed) return;
    const key = keyOf(feed, notice.property_id);
    if (!subscribers.has(key)) return;
    queue.push({ ...notice, key });
    if (!flushing) setImmediate(() => void flush());
  };

  const ready = (): Promise<void> => {
    if (listener) return Promise.resolve();
    if (closed) return Promise.reject(new Error('the realtime hub is closed'));
    if (!options.databaseUrl) return Promise.reject(new Error('no database URL to LISTEN on'));
    starting ??= listen({
      connectionString: options.databaseUrl,
      channels: [OUTBOX_CHANNEL],
      applicationName: 'pms-realtime',
      onNotification,
      onReconnect: () => {
        logger.warn('realtime listener reconnected; clients resynchronise');
        signalGapToAll();
      },
      onError: (error) => logger.warn({ err: error }, 'realtime listener connection problem'),
    })
      .then(async (started) => {
        if (closed) await started.close();
        else listener = started;
      })
      .finally(() => {
        starting = undefined;
      });
    return starting;
  };

  const hub = {
    ready,
    authenticate: options.authenticate,
    subscribe(connection: RealtimeConnection, propertyId: string) {
      const key = keyOf(connection.feed, propertyId);
      const audience = subscribers.get(key) ?? new Set<RealtimeConnection>();
      subscribers.set(key, audience);
      audience.add(connection);
    },
    unsubscribe(connection: RealtimeConnection, propertyId: string) {
      const key = keyOf(connection.feed, propertyId);
      const audience = subscribers.get(key);
      audience?.delete(connection);
      if (audience?.size === 0) subscribers.delete(key);
    },
    async snapshot(feed: FeedName, propertyId: string, days: number | undefined) {
      const property = await findPropertyTimezone(db, propertyId);
      if (!property) return undefined;
      return loadSnapshot(db, feed, propertyId, property.timezone, days);
    },
    forget(connection: RealtimeConnection) {
      connections.delete(connection);
      for (const propertyId of connection.subscribedProperties) hub.unsubscribe(connection, propertyId);
    },
  };

  const heartbeat = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  return {
    accept(feed, socket, authorization) {
      const connection = new RealtimeConnection(feed, socket, hub, limits, logger, authorization);
      if (closed) connection.close(CLOSE.goingAway, 'server shutting down');
      else connections.add(connection);
      return connection;
    },
    get size() {
      return connections.size;
    },
    async close() {
      closed = true;
      clearInterval(heartbeat);
      for (const connection of [...connections]) connection.close(CLOSE.goingAway, 'server shutting down');
      await starting?.catch(() => {});
      await listener?.close();
      listener = undefined;
    },
  };
}
