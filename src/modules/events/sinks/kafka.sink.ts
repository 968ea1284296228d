import type { FastifyBaseLogger } from 'fastify';
import { Kafka, type KafkaConfig, logLevel, type ProducerConfig } from 'kafkajs';
import type { SequencedEvent } from '../relay/lane.repository.ts';
import { type EventSink, exponentialBackoff } from './sink.ts';

/** One Kafka message as the relay produces it (a subset of kafkajs' Message). */
export interface KafkaMessage {
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

export interface KafkaRecord {
  topic: string;
  /** -1 = all in-sync replicas: required by the idempotent producer. */
  acks: -1;
  messages: KafkaMessage[];
}

/** The narrow producer interface the sink needs; kafkajs' Producer satisfies it, a test fake too. */
export interface KafkaProducer {
  connect(): Promise<void>;
  send(record: KafkaRecord): Promise<unknown>;
  disconnect(): Promise<void>;
}

/**
 * Structured CloudEvents over Kafka: topic = event type, key = property id (so a property's
 * events share a partition and keep their order), `ce_id` header = event id for consumer dedup.
 */
export function kafkaRecord(event: SequencedEvent): KafkaRecord {
  return {
    topic: event.type,
    acks: -1,
    messages: [
      {
        key: event.propertyId,
        value: JSON.stringify(event.envelope),
        headers: {
          ce_id: event.id,
          ce_type: event.type,
          ce_source: event.envelope.source,
          ce_specversion: '1.0',
          'content-type': 'application/cloudevents+json',
        },
      },
    ],
  };
}

export function kafkaClientConfig(
  brokers: string[],
  requestTimeoutMs: number,
  logger: FastifyBaseLogger,
): KafkaConfig {
  return {
    clientId: 'pms-relay',
    brokers,
    connectionTimeout: Math.min(3_000, requestTimeoutMs),
    requestTimeout: requestTimeoutMs,
    // kafkajs' own retries are bounded so a send ends inside the relay's lease; the relay retries on.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        if (level <= logLevel.ERROR) logger.error({ kafka: extra }, message);
        else logger.warn({ kafka: extra }, message);
      },
  };
}

/**
 * Idempotent: the broker drops a batch the producer re-sends after a lost ack, and with one
 * request in flight a retry cannot overtake an earlier batch of the same partition.
 */
export const KAFKA_PRODUCER_CONFIG = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: true,
  retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
} as const satisfies ProducerConfig;

export function createKafkaProducer(
  brokers: string[],
  requestTimeoutMs: number,
  logger: FastifyBaseLogger,
): KafkaProducer {
  return new Kafka(kafkaClientConfig(brokers, requestTimeoutMs, logger)).producer(KAFKA_PRODUCER_CONFIG);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createKafkaSink(options: {
  producer: KafkaProducer;
  sendTimeoutMs: number;
  retryBaseMs?: number;
}): EventSink {
  const { producer } = options;
  let connecting: Promise<void> | undefined;
  const ready = () => {
    connecting ??= producer.connect().catch((error) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };

  return {
    name: 'kafka',
    batchSize: 500,
    concurrency: 16,
    retryDelayMs: exponentialBackoff(options.retryBaseMs ?? 500, 30_000),
    async open() {
      return {
        async send(event) {
          await withTimeout(ready(), options.sendTimeoutMs, 'connecting to Kafka');
          await withTimeout(producer.send(kafkaRecord(event)), options.sendTimeoutMs, 'a Kafka send');
        },
      };
    },
    async close() {
      if (connecting) await producer.disconnect().catch(() => {});
    },
  };
}
