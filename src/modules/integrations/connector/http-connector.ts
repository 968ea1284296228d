import type { EgressPolicy } from '../../../app/egress.ts';
import type { PmsConfigDocument } from '../config/config.types.ts';
import { compileJsonPath } from '../config/jsonpath.ts';
import { PMSConnectionError, shown } from '../integrations.errors.ts';
import { fill, type PlaceholderValues, placeholderValues, redactor } from './placeholders.ts';
import type { RequestBudget } from './rate-budget.ts';
import { DEFAULT_RETRY, type HttpResponse, type RetryPolicy, requestJson } from './request.ts';

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
  /** Largest page read, in bytes (64 MiB by default). */
  maxResponseBytes?: number;
  onRetry?: (info: { attempt: number; waitMs: number; reason: string; detail?: string }) => void;
  /** Where requests may connect (PMS_ALLOWED_NETWORKS). */
  allowedNetworks?: EgressPolicy;
}

export interface FetchedPage {
  records: unknown[];
  /** The page's URL with every secret redacted. */
  url: string;
  attempts: number;
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

/**
 * Fetches every page of one hotel's bookings, in order, following the config's pagination
 * (none, page_number, offset, cursor, link_header). Throws PMSConnectionError when the PMS
 * cannot be reached, refuses us (after retries), or answers with something that is not a page.
 */
export async function* fetchPages(plan: FetchPlan): AsyncGenerator<FetchedPage> {
  const { config } = plan;
  const request = config.source.request;
  const pagination = config.source.pagination ?? { type: 'none' as const };
  const redact = redactor(plan.secrets);
  const base = new URL(plan.baseUrl.endsWith('/') ? plan.baseUrl : `${plan.baseUrl}/`);
  const records = compileJsonPath(config.source.records);
  // `$.data[*]` matches nothing on an answer without `data`, just as on an empty page: the list
  // must be there, or a PMS that changed its envelope would "succeed" with nothing on every run.
  const containerPath = config.source.records.endsWith('[*]')
    ? config.source.records.slice(0, -3)
    : undefined;
  const container = containerPath ? compileJsonPath(containerPath) : undefined;
  const nextPath = pagination.type === 'cursor' ? compileJsonPath(pagination.next_path!) : undefined;
  const maxPages = plan.maxPages ?? 100_000;
  const retry = retryPolicy(config);
  const values = placeholderValues({
    hotelExternalId: plan.hotelExternalId,
    cursor: plan.cursor ?? config.source.incremental?.initial ?? null,
    secrets: plan.secrets,
  });

  const buildUrl = (extra: PlaceholderValues, paging: Record<string, string>): string => {
    const all = { ...values, ...extra };
    const url = new URL(fill(request.path, all, encodeURIComponent).replace(/^\//, ''), base);
    // The secrets were given for base_url's origin: a path that resolves elsewhere (`//host`,
    // `/https://host`) never gets a request, whatever config the connection points to.
    if (url.origin !== base.origin) {
      throw new PMSConnectionError(
        `the config's request path leads to ${redact(url.origin)}, outside the connection's base_url ` +
          `(${base.origin}): requests go to base_url's origin only`,
      );
    }
    for (const [key, template] of Object.entries(request.query ?? {}))
      url.searchParams.set(key, fill(template, all));
    for (const [key, value] of Object.entries(paging)) url.searchParams.set(key, value);
    return url.toString();
  };
  const send = (url: string, extra: PlaceholderValues): Promise<HttpResponse> => {
    const all = { ...values, ...extra };
    const headers: Record<string, string> = {};
    for (const [key, template] of Object.entries(request.headers ?? {})) headers[key] = fill(template, all);
    return requestJson({
      url,
      method: request.method ?? 'GET',
      headers,
      timeoutMs: request.timeout_ms ?? 10_000,
      retry,
      budget: plan.budget,
      signal: plan.signal,
      maxResponseBytes: plan.maxResponseBytes,
      redact,
      onRetry: plan.onRetry,
      allowedNetworks: plan.allowedNetworks,
    });
  };
  const page = (response: HttpResponse): FetchedPage => {
    const body = response.body;
    if (body === null || typeof body !== 'object') {
      throw new PMSConnectionError(`${redact(response.url)} answered JSON that is not an object or a list`);
    }
    const list = container?.first(body);
    if (container && (list === null || typeof list !== 'object')) {
      throw new PMSConnectionError(
        `${redact(response.url)} answered without a list at ${containerPath}: not the shape the config expects`,
      );
    }
    return { records: records.all(body), url: redact(response.url), attempts: response.attempts };
  };

  let count = 0;
  const guard = () => {
    count += 1;
    if (count > maxPages) throw new PMSConnectionError(`pagination did not end after ${maxPages} pages`);
  };

  switch (pagination.type) {
    case 'none': {
      guard();
      yield page(await send(buildUrl({}, {}), {}));
      return;
    }
    case 'page_number': {
      for (let number = pagination.start ?? 1; ; number++) {
        guard();
        const extra = { page: String(number) };
        const fetched = page(await send(buildUrl(extra, { [pagination.param!]: String(number) }), extra));
        if (fetched.records.length === 0) return;
        yield fetched;
      }
    }
    case 'offset': {
      const limit = pagination.limit!;
      for (let offset = 0; ; ) {
        guard();
        const extra = { offset: String(offset), limit: String(limit) };
        const paging = { [pagination.param!]: String(offset), [pagination.limit_param!]: String(limit) };
        const fetched = page(await send(buildUrl(extra, paging), extra));
        if (fetched.records.length > 0) yield fetched;
        if (fetched.records.length < limit) return;
        offset += fetched.records.length;
      }
    }
    case 'cursor': {
      const seen = new Set<string>();
      let token: string | undefined;
      for (;;) {
        guard();
        const response = await send(
          buildUrl({}, token === undefined ? {} : { [pagination.param!]: token }),
          {},
        );
        const fetched = page(response);
        if (fetched.records.length > 0) yield fetched;
        const next = nextPath!.first(response.body);
        if (next === undefined || next === null || next === '') return;
        token = String(next);
        if (seen.has(token))
          throw new PMSConnectionError(`the PMS returned the cursor ${shown(token)} twice`);
        seen.add(token);
      }
    }
    case 'link_header': {
      let url = buildUrl({}, {});
      for (;;) {
        guard();
        const response = await send(url, {});
        const fetched = page(response);
        if (fetched.records.length > 0) yield fetched;
        const next = nextLink(response.headers.get('link'));
        if (!next) return;
        const resolved = new URL(next, url);
        // The next link must not lead our credentials to another host.
        if (resolved.origin !== base.origin) {
          throw new PMSConnectionError(`the next link points to another origin (${resolved.origin})`);
        }
        url = resolved.toString();
      }
    }
  }
}
