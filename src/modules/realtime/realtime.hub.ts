import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import { ACTOR_CHANNEL } from '../auth/auth.cache.ts';
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
import { DEFAULT_CAPS, type RealtimeCaps, SubscribeBudget } from './realtime.limits.ts';
import type { ServerMessage } from './realtime.protocol.ts';
import { findPropertyTimezone, loadEnvelopes, loadSnapshot } from './realtime.snapshot.ts';

/** Why a socket or a subscribe was refused (a metric label). */
export type Refusal = 'user_sockets' | 'address_sockets' | 'subscribe_rate';

export interface HubMetrics {
  snapshotLoaded(feed: FeedName): void;
  refused(reason: Refusal): void;
}

export interface HubOptions {
  db: Db;
  databaseUrl: string | undefined;
  authenticate(token: string): Promise<Actor>;
  /**
   * Drops what the process remembers of a user (one, or all when undefined) before its sockets
   * re-read it: this hub may hear of a change before the auth cache does.
   */
  forgetUser?(userId: string | undefined): void;
  logger: FastifyBaseLogger;
  limits?: Partial<ConnectionLimits>;
  caps?: Partial<RealtimeCaps>;
  metrics?: HubMetrics;
  heartbeatMs?: number;
}

export interface RealtimeHub {
  /** A new socket from `address`; undefined when that address has too many open (it is closed). */
  accept(
    feed: FeedName,
    socket: LiveSocket,
    authorization: string | undefined,
    address?: string,
  ): RealtimeConnection | undefined;
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
 * socket that signs in), which loads each committed event once and fans it out, in commit order,
 * to this process's sockets. Other processes do the same with their own sockets. The same
 * connection hears user changes (`pms_actor`), in commit order with the events, and has the
 * changed user's sockets re-check their access before any later event reaches them.
 */
export function createRealtimeHub(options: HubOptions): RealtimeHub {
  const { db, logger } = options;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const caps = { ...DEFAULT_CAPS, ...options.caps };
  const budget = new SubscribeBudget(caps.subscribesPerMinute);
  const connections = new Set<RealtimeConnection>();
  const subscribers = new Map<string, Set<RealtimeConnection>>();
  const keyOf = (feed: FeedName, propertyId: string) => `${feed}|${propertyId}`;
  /** Sockets to re-check on a change to a user: its own, and those signing in as it. */
  const watchers = new Map<string, Set<RealtimeConnection>>();
  const watching = new Map<RealtimeConnection, string>();
  /** Signed-in sockets per user, for the per-user cap. */
  const admitted = new Map<string, Set<RealtimeConnection>>();
  const admittedAs = new Map<RealtimeConnection, string>();
  const perAddress = new Map<string, number>();
  const addressOf = new Map<RealtimeConnection, string>();

  const removeFrom = (
    index: Map<string, Set<RealtimeConnection>>,
    key: string,
    connection: RealtimeConnection,
  ) => {
    const set = index.get(key);
    set?.delete(connection);
    if (set?.size === 0) index.delete(key);
  };

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

  const userChanged = (userId: string) => {
    options.forgetUser?.(userId);
    for (const connection of watchers.get(userId) ?? []) connection.recheck();
  };

  const onNotification = (channel: string, payload: string) => {
    if (channel === ACTOR_CHANNEL) return userChanged(payload);
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
      channels: [OUTBOX_CHANNEL, ACTOR_CHANNEL],
      applicationName: 'pms-realtime',
      onNotification,
      onReconnect: () => {
        logger.warn('realtime listener reconnected; clients re-check access and resynchronise');
        // User changes may have been missed too: every socket reads its access again first.
        options.forgetUser?.(undefined);
        for (const connection of connections) connection.recheck();
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
    // A connection may close while it awaits something; it is then not indexed again.
    subscribe(connection: RealtimeConnection, propertyId: string) {
      if (!connections.has(connection)) return;
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
    watch(connection: RealtimeConnection, userId: string | undefined) {
      const previous = watching.get(connection);
      if (previous === userId) return;
      if (previous !== undefined) removeFrom(watchers, previous, connection);
      watching.delete(connection);
      if (userId === undefined || !connections.has(connection)) return;
      watching.set(connection, userId);
      const set = watchers.get(userId) ?? new Set<RealtimeConnection>();
      watchers.set(userId, set);
      set.add(connection);
    },
    admit(connection: RealtimeConnection, userId: string): boolean {
      if (!connections.has(connection)) return false;
      const previous = admittedAs.get(connection);
      if (previous === userId) return true;
      const open = admitted.get(userId) ?? new Set<RealtimeConnection>();
      if (open.size >= caps.maxSocketsPerUser) {
        options.metrics?.refused('user_sockets');
        return false;
      }
      if (previous !== undefined) removeFrom(admitted, previous, connection);
      admitted.set(userId, open);
      open.add(connection);
      admittedAs.set(connection, userId);
      return true;
    },
    takeSubscribe(userId: string): number {
      const waitMs = budget.take(userId);
      if (waitMs > 0) options.metrics?.refused('subscribe_rate');
      return waitMs;
    },
    async snapshot(feed: FeedName, propertyId: string, days: number | undefined) {
      const property = await findPropertyTimezone(db, propertyId);
      if (!property) return undefined;
      options.metrics?.snapshotLoaded(feed);
      return loadSnapshot(db, feed, propertyId, property.timezone, days);
    },
    forget(connection: RealtimeConnection) {
      if (!connections.delete(connection)) return;
      for (const propertyId of connection.subscribedProperties) hub.unsubscribe(connection, propertyId);
      hub.watch(connection, undefined);
      const user = admittedAs.get(connection);
      if (user !== undefined) removeFrom(admitted, user, connection);
      admittedAs.delete(connection);
      const address = addressOf.get(connection);
      if (address !== undefined) {
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left > 0) perAddress.set(address, left);
        else perAddress.delete(address);
      }
      addressOf.delete(connection);
    },
  };

  const heartbeat = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  return {
    accept(feed, socket, authorization, address) {
      if (closed) {
        socket.close(CLOSE.goingAway, 'server shutting down');
        return undefined;
      }
      if (address !== undefined && caps.maxSocketsPerAddress > 0) {
        if ((perAddress.get(address) ?? 0) >= caps.maxSocketsPerAddress) {
          options.metrics?.refused('address_sockets');
          const refusal: ServerMessage = {
            type: 'error',
            code: 'TOO_MANY_CONNECTIONS',
            message: 'Too many live feed connections from this address.',
          };
          socket.send(JSON.stringify(refusal));
          socket.close(CLOSE.tooMany, 'too many connections');
          return undefined;
        }
      }
      const connection = new RealtimeConnection(feed, socket, hub, limits, logger, authorization);
      connections.add(connection);
      if (address !== undefined) {
        perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
        addressOf.set(connection, address);
      }
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
