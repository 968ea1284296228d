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

/** WebSocket close codes this server uses (docs/realtime.md). */
export const CLOSE = {
  unauthenticated: 4401,
  slowConsumer: 4008,
  unavailable: 1011,
  goingAway: 1001,
} as const;

export interface ConnectionLimits {
  /** A client whose unsent bytes exceed this is disconnected (it cannot keep up). */
  maxBufferedBytes: number;
  /** Events held for one subscription while its snapshot loads. */
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
  ready(): Promise<void>;
  subscribe(connection: RealtimeConnection, propertyId: string): void;
  unsubscribe(connection: RealtimeConnection, propertyId: string): void;
  authenticate(token: string): Promise<Actor>;
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

/**
 * One client of one feed. Messages are handled one at a time, in order; the connection only
 * reads (invariant 4): every client message either changes its own subscriptions or is refused.
 */
export class RealtimeConnection {
  /** Per-connection event counter: a jump tells the client it missed events and should resubscribe. */
  private seq = 0;
  private alive = true;
  private closed = false;
  private actor: Actor | undefined;
  private readonly subscriptions = new Map<string, Subscription>();
  private chain: Promise<void> = Promise.resolve();
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

  /** Called by the hub for every committed event of a property this connection subscribed to. */
  deliver(propertyId: string, eventJson: string): void {
    const subscription = this.subscriptions.get(propertyId);
    if (!subscription || this.closed) return;
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
      this.enqueue(() => this.subscribe(propertyId, subscription.days));
    }
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
    this.chain = this.chain
      .then(() => (this.closed ? undefined : task()))
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
        if (!canSeeProperty(this.actor, message.property_id)) {
          return this.refuse('NOT_FOUND', `Property ${message.property_id} was not found.`);
        }
        return this.subscribe(message.property_id, message.days);
      case 'unsubscribe':
        this.unsubscribe(message.property_id);
        return this.send({ type: 'unsubscribed', property_id: message.property_id });
    }
  }

  private async authenticate(token: string): Promise<void> {
    let actor: Actor;
    try {
      actor = await this.hub.authenticate(token);
    } catch (error) {
      if (error instanceof DomainError && error.status === 401) return this.rejectAuth(error.message);
      throw error;
    }
    if (this.authTimer) clearTimeout(this.authTimer);
    this.actor = actor;
    // A token is good until it expires; the client re-sends {"type":"auth"} with a fresh one to stay on.
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    const expiresAt = (decodeJwt(token).exp ?? 0) * 1000;
    if (expiresAt > 0) {
      this.expiryTimer = setTimeout(
        () => this.enqueue(() => this.rejectAuth('The access token expired.')),
        Math.max(0, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)),
      );
      this.expiryTimer.unref();
    }
    // A narrower scope (re-authenticated as another user, or properties removed) ends those streams.
    for (const propertyId of this.subscribedProperties) {
      if (!canSeeProperty(actor, propertyId)) this.unsubscribe(propertyId);
    }
    this.send({ type: 'ready', user_id: actor.id });
  }

  /**
   * Registers first, then loads the snapshot: an event committed after the snapshot's query is
   * held and sent after it, so none is missed (one committed just before may arrive twice).
   */
  private async subscribe(propertyId: string, days: number | undefined): Promise<void> {
    try {
      await this.hub.ready();
    } catch (error) {
      this.logger.error({ err: error }, 'realtime listener is unavailable');
      this.refuse('SERVICE_UNAVAILABLE', 'Live events are unavailable; retry shortly.');
      return this.close(CLOSE.unavailable, 'listener unavailable');
    }
    const subscription: Subscription = { live: false, days, pending: [] };
    this.subscriptions.set(propertyId, subscription);
    this.hub.subscribe(this, propertyId);
    const data = await this.hub.snapshot(this.feed, propertyId, days);
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
  }
}
