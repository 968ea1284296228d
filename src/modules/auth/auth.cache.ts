import { LRUCache } from 'lru-cache';
import type { Actor, ApiKeyGrant } from './auth.context.ts';

/**
 * Notified (migrations 0042, 0048) whenever a user's role, activity, email, password, token version
 * or properties change, and when one of its refresh tokens is revoked; and (migration 0100) with an
 * API key's id whenever the key or its properties change.
 */
export const ACTOR_CHANNEL = 'pms_actor';

export interface VerifiedToken {
  sub: string;
  /** Expiry, in ms since the epoch. */
  expiresAt: number;
  /** The user's token_version it was issued under (`sv`; 0 for tokens issued before there was one). */
  tokenVersion: number;
  /** Its sign-in, the refresh-token family (`sid`; absent on tokens issued before there was one). */
  sessionId?: string;
}

/** What authenticating a user's tokens needs of its row, as last read. */
export interface ActorState {
  actor: Actor;
  /** app_user.token_version: a token carrying another one was revoked. */
  tokenVersion: number;
  /** Sign-ins read as not revoked since this state was read (any revocation evicts the whole state). */
  liveSessions: Set<string>;
  /** Sign-ins read as revoked: a revocation is for good, so their tokens are refused without a query. */
  revokedSessions: Set<string>;
}

/** What authenticating an API key needs of its row, as last read. */
export interface ApiKeyState {
  grant: ApiKeyGrant;
  propertyIds: string[];
  secretHash: Buffer;
  /** The hash before the last rotation, accepted until previousSecretExpiresAt (ms since the epoch). */
  previousSecretHash: Buffer | null;
  previousSecretExpiresAt: number | null;
  expiresAt: number | null;
  revoked: boolean;
}

/** Sign-ins remembered per cached user; a user signing in more often is read again now and then. */
const MAX_SESSIONS_PER_ACTOR = 64;

function mergeSessions(into: Set<string>, known: Set<string>): void {
  for (const session of known) {
    if (into.size >= MAX_SESSIONS_PER_ACTOR) return;
    into.add(session);
  }
}

export interface AuthCacheOptions {
  /** Longest time an actor is served from memory; 0 turns the actor cache off. */
  actorTtlMs: number;
  /** Most tokens and actors kept. */
  max?: number;
}

/**
 * What authenticating a request would otherwise cost on every request: the JWT signature check and
 * the user's row. Tokens are keyed by their full text (signature included), so a hit is a token this
 * process verified itself, and is still refused once it expires.
 *
 * Actors are only served while the cache is live, i.e. while a LISTEN connection receives
 * ACTOR_CHANNEL: each notification evicts that user, and losing the connection empties the cache and
 * stops serving from it until the connection is back. The TTL bounds staleness should a
 * notification ever be missed.
 */
export class AuthCache {
  private readonly tokens: LRUCache<string, VerifiedToken>;
  private readonly actors: LRUCache<string, ActorState> | undefined;
  private readonly apiKeys: LRUCache<string, ApiKeyState> | undefined;
  private live = false;
  /** Bumped by every invalidation: an actor read before one is not stored after it. */
  private generation = 0;
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(options: AuthCacheOptions) {
    const max = options.max ?? 10_000;
    this.tokens = new LRUCache({ max });
    this.actors = options.actorTtlMs > 0 ? new LRUCache({ max, ttl: options.actorTtlMs }) : undefined;
    this.apiKeys = options.actorTtlMs > 0 ? new LRUCache({ max, ttl: options.actorTtlMs }) : undefined;
  }

  verifiedToken(token: string): VerifiedToken | undefined {
    const hit = this.tokens.get(token);
    if (hit && hit.expiresAt <= Date.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    return hit;
  }

  rememberToken(token: string, verified: VerifiedToken): void {
    this.tokens.set(token, verified);
  }

  actor(userId: string): ActorState | undefined {
    return this.live ? this.actors?.get(userId) : undefined;
  }

  /** Marks the start of a read of `userId`, to pass to rememberActor. */
  readStarted(): number {
    return this.generation;
  }

  /** Stores a state read from the database, unless an invalidation happened since the read began. */
  rememberActor(state: ActorState, readStartedAt: number): void {
    if (!this.live || readStartedAt !== this.generation || !this.actors) return;
    // No invalidation since the read began, so the sessions already known live still are.
    const known = this.actors.get(state.actor.id);
    if (known && known.tokenVersion === state.tokenVersion) {
      mergeSessions(state.liveSessions, known.liveSessions);
      mergeSessions(state.revokedSessions, known.revokedSessions);
    }
    this.actors.set(state.actor.id, state);
  }

  apiKey(id: string): ApiKeyState | undefined {
    return this.live ? this.apiKeys?.get(id) : undefined;
  }

  /** Stores a key read from the database, unless an invalidation happened since the read began. */
  rememberApiKey(state: ApiKeyState, readStartedAt: number): void {
    if (!this.live || readStartedAt !== this.generation || !this.apiKeys) return;
    this.apiKeys.set(state.grant.id, state);
  }

  /** Forgets one user or API key (or everyone) after a change. */
  invalidate(userId?: string): void {
    this.generation++;
    if (userId === undefined) {
      this.actors?.clear();
      this.apiKeys?.clear();
    } else {
      this.actors?.delete(userId);
      this.apiKeys?.delete(userId);
    }
    const waiting = userId === undefined ? [...this.waiters.keys()] : [userId];
    for (const id of waiting) {
      for (const resolve of this.waiters.get(id) ?? []) resolve();
      this.waiters.delete(id);
    }
  }

  /** Whether invalidations are being received (the LISTEN connection is up). */
  setLive(live: boolean): void {
    this.invalidate();
    this.live = live;
  }

  get isLive(): boolean {
    return this.live && this.actors !== undefined;
  }

  /** Resolves once the next invalidation of `userId` has been applied (for tests and tools). */
  invalidated(userId: string): Promise<void> {
    return new Promise((resolve) => {
      const list = this.waiters.get(userId) ?? [];
      list.push(resolve);
      this.waiters.set(userId, list);
    });
  }
}
