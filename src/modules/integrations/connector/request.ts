import type { Headers, Response } from 'undici';
import {
  DEFAULT_EGRESS_POLICY,
  type EgressPolicy,
  EgressRefusedError,
  egressDispatcher,
  unreachableNameMessage,
} from '../../../app/egress.ts';
import { PMSConnectionError } from '../integrations.errors.ts';
import { fetchWithinOrigin } from './origin-fetch.ts';
import { type RequestBudget, sleep } from './rate-budget.ts';

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number;
  onStatus: number[];
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  backoffMs: 500,
  onStatus: [429, 500, 502, 503, 504],
};
/** A PMS asking us to wait longer than this is treated as down for this run. */
const MAX_RETRY_AFTER_MS = 60_000;
/** Largest answer read from a PMS; a page over it fails the run instead of exhausting memory. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A 2xx answer, its body as text: what it means is the response reader's business. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  url: string;
  attempts: number;
}

export interface RequestOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** The rendered body, if any (its Content-Type is among the headers). */
  body?: string;
  timeoutMs: number;
  retry: RetryPolicy;
  budget: RequestBudget;
  signal?: AbortSignal;
  /** Largest body read (DEFAULT_MAX_RESPONSE_BYTES when unset). */
  maxResponseBytes?: number;
  redact: (text: string) => string;
  /** `reason` is what a run's error would say; `detail` the full cause, for server logs. */
  onRetry?: (info: { attempt: number; waitMs: number; reason: string; detail?: string }) => void;
  /** Where requests may connect, redirects included (PMS_ALLOWED_NETWORKS). */
  allowedNetworks?: EgressPolicy;
  /** The PMS's own message in a non-2xx answer (config `response.failure`), quoted in the error. */
  describeFailure?: (status: number, text: string) => Promise<string | undefined>;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The body as text, refusing one larger than `limit` bytes before or while it arrives. */
async function readBody(response: Response, limit: number, shownUrl: string): Promise<string> {
  const tooLarge = () =>
    new PMSConnectionError(
      `${shownUrl} answered more than ${limit} bytes: use smaller pages (the config's pagination)`,
      response.status,
    );
  if (Number(response.headers.get('content-length') ?? 0) > limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return '';
  const decoder = new TextDecoder();
  let size = 0;
  let text = '';
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > limit) {
      // The rest is never downloaded.
      await reader.cancel();
      throw tooLarge();
    }
    text += decoder.decode(value, { stream: true });
  }
}

/**
 * The tenant reads one message for every failure below HTTP: a sync error that told a refused
 * connection from a timeout, a TLS error or a non-HTTP answer would map the ports of a network.
 */
export const NO_HTTP_ANSWER = 'no HTTP answer (the connection failed, timed out or did not speak HTTP)';

function connectionFailure(
  error: unknown,
  shownUrl: string,
  timeoutMs: number,
  redact: (text: string) => string,
): PMSConnectionError {
  const cause = (error as Error & { cause?: Error & { code?: string; syscall?: string } }).cause;
  // A refused address stays refused: no retry.
  if (cause instanceof EgressRefusedError)
    return new PMSConnectionError(
      `${shownUrl}: ${cause.message}`,
      null,
      false,
      `${cause.host} is ${cause.address}`,
    );
  const detail =
    (error as Error).name === 'TimeoutError'
      ? `no answer within ${timeoutMs} ms`
      : redact([cause?.code, cause?.message ?? (error as Error).message].filter(Boolean).join(': '));
  // A name that does not resolve is the commonest mistake in a base URL; saying so maps no port.
  const reason =
    cause?.syscall === 'getaddrinfo' ? unreachableNameMessage(new URL(shownUrl).hostname) : NO_HTTP_ANSWER;
  return new PMSConnectionError(`${shownUrl}: ${reason}`, null, true, detail);
}

/** JSON is what most PMSs speak; a config's own Accept header (any spelling) replaces it. */
function withAccept(headers: Record<string, string>): Record<string, string> {
  return Object.keys(headers).some((key) => key.toLowerCase() === 'accept')
    ? headers
    : { accept: 'application/json', ...headers };
}

function backoff(policy: RetryPolicy, attempt: number): number {
  const base = policy.backoffMs * 2 ** (attempt - 1);
  // Jitter spreads the retries of hotels that failed together.
  return Math.round(base * (0.5 + Math.random() * 0.5));
}

/**
 * One logical request: waits for the PMS's budget, sends with a timeout per attempt, retries
 * network failures, timeouts and the configured statuses with exponential backoff (or the
 * server's Retry-After), and returns a 2xx answer with its body as text.
 */
export async function sendRequest(options: RequestOptions): Promise<HttpResponse> {
  const { retry, redact } = options;
  const shownUrl = redact(options.url);
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    let failure: PMSConnectionError;
    let waitMs: number | undefined;
    const release = await options.budget.acquire(options.signal);
    try {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      const response = await fetchWithinOrigin(
        options.url,
        {
          method: options.method,
          headers: withAccept(options.headers),
          body: options.body,
          signal,
          dispatcher: egressDispatcher(options.allowedNetworks ?? DEFAULT_EGRESS_POLICY),
        },
        redact,
      );
      const text = await readBody(response, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, shownUrl);
      if (response.ok) {
        return {
          status: response.status,
          headers: response.headers,
          text,
          url: options.url,
          attempts: attempt,
        };
      }
      const retryable = retry.onStatus.includes(response.status);
      // A SOAP fault comes with HTTP 500, a Mews validation error with 403: the PMS's own words say more.
      const vendor = await options.describeFailure?.(response.status, text).catch(() => undefined);
      const hint = vendor
        ? `: ${redact(vendor)}`
        : response.status === 401 || response.status === 403
          ? " (check the connection's credentials)"
          : '';
      failure = new PMSConnectionError(
        `${shownUrl} answered HTTP ${response.status}${hint}`,
        response.status,
        retryable,
      );
      waitMs = retryAfterMs(response.headers.get('retry-after'));
    } catch (error) {
      if (error instanceof PMSConnectionError) throw error;
      if (options.signal?.aborted) throw options.signal.reason;
      failure = connectionFailure(error, shownUrl, options.timeoutMs, redact);
    } finally {
      release();
    }
    if (!failure.retryable || attempt >= retry.maxAttempts) {
      if (attempt > 1)
        throw new PMSConnectionError(
          `${failure.reason} (after ${attempt} attempts)`,
          failure.status,
          false,
          failure.detail,
        );
      throw failure;
    }
    if (waitMs !== undefined && waitMs > MAX_RETRY_AFTER_MS) {
      throw new PMSConnectionError(
        `${failure.reason}; Retry-After asks for ${Math.round(waitMs / 1000)} s`,
        failure.status,
      );
    }
    const delay = waitMs ?? backoff(retry, attempt);
    options.onRetry?.({ attempt, waitMs: delay, reason: failure.reason, detail: failure.detail });
    await sleep(delay, options.signal);
  }
}
