import { createHash } from 'node:crypto';

/** How long a remembered response answers replays of its key. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** A fingerprint of a request that ignores key order, so the same body always hashes the same. */
export function requestHash(operation: string, body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([operation, canonical(body)]))
    .digest('hex');
}
