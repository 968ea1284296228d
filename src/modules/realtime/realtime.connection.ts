import type { FastifyBaseLogger } from 'fastify';
import { decodeJwt } from 'jose';
import { DomainError } from '../../app/errors.ts';
import { type Actor, canSeeProperty } from '../auth/auth.context.ts';
import { bearerToken } from '../auth/auth.plugin.ts';
import type { FeedName } from './realtime.feeds.ts';
import {
  type ClientMessage,
  ProtocolError,
  parseClientMessage,
  type ServerMessage,
} from './realtime.protocol.ts';
import { DEFAULT_SNAPSHOT_DAYS } from './realtime.snapshot.ts';

/** WebSocket close codes this server uses (docs/realtime.md). */
export const CLOSE = {
  unauthenticated: 4401,
  /** The user was deactivated or deleted, changed its password, or its sign-in was revoked. */
  revoked: 4403,
  /** Too many sockets for the user or the address, or subscribes kept coming over the limit. */
  tooMany: 4429,
  slowConsumer: 4008,
  unavailable: 1011,
  goingAway: 1001,
} as const;

/**
 * Messages of one socket waiting for the ones before them to be handled. A client that sends faster
 * than its messages are answered (a flood of pings or auths) is closed rather than queued without end.
 */
export const MAX_PENDING_MESSAGES = 256;

/** Subscribes refused in a row (RATE_LIMITED) after which the client is taken to be abusive. */
export const MAX_REFUSED_SUBSCRIBES = 10;

export interface ConnectionLimits {
  /** A client whose unsent bytes exceed this is disconnected (it cannot keep up). */
  maxBufferedBytes: number;
  /** Events held for one subscription while its snapshot loads (and for the socket during a re-check). */
  maxPendingEvents: number;
  authTimeoutMs: number;
}

/** The part of a `ws` WebSocket a connection uses (the server's socket, or a fake in tests). */
export interface LiveSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(event: 'pong' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  send(data: string): void;
  ping(): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

const OPEN = 1;

/** What a connection needs from its process-wide hub. */
export interface ConnectionHub {
  /** Resolves once the process hears committed events and user changes (its LISTEN connection is up). */
  ready(): Promise<void>;
  subscribe(connection: RealtimeConnection, propertyId: string): void;
  unsubscribe(connection: RealtimeConnection, propertyId: string): void;
  authenticate(token: string): Promise<Actor>;
  /** From now on, every change to `userId` calls `connection.recheck()` (undefined: none). */
  watch(connection: RealtimeConnection, userId: string | undefined): void;
  /** Counts the connection as one of `userId`'s open sockets; false when the user has too many. */
  admit(connection: RealtimeConnection, userId: string): boolean;
  /** Takes one subscribe from `userId`'s budget: 0 when taken, else the ms until one is available. */
  takeSubscribe(userId: string): number;
  /** The snapshot data, or undefined when the property does not exist. */
  snapshot(feed: FeedName, propertyId: string, days: number | undefined): Promise<unknown | undefined>;
  forget(connection: RealtimeConnection): void;
}

interface Subscription {
  live: boolean;
  days: number | undefined;
  /** Serialised events that arrived while the snapshot was loading. */
  pending: string[];
}

/** The `sub` a token claims, unverified: only to hear of that user's changes while it is verified. */
function claimedUser(token: string): string | undefined {
  try {
    const sub = decodeJwt(token).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One client of one feed. Messages are handled one at a time, in order; the connection only
 * reads (invariant 4): every client message either changes its own subscriptions or is refused.
 * Access is re-checked whenever the hub hears that the user changed, so a deactivation, a new
 * password, a revoked sign-in or a narrower scope ends or narrows the stream at once.
 */
export class RealtimeConnection {
  /** Per-connection event counter: a jump tells the client it missed events and should resubscribe. */
  private seq = 0;
  private alive = true;
  private closed = false;
  private actor: Actor | undefined;
  /** The access token the actor was read with, re-checked on every change to its user. */
  private token: string | undefined;
  private tokenExpiresAt = 0;
  private readonly subscriptions = new Map<string, Subscription>();
  /** Re-checks requested and not yet done: events wait in `held` meanwhile, in their order. */
  private rechecks = 0;
  private readonly held: Array<[propertyId: string, eventJson: string]> = [];
  private refusedSubscribes = 0;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private authTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;

  readonly feed: FeedName;
  private readonly socket: LiveSocket;
  private readonly hub: ConnectionHub;
  private readonly limits: ConnectionLimits;
  private readonly logger: FastifyBaseLogger;

  constructor(
    feed: FeedName,
    socket: LiveSocket,
    hub: ConnectionHub,
    limits: ConnectionLimits,
    logger: FastifyBaseLogger,
    authorization: string | undefined,
  ) {
    this.feed = feed;
    this.socket = socket;
    this.hub = hub;
    this.limits = limits;
    this.logger = logger;
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? undefined : String(data);
      this.enqueue(() =>
        text === undefined
          ? this.refuse('VALIDATION_ERROR', 'Messages must be JSON text frames.')
          : this.handle(text),
      );
    });
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', () => this.dispose());
    socket.on('error', () => this.dispose());

    if (authorization !== undefined) {
      const token = bearerToken(authorization);
      this.enqueue(() =>
        token
          ? this.authenticate(token)
          : this.rejectAuth('The Authorization header must be "Bearer <token>".'),
      );
    } else {
      this.authTimer = setTimeout(
        () => this.enqueue(() => this.rejectAuth('No {"type":"auth"} message arrived in time.')),
        limits.authTimeoutMs,
      );
      this.authTimer.unref();
    }
  }

  get subscribedProperties(): string[] {
    return [...this.subscriptions.keys()];
  }

  /** The signed-in user, once authenticated. */
  get userId(): string | undefined {
    return this.actor?.id;
  }

  /** Called by the hub for every committed event of a property this connection subscribed to. */
  deliver(propertyId: string, eventJson: string): void {
    const subscription = this.subscriptions.get(propertyId);
    if (!subscription || this.closed) return;
    // The user changed: nothing more goes out until its access has been read again.
    if (this.rechecks > 0) {
      if (this.held.length >= this.limits.maxPendingEvents) this.dropSlowConsumer();
      else this.held.push([propertyId, eventJson]);
      return;
    }
    if (!subscription.live) {
      if (subscription.pending.length >= this.limits.maxPendingEvents) this.dropSlowConsumer();
      else subscription.pending.push(eventJson);
      return;
    }
    this.sendEvent(eventJson);
  }

  /** Events may have been missed (the listener lost its connection): skip a seq and resend snapshots. */
  signalGap(): void {
    if (this.closed) return;
    this.seq += 1;
    for (const [propertyId, subscription] of this.subscriptions) {
      // A re-check queued before this may end the subscription; it is not brought back then.
      this.enqueue(() =>
        this.subscriptions.get(propertyId) === subscription
          ? this.subscribe(propertyId, subscription.days)
          : undefined,
      );
    }
  }

  /**
   * The user changed (or changes may have been missed): holds this socket's events and reads its
   * access again, after whatever message is being handled. Closes the socket when the token no
   * longer stands, ends the subscriptions of properties no longer visible, then lets events go.
   */
  recheck(): void {
    if (this.closed) return;
    this.rechecks++;
    this.enqueue(async () => {
      try {
        await this.revalidate();
      } finally {
        this.rechecks--;
        if (this.rechecks === 0) this.releaseHeld();
      }
    });
  }

  /** Heartbeat: a client that did not answer the previous ping is gone. */
  heartbeat(): void {
    if (this.closed) return;
    if (!this.alive) {
      this.socket.terminate();
      this.dispose();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.socket.close(code, reason);
    this.dispose();
  }

  private enqueue(task: () => Promise<void> | void): void {
    if (++this.pending > MAX_PENDING_MESSAGES) {
      this.logger.warn(
        { feed: this.feed, user: this.actor?.id },
        'closing a realtime client flooding messages',
      );
      this.refuse('RATE_LIMITED', 'Too many messages waiting to be handled; slow down.');
      this.close(CLOSE.tooMany, 'too many messages');
      return;
    }
    this.chain = this.chain
      .then(() => (this.closed ? undefined : task()))
      .finally(() => {
        this.pending--;
      })
      .catch((error) => {
        this.logger.error({ err: error }, 'realtime message handling failed');
        this.refuse('INTERNAL_ERROR', 'The message could not be handled.');
      });
  }

  private async handle(text: string): Promise<void> {
    let message: ClientMessage;
    try {
      message = parseClientMessage(text);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      if (!this.actor) return this.rejectAuth('Authenticate first with {"type":"auth","token":"…"}.');
      return this.refuse(error.code, error.message);
    }
    if (message.type === 'auth') return this.authenticate(message.token);
    if (!this.actor) return this.rejectAuth('Authenticate first with {"type":"auth","token":"…"}.');
    switch (message.type) {
      case 'ping':
        return this.send({ type: 'pong' });
      case 'subscribe':
        return this.requestSubscribe(this.actor, message.property_id, message.days);
      case 'unsubscribe':
        this.unsubscribe(message.property_id);
        return this.send({ type: 'unsubscribed', property_id: message.property_id });
    }
  }

  /** False when the process cannot LISTEN to the database (closing with 1011), or when closed meanwhile. */
  private async listening(): Promise<boolean> {
    try {
      await this.hub.ready();
      return !this.closed;
    } catch (error) {
      this.logger.error({ err: error }, 'realtime listener is unavailable');
      this.refuse('SERVICE_UNAVAILABLE', 'Live events are unavailable; retry shortly.');
      this.close(CLOSE.unavailable, 'listener unavailable');
      return false;
    }
  }

  private async authenticate(token: string): Promise<void> {
    // The user's changes are heard before it is read, so one committed in between is not missed:
    // it queues a re-check behind this message.
    if (!(await this.listening())) return;
    this.hub.watch(this, claimedUser(token));
    let actor: Actor;
    try {
      actor = await this.hub.authenticate(token);
    } catch (error) {
      if (error instanceof DomainError && error.status === 401) return this.rejectAuth(error.message);
      throw error;
    }
    if (!this.hub.admit(this, actor.id)) {
      this.refuse('TOO_MANY_CONNECTIONS', 'This user has too many live feed connections open.');
      return this.close(CLOSE.tooMany, 'too many connections');
    }
    if (this.authTimer) clearTimeout(this.authTimer);
    this.actor = actor;
    this.token = token;
    // A token is good until it expires; the client re-sends {"type":"auth"} with a fresh one to stay on.
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.tokenExpiresAt = (decodeJwt(token).exp ?? 0) * 1000;
    if (this.tokenExpiresAt > 0) {
      this.expiryTimer = setTimeout(
        () => this.enqueue(() => this.rejectAuth('The access token expired.')),
        Math.max(0, Math.min(this.tokenExpiresAt - Date.now(), 2 ** 31 - 1)),
      );
      this.expiryTimer.unref();
    }
    // A narrower scope (re-authenticated as another user, or properties removed) ends those streams.
    this.narrowTo(actor);
    this.send({ type: 'ready', user_id: actor.id });
  }

  /** Reads the user's access again with the token it signed in with. */
  private async revalidate(): Promise<void> {
    const token = this.token;
    // Not signed in yet: the authentication under way reads the user after the change.
    if (token === undefined || this.closed) return;
    let actor: Actor;
    try {
      actor = await this.hub.authenticate(token);
    } catch (error) {
      if (error instanceof DomainError && error.status === 401) {
        if (this.tokenExpiresAt > 0 && this.tokenExpiresAt <= Date.now()) {
          return this.rejectAuth('The access token expired.');
        }
        this.logger.info(
          { feed: this.feed, user: this.actor?.id },
          'closing a realtime client: access revoked',
        );
        this.refuse('ACCESS_REVOKED', error.message);
        return this.close(CLOSE.revoked, 'access revoked');
      }
      // Access cannot be confirmed, so nothing more is streamed: the client reconnects.
      this.logger.error({ err: error }, 'could not re-check a realtime client');
      this.refuse('SERVICE_UNAVAILABLE', 'Access could not be checked again; reconnect.');
      return this.close(CLOSE.unavailable, 'access check failed');
    }
    this.actor = actor;
    this.narrowTo(actor);
  }

  /** Ends, with a message each, the subscriptions of properties `actor` may no longer see. */
  private narrowTo(actor: Actor): void {
    for (const propertyId of this.subscribedProperties) {
      if (canSeeProperty(actor, propertyId)) continue;
      this.unsubscribe(propertyId);
      this.send({ type: 'unsubscribed', property_id: propertyId, reason: 'ACCESS_REVOKED' });
    }
  }

  private releaseHeld(): void {
    for (const [propertyId, eventJson] of this.held.splice(0)) this.deliver(propertyId, eventJson);
  }

  /**
   * A client's subscribe: each takes one from the user's budget (a snapshot costs the server a
   * query); one identical to a live subscription is answered without a new snapshot, since the
   * client has that snapshot and every event since.
   */
  private async requestSubscribe(actor: Actor, propertyId: string, days: number | undefined): Promise<void> {
    const waitMs = this.hub.takeSubscribe(actor.id);
    if (waitMs > 0) {
      this.refusedSubscribes++;
      this.refuse('RATE_LIMITED', `Too many subscribes; retry in ${Math.ceil(waitMs / 1000)} s.`);
      if (this.refusedSubscribes >= MAX_REFUSED_SUBSCRIBES) this.close(CLOSE.tooMany, 'rate limited');
      return;
    }
    this.refusedSubscribes = 0;
    if (!canSeeProperty(actor, propertyId)) {
      return this.refuse('NOT_FOUND', `Property ${propertyId} was not found.`);
    }
    const current = this.subscriptions.get(propertyId);
    if (current?.live && this.sameSnapshot(current.days, days)) {
      return this.send({ type: 'subscribed', property_id: propertyId });
    }
    return this.subscribe(propertyId, days);
  }

  private sameSnapshot(a: number | undefined, b: number | undefined): boolean {
    return this.feed !== 'inventory' || (a ?? DEFAULT_SNAPSHOT_DAYS) === (b ?? DEFAULT_SNAPSHOT_DAYS);
  }

  /**
   * Registers first, then loads the snapshot: an event committed after the snapshot's query is
   * held and sent after it, so none is missed (one committed just before may arrive twice).
   */
  private async subscribe(propertyId: string, days: number | undefined): Promise<void> {
    if (!(await this.listening())) return;
    const subscription: Subscription = { live: false, days, pending: [] };
    this.subscriptions.set(propertyId, subscription);
    this.hub.subscribe(this, propertyId);
    const data = await this.hub.snapshot(this.feed, propertyId, days);
    // The user changed while the snapshot loaded: it goes out only if the property is still visible.
    if (this.rechecks > 0) await this.revalidate();
    if (this.subscriptions.get(propertyId) !== subscription || this.closed) return;
    if (data === undefined) {
      this.unsubscribe(propertyId);
      return this.refuse('NOT_FOUND', `Property ${propertyId} was not found.`);
    }
    this.send({ type: 'snapshot', property_id: propertyId, data });
    subscription.live = true;
    const held = subscription.pending.splice(0);
    for (const eventJson of held) this.sendEvent(eventJson);
  }

  private unsubscribe(propertyId: string): void {
    if (this.subscriptions.delete(propertyId)) this.hub.unsubscribe(this, propertyId);
  }

  private sendEvent(eventJson: string): void {
    // The event is serialised once per commit, not once per client.
    this.sendRaw(`{"type":"event","seq":${++this.seq},"event":${eventJson}}`);
  }

  private send(message: ServerMessage): void {
    this.sendRaw(JSON.stringify(message));
  }

  private sendRaw(frame: string): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    if (this.socket.bufferedAmount > this.limits.maxBufferedBytes) this.dropSlowConsumer();
    else this.socket.send(frame);
  }

  private refuse(code: string, message: string): void {
    this.send({ type: 'error', code, message });
  }

  private rejectAuth(message: string): void {
    this.refuse('UNAUTHENTICATED', message);
    this.close(CLOSE.unauthenticated, 'unauthenticated');
  }

  private dropSlowConsumer(): void {
    if (this.closed) return;
    this.logger.warn(
      { feed: this.feed, user: this.actor?.id },
      'dropping a realtime client that cannot keep up',
    );
    const socket = this.socket;
    socket.close(CLOSE.slowConsumer, 'slow consumer');
    // Its buffer is full, so the close frame may never leave: free the memory regardless.
    setTimeout(() => socket.terminate(), 1000).unref();
    this.dispose();
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.hub.forget(this);
    this.subscriptions.clear();
    this.held.length = 0;
  }
}
