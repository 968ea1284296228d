import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { AppConfig } from './config.ts';

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
  };
  return (destination ? pino(options, destination) : pino(options)) as FastifyBaseLogger;
}
