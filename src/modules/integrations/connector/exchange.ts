import type { EgressPolicy } from '../../../app/egress.ts';
import { PMSConnectionError } from '../integrations.errors.ts';
import type { Redactor } from './placeholders.ts';
import type { RequestBudget } from './rate-budget.ts';
import { type RetryPolicy, sendRequest } from './request.ts';
import { type ResponseReader, ResponseShapeError } from './response.ts';

/** One request as the connector sends it, every placeholder already filled. */
export interface Exchange {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface ExchangeResult {
  status: number;
  headers: Headers | import('undici').Headers;
  /** The answer read by the config's reader: JSON, XML as JSON, or null for an empty answer. */
  document: unknown;
  url: string;
  attempts: number;
}

export interface SenderOptions {
  retry: RetryPolicy;
  budget: RequestBudget;
  signal?: AbortSignal;
  maxResponseBytes?: number;
  redact: Redactor;
  onRetry?: (info: { attempt: number; waitMs: number; reason: string; detail?: string }) => void;
  allowedNetworks?: EgressPolicy;
}

export type Sender = (exchange: Exchange, reader: ResponseReader) => Promise<ExchangeResult>;

/**
 * Sends a request with the run's retries, budget and limits, and reads its answer: parsed by the
 * config's format, and failed with the PMS's own message when the config's failure predicates
 * say a 2xx answer (or, quoted in the error, any other answer) is a failure.
 */
export function createSender(options: SenderOptions): Sender {
  const { redact } = options;
  return async (exchange, reader) => {
    const accept = reader.format === 'xml' ? 'text/xml, application/xml' : 'application/json';
    const hasAccept = Object.keys(exchange.headers).some((key) => key.toLowerCase() === 'accept');
    const response = await sendRequest({
      url: exchange.url,
      method: exchange.method,
      headers: hasAccept ? exchange.headers : { accept, ...exchange.headers },
      body: exchange.body,
      timeoutMs: exchange.timeoutMs,
      retry: options.retry,
      budget: options.budget,
      signal: options.signal,
      maxResponseBytes: options.maxResponseBytes ?? reader.maxBytes,
      redact,
      onRetry: options.onRetry,
      allowedNetworks: options.allowedNetworks,
      describeFailure: async (status, text) => reader.failure(await reader.parse(status, text)),
    });
    const shownUrl = redact(exchange.url);
    let document: unknown;
    try {
      document = await reader.parse(response.status, response.text);
    } catch (error) {
      if (error instanceof ResponseShapeError)
        throw new PMSConnectionError(
          `${shownUrl} answered ${response.status} with ${error.message}`,
          response.status,
        );
      throw error;
    }
    const failure = reader.failure(document);
    if (failure !== undefined) {
      throw new PMSConnectionError(
        `${shownUrl} answered ${response.status}, but the PMS reported a failure: ${redact(failure)}`,
        response.status,
      );
    }
    return {
      status: response.status,
      headers: response.headers,
      document,
      url: exchange.url,
      attempts: response.attempts,
    };
  };
}
