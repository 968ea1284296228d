import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { AppConfig } from './config.ts';

/**
 * Errors as pino writes them, without the driver's connection: pg-pool and pg-boss attach the pg
 * `Client` to the errors they emit, and logging it wrote 3.7 KB of socket and type-parser state per
 * line on a lost connection (its password is not enumerable, so it never showed).
 */
function serializeError(error: Error): pino.SerializedError {
  const serialized = pino.stdSerializers.err(error);
  delete serialized.client;
  return serialized;
}

/** pino, with every credential-bearing field redacted wherever it appears. */
export function createLogger(
  config: Pick<AppConfig, 'logLevel'>,
  destination?: pino.DestinationStream,
): FastifyBaseLogger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.password_hash',
        '*.secrets',
        '*.refresh',
        '*.access',
        '*.token',
      ],
      censor: '[redacted]',
    },
    serializers: { err: serializeError },
  };
  return (destination ? pino(options, destination) : pino(options)) as FastifyBaseLogger;
}
