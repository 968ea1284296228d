import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseEgressPolicy } from '../../../app/egress.ts';
import type { PmsConfigDocument } from '../config/config.types.ts';
import { PMSConnectionError } from '../integrations.errors.ts';
import { fetchPages, nextLink } from './http-connector.ts';
import { budgetFor, privateBudget } from './rate-budget.ts';
import { retryAfterMs } from './request.ts';

type Handler = (
  request: IncomingMessage,
  url: URL,
) => { status?: number; headers?: Record<string, string>; body: unknown };

/** A throwaway PMS: answers with `handler`, records every request. */
async function pms(handler: Handler): Promise<{ url: string; requests: URL[]; close: () => Promise<void> }> {
  const requests: URL[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://pms.local');
    requests.push(url);
    const reply = handler(request, url);
    response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    response.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const config = (source: Partial<PmsConfigDocument['source']>): PmsConfigDocument => ({
  pms_type: 'test',
  version: '1',
  source: { request: { path: '/h/{hotel.external_id}/b' }, records: '$.items[*]', ...source },
  field_mappings: {},
});

async function collect(plan: Parameters<typeof fetchPages>[0]) {
  const pages = [];
  for await (const page of fetchPages(plan)) pages.push(page.records);
  return pages;
}

/** These PMSs listen on 127.0.0.1, which no policy reaches unless it says so. */
const loopback = parseEgressPolicy('external,loopback').policy;

const plan = (cfg: PmsConfigDocument, baseUrl: string, extra: object = {}) => ({
  config: cfg,
  baseUrl,
  hotelExternalId: 'H 1',
  secrets: { token: 'sekret-token' },
  cursor: null,
  budget: privateBudget(undefined),
  allowedNetworks: loopback,
  ...extra,
});

const ITEMS = Array.from({ length: 7 }, (_, i) => ({ n: i }));

describe('fetchPages: the five pagination types', () => {
  it('none: one request, with placeholders and secrets filled', async () => {
    const server = await pms((request) => ({
      body: { items: ITEMS.slice(0, 2), auth: request.headers.authorization },
    }));
    const cfg = config({
      request: {
        path: '/h/{hotel.external_id}/b',
        query: { since: '{cursor}' },
        headers: { Authorization: 'Bearer {secret.token}' },
      },
      incremental: { cursor_path: '$.n', cursor_format: 'epoch_seconds', initial: '0' },
    });
    expect(await collect(plan(cfg, server.url))).toEqual([ITEMS.slice(0, 2)]);
    expect(server.requests.map((u) => `${u.pathname}${u.search}`)).toEqual(['/h/H%201/b?since=0']);
    await server.close();
  });

  it('page_number: pages from start until an empty page', async () => {
    const server = await pms((_r, url) => {
      const page = Number(url.searchParams.get('p'));
      return { body: { items: ITEMS.slice(page * 3, page * 3 + 3) } };
    });
    const cfg = config({ pagination: { type: 'page_number', param: 'p', start: 0 } });
    expect(await collect(plan(cfg, server.url))).toEqual([
      ITEMS.slice(0, 3),
      ITEMS.slice(3, 6),
      ITEMS.slice(6),
    ]);
    expect(server.requests.map((u) => u.searchParams.get('p'))).toEqual(['0', '1', '2', '3']);
    await server.close();
  });

  it('offset: offsets and limit until a short page, {offset} and {limit} usable in the path', async () => {
    const server = await pms((_r, url) => {
      const offset = Number(url.searchParams.get('o'));
      return { body: { items: ITEMS.slice(offset, offset + Number(url.searchParams.get('l'))) } };
    });
    const cfg = config({
      request: { path: '/h/{hotel.external_id}/b/{offset}-{limit}' },
      pagination: { type: 'offset', param: 'o', limit_param: 'l', limit: 3 },
    });
    expect(await collect(plan(cfg, server.url))).toEqual([
      ITEMS.slice(0, 3),
      ITEMS.slice(3, 6),
      ITEMS.slice(6),
    ]);
    expect(server.requests.map((u) => u.pathname)).toEqual([
      '/h/H%201/b/0-3',
      '/h/H%201/b/3-3',
      '/h/H%201/b/6-3',
    ]);
    await server.close();
  });

  it('cursor: follows next_path until it is absent, and refuses a repeated cursor', async () => {
    const server = await pms((_r, url) => {
      const at = Number(url.searchParams.get('after') ?? 0);
      const next = at + 3 < ITEMS.length ? String(at + 3) : null;
      return { body: { items: ITEMS.slice(at, at + 3), meta: { next } } };
    });
    const cfg = config({ pagination: { type: 'cursor', next_path: '$.meta.next', param: 'after' } });
    expect(await collect(plan(cfg, server.url))).toEqual([
      ITEMS.slice(0, 3),
      ITEMS.slice(3, 6),
      ITEMS.slice(6),
    ]);
    await server.close();
    const loop = await pms(() => ({ body: { items: [1], meta: { next: 'same' } } }));
    await expect(collect(plan(cfg, loop.url))).rejects.toThrow(/cursor "same" twice/);
    await loop.close();
  });

  it('link_header: follows rel="next" on the same origin only', async () => {
    const server = await pms((_r, url) => {
      const page = Number(url.searchParams.get('page') ?? 0);
      const headers: Record<string, string> =
        page < 2 ? { link: `<${url.pathname}?page=${page + 1}>; rel="next", </first>; rel="first"` } : {};
      return { headers, body: { items: ITEMS.slice(page * 3, page * 3 + 3) } };
    });
    const cfg = config({ pagination: { type: 'link_header' } });
    expect(await collect(plan(cfg, server.url))).toEqual([
      ITEMS.slice(0, 3),
      ITEMS.slice(3, 6),
      ITEMS.slice(6),
    ]);
    await server.close();
    const evil = await pms(() => ({
      headers: { link: '<http://evil.example/steal>; rel=next' },
      body: { items: [1] },
    }));
    await expect(collect(plan(cfg, evil.url))).rejects.toThrow(/another origin/);
    await evil.close();
  });

  it('parses RFC 8288 Link headers', () => {
    expect(nextLink('<https://a/b?page=2>; rel="next"')).toBe('https://a/b?page=2');
    expect(nextLink('<https://a/1>; rel="prev", <https://a/3>; rel="next last"')).toBe('https://a/3');
    expect(nextLink('<https://a/1>; rel=prev')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });
});

describe('fetchPages: failures, retries and timeouts', () => {
  it('retries the configured statuses and honours Retry-After', async () => {
    let calls = 0;
    const server = await pms(() => {
      calls += 1;
      if (calls === 1) return { status: 429, headers: { 'retry-after': '1' }, body: {} };
      if (calls === 2) return { status: 502, body: {} };
      return { body: { items: [1] } };
    });
    const waits: number[] = [];
    const cfg = config({ retry: { max_attempts: 3, backoff_ms: 10, on_status: [429, 502] } });
    const pages = await collect(
      plan(cfg, server.url, { onRetry: (r: { waitMs: number }) => waits.push(r.waitMs) }),
    );
    expect(pages).toEqual([[1]]);
    expect(waits[0]).toBe(1000);
    // Then exponential backoff with jitter: 10 ms × 2 for the second attempt, halved at most.
    expect(waits[1]).toBeGreaterThanOrEqual(10);
    expect(waits[1]).toBeLessThanOrEqual(20);
    await server.close();
  });

  it('does not retry a status outside on_status, and names credentials on 401', async () => {
    const server = await pms(() => ({ status: 401, body: {} }));
    const error = await collect(plan(config({}), server.url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PMSConnectionError);
    expect((error as PMSConnectionError).message).toMatch(/HTTP 401 \(check the connection's credentials\)$/);
    expect(server.requests).toHaveLength(1);
    await server.close();
  });

  it('times out a request that hangs (AbortSignal), retries it, then fails', async () => {
    const server = await pms(() => ({ body: { items: [] } }));
    // A hanging endpoint: accept the request and never answer.
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    const cfg = config({
      request: { path: '/x', timeout_ms: 150 },
      retry: { max_attempts: 2, backoff_ms: 1, on_status: [] },
    });
    const error = await collect(plan(cfg, url)).catch((e: unknown) => e);
    // The tenant is not told a timeout from a closed port; the server's log is.
    expect((error as PMSConnectionError).reason).toMatch(
      /: no HTTP answer \(the connection failed, timed out or did not speak HTTP\) \(after 2 attempts\)$/,
    );
    expect((error as PMSConnectionError).detail).toBe('no answer within 150 ms');
    hanging.closeAllConnections();
    hanging.close();
    await server.close();
  });

  it('answers an unreachable PMS and a body that is not JSON with PMSConnectionError', async () => {
    const server = await pms(() => ({ body: 'not json' }));
    await expect(collect(plan(config({}), server.url))).rejects.toThrow(/not JSON/);
    await server.close();
    const cfg = config({ retry: { max_attempts: 1 } });
    await expect(collect(plan(cfg, server.url))).rejects.toBeInstanceOf(PMSConnectionError);
  });

  it('refuses a page larger than the response limit, declared or streamed, without retrying', async () => {
    const big = { items: Array.from({ length: 2_000 }, (_, n) => ({ n, pad: 'x'.repeat(50) })) };
    const declared = await pms(() => ({ body: big }));
    await expect(collect(plan(config({}), declared.url, { maxResponseBytes: 10_000 }))).rejects.toThrow(
      /more than 10000 bytes/,
    );
    expect(declared.requests).toHaveLength(1);
    await declared.close();

    // Chunked, with no Content-Length: counted as it arrives.
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const text = JSON.stringify(big);
      for (let at = 0; at < text.length; at += 4_096) response.write(text.slice(at, at + 4_096));
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const error = await collect(plan(config({}), url, { maxResponseBytes: 10_000 })).catch((e: Error) => e);
    expect(error).toBeInstanceOf(PMSConnectionError);
    expect((error as Error).message).toMatch(/more than 10000 bytes/);
    // Under the limit the same answer is read whole.
    expect((await collect(plan(config({}), url)))[0]).toHaveLength(2_000);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('redacts secrets from every message, encoded or not', async () => {
    const server = await pms(() => ({ status: 500, body: {} }));
    const cfg = config({
      request: { path: '/x', query: { key: '{secret.token}' } },
      retry: { max_attempts: 1 },
    });
    const error = await collect(plan(cfg, server.url, { secrets: { token: 'a b&c/secret' } })).catch(
      (e: Error) => e,
    );
    expect((error as Error).message).not.toContain('secret');
    expect((error as Error).message).toContain('key=[redacted]');
    await server.close();
  });

  it('stops at once when the run is aborted', async () => {
    const server = await pms(() => ({ body: { items: [1] } }));
    const abort = new AbortController();
    abort.abort(new Error('stopped'));
    await expect(collect(plan(config({}), server.url, { signal: abort.signal }))).rejects.toThrow('stopped');
    expect(server.requests).toHaveLength(0);
    await server.close();
  });
});

describe('request budgets', () => {
  it('bound the requests in flight to one PMS, shared by its hotels', async () => {
    let inFlight = 0;
    let peak = 0;
    const waiting: Array<() => void> = [];
    const server = createServer((_request, response) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      waiting.push(() => {
        inFlight -= 1;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"items":[1]}');
      });
      // Answer in batches so requests overlap for sure.
      if (waiting.length >= 2) for (const release of waiting.splice(0)) release();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const budget = budgetFor(`test|${url}`, undefined, 2);
    const hotels = Array.from({ length: 6 }, (_, i) =>
      collect({ ...plan(config({}), url), hotelExternalId: `H${i}`, budget }),
    );
    await Promise.all(hotels);
    expect(peak).toBe(2);
    server.closeAllConnections();
    server.close();
  });

  it('pace requests at requests_per_second', async () => {
    const budget = privateBudget(50, 10);
    const slots: number[] = [];
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        const release = await budget.acquire();
        slots.push(performance.now());
        release();
      }),
    );
    slots.sort((a, b) => a - b);
    // Five slots 20 ms apart span 80 ms. The budget counts in Date.now() milliseconds and timers run
    // on the event loop's millisecond clock, so measured with performance.now() the span may come
    // out up to about 1 ms short on each end (78.8 ms seen in CI); unpaced, it would be under 1 ms.
    expect(slots[4]! - slots[0]!).toBeGreaterThanOrEqual(78);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(
      10_000,
    );
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe('where a PMS request may connect (PMS_ALLOWED_NETWORKS)', () => {
  const cfg = config({ request: { path: '/b' } });

  it('refuses a PMS on an address the policy leaves out, at once and without retrying', async () => {
    const server = await pms(() => ({ body: { items: [1] } }));
    try {
      const error = await collect(
        plan(cfg, server.url, { allowedNetworks: parseEgressPolicy('external').policy }),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PMSConnectionError);
      expect((error as PMSConnectionError).reason).toMatch(
        /127\.0\.0\.1 is not an address this server may reach \(allowed: external\)\.$/,
      );
      expect((error as PMSConnectionError).reason).not.toMatch(/attempts/);
      expect(server.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('does not follow a redirect to the cloud metadata address', async () => {
    const server = await pms(() => ({
      status: 302,
      headers: { location: 'http://169.254.169.254/latest/meta-data/' },
      body: '',
    }));
    try {
      const error = await collect(plan(cfg, server.url)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PMSConnectionError);
      // Refused before connecting: it leaves base_url's origin (and the egress policy would refuse it too).
      // The tenant is not told where it pointed (it may name an internal service); the logs are.
      expect((error as PMSConnectionError).reason).toMatch(/redirected to another origin;/);
      expect((error as PMSConnectionError).reason).not.toContain('169.254');
      expect((error as PMSConnectionError).detail).toBe('redirected to http://169.254.169.254');
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe("the connection's secrets go to base_url's origin only", () => {
  /** A server at another origin (another port of 127.0.0.1), recording what reaches it. */
  const collector = () => pms((request) => ({ body: { items: [{ leaked: request.headers['x-api-key'] }] } }));
  const withKey = (path: string) => config({ request: { path, headers: { 'X-Api-Key': '{secret.token}' } } });

  it('refuses a request path that resolves to another origin, sending nothing there', async () => {
    const home = await pms(() => ({ body: { items: [1] } }));
    const elsewhere = await collector();
    try {
      const port = new URL(elsewhere.url).port;
      for (const path of [
        `/http://127.0.0.1:${port}/steal`,
        `///127.0.0.1:${port}/steal`,
        `/\\\\127.0.0.1:${port}/x`,
      ]) {
        const error = await collect(plan(withKey(path), home.url)).catch((e: unknown) => e);
        expect(error, path).toBeInstanceOf(PMSConnectionError);
        expect((error as PMSConnectionError).reason, path).toMatch(
          /^the config's request path leads to http:\/\/127\.0\.0\.1:\d+, outside the connection's base_url/,
        );
      }
      expect(elsewhere.requests).toHaveLength(0);
      expect(home.requests).toHaveLength(0);
    } finally {
      await home.close();
      await elsewhere.close();
    }
  });

  it('refuses a redirect to another origin, and follows one within the origin', async () => {
    const elsewhere = await collector();
    const home = await pms((_request, url) =>
      url.pathname === '/away'
        ? { status: 307, headers: { location: `${elsewhere.url}/catch` }, body: '' }
        : url.pathname === '/old'
          ? { status: 301, headers: { location: '/new' }, body: '' }
          : { body: { items: [{ at: url.pathname }] } },
    );
    try {
      const error = await collect(plan(withKey('/away'), home.url)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PMSConnectionError);
      expect((error as PMSConnectionError).reason).toMatch(
        /\/away redirected to another origin; the connection's secrets are sent only to its base_url's origin/,
      );
      expect(elsewhere.requests).toHaveLength(0);
      expect(await collect(plan(withKey('/old'), home.url))).toEqual([[{ at: '/new' }]]);
      expect(home.requests.map((u) => u.pathname)).toEqual(['/away', '/old', '/new']);
    } finally {
      await home.close();
      await elsewhere.close();
    }
  });

  it('stops a redirect loop within the origin', async () => {
    const home = await pms((_request, url) => ({
      status: 302,
      headers: { location: `/loop${Number(url.pathname.slice(5) || 0) + 1}` },
      body: '',
    }));
    try {
      const error = await collect(plan(withKey('/loop0'), home.url)).catch((e: unknown) => e);
      expect((error as PMSConnectionError).reason).toMatch(/redirected more than 5 times$/);
      expect(home.requests).toHaveLength(6);
    } finally {
      await home.close();
    }
  });
});
