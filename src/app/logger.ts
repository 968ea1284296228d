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

/**
 * Query values that cannot be personal data: ids, dates and instants, short numbers (a page, a
 * count, an amount; not a phone number typed as digits), booleans.
 */
const PLAIN_QUERY_VALUE =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?|-?\d{1,6}(?:\.\d{1,6})?|true|false)$/;

/**
 * A request URL fit for a log line: the path, and each query parameter with its value unless the
 * value could be personal (a guest search by name, e-mail or phone): those read `[redacted]`.
 */
export function loggableUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = new URLSearchParams(url.slice(at + 1));
  const shown: string[] = [];
  for (const [name, value] of query) {
    const safeName = /^[\w.-]{1,64}$/.test(name) ? name : '[redacted]';
    shown.push(`${safeName}=${PLAIN_QUERY_VALUE.test(value) ? value : '[redacted]'}`);
  }
  return shown.length > 0 ? `${url.slice(0, at)}?${shown.join('&')}` : url.slice(0, at);
}

/** Fastify's own request fields, with the query values that may be personal left out. */
function serializeRequest(request: {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}) {
  return {
    method: request.method,
    url: loggableUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
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
        '*.secret',
      ],
      censor: '[redacted]',
    },
    serializers: { err: serializeError, req: serializeRequest },
  };
  return (destination ? pino(options, destination) : pino(options)) as FastifyBaseLogger;
}
