import { type Selectable, sql } from 'kysely';
import type { Db, Tx } from '../../../db/database.ts';
import type { WebhookDeliveryTable, WebhookSubscriptionTable } from '../../../db/schema.ts';

export type SubscriptionRow = Selectable<WebhookSubscriptionTable>;
/** A logged attempt. `response_body` is never written nor read: see migration 0050. */
export type DeliveryRow = Omit<Selectable<WebhookDeliveryTable>, 'response_body'>;
const DELIVERY_COLUMNS = [
  'id',
  'subscription_id',
  'property_id',
  'event_id',
  'event_type',
  'attempt',
  'trigger',
  'status',
  'response_status',
  'error',
  'duration_ms',
  'created_at',
] as const satisfies ReadonlyArray<keyof DeliveryRow>;

/** The delivery state of a subscription's lane, shown with the subscription. */
export interface LaneState {
  attempts: number | null;
  failing_since: Date | null;
  next_attempt_at: Date | null;
  last_error: string | null;
}

export type SubscriptionView = Omit<SubscriptionRow, 'secret_encrypted'> & LaneState;

const LANE = 'webhook';

function subscriptionsWithLane(db: Db | Tx) {
  return db
    .selectFrom('webhook_subscription as w')
    .leftJoin('event_lane as l', (join) =>
      join.on('l.sink', '=', LANE).onRef('l.lane_key', '=', sql<string>`w.id::text`),
    )
    .select([
      'w.id',
      'w.property_id',
      'w.url',
      'w.description',
      'w.event_types',
      'w.enabled',
      'w.disabled_reason',
      'w.disabled_at',
      'w.created_by',
      'w.created_at',
      'w.updated_at',
      'l.attempts',
      'l.failing_since',
      'l.next_attempt_at',
      'l.last_error',
    ]);
}

export function findSubscription(db: Db | Tx, id: string): Promise<SubscriptionView | undefined> {
  return subscriptionsWithLane(db).where('w.id', '=', id).executeTakeFirst();
}

/** With its encrypted secret, for signing. */
export function findSubscriptionForDelivery(db: Db, id: string): Promise<SubscriptionRow | undefined> {
  return db.selectFrom('webhook_subscription').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listSubscriptions(
  db: Db,
  filter: { propertyIds: string[] | null; after?: { createdAt: string; id: string }; limit: number },
): Promise<SubscriptionView[]> {
  let query = subscriptionsWithLane(db);
  if (filter.propertyIds !== null) {
    query = query.where(
      'w.property_id',
      'in',
      filter.propertyIds.length ? filter.propertyIds : ['00000000-0000-0000-0000-000000000000'],
    );
  }
  if (filter.after) {
    const { createdAt, id } = filter.after;
    query = query.where((eb) =>
      eb.or([
        eb('w.created_at', '>', new Date(createdAt)),
        eb.and([eb('w.created_at', '=', new Date(createdAt)), eb('w.id', '>', id)]),
      ]),
    );
  }
  return query
    .orderBy('w.created_at')
    .orderBy('w.id')
    .limit(filter.limit + 1)
    .execute();
}

export async function insertSubscription(
  tx: Tx,
  values: {
    property_id: string;
    url: string;
    description: string | null;
    event_types: string[];
    secret_encrypted: string;
    created_by: string | null;
  },
): Promise<string> {
  const row = await tx
    .insertInto('webhook_subscription')
    .values(values)
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A new subscription's lane starts at the newest sequenced event: it receives what comes next. */
export async function insertLane(tx: Tx, subscriptionId: string, propertyId: string): Promise<void> {
  await sql`
    INSERT INTO event_lane (sink, lane_key, property_id, delivered_position, head_position)
    SELECT ${LANE}, ${subscriptionId}, ${propertyId}::uuid, last_position, last_position
    FROM event_sequencer WHERE id = 1
  `.execute(tx);
}

export async function updateSubscription(
  tx: Tx,
  id: string,
  changes: Partial<
    Pick<
      SubscriptionRow,
      'url' | 'description' | 'event_types' | 'enabled' | 'disabled_reason' | 'disabled_at'
    >
  > & { secret_encrypted?: string },
): Promise<void> {
  await tx
    .updateTable('webhook_subscription')
    .set({ ...changes, updated_at: sql`now()` })
    .where('id', '=', id)
    .execute();
}

/** Locks a subscription's row for a change that depends on its current URL. */
export function lockSubscription(tx: Tx, id: string): Promise<{ url: string } | undefined> {
  return tx
    .selectFrom('webhook_subscription')
    .select('url')
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

/** Pauses or resumes the lane; resuming retries at once and delivers what queued up meanwhile. */
export async function setLaneActive(tx: Tx, subscriptionId: string, active: boolean): Promise<void> {
  let update = tx
    .updateTable('event_lane')
    .set({ active, updated_at: sql`now()` })
    .where('sink', '=', LANE)
    .where('lane_key', '=', subscriptionId);
  if (active) {
    update = update.set({ attempts: 0, failing_since: null, last_error: null, next_attempt_at: sql`now()` });
  }
  await update.execute();
}

/** Disables a subscription that is still enabled; false when it already was disabled (or is gone). */
export async function disableSubscription(
  tx: Tx,
  id: string,
  reason: string,
): Promise<SubscriptionRow | undefined> {
  return tx
    .updateTable('webhook_subscription')
    .set({ enabled: false, disabled_reason: reason, disabled_at: sql`now()`, updated_at: sql`now()` })
    .where('id', '=', id)
    .where('enabled', '=', true)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteSubscription(tx: Tx, id: string): Promise<void> {
  await tx.deleteFrom('event_lane').where('sink', '=', LANE).where('lane_key', '=', id).execute();
  await tx.deleteFrom('webhook_subscription').where('id', '=', id).execute();
}

export async function insertDelivery(
  db: Db | Tx,
  values: Omit<DeliveryRow, 'id' | 'created_at'>,
): Promise<DeliveryRow> {
  return db
    .insertInto('webhook_delivery')
    .values(values)
    .returning(DELIVERY_COLUMNS)
    .executeTakeFirstOrThrow();
}

export function findDelivery(db: Db, subscriptionId: string, id: string): Promise<DeliveryRow | undefined> {
  return db
    .selectFrom('webhook_delivery')
    .select(DELIVERY_COLUMNS)
    .where('id', '=', id)
    .where('subscription_id', '=', subscriptionId)
    .executeTakeFirst();
}

/** Newest first. */
export function listDeliveries(
  db: Db,
  filter: { subscriptionId: string; before?: { createdAt: string; id: string }; limit: number },
): Promise<DeliveryRow[]> {
  let query = db
    .selectFrom('webhook_delivery')
    .select(DELIVERY_COLUMNS)
    .where('subscription_id', '=', filter.subscriptionId);
  if (filter.before) {
    const { createdAt, id } = filter.before;
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '<', new Date(createdAt)),
        eb.and([eb('created_at', '=', new Date(createdAt)), eb('id', '<', id)]),
      ]),
    );
  }
  return query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute();
}

export async function subscriptionIds(db: Db): Promise<string[]> {
  return (await db.selectFrom('webhook_subscription').select('id').execute()).map((row) => row.id);
}

/**
 * Deletes up to `limit` of a subscription's delivery attempts logged before `before`, oldest first;
 * by subscription, so each batch is a range of its (subscription_id, created_at) index.
 */
export async function deleteDeliveriesBefore(
  db: Db,
  subscriptionId: string,
  before: Date,
  limit: number,
): Promise<number> {
  const result = await sql`
    DELETE FROM webhook_delivery WHERE id IN (
      SELECT id FROM webhook_delivery
      WHERE subscription_id = ${subscriptionId} AND created_at < ${before}
      ORDER BY created_at
      LIMIT ${limit})
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** How many times this event was sent to this subscription already. */
export async function countAttempts(db: Db, subscriptionId: string, eventId: string): Promise<number> {
  const row = await db
    .selectFrom('webhook_delivery')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('subscription_id', '=', subscriptionId)
    .where('event_id', '=', eventId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function findEventEnvelope(db: Db, id: string) {
  return db.selectFrom('outbox_event').select(['id', 'envelope']).where('id', '=', id).executeTakeFirst();
}
