import { createHash } from 'node:crypto';
import type { EgressPolicy } from '../../../app/egress.ts';
import type { PmsConfigDocument, RequestSpec, Scalar, SourceSpec } from '../config/config.types.ts';
import { compileJsonPath } from '../config/jsonpath.ts';
import { PMSConnectionError, shown } from '../integrations.errors.ts';
import { createAuthenticator } from './auth.ts';
import { createSender, type ExchangeResult } from './exchange.ts';
import { cursorTimeFormat, formatInstant, parseInstant } from './instants.ts';
import {
  baseValues,
  extend,
  type PlaceholderValue,
  RawXml,
  type Redactor,
  redactor,
  renderJson,
  renderXml,
  type Scope,
  scopeOf,
} from './placeholders.ts';
import type { RequestBudget } from './rate-budget.ts';
import { type RenderContext, renderRequest } from './render.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './request.ts';
import { type ResponseReader, responseReader } from './response.ts';

export interface FetchPlan {
  config: PmsConfigDocument;
  baseUrl: string;
  hotelExternalId: string;
  secrets: Record<string, string>;
  /** The stored cursor; `incremental.initial` when null. */
  cursor: string | null;
  budget: RequestBudget;
  signal?: AbortSignal;
  /** A guard against a PMS whose pagination never ends. */
  maxPages?: number;
  /** Largest page read, in bytes (64 MiB for JSON, 16 MiB for XML, unless the config says). */
  maxResponseBytes?: number;
  onRetry?: (info: { attempt: number; waitMs: number; reason: string; detail?: string }) => void;
  /** Something worth a run's warnings (a queue that did not drain). */
  onWarning?: (key: string, message: string) => void;
  /** Where requests may connect (PMS_ALLOWED_NETWORKS). */
  allowedNetworks?: EgressPolicy;
  /** Origins besides base_url's that the connection's secrets were given for (an auth URL's). */
  secretOrigins?: readonly string[];
  /** This connection's key in the process's token cache; without it, tokens last one fetch. */
  tokenCacheKey?: string;
  /** Learns the tokens met on the way, so the caller's messages redact them too. */
  redact?: Redactor;
  /** The clock ({now}, the end of windows); Date.now by default. */
  now?: () => number;
}

/** One acknowledgement request: the values of the records it acknowledges. */
export interface AckRequest {
  /** Stable identity, the key of its pending row until it succeeded. */
  key: string;
  items: Array<Record<string, Scalar>>;
}

export interface FetchedPage {
  records: unknown[];
  /** The whole answer the records came from: a config's joins read its side lists (records half). */
  body?: unknown;
  /** The page's URL with every secret redacted. */
  url: string;
  attempts: number;
  /** The last page of a window span: the cursor to save in the transaction that commits it. */
  checkpoint?: string;
  /** A page that only carries a checkpoint (a span that had no records). */
  marker?: boolean;
  /** The incremental cursor read from this answer (`cursor_source: response`). */
  responseCursor?: string;
  /** A queue page's acknowledgements, to send once the page is committed. */
  acks?: AckRequest[];
  /** A queue page: say once it is committed and acknowledged; the queue is read again only then. */
  settle?: (next: 'continue' | 'stop') => void;
}

/**
 * The records of an answer, as the config's `records` path finds them. An empty answer (204, no
 * body) has none. `$.data[*]` matches nothing on an answer without `data`, just as on an empty
 * page: the list must be there (unless `response.missing_records` is `empty`), or a PMS that
 * changed its envelope would "succeed" with nothing on every run.
 */
export function extractRecords(source: SourceSpec, body: unknown, shownUrl: string): unknown[] {
  if (body === null || body === undefined) return [];
  if (source.records.endsWith('[*]')) {
    const containerPath = source.records.slice(0, -3);
    const list = compileJsonPath(containerPath).first(body);
    if (list === null || typeof list !== 'object') {
      if (source.response?.missing_records === 'empty') return [];
      throw new PMSConnectionError(
        `${shownUrl} answered without a list at ${containerPath}: not the shape the config expects`,
      );
    }
  }
  return compileJsonPath(source.records).all(body);
}

/** RFC 8288: the target of the first link with rel="next". */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2]!);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return match[1];
  }
  return undefined;
}

function retryPolicy(config: PmsConfigDocument): RetryPolicy {
  const retry = config.source.retry;
  return {
    maxAttempts: retry?.max_attempts ?? DEFAULT_RETRY.maxAttempts,
    backoffMs: retry?.backoff_ms ?? DEFAULT_RETRY.backoffMs,
    onStatus: retry?.on_status ?? DEFAULT_RETRY.onStatus,
  };
}

const DAY_MS = 86_400_000;

/** A number read from an answer (a total, a count of pages); undefined when it is not one. */
function numberAt(path: string | undefined, body: unknown): number | undefined {
  if (!path || body === null) return undefined;
  const value = compileJsonPath(path).first(body);
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** False when the answer says there is nothing more (`hasMore: false`). */
function saysMore(path: string | undefined, body: unknown): boolean {
  if (!path || body === null) return true;
  const value = compileJsonPath(path).first(body);
  return !(value === false || value === 'false');
}

/**
 * A connection's view of its PMS for one run: the pages of bookings, in order, following the
 * config's pagination (none, page_number, offset, cursor, link_header, next_url, queue) and
 * windows, and the acknowledgements of a queue. Throws PMSConnectionError when the PMS cannot be
 * reached, refuses us (after retries), or answers with something that is not a page.
 */
export function createConnector(plan: FetchPlan) {
  const { config } = plan;
  const source = config.source;
  const request = source.request;
  const pagination = source.pagination ?? { type: 'none' as const };
  const redact = plan.redact ?? redactor(plan.secrets);
  const base = new URL(plan.baseUrl.endsWith('/') ? plan.baseUrl : `${plan.baseUrl}/`);
  const maxPages = plan.maxPages ?? 100_000;
  const now = plan.now ?? Date.now;
  const incremental = source.incremental;
  const timeFormat = cursorTimeFormat(incremental);
  const cursorText = plan.cursor ?? incremental?.initial ?? null;
  const reader = responseReader(source.response);
  const send = createSender({
    retry: retryPolicy(config),
    budget: plan.budget,
    signal: plan.signal,
    maxResponseBytes: plan.maxResponseBytes,
    redact,
    onRetry: plan.onRetry,
    allowedNetworks: plan.allowedNetworks,
  });

  const values: Record<string, PlaceholderValue> = baseValues(plan);
  if (cursorText !== null) {
    // An epoch cursor is a number where a JSON body places it whole ("{cursor}").
    const epoch = incremental?.cursor_format?.startsWith('epoch') && /^-?\d+(\.\d+)?$/.test(cursorText);
    values.cursor = epoch ? Number(cursorText) : cursorText;
  }
  const scopeWith = (extra: Record<string, PlaceholderValue>, instants: Record<string, number> = {}): Scope =>
    scopeOf({
      values: { ...values, ...extra },
      instants: { now: now(), ...instants },
      format: timeFormat,
      zone: incremental?.timezone ?? 'UTC',
    });
  const ctx: RenderContext = {
    base,
    // Looked up afresh, so a login's {now} is the time it is sent.
    scope: (name) => scopeWith({})(name),
    redact,
    secretOrigins: new Set(plan.secretOrigins ?? []),
  };
  const authenticator = createAuthenticator({
    auth: source.auth,
    request,
    ctx,
    send,
    cacheKey: plan.tokenCacheKey,
    secrets: plan.secrets,
    baseUrl: plan.baseUrl,
  });

  /** Sends a request with the auth block's credentials; a 401 fetches a fresh token once. */
  const exchange = async (
    spec: RequestSpec,
    scope: Scope,
    answerReader: ResponseReader,
    options: { query?: Record<string, string>; url?: string } = {},
  ): Promise<ExchangeResult> => {
    for (let refreshed = false; ; refreshed = true) {
      const credentials = await authenticator.credentials();
      const rendered = renderRequest(
        spec,
        { ...ctx, scope: extend(scope, credentials.values) },
        {
          ...options,
          headers: credentials.headers,
        },
      );
      try {
        return await send(rendered, answerReader);
      } catch (error) {
        if (
          !refreshed &&
          error instanceof PMSConnectionError &&
          error.status === 401 &&
          authenticator.invalidate()
        )
          continue;
        throw error;
      }
    }
  };

  let count = 0;
  const guard = () => {
    count += 1;
    if (count > maxPages) throw new PMSConnectionError(`pagination did not end after ${maxPages} pages`);
  };

  const pageOf = (answer: ExchangeResult): FetchedPage => {
    const body = answer.document;
    const url = redact(answer.url);
    const page: FetchedPage = {
      records: extractRecords(source, body, url),
      url,
      attempts: answer.attempts,
      body,
    };
    if (body !== null && incremental?.cursor_source === 'response' && incremental.cursor_path) {
      const value = compileJsonPath(incremental.cursor_path).first(body);
      if ((typeof value === 'string' && value !== '') || typeof value === 'number')
        page.responseCursor = String(value);
    }
    return page;
  };

  /** The pages of one listing (one window span, or the whole listing without windows). */
  async function* paginate(instants: Record<string, number>): AsyncGenerator<FetchedPage> {
    const fetch = async (
      extra: Record<string, PlaceholderValue>,
      options: { query?: Record<string, string>; url?: string } = {},
    ) => {
      guard();
      const answer = await exchange(request, scopeWith(extra, instants), reader, options);
      return { answer, page: pageOf(answer) };
    };
    switch (pagination.type) {
      case 'none': {
        yield (await fetch({})).page;
        return;
      }
      case 'page_number': {
        let received = 0;
        const start = pagination.start ?? 1;
        for (let number = start; ; number++) {
          const query = pagination.param ? { [pagination.param]: String(number) } : {};
          const extra: Record<string, PlaceholderValue> = { page: number };
          if (pagination.limit !== undefined) extra.limit = pagination.limit;
          const { answer, page } = await fetch(extra, { query });
          if (page.records.length === 0) return;
          yield page;
          received += page.records.length;
          const total = numberAt(pagination.total_path, answer.document);
          const pages = numberAt(pagination.pages_path, answer.document);
          if (pagination.limit !== undefined && page.records.length < pagination.limit) return;
          if (total !== undefined && received >= total) return;
          if (pages !== undefined && number >= start + pages - 1) return;
          if (!saysMore(pagination.more_path, answer.document)) return;
        }
      }
      case 'offset': {
        const limit = pagination.limit!;
        for (let offset = 0; ; ) {
          const query: Record<string, string> = {};
          if (pagination.param) query[pagination.param] = String(offset);
          if (pagination.limit_param) query[pagination.limit_param] = String(limit);
          const { answer, page } = await fetch({ offset, limit }, { query });
          if (page.records.length > 0) yield page;
          if (page.records.length < limit) return;
          offset += page.records.length;
          const total = numberAt(pagination.total_path, answer.document);
          if (total !== undefined && offset >= total) return;
          if (!saysMore(pagination.more_path, answer.document)) return;
        }
      }
      case 'cursor': {
        const seen = new Set<string>();
        let token: string | undefined;
        let received = 0;
        for (;;) {
          const query = token !== undefined && pagination.param ? { [pagination.param]: token } : {};
          const extra: Record<string, PlaceholderValue> = { page_cursor: token ?? null };
          if (pagination.limit !== undefined) extra.limit = pagination.limit;
          const { answer, page } = await fetch(extra, { query });
          if (page.records.length > 0) yield page;
          received += page.records.length;
          // With a page size, a short page is the last one (Mews returns a cursor on every page).
          if (pagination.limit !== undefined && page.records.length < pagination.limit) return;
          const total = numberAt(pagination.total_path, answer.document);
          if (total !== undefined && received >= total) return;
          if (!saysMore(pagination.more_path, answer.document)) return;
          const next =
            answer.document === null
              ? undefined
              : compileJsonPath(pagination.next_path!).first(answer.document);
          if (next === undefined || next === null || next === '') return;
          token = String(next);
          if (seen.has(token))
            throw new PMSConnectionError(`the PMS returned the cursor ${shown(token)} twice`);
          seen.add(token);
        }
      }
      case 'link_header':
      case 'next_url': {
        const seen = new Set<string>();
        let url: string | undefined;
        for (;;) {
          const { answer, page } = await fetch({}, url === undefined ? {} : { url });
          if (page.records.length > 0) yield page;
          const next =
            pagination.type === 'link_header'
              ? nextLink(answer.headers.get('link'))
              : answer.document === null
                ? undefined
                : compileJsonPath(pagination.next_path!).first(answer.document);
          if (next === undefined || next === null || next === '') return;
          if (typeof next !== 'string')
            throw new PMSConnectionError(`the next URL at ${pagination.next_path} is not text`);
          const resolved = new URL(next, answer.url);
          // The next link must not lead our credentials to another host.
          if (resolved.origin !== base.origin) {
            throw new PMSConnectionError(
              `the next link points to another origin (${redact(resolved.origin)})`,
            );
          }
          url = resolved.toString();
          if (seen.has(url))
            throw new PMSConnectionError(`the PMS returned the next URL ${shown(redact(url))} twice`);
          seen.add(url);
        }
      }
      case 'queue': {
        const acked = new Set<string>();
        for (;;) {
          const { page } = await fetch({});
          if (page.records.length === 0) return;
          const acks = ackRequests(page.records);
          const again = acks.length > 0 && acks.every((ack) => acked.has(ack.key));
          let settle!: (next: 'continue' | 'stop') => void;
          const settled = new Promise<'continue' | 'stop'>((resolve) => {
            settle = resolve;
          });
          yield { ...page, acks, settle };
          const next = await abortable(settled, plan.signal);
          if (next === 'stop') return;
          // A queue that hands back what was acknowledged in this run would be read forever.
          if (again) {
            plan.onWarning?.(
              'queue_not_drained',
              'the queue delivered again records acknowledged in this run; reading stopped until the next run',
            );
            return;
          }
          for (const ack of acks) acked.add(ack.key);
        }
      }
    }
  }

  const ack = source.ack;
  const ackPaths = Object.entries(ack?.values ?? {}).map(
    ([name, path]) => [name, compileJsonPath(path)] as const,
  );
  /** The acknowledgements of a queue page: one per record, or one for the page. */
  function ackRequests(pageRecords: unknown[]): AckRequest[] {
    if (!ack) return [];
    const items = pageRecords.map((record) => {
      const item: Record<string, Scalar> = {};
      for (const [name, path] of ackPaths) {
        const value = path.first(record);
        if (value === undefined || value === null || typeof value === 'object') {
          throw new PMSConnectionError(
            `a record of the queue has no value at ${ack.values[name]} (ack.values.${name}): it cannot be acknowledged`,
          );
        }
        item[name] = value as Scalar;
      }
      return item;
    });
    if (ack.per === 'record')
      return items.map((item) => ({ key: `r:${JSON.stringify(item)}`, items: [item] }));
    const digest = createHash('sha256').update(JSON.stringify(items)).digest('hex');
    return [{ key: `p:${digest}`, items }];
  }

  return {
    /** Every page of the hotel's bookings, window span by window span. */
    async *pages(): AsyncGenerator<FetchedPage> {
      const window = incremental?.window;
      if (!window || !timeFormat) {
        yield* paginate({});
        return;
      }
      const from = parseInstant(cursorText, timeFormat);
      if (from === undefined)
        throw new PMSConnectionError(
          `the cursor ${shown(cursorText)} is not a time in the ${incremental.cursor_format} format`,
        );
      const end = now();
      for (let start = from; start < end; ) {
        const stop = Math.min(start + window.max_days * DAY_MS, end);
        let held: FetchedPage | undefined;
        for await (const page of paginate({ 'window.start': start, 'window.end': stop })) {
          if (held) yield held;
          held = page;
        }
        const checkpoint = String(formatInstant(stop, timeFormat));
        yield held
          ? { ...held, checkpoint }
          : { records: [], url: '', attempts: 0, checkpoint, marker: true };
        start = stop;
      }
    },

    /** Sends one acknowledgement (per the config's `ack`); throws PMSConnectionError when it fails. */
    async acknowledge(request: AckRequest): Promise<void> {
      if (!ack) return;
      const ackValues: Record<string, PlaceholderValue> = {};
      for (const [name] of ackPaths) {
        ackValues[`ack.${name}`] =
          ack.per === 'record' ? request.items[0]![name]! : request.items.map((item) => item[name]!);
      }
      if (ack.per === 'page' && ack.each !== undefined) {
        const itemScope = (item: Record<string, Scalar>) =>
          extend(
            scopeWith({}),
            Object.fromEntries(Object.entries(item).map(([name, value]) => [`ack.${name}`, value])),
          );
        ackValues['ack.each'] =
          ack.request.body && 'xml' in ack.request.body
            ? new RawXml(request.items.map((item) => renderXml(String(ack.each), itemScope(item))).join(''))
            : request.items.map((item) => renderJson(ack.each, itemScope(item)));
      }
      await exchange(ack.request, scopeWith(ackValues), ack.response ? responseReader(ack.response) : reader);
    },
  };
}

/** The pages of one hotel's bookings (createConnector(plan).pages()). */
export function fetchPages(plan: FetchPlan): AsyncGenerator<FetchedPage> {
  return createConnector(plan).pages();
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
