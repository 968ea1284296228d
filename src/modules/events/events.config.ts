import { ConfigError, type Env, intSetting as integer } from '../../app/config.ts';

/** Relay settings beyond the shared config (KAFKA_BROKERS, NATS_URL), validated at worker start. */
export interface RelaySettings {
  /** How long a worker owns a claimed lane; a crashed worker's lanes are recovered after it. */
  leaseMs: number;
  /** Polling fallback when no NOTIFY arrives (e.g. the listener is reconnecting). */
  pollMs: number;
  natsStream: string;
  /** Prepended to every NATS subject; empty in production (subject = event type). */
  natsSubjectPrefix: string;
  /** A webhook failing for this long is disabled. */
  webhookRetryWindowMs: number;
  /** Webhook delivery attempts older than this leave the delivery log. */
  webhookLogRetentionMs: number;
}

export function loadRelaySettings(env: Env = process.env): RelaySettings {
  const problems: string[] = [];
  const natsStream = env.NATS_STREAM || 'PMS_EVENTS';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(natsStream)) {
    problems.push(`NATS_STREAM: expected letters, digits, "_" or "-", got "${natsStream}"`);
  }
  const natsSubjectPrefix = env.NATS_SUBJECT_PREFIX ?? '';
  if (!/^([A-Za-z0-9_-]+\.)*$/.test(natsSubjectPrefix)) {
    problems.push(`NATS_SUBJECT_PREFIX: expected tokens each ending with ".", got "${natsSubjectPrefix}"`);
  }
  const settings: RelaySettings = {
    leaseMs: integer(env, 'PMS_RELAY_LEASE_MS', 30_000, 1_000, 600_000, problems),
    pollMs: integer(env, 'PMS_RELAY_POLL_MS', 1_000, 50, 60_000, problems),
    natsStream,
    natsSubjectPrefix,
    webhookRetryWindowMs: integer(env, 'WEBHOOK_RETRY_HOURS', 24, 1, 720, problems) * 3_600_000,
    webhookLogRetentionMs: integer(env, 'WEBHOOK_DELIVERY_LOG_DAYS', 30, 1, 3650, problems) * 86_400_000,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}
