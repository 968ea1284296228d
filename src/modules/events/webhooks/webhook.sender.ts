import { Webhook } from 'standardwebhooks';
import { fetch } from 'undici';
import {
  DEFAULT_EGRESS_POLICY,
  type EgressPolicy,
  EgressRefusedError,
  egressDispatcher,
  unreachableNameMessage,
} from '../../../app/egress.ts';
import type { CloudEvent } from '../outbox.ts';

export interface WebhookAttempt {
  ok: boolean;
  responseStatus: number | null;
  /** What the delivery log shows: the HTTP status, a refused target, or UNDELIVERABLE. */
  error: string | null;
  /** Why it failed in full (ECONNREFUSED, a TLS alert, a parse error…): for server logs only. */
  detail: string | null;
  durationMs: number;
}

/**
 * Every failure below HTTP gets this one message: a delivery log that told a refused connection
 * from a timeout, a TLS error or a non-HTTP answer would map the ports of the target's network.
 */
export const UNDELIVERABLE =
  'Could not deliver to the target: no HTTP answer (the connection failed, timed out or did not speak HTTP).';

/** The Standard Webhooks headers for one message; `webhook-id` is the event id, the same on every retry. */
export function signedHeaders(secret: string, eventId: string, body: string, at = new Date()) {
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(eventId, at, body),
  };
}

/** The delivery log's message for a request that got no HTTP answer, and the full cause. */
function failureOf(error: unknown, url: string, timeoutMs: number): { error: string; detail: string } {
  const cause = (error as { cause?: Error & { code?: string; syscall?: string } }).cause;
  if ((error as Error).name === 'TimeoutError')
    return { error: UNDELIVERABLE, detail: `no answer within ${timeoutMs} ms` };
  if (cause instanceof EgressRefusedError)
    return { error: cause.message, detail: `${cause.host} is ${cause.address}, which the policy refuses` };
  const detail = [cause?.code, cause?.message ?? (error as Error).message].filter(Boolean).join(': ');
  // A name that does not resolve is the commonest mistake in a URL; saying so maps no port.
  if (cause?.syscall === 'getaddrinfo')
    return { error: unreachableNameMessage(new URL(url).hostname), detail };
  return { error: UNDELIVERABLE, detail };
}

/**
 * POSTs one event, signed per Standard Webhooks. Any 2xx is success; redirects are not followed
 * (the subscription's URL is the one that was registered). The connection goes only to addresses
 * `allowedNetworks` allows, checked on the addresses it actually connects to. The answer's body is
 * never read: a delivery log that kept it would let whoever sets the URL read any service the server
 * can reach.
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
    await response.body?.cancel().catch(() => {});
    const ok = response.status >= 200 && response.status < 300;
    const error = ok ? null : `The endpoint answered HTTP ${response.status}.`;
    return { ok, responseStatus: response.status, error, detail: null, durationMs: elapsed() };
  } catch (error) {
    const failure = failureOf(error, input.url, input.timeoutMs);
    return { ok: false, responseStatus: null, ...failure, durationMs: elapsed() };
  }
}
