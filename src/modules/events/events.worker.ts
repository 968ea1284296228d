import { resolveSecretsKey } from '../../app/secrets.ts';
import type { WorkerStarter } from '../../app/workers.ts';
import { loadRelaySettings } from './events.config.ts';
import { startRelay } from './relay/relay.ts';
import { registerSink } from './relay/sequencer.repository.ts';
import { createKafkaProducer, createKafkaSink } from './sinks/kafka.sink.ts';
import { createNatsSink } from './sinks/nats.sink.ts';
import type { EventSink } from './sinks/sink.ts';
import { createWebhookSink } from './sinks/webhook.sink.ts';

/** The outbox relay (worker role): webhooks always; NATS and Kafka when configured. */
export const startEventRelay: WorkerStarter = async ({ config, db, logger, databaseUrl }) => {
  const settings = loadRelaySettings();
  const sinks: EventSink[] = [
    createWebhookSink({
      db,
      secretsKey: resolveSecretsKey(config),
      logger,
      retryWindowMs: settings.webhookRetryWindowMs,
      allowedNetworks: config.webhookAllowedNetworks,
      timeoutMs: Math.min(10_000, Math.floor(settings.leaseMs / 3)),
    }),
  ];
  if (config.natsUrl) {
    await registerSink(db, 'nats');
    sinks.push(
      createNatsSink({
        url: config.natsUrl,
        stream: settings.natsStream,
        subjectPrefix: settings.natsSubjectPrefix,
        // A publish must finish well inside the lease, or another worker could take the lane.
        publishTimeoutMs: Math.min(5_000, Math.floor(settings.leaseMs / 3)),
        logger,
      }),
    );
  }
  if (config.kafkaBrokers.length > 0) {
    await registerSink(db, 'kafka');
    const sendTimeoutMs = Math.floor(settings.leaseMs / 3);
    sinks.push(
      createKafkaSink({
        producer: createKafkaProducer(
          config.kafkaBrokers,
          Math.min(5_000, Math.floor(sendTimeoutMs / 5)),
          logger,
        ),
        sendTimeoutMs,
      }),
    );
  }
  const relay = await startRelay({
    db,
    databaseUrl,
    sinks,
    logger,
    leaseMs: settings.leaseMs,
    pollMs: settings.pollMs,
  });
  return () => relay.stop();
};
