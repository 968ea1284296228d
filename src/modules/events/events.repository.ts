import type { Db } from '../../db/database.ts';
import type { CloudEvent } from './outbox.ts';

export interface EventRef {
  id: string;
  position: number | null;
  property_id: string | null;
}

export function findEvent(db: Db, id: string): Promise<EventRef | undefined> {
  return db
    .selectFrom('outbox_event')
    .select(['id', 'position', 'property_id'])
    .where('id', '=', id)
    .executeTakeFirst() as Promise<EventRef | undefined>;
}

export interface EventFilter {
  afterPosition: number;
  types?: string[];
  propertyId?: string;
  /** Visible properties, or null for every property (and events without one). */
  propertyIds: string[] | null;
  limit: number;
}

/** Sequenced events after a position, in position order (limit + 1 rows, to tell if more follow). */
export async function listEvents(
  db: Db,
  filter: EventFilter,
): Promise<Array<{ id: string; envelope: CloudEvent }>> {
  let query = db
    .selectFrom('outbox_event')
    .select(['id', 'envelope'])
    .where('position', 'is not', null)
    .where('position', '>', filter.afterPosition);
  if (filter.types) query = query.where('type', 'in', filter.types);
  if (filter.propertyId) query = query.where('property_id', '=', filter.propertyId);
  if (filter.propertyIds !== null) {
    query = query.where(
      'property_id',
      'in',
      filter.propertyIds.length ? filter.propertyIds : ['00000000-0000-0000-0000-000000000000'],
    );
  }
  const rows = await query
    .orderBy('position')
    .limit(filter.limit + 1)
    .execute();
  return rows.map((row) => ({ id: row.id, envelope: row.envelope as unknown as CloudEvent }));
}
