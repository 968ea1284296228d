import type { IncrementalSpec } from '../config/config.types.ts';
import { compileJsonPath } from '../config/jsonpath.ts';
import { cursorTimeFormat, parseInstant, type TimeFormat } from '../connector/instants.ts';

/**
 * The incremental cursor of a run. For a time cursor (iso8601, epoch, datetime in a zone): the
 * largest `cursor_path` value among the records fetched, compared as instants, kept in the PMS's
 * own text. For an opaque cursor: the last value seen, stored as it is, read from the records or
 * (cursor_source `response`) from the answers. A windowed cursor moves with its committed spans
 * instead (the run executor saves those), so this tracker never moves it.
 */
export class CursorTracker {
  private bestKey = Number.NEGATIVE_INFINITY;
  private bestText: string | undefined;
  private readonly read: ((raw: unknown) => unknown) | undefined;
  private readonly format: TimeFormat | undefined;
  private readonly opaque: boolean;

  constructor(incremental: IncrementalSpec | undefined, start: string | null) {
    this.format = cursorTimeFormat(incremental);
    this.opaque = incremental?.cursor_format === 'opaque';
    const fromRecords = incremental?.cursor_source !== 'response' && !incremental?.window;
    if (incremental?.cursor_path && fromRecords) {
      const path = compileJsonPath(incremental.cursor_path);
      this.read = (raw) => path.first(raw);
    }
    if (this.format && incremental) {
      const startKey = parseInstant(start ?? incremental.initial, this.format);
      if (startKey !== undefined) this.bestKey = startKey;
    }
  }

  private consider(value: unknown): void {
    if (typeof value !== 'string' && typeof value !== 'number') return;
    if (this.opaque) {
      if (value !== '') this.bestText = String(value);
      return;
    }
    if (!this.format) return;
    const key = parseInstant(value, this.format);
    if (key !== undefined && key > this.bestKey) {
      this.bestKey = key;
      this.bestText = String(value);
    }
  }

  observe(raw: unknown): void {
    if (this.read) this.consider(this.read(raw));
  }

  /** A cursor read from an answer (cursor_source `response`). */
  observeResponse(value: string | undefined): void {
    if (value !== undefined) this.consider(value);
  }

  /** The new cursor, or undefined when no record moved it forward. */
  advanced(): string | undefined {
    return this.bestText;
  }
}
