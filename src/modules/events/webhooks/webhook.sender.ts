import { Webhook } from 'standardwebhooks';
import { fetch, type Response } from 'undici';
import { DEFAULT_EGRESS_POLICY, type EgressPolicy, egressDispatcher } from '../../../app/egress.ts';
import type { CloudEvent } from '../outbox.ts';

export interface WebhookAttempt {
  ok: boolean;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  durationMs: number;
}

const BODY_EXCERPT = 1000;

/** The Standard Webhooks headers for one message; `webhook-id` is the event id, the same on every retry. */
export function signedHeaders(secret: string, eventId: string, body: string, at = new Date()) {
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(eventId, at, body),
  };
}

async function excerpt(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < BODY_EXCERPT) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).toString('utf8').slice(0, BODY_EXCERPT);
}

/**
 * POSTs one event, signed per Standard Webhooks. Any 2xx is success; redirects are not followed
 * (the subscription's URL is the one that was registered). The connection goes only to addresses
 * `allowedNetworks` allows, checked on the addresses it actually connects to.
 */
export async function sendWebhook(input: {
  url: string;
  secret: string;
  event: CloudEvent;
  timeoutMs: number;
  allowedNetworks?: EgressPolicy;
}): Promise<WebhookAttempt> {
  const body = JSON.stringify(input.event);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const allowedNetworks = input.allowedNetworks ?? DEFAULT_EGRESS_POLICY;
  try {
    const response = await fetch(input.url, {
      dispatcher: egressDispatcher(allowedNetworks),
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'pms-webhooks/1.0',
        ...signedHeaders(input.secret, input.event.id, body),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(input.timeoutMs),
    });
    const responseBody = await excerpt(response).catch(() => '');
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      responseStatus: response.status,
      responseBody,
      error: ok ? null : `The endpoint answered HTTP ${response.status}.`,
      durationMs: elapsed(),
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const message =
      (error as Error).name === 'TimeoutError'
        ? `No answer within ${input.timeoutMs} ms.`
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { ok: false, responseStatus: null, responseBody: null, error: message, durationMs: elapsed() };
  }
}
