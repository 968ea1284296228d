import type { SourceSpec } from '../config/config.types.ts';
import { compileJsonPath } from '../config/jsonpath.ts';

/**
 * The incremental cursor of a run: the largest `cursor_path` value among the records fetched,
 * compared as an instant (iso8601) or a number (epoch formats), kept in the PMS's own text.
 */
export class CursorTracker {
  private bestKey = Number.NEGATIVE_INFINITY;
  private bestText: string | undefined;
  private readonly read: ((raw: unknown) => unknown) | undefined;
  private readonly iso: boolean;

  constructor(incremental: SourceSpec['incremental'], start: string | null) {
    this.iso = incremental?.cursor_format === 'iso8601';
    if (incremental) {
      const path = compileJsonPath(incremental.cursor_path);
      this.read = (raw) => path.first(raw);
      const startKey = this.key(start ?? incremental.initial);
      if (startKey !== undefined) this.bestKey = startKey;
    }
  }

  private key(value: unknown): number | undefined {
    if (typeof value !== 'string' && typeof value !== 'number') return undefined;
    const key = this.iso ? Date.parse(String(value)) : Number(value);
    return Number.isFinite(key) ? key : undefined;
  }

  observe(raw: unknown): void {
    if (!this.read) return;
    const value = this.read(raw);
    const key = this.key(value);
    if (key !== undefined && key > this.bestKey) {
      this.bestKey = key;
      this.bestText = String(value);
    }
  }

  /** The new cursor, or undefined when no record moved it forward. */
  advanced(): string | undefined {
    return this.bestText;
  }
}
