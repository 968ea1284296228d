import { newId } from '../../app/ids.ts';
import type { Tx } from '../../db/database.ts';

/** Every event type the system emits (DESIGN.md §6); the Kafka topic equals the type. */
export const EVENT_TYPES = [
  'pms.inventory.updated',
  'pms.reservation.created',
  'pms.reservation.cancelled',
  'pms.reservation.modified',
  'pms.rates.updated',
  'pms.inventory.overbooked',
  'pms.integration.sync.completed',
  // Beyond DESIGN.md §6: a webhook subscription that kept failing was disabled (docs/events.md).
  'pms.webhook.disabled',
  // Beyond DESIGN.md §6: a room's housekeeping, occupancy or out-of-order state changed (docs/events.md).
  'pms.room.updated',
  // Beyond DESIGN.md §6: a guest profile was edited or merged, or a guest was erased (docs/events.md).
  'pms.guest.updated',
  'pms.guest.erased',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** CloudEvents 1.0 structured JSON envelope. */
export interface CloudEvent<T = Record<string, unknown>> {
  specversion: '1.0';
  id: string;
  type: EventType;
  source: string;
  time: string;
  subject: string | null;
  datacontenttype: 'application/json';
  data: T;
}

export function buildEnvelope<T>(type: EventType, propertyId: string | null, data: T): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: newId(),
    type,
    source: propertyId ? `/pms/properties/${propertyId}` : '/pms',
    time: new Date().toISOString(),
    subject: propertyId,
    datacontenttype: 'application/json',
    data,
  };
}

/**
 * Writes an event to the outbox in the caller's transaction (invariant 3): it exists exactly when
 * the change it describes committed; the relay publishes it afterwards.
 */
export async function appendEvent<T extends Record<string, unknown>>(
  tx: Tx,
  type: EventType,
  propertyId: string | null,
  data: T,
): Promise<CloudEvent<T>> {
  const envelope = buildEnvelope(type, propertyId, data);
  await tx
    .insertInto('outbox_event')
    .values({ id: envelope.id, property_id: propertyId, type, envelope: JSON.stringify(envelope) })
    .execute();
  return envelope;
}
