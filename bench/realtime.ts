import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { connect } from 'nats';
import { createLogger } from '../src/app/logger.ts';
import { freePort } from '../src/db/embedded.ts';
import { insertUser } from '../src/modules/auth/auth.repository.ts';
import { signAccessToken } from '../src/modules/auth/auth.tokens.ts';
import { appendEvent } from '../src/modules/events/outbox.ts';
import { startRelay } from '../src/modules/events/relay/relay.ts';
import { registerSink } from '../src/modules/events/relay/sequencer.repository.ts';
import { createNatsSink } from '../src/modules/events/sinks/nats.sink.ts';
import { atLeast, atMost, type BenchDatabase, type Figure, freshDatabase, percentile } from './support.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const now = () => performance.timeOrigin + performance.now();

export interface RealtimeBenchOptions {
  clients?: number;
  properties?: number;
  /** Events committed at a steady rate while the clients listen. */
  events?: number;
  eventsPerSecond?: number;
  /** Backlog the relay drains to NATS. */
  relayEvents?: number;
  log?: (line: string) => void;
}

export interface RealtimeBenchReport {
  figures: Figure[];
  clients: number;
  samples: number;
  gaps: number;
  relayEvents: number | null;
}

// The clients run in a worker thread (their own event loop), so receiving does not queue behind
// committing; both threads read the same clock.
const CLIENTS_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const now = () => performance.timeOrigin + performance.now();
const { url, token, properties, clients } = workerData;
const received = new Map();
let gaps = 0;
let closed = 0;
const sockets = [];
function open(i) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let seq = 0;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: 'auth', token }));
      socket.send(JSON.stringify({ type: 'subscribe', property_id: properties[i % properties.length] }));
    };
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === 'snapshot') resolve();
      else if (frame.type === 'event') {
        const at = now();
        if (frame.seq !== seq + 1) gaps++;
        seq = frame.seq;
        let times = received.get(frame.event.id);
        if (!times) received.set(frame.event.id, (times = []));
        times.push(at);
      } else if (frame.type === 'error') reject(new Error(frame.code + ': ' + frame.message));
    };
    socket.onclose = () => { closed++; };
    socket.onerror = () => reject(new Error('socket error'));
    sockets.push(socket);
  });
}
(async () => {
  for (let i = 0; i < clients; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, clients - i) }, (_, k) => open(i + k)));
  }
  parentPort.postMessage({ type: 'ready' });
})().catch((error) => parentPort.postMessage({ type: 'failed', message: String(error) }));
parentPort.on('message', (message) => {
  if (message === 'report') {
    parentPort.postMessage({ type: 'report', received: [...received], gaps, closed });
  } else if (message === 'close') {
    for (const socket of sockets) socket.close();
    setTimeout(() => process.exit(0), 200);
  }
});
`;

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function reachable(url: string): Promise<boolean> {
  const parsed = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: parsed.hostname, port: Number(parsed.port || 4222) });
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `pms start --role realtime` as its own process, as deployed. */
async function startRealtimeNode(databaseUrl: string, dataDir: string) {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/pms.js'), 'start', '--role', 'realtime'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        JWT_SECRET,
        PMS_DATA_DIR: dataDir,
        // Every bench client is one user on one address: lift the per-user and per-address caps.
        REALTIME_MAX_SOCKETS_PER_USER: '100000',
        REALTIME_MAX_SOCKETS_PER_ADDRESS: '0',
        REALTIME_SUBSCRIBES_PER_MINUTE: '100000',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  await waitUntil(
    async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok;
      } catch {
        return false;
      }
    },
    60_000,
    'the realtime node',
  );
  return {
    port,
    pid: child.pid!,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function seedProperties(database: BenchDatabase, count: number): Promise<string[]> {
  const rows = await database.db
    .insertInto('property')
    .values(
      Array.from({ length: count }, (_, i) => ({
        code: `RT${i}-${Date.now().toString(36)}`,
        name: `Hotel ${i}`,
      })),
    )
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

async function measureFanOut(
  database: BenchDatabase,
  options: Required<Omit<RealtimeBenchOptions, 'log' | 'relayEvents'>>,
  log: (line: string) => void,
) {
  const properties = await seedProperties(database, options.properties);
  const userId = await database.db.transaction().execute((tx) =>
    insertUser(tx, {
      email: `bench-${Date.now()}@example.test`,
      password_hash: 'x',
      role: 'SUPER_ADMIN',
      full_name: null,
    }),
  );
  const token = await signAccessToken(
    { key: new TextEncoder().encode(JWT_SECRET), accessTtlSeconds: 3600, refreshTtlSeconds: 3600 },
    { id: userId, role: 'SUPER_ADMIN', tokenVersion: 0 },
  );
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pms-bench-rt-'));
  const node = await startRealtimeNode(database.url, dataDir);
  const worker = new Worker(CLIENTS_SOURCE, {
    eval: true,
    workerData: {
      url: `ws://127.0.0.1:${node.port}/ws/reservations/`,
      token,
      properties,
      clients: options.clients,
    },
  });
  const fromWorker = (type: string) =>
    new Promise<any>((resolve, reject) => {
      const onMessage = (message: any) => {
        if (message.type === type) {
          worker.off('message', onMessage);
          resolve(message);
        } else if (message.type === 'failed') reject(new Error(message.message));
      };
      worker.on('message', onMessage);
    });
  try {
    const rssBefore = rssBytes(node.pid);
    const ready = fromWorker('ready');
    await ready;
    const rssAfter = rssBytes(node.pid);
    log(`  ${options.clients} clients connected and subscribed to ${options.properties} properties`);

    const committedAt = new Map<string, number>();
    const interval = 1000 / options.eventsPerSecond;
    const started = now();
    for (let i = 0; i < options.events; i++) {
      const due = started + i * interval;
      const wait = due - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const propertyId = properties[i % properties.length]!;
      const event = await database.db
        .transaction()
        .execute((tx) =>
          appendEvent(tx, 'pms.reservation.created', propertyId, { reservation_id: `bench-${i}` }),
        );
      // From the moment COMMIT returned: the event is committed from then on.
      committedAt.set(event.id, now());
    }
    const perEvent = options.clients / options.properties;
    const expected = options.events * perEvent;
    let report: any;
    await waitUntil(
      async () => {
        const pending = fromWorker('report');
        worker.postMessage('report');
        report = await pending;
        return (
          report.received.reduce((sum: number, [, times]: [string, number[]]) => sum + times.length, 0) >=
          expected
        );
      },
      30_000,
      'every client to receive every event',
    );
    const latencies: number[] = [];
    for (const [id, times] of report.received as Array<[string, number[]]>) {
      const at = committedAt.get(id);
      if (at !== undefined) for (const time of times) latencies.push(time - at);
    }
    return {
      latencies,
      gaps: report.gaps as number,
      memoryPerConnection: (rssAfter - rssBefore) / options.clients,
    };
  } finally {
    worker.postMessage('close');
    await new Promise((resolve) => worker.once('exit', resolve));
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function measureRelay(database: BenchDatabase, events: number, log: (line: string) => void) {
  const stream = `PMS_BENCH_${Date.now().toString(36)}`;
  const prefix = `bench${Date.now().toString(36)}.`;
  const properties = await seedProperties(database, 50);
  await registerSink(database.db, 'nats');
  for (let done = 0; done < events; done += 500) {
    await database.db.transaction().execute(async (tx) => {
      for (let i = done; i < Math.min(events, done + 500); i++) {
        await appendEvent(tx, 'pms.inventory.updated', properties[i % properties.length]!, { n: i });
      }
    });
  }
  log(`  ${events} events committed; starting the relay`);
  const logger = createLogger({ logLevel: 'warn' });
  const nc = await connect({ servers: NATS_URL });
  const manager = await nc.jetstreamManager();
  const count = async () => {
    try {
      return (await manager.streams.info(stream)).state.messages;
    } catch {
      return 0;
    }
  };
  const started = now();
  const relay = await startRelay({
    db: database.db,
    databaseUrl: database.url,
    sinks: [createNatsSink({ url: NATS_URL, stream, subjectPrefix: prefix, publishTimeoutMs: 5000, logger })],
    logger,
    leaseMs: 30_000,
    pollMs: 1000,
  });
  try {
    await waitUntil(async () => (await count()) >= events, 120_000, 'the relay to drain');
    const seconds = (now() - started) / 1000;
    return events / seconds;
  } finally {
    await relay.stop();
    await manager.streams.delete(stream).catch(() => {});
    await nc.close();
  }
}

export async function runRealtimeBench(options: RealtimeBenchOptions = {}): Promise<RealtimeBenchReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const settings = {
    clients: options.clients ?? 1000,
    properties: options.properties ?? 10,
    events: options.events ?? 200,
    eventsPerSecond: options.eventsPerSecond ?? 20,
  };
  const relayEvents = options.relayEvents ?? 10_000;
  const figures: Figure[] = [];
  log(
    `realtime bench: ${settings.clients} WebSocket clients on a separate realtime node, ` +
      `${settings.events} events at ${settings.eventsPerSecond}/s`,
  );
  const database = await freshDatabase('realtime', { poolSize: 20 });
  try {
    const fanOut = await measureFanOut(database, settings, log);
    const p50 = percentile(fanOut.latencies, 50);
    const p99 = percentile(fanOut.latencies, 99);
    figures.push(
      { bench: 'realtime', metric: 'commit → client latency p50', value: p50, unit: 'ms' },
      {
        bench: 'realtime',
        metric: 'commit → client latency p99',
        value: p99,
        unit: 'ms',
        ...atMost(p99, 50),
      },
      {
        bench: 'realtime',
        metric: 'memory per connection (realtime node RSS)',
        value: fanOut.memoryPerConnection / 1024,
        unit: 'KiB',
      },
    );
    log(`  deliveries ${fanOut.latencies.length}, sequence gaps ${fanOut.gaps}`);

    let throughput: number | null = null;
    if (await reachable(NATS_URL)) {
      throughput = await measureRelay(database, relayEvents, log);
      figures.push({
        bench: 'realtime',
        metric: 'relay throughput to NATS JetStream',
        value: throughput,
        unit: 'events/s',
        ...atLeast(throughput, 5000),
      });
    } else {
      log(`  relay throughput skipped: no NATS server at ${NATS_URL}`);
    }
    for (const figure of figures) {
      const verdict = figure.goal ? `  (goal ${figure.goal}: ${figure.met ? 'met' : 'NOT met'})` : '';
      log(`  ${figure.metric.padEnd(44)} ${figure.value.toFixed(1)} ${figure.unit}${verdict}`);
    }
    return {
      figures,
      clients: settings.clients,
      samples: fanOut.latencies.length,
      gaps: fanOut.gaps,
      relayEvents: throughput === null ? null : relayEvents,
    };
  } finally {
    await database.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runRealtimeBench();
}
