import type { FastifyBaseLogger } from 'fastify';
import {
  connect,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  nanos,
  StorageType,
} from 'nats';
import type { SequencedEvent } from '../relay/lane.repository.ts';
import { type EventSink, exponentialBackoff } from './sink.ts';

export interface NatsSinkOptions {
  url: string;
  stream: string;
  /** Empty in production: the subject is the event type. */
  subjectPrefix: string;
  publishTimeoutMs: number;
  logger: FastifyBaseLogger;
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
}

/** The stream's deduplication window: a re-published event id inside it is stored once. */
export const NATS_DUPLICATE_WINDOW_MS = 10 * 60_000;

export function natsSubject(prefix: string, type: string): string {
  return `${prefix}${type}`;
}

/**
 * NATS JetStream: subject = event type, body = the CloudEvents envelope, `Nats-Msg-Id` = event id
 * so JetStream drops a re-publish (after a crash or a lost ack) inside the duplicate window.
 */
export function createNatsSink(options: NatsSinkOptions): EventSink {
  const encoder = new TextEncoder();
  let connection: NatsConnection | undefined;
  let jetstream: JetStreamClient | undefined;
  let streamReady = false;
  let connecting: Promise<JetStreamClient> | undefined;

  const ensureStream = async (manager: JetStreamManager) => {
    try {
      await manager.streams.info(options.stream);
    } catch (error) {
      if ((error as Error).message !== 'stream not found') throw error;
      await manager.streams.add({
        name: options.stream,
        subjects: [natsSubject(options.subjectPrefix, 'pms.>')],
        storage: StorageType.File,
        duplicate_window: nanos(NATS_DUPLICATE_WINDOW_MS),
      });
      options.logger.info({ stream: options.stream }, 'created the NATS JetStream stream');
    }
    streamReady = true;
  };

  const ready = async (): Promise<JetStreamClient> => {
    if (connection && !connection.isClosed() && jetstream && streamReady) return jetstream;
    connecting ??= (async () => {
      if (!connection || connection.isClosed()) {
        // The client buffers and reconnects by itself once it has connected the first time.
        connection = await connect({
          servers: options.url,
          name: 'pms-relay',
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          timeout: options.publishTimeoutMs,
        });
        jetstream = connection.jetstream();
        streamReady = false;
      }
      if (!streamReady)
        await ensureStream(await connection.jetstreamManager({ timeout: options.publishTimeoutMs }));
      return jetstream!;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  const publish = async (event: SequencedEvent) => {
    const client = await ready();
    try {
      await client.publish(
        natsSubject(options.subjectPrefix, event.type),
        encoder.encode(JSON.stringify(event.envelope)),
        { msgID: event.id, timeout: options.publishTimeoutMs },
      );
    } catch (error) {
      // The stream may have been deleted or the server replaced: check it again next time.
      streamReady = false;
      throw error;
    }
  };

  return {
    name: 'nats',
    batchSize: 500,
    concurrency: 64,
    retryDelayMs: exponentialBackoff(options.retryBaseMs ?? 500, options.maxRetryDelayMs ?? 30_000),
    async open() {
      return { send: publish };
    },
    async close() {
      const open = connection;
      connection = undefined;
      if (open && !open.isClosed()) await open.drain().catch(() => open.close());
    },
  };
}
