import type { Db } from '../../db/database.ts';
import { addUsage, type UsageRow } from './api-key.repository.ts';

/** How often an API process writes its counts (docs/api.md, "Partner credentials"). */
export const USAGE_FLUSH_MS = 10_000;
/** Minutes of counts kept in memory while the database cannot take them; beyond, new ones are dropped. */
const MAX_PENDING = 50_000;

interface Pending {
  keyId: string;
  minute: number;
  requests: number;
  errors: number;
  lastAt: number;
}

/**
 * Every call an API key makes, counted per key and minute in this process's memory and added to
 * api_key_usage every few seconds: one small write per key and interval instead of one per call.
 */
export class ApiKeyUsage {
  private pending = new Map<string, Pending>();
  private dropped = 0;
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  record(keyId: string, status: number, at = Date.now()): void {
    const minute = at - (at % 60_000);
    const slot = `${keyId}|${minute}`;
    let entry = this.pending.get(slot);
    if (!entry) {
      if (this.pending.size >= MAX_PENDING) {
        this.dropped++;
        return;
      }
      entry = { keyId, minute, requests: 0, errors: 0, lastAt: at };
      this.pending.set(slot, entry);
    }
    entry.requests++;
    if (status >= 400) entry.errors++;
    if (at > entry.lastAt) entry.lastAt = at;
  }

  /** Calls counted but dropped since the last flush, because the database was away too long. */
  get droppedCalls(): number {
    return this.dropped;
  }

  /** Writes the counts; on failure they are kept for the next flush. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const taken = this.pending;
    this.pending = new Map();
    const rows: UsageRow[] = [...taken.values()].map((entry) => ({
      keyId: entry.keyId,
      minute: new Date(entry.minute).toISOString(),
      requests: entry.requests,
      errors: entry.errors,
      lastAt: new Date(entry.lastAt).toISOString(),
    }));
    try {
      await addUsage(this.db, rows);
      this.dropped = 0;
    } catch (error) {
      for (const [slot, entry] of taken) {
        const newer = this.pending.get(slot);
        if (newer) {
          newer.requests += entry.requests;
          newer.errors += entry.errors;
          newer.lastAt = Math.max(newer.lastAt, entry.lastAt);
        } else if (this.pending.size < MAX_PENDING) this.pending.set(slot, entry);
        else this.dropped += entry.requests;
      }
      throw error;
    }
  }
}
