import type { CloudEvent } from '../events/outbox.ts';

/** Messages a client may send; anything else gets an error frame and changes nothing. */
export type ClientMessage =
  | { type: 'auth'; token: string }
  | { type: 'subscribe'; property_id: string; days?: number }
  | { type: 'unsubscribe'; property_id: string }
  | { type: 'ping' };

export type ServerMessage =
  | { type: 'ready'; user_id: string }
  | { type: 'unsubscribed'; property_id: string; reason?: 'ACCESS_REVOKED' }
  | { type: 'subscribed'; property_id: string }
  | { type: 'snapshot'; property_id: string; data: unknown }
  | { type: 'event'; seq: number; event: CloudEvent }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong' };

export class ProtocolError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_SNAPSHOT_DAYS = 366;

function propertyId(message: Record<string, unknown>): string {
  const id = message.property_id;
  if (typeof id !== 'string' || !UUID.test(id)) {
    throw new ProtocolError('VALIDATION_ERROR', 'property_id must be a UUID.');
  }
  return id.toLowerCase();
}

/** Parses one text frame; throws ProtocolError with a stable code for anything not allowed. */
export function parseClientMessage(raw: string): ClientMessage {
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    throw new ProtocolError('VALIDATION_ERROR', 'Messages must be JSON objects.');
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new ProtocolError('VALIDATION_ERROR', 'Messages must be JSON objects.');
  }
  const fields = message as Record<string, unknown>;
  switch (fields.type) {
    case 'auth':
      if (typeof fields.token !== 'string' || fields.token.length === 0 || fields.token.length > 4096) {
        throw new ProtocolError('VALIDATION_ERROR', 'auth needs a token.');
      }
      return { type: 'auth', token: fields.token };
    case 'subscribe': {
      const days = fields.days;
      if (
        days !== undefined &&
        (!Number.isInteger(days) || (days as number) < 1 || (days as number) > MAX_SNAPSHOT_DAYS)
      ) {
        throw new ProtocolError(
          'VALIDATION_ERROR',
          `days must be an integer from 1 to ${MAX_SNAPSHOT_DAYS}.`,
        );
      }
      return {
        type: 'subscribe',
        property_id: propertyId(fields),
        ...(days !== undefined && { days: days as number }),
      };
    }
    case 'unsubscribe':
      return { type: 'unsubscribe', property_id: propertyId(fields) };
    case 'ping':
      return { type: 'ping' };
    default:
      throw new ProtocolError(
        'UNSUPPORTED_MESSAGE',
        'The feed is read-only: send auth, subscribe, unsubscribe or ping.',
      );
  }
}
