import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sleep } from '../connector/rate-budget.ts';
import { DIALECT_CONFIG, DIALECTS, type DialectName, type Reply, routeOf } from './dialects.ts';
import { clockStart, type GeneratorOptions, generateBooking, rng, type SimBooking } from './generator.ts';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  dialects?: DialectName[];
  /** Bookings per hotel (hotels appear on first request, under any external id). */
  bookings?: number;
  /** Bookings of particular hotels, overriding `bookings`. */
  hotels?: Record<string, number>;
  badRatio?: number;
  /** Share of requests answered with a 503 or a 429 (Retry-After: 1). */
  failRate?: number;
  latencyMs?: number;
  seed?: string;
  /** Stays fall around this date (default: today). */
  baseDate?: string;
  credentials?: Partial<Record<DialectName, string>>;
}

/** A fault to inject into the next matching request(s). */
export interface Fault {
  status?: number;
  retryAfter?: string;
  /** Hold the answer this long (a timeout, when longer than the client waits). */
  hangMs?: number;
  /** Answer 200 with this raw body (e.g. not JSON). */
  body?: string;
  hotel?: string;
  times?: number;
}

export interface SimulatorStats {
  requests: number;
  byStatus: Record<number, number>;
}

export interface Simulator {
  url: string;
  port: number;
  credentials: Record<DialectName, string>;
  close(): Promise<void>;
  /** Changes `count` bookings of a hotel (a newer modification time); returns their refs. */
  mutate(hotel: string, count: number): number[];
  injectFaults(...faults: Fault[]): void;
  setFailRate(rate: number): void;
  setLatency(ms: number): void;
  /** Sets up a hotel before its first request: how many bookings, and what share of them is bad. */
  defineHotel(hotel: string, settings: { bookings?: number; badRatio?: number }): void;
  /** The hotel's current bookings, for assertions. */
  bookings(hotel: string): SimBooking[];
  /** Hotels that exist so far (asked for, defined or changed). */
  hotelIds(): string[];
  stats(): SimulatorStats;
  resetStats(): void;
}

const DEFAULT_CREDENTIALS: Record<DialectName, string> = {
  acme: 'acme-demo-token',
  acme3: 'acme-demo-token',
  flatline: 'flatline-demo-key',
  quickstay: 'quickstay-demo-key',
};

class HotelStore {
  generator!: GeneratorOptions;
  /** Current version of each booking, by index. */
  readonly byIndex: SimBooking[] = [];
  /** The same bookings ordered by (modification time, ref), for incremental reads. */
  ordered: SimBooking[] = [];
  mutations = 0;
}

function firstAfter(list: SimBooking[], sinceMs: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.updatedMs <= sinceMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Starts the PMS simulator: a real HTTP server that speaks the dialects of the shipped configs,
 * with deterministic bookings per hotel, changes over time and injectable faults.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const generator: GeneratorOptions = {
    seed: options.seed ?? 'pms-simulator',
    baseDate: options.baseDate ?? new Date().toISOString().slice(0, 10),
    badRatio: options.badRatio ?? 0,
  };
  const enabled = options.dialects ?? DIALECTS;
  const credentials = { ...DEFAULT_CREDENTIALS, ...options.credentials };
  let failRate = options.failRate ?? 0;
  let latencyMs = options.latencyMs ?? 0;
  const failRoll = rng(`${generator.seed}|faults`);
  let failFlip = false;
  const faults: Fault[] = [];
  const hotels = new Map<string, HotelStore>();
  const hotelSettings = new Map<string, { bookings?: number; badRatio?: number }>();
  let clock = clockStart(generator.baseDate);
  let stats: SimulatorStats = { requests: 0, byStatus: {} };

  function hotel(id: string): HotelStore {
    let store = hotels.get(id);
    if (store) return store;
    store = new HotelStore();
    const settings = hotelSettings.get(id);
    const count = settings?.bookings ?? options.hotels?.[id] ?? options.bookings ?? 100;
    store.generator = { ...generator, badRatio: settings?.badRatio ?? generator.badRatio };
    const start = clockStart(generator.baseDate);
    for (let i = 0; i < count; i++) {
      store.byIndex.push(generateBooking(store.generator, id, i, 1, start + (i + 1) * 1000));
    }
    store.ordered = [...store.byIndex];
    clock = Math.max(clock, start + count * 1000);
    hotels.set(id, store);
    return store;
  }

  const source = {
    since(id: string, sinceMs: number) {
      const list = hotel(id).ordered;
      return list.slice(firstAfter(list, sinceMs));
    },
  };

  function mutate(id: string, count: number): number[] {
    const store = hotel(id);
    const total = store.byIndex.length;
    const pickRoll = rng(`${generator.seed}|${id}|mutation|${store.mutations++}`);
    const chosen = new Set<number>();
    while (chosen.size < Math.min(count, total)) chosen.add(Math.floor(pickRoll() * total));
    for (const index of chosen) {
      clock += 1000;
      const current = store.byIndex[index]!;
      store.byIndex[index] = generateBooking(store.generator, id, index, current.version + 1, clock);
    }
    store.ordered = [...store.byIndex].sort((a, b) => a.updatedMs - b.updatedMs || a.ref - b.ref);
    return [...chosen].map((i) => store.byIndex[i]!.ref);
  }

  function takeFault(hotelId: string | null): Fault | undefined {
    const at = faults.findIndex((f) => f.hotel === undefined || f.hotel === hotelId);
    if (at < 0) return undefined;
    const fault = faults[at]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) faults.splice(at, 1);
    return fault;
  }

  async function answer(request: IncomingMessage, url: URL): Promise<Reply> {
    if (url.pathname.startsWith('/_sim/')) return control(request, url);
    const route = routeOf(url.pathname, url, enabled);
    if (!route) return { status: 404, body: { error: 'no such endpoint' } };
    if (!route.hotel) return { status: 400, body: { error: 'hotel is required' } };
    if (latencyMs > 0) await sleep(latencyMs);
    const fault = takeFault(route.hotel);
    if (fault?.hangMs) await sleep(fault.hangMs);
    if (fault?.status) {
      return {
        status: fault.status,
        headers: fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {},
        body: { error: `injected ${fault.status}` },
      };
    }
    if (fault?.body !== undefined) return { status: 200, body: fault.body };
    if (failRate > 0 && failRoll() < failRate) {
      failFlip = !failFlip;
      return failFlip
        ? { status: 503, body: { error: 'temporarily unavailable' } }
        : { status: 429, headers: { 'retry-after': '1' }, body: { error: 'slow down' } };
    }
    if (route.dialect.credential(request.headers, url) !== credentials[route.name]) {
      return { status: 401, body: { error: 'invalid credentials' } };
    }
    return route.dialect.handle(url, route.hotel, source, url.pathname);
  }

  async function readJson(request: IncomingMessage): Promise<unknown> {
    let text = '';
    for await (const chunk of request) text += chunk;
    return text ? JSON.parse(text) : {};
  }

  async function control(request: IncomingMessage, url: URL): Promise<Reply> {
    if (request.method === 'GET' && url.pathname === '/_sim/stats') return { status: 200, body: stats };
    if (request.method !== 'POST') return { status: 405, body: { error: 'POST only' } };
    const body = (await readJson(request)) as Record<string, unknown>;
    switch (url.pathname) {
      case '/_sim/mutate':
        return { status: 200, body: { changed: mutate(String(body.hotel), Number(body.count ?? 1)) } };
      case '/_sim/faults':
        faults.push(...((Array.isArray(body) ? body : [body]) as Fault[]));
        return { status: 200, body: { queued: faults.length } };
      case '/_sim/settings':
        if (typeof body.fail_rate === 'number') failRate = body.fail_rate;
        if (typeof body.latency_ms === 'number') latencyMs = body.latency_ms;
        return { status: 200, body: { fail_rate: failRate, latency_ms: latencyMs } };
      default:
        return { status: 404, body: { error: 'no such control endpoint' } };
    }
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://simulator.local');
    answer(request, url)
      .catch((error: unknown) => ({ status: 500, body: { error: String(error) } }) as Reply)
      .then((reply) => {
        if (!url.pathname.startsWith('/_sim/')) {
          stats.requests += 1;
          stats.byStatus[reply.status] = (stats.byStatus[reply.status] ?? 0) + 1;
        }
        if (response.destroyed) return;
        const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        response.end(text);
      });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';

  return {
    url: `http://${host}:${port}`,
    port,
    credentials,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    mutate,
    injectFaults: (...list) => faults.push(...list),
    setFailRate: (rate) => {
      failRate = rate;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    defineHotel: (id, settings) => {
      hotelSettings.set(id, settings);
      hotels.delete(id);
    },
    bookings: (id) => [...hotel(id).byIndex],
    hotelIds: () => [...hotels.keys()],
    stats: () => structuredClone(stats),
    resetStats: () => {
      stats = { requests: 0, byStatus: {} };
    },
  };
}

export { DIALECT_CONFIG, DIALECTS, type DialectName };
