import { LRUCache } from 'lru-cache';

/** Caps of one realtime process (docs/realtime.md); each node counts its own sockets. */
export interface RealtimeCaps {
  /** Most open sockets of one user, both feeds together. */
  maxSocketsPerUser: number;
  /** Most open sockets from one client address, signed in or not; 0 = no cap. */
  maxSocketsPerAddress: number;
  /** Subscribes per user and minute, as a token bucket holding a minute's worth. */
  subscribesPerMinute: number;
}

export const DEFAULT_CAPS: RealtimeCaps = {
  maxSocketsPerUser: 20,
  maxSocketsPerAddress: 200,
  subscribesPerMinute: 60,
};

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per user: `perMinute` subscribes at once, refilled at `perMinute` a minute. A
 * bucket left alone for a minute is full again, which is what an absent one means, so buckets
 * expire after a minute and memory stays bounded by the users active in it.
 */
export class SubscribeBudget {
  private readonly buckets: LRUCache<string, Bucket>;
  private readonly perMinute: number;

  constructor(perMinute: number, maxUsers = 100_000) {
    this.perMinute = perMinute;
    this.buckets = new LRUCache({ max: maxUsers, ttl: 60_000 });
  }

  /** Takes one: 0 when taken, else the ms until one is available. */
  take(userId: string, now = Date.now()): number {
    const bucket = this.buckets.get(userId) ?? { tokens: this.perMinute, at: now };
    const tokens = Math.min(this.perMinute, bucket.tokens + ((now - bucket.at) * this.perMinute) / 60_000);
    if (tokens < 1) {
      this.buckets.set(userId, { tokens, at: now }, { noUpdateTTL: true });
      return Math.ceil(((1 - tokens) * 60_000) / this.perMinute);
    }
    this.buckets.set(userId, { tokens: tokens - 1, at: now });
    return 0;
  }
}
