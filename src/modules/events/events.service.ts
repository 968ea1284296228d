import { NotFoundError, ValidationError } from '../../app/errors.ts';
import type { Db } from '../../db/database.ts';
import {
  type Actor,
  assertCanSeeProperty,
  canSeeProperty,
  isSuperAdmin,
  propertyScope,
} from '../auth/auth.context.ts';
import * as repo from './events.repository.ts';
import { eventExpired, isBeforeRetention } from './events.retention.ts';
import { type CloudEvent, EVENT_TYPES } from './outbox.ts';
import { sequencePending } from './relay/sequencer.repository.ts';

export interface ReplayQuery {
  after?: string;
  types?: string;
  property_id?: string;
  limit: number;
}

export interface ReplayPage {
  results: CloudEvent[];
  /** Pass as `after` to continue; the `after` given when nothing new was found. */
  last_event_id: string | null;
  has_more: boolean;
}

const SEQUENCE_BATCH = 5000;

function parseTypes(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const types = [
    ...new Set(
      raw
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) {
    throw new ValidationError(`Unknown event type: ${unknown.join(', ')}.`, [
      {
        pointer: '/querystring/types',
        message: `must be a comma-separated list of ${EVENT_TYPES.join(', ')}`,
      },
    ]);
  }
  return types;
}

export function createEventsService(db: Db, options: { retentionDays: number }) {
  /** The position of the event a consumer saw last; it may have committed but not been sequenced yet. */
  async function positionOf(actor: Actor, id: string): Promise<number> {
    let event = await repo.findEvent(db, id);
    if (!event && isBeforeRetention(id, options.retentionDays)) throw eventExpired(id, options.retentionDays);
    const visible =
      event !== undefined &&
      (event.property_id === null ? isSuperAdmin(actor) : canSeeProperty(actor, event.property_id));
    if (!event || !visible) throw new NotFoundError('Event', id);
    // Seen through a WebSocket before the relay numbered it: number it now (waits for a running sequencer).
    while (event?.position === null) {
      const result = await sequencePending(db, { wait: true, batch: SEQUENCE_BATCH });
      event = await repo.findEvent(db, id);
      if (result.sequenced === 0 && event?.position === null) throw new NotFoundError('Event', id);
    }
    return Number(event!.position);
  }

  return {
    /** Committed events after `after`, in the order every sink delivers them. */
    async replay(actor: Actor, query: ReplayQuery): Promise<ReplayPage> {
      const types = parseTypes(query.types);
      if (query.property_id) assertCanSeeProperty(actor, query.property_id);
      // Without a running worker nothing else would number new events; never waits for one that runs.
      await sequencePending(db, { wait: false, batch: SEQUENCE_BATCH });
      const afterPosition = query.after ? await positionOf(actor, query.after) : 0;
      const rows = await repo.listEvents(db, {
        afterPosition,
        types,
        propertyId: query.property_id,
        propertyIds: propertyScope(actor),
        limit: query.limit,
      });
      const hasMore = rows.length > query.limit;
      const page = hasMore ? rows.slice(0, query.limit) : rows;
      return {
        results: page.map((row) => row.envelope),
        last_event_id: page.at(-1)?.id ?? query.after ?? null,
        has_more: hasMore,
      };
    },
  };
}

export type EventsService = ReturnType<typeof createEventsService>;
