import net from 'node:net';
import { connect, type JsMsg, type NatsConnection } from 'nats';
import { expect } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { appendEvent, type CloudEvent, type EventType } from '../../src/modules/events/outbox.ts';
import { type ServerProcess, startServerProcess } from './server-process.ts';

export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'a condition'}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}

/** True when something accepts TCP connections at the URL's host and port. */
export function reachable(url: string, timeoutMs = 500): Promise<boolean> {
  const parsed = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: parsed.hostname, port: Number(parsed.port || 4222) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Commits one event per call in its own transaction, through the real appendEvent. */
export function commitEvent(
  db: Db,
  type: EventType,
  propertyId: string | null,
  data: Record<string, unknown> = {},
): Promise<CloudEvent> {
  return db.transaction().execute((tx) => appendEvent(tx, type, propertyId, data));
}

export interface StreamMessage {
  subject: string;
  msgId: string | undefined;
  seq: number;
  event: CloudEvent;
}

function toStreamMessage(message: JsMsg): StreamMessage {
  return {
    subject: message.subject,
    msgId: message.headers?.get('Nats-Msg-Id') || undefined,
    seq: message.seq,
    event: message.json<CloudEvent>(),
  };
}

/** Reads a whole stream from its first message, in stream order. */
export async function readStream(nc: NatsConnection, stream: string): Promise<StreamMessage[]> {
  const manager = await nc.jetstreamManager();
  const info = await manager.streams.info(stream);
  const total = info.state.messages;
  const consumer = await nc.jetstream().consumers.get(stream);
  const messages: StreamMessage[] = [];
  while (messages.length < total) {
    const batch = await consumer.fetch({
      max_messages: Math.min(1000, total - messages.length),
      expires: 2000,
    });
    let got = 0;
    for await (const message of batch) {
      messages.push(toStreamMessage(message));
      got++;
    }
    if (got === 0) break;
  }
  return messages;
}

/** The number of messages a stream holds (0 when it does not exist yet). */
export async function streamCount(nc: NatsConnection, stream: string): Promise<number> {
  const manager = await nc.jetstreamManager();
  try {
    return (await manager.streams.info(stream)).state.messages;
  } catch {
    return 0;
  }
}

export async function deleteStream(url: string, stream: string): Promise<void> {
  const nc = await connect({ servers: url, timeout: 2000 }).catch(() => undefined);
  if (!nc) return;
  try {
    const manager = await nc.jetstreamManager();
    await manager.streams.delete(stream).catch(() => {});
  } finally {
    await nc.close();
  }
}

/** A unique stream name and subject prefix, so test files never read each other's events. */
export function isolatedStream(label: string): { stream: string; prefix: string } {
  const id = `${label}${process.pid}x${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  return { stream: `PMS_T_${id}`, prefix: `t${id}.` };
}

export interface ReceivedHook {
  headers: Record<string, string>;
  body: string;
  status: number;
}

/** A webhook endpoint on 127.0.0.1 that records every request and answers `status` (changeable). */
export async function startHookServer(initialStatus = 200) {
  const { createServer } = await import('node:http');
  const received: ReceivedHook[] = [];
  const state = { status: initialStatus };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = state.status;
      received.push({
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
        body: Buffer.concat(chunks).toString('utf8'),
        status,
      });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'endpoint down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    state,
    /** Successful deliveries, by event id, in arrival order. */
    acceptedIds: () => received.filter((r) => r.status < 300).map((r) => r.headers['webhook-id']),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A burst of outbox events for the relay tests: `writers` connections at once commit transactions
 * of 1–3 events each (a booking's shape), spread over the hotels, until `until` events exist.
 */
export function eventBurst(db: Db, hotelIds: string[], writers: number) {
  let written = 0;
  return {
    written: () => written,
    async write(until: number) {
      const writer = async (w: number) => {
        for (let i = 0; written < until; i++) {
          const size = Math.min(1 + ((w + i) % 3), until - written);
          written += size;
          const hotel = hotelIds[(w * 7 + i) % hotelIds.length]!;
          await db.transaction().execute(async (tx) => {
            for (let k = 0; k < size; k++) {
              await appendEvent(tx, k === 0 ? 'pms.reservation.created' : 'pms.inventory.updated', hotel, {
                w,
                i,
                k,
              });
            }
          });
        }
      };
      await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
    },
  };
}

/**
 * The stream holds every committed event (by message id, duplicates allowed), and per property the
 * first appearance of each event follows the committed order.
 */
export async function expectStreamMatchesOutbox(
  db: Db,
  nc: NatsConnection,
  stream: string,
  hotelIds: string[],
  total: number,
) {
  const committed = await db
    .selectFrom('outbox_event')
    .select(['id', 'property_id'])
    .orderBy('position')
    .execute();
  expect(committed).toHaveLength(total);
  const messages = await readStream(nc, stream);
  const ids = messages.map((m) => m.msgId!);
  expect(new Set(ids)).toEqual(new Set(committed.map((e) => e.id)));
  for (const message of messages) expect(message.event.id).toBe(message.msgId);
  for (const hotel of hotelIds) {
    const expected = committed.filter((e) => e.property_id === hotel).map((e) => e.id);
    const firstSeen = [...new Set(messages.filter((m) => m.event.subject === hotel).map((m) => m.msgId!))];
    expect(firstSeen).toEqual(expected);
  }
}

/**
 * A `pms start --role worker` process relaying to NATS `stream` under `prefix`, with short relay
 * leases (3 s) and polls (200 ms) so a test sees a takeover in seconds.
 */
export function startRelayWorker(options: {
  databaseUrl: string;
  stream: string;
  prefix: string;
  dataDir: string;
  env?: Record<string, string>;
}): Promise<ServerProcess> {
  return startServerProcess({
    role: 'worker',
    env: {
      DATABASE_URL: options.databaseUrl,
      NATS_URL,
      NATS_STREAM: options.stream,
      NATS_SUBJECT_PREFIX: options.prefix,
      PMS_RELAY_LEASE_MS: '3000',
      PMS_RELAY_POLL_MS: '200',
      PMS_DATA_DIR: options.dataDir,
      ...options.env,
    },
  });
}
