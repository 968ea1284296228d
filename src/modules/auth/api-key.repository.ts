import { sql } from 'kysely';
import type { Db, Tx } from '../../db/database.ts';
import type { ApiKeyScope } from '../../db/schema.ts';

export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  all_properties: boolean;
  property_ids: string[];
  secret_hash: Buffer;
  previous_secret_hash: Buffer | null;
  previous_secret_expires_at: Date | null;
  rate_limit_per_minute: number;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  rotated_at: Date | null;
  last_used_at: Date | null;
}

function keyWithProperties(db: Db | Tx) {
  return db.selectFrom('api_key as k').select([
    'k.id',
    'k.name',
    'k.scopes',
    'k.all_properties',
    'k.secret_hash',
    'k.previous_secret_hash',
    'k.previous_secret_expires_at',
    'k.rate_limit_per_minute',
    'k.expires_at',
    'k.revoked_at',
    'k.created_by',
    'k.created_at',
    'k.updated_at',
    'k.rotated_at',
    sql<string[]>`coalesce((SELECT array_agg(p.property_id ORDER BY p.property_id)
        FROM api_key_property p WHERE p.api_key_id = k.id), '{}')`.as('property_ids'),
    // The newest minute's row holds the latest call: one step of the primary key backwards.
    sql<Date | null>`(SELECT u.last_at FROM api_key_usage u WHERE u.api_key_id = k.id
        ORDER BY u.minute DESC LIMIT 1)`.as('last_used_at'),
  ]);
}

export function findApiKey(db: Db | Tx, id: string): Promise<ApiKeyRecord | undefined> {
  return keyWithProperties(db).where('k.id', '=', id).executeTakeFirst();
}

/** What authenticating a key needs, in one round trip. */
export function findApiKeyForAuth(db: Db, id: string) {
  return db
    .selectFrom('api_key as k')
    .select([
      'k.id',
      'k.name',
      'k.scopes',
      'k.all_properties',
      'k.secret_hash',
      'k.previous_secret_hash',
      'k.previous_secret_expires_at',
      'k.rate_limit_per_minute',
      'k.expires_at',
      'k.revoked_at',
      sql<string[]>`coalesce((SELECT array_agg(p.property_id ORDER BY p.property_id)
          FROM api_key_property p WHERE p.api_key_id = k.id), '{}')`.as('property_ids'),
    ])
    .where('k.id', '=', id)
    .executeTakeFirst();
}

export interface ApiKeyFilter {
  /** A PROPERTY_ADMIN's properties: only keys limited to some of them; null: every key. */
  administeredBy: string[] | null;
  propertyId?: string;
  after?: { createdAt: string; id: string };
  limit: number;
}

// Cursors carry milliseconds; PostgreSQL keeps microseconds (as in auth.repository.ts).
const createdMs = sql`date_trunc('milliseconds', k.created_at)`;

export function listApiKeys(db: Db, filter: ApiKeyFilter): Promise<ApiKeyRecord[]> {
  let query = keyWithProperties(db);
  if (filter.administeredBy !== null) {
    const own = filter.administeredBy;
    query = query
      .where('k.all_properties', '=', false)
      .where(sql<boolean>`EXISTS (SELECT 1 FROM api_key_property p WHERE p.api_key_id = k.id)`)
      .where(
        sql<boolean>`NOT EXISTS (SELECT 1 FROM api_key_property p WHERE p.api_key_id = k.id
          AND NOT (p.property_id = ANY(${own}::uuid[])))`,
      );
  }
  if (filter.propertyId) {
    const propertyId = filter.propertyId;
    query = query.where(
      sql<boolean>`(k.all_properties OR EXISTS (SELECT 1 FROM api_key_property p
        WHERE p.api_key_id = k.id AND p.property_id = ${propertyId}))`,
    );
  }
  if (filter.after) {
    const { createdAt, id } = filter.after;
    query = query.where(sql<boolean>`(${createdMs}, k.id) > (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  return query
    .orderBy(createdMs)
    .orderBy('k.id')
    .limit(filter.limit + 1)
    .execute();
}

export async function insertApiKey(
  tx: Tx,
  key: {
    id: string;
    name: string;
    scopes: ApiKeyScope[];
    all_properties: boolean;
    secret_hash: Buffer;
    rate_limit_per_minute: number;
    expires_at: Date | null;
    created_by: string | null;
  },
): Promise<void> {
  await tx.insertInto('api_key').values(key).execute();
}

export async function setApiKeyProperties(tx: Tx, keyId: string, propertyIds: string[]): Promise<void> {
  await tx.deleteFrom('api_key_property').where('api_key_id', '=', keyId).execute();
  if (propertyIds.length > 0) {
    await tx
      .insertInto('api_key_property')
      .values(propertyIds.map((property_id) => ({ api_key_id: keyId, property_id })))
      .execute();
  }
}

export async function updateApiKey(
  tx: Tx,
  id: string,
  changes: Partial<{ name: string; rate_limit_per_minute: number; expires_at: Date | null }>,
): Promise<void> {
  await tx
    .updateTable('api_key')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/** Replaces the key's hash; the previous one stays valid until `previousUntil` (null: not at all). */
export async function rotateApiKey(
  tx: Tx,
  id: string,
  secretHash: Buffer,
  previous: { hash: Buffer; until: Date } | null,
): Promise<void> {
  const now = new Date();
  await tx
    .updateTable('api_key')
    .set({
      secret_hash: secretHash,
      previous_secret_hash: previous?.hash ?? null,
      previous_secret_expires_at: previous?.until ?? null,
      rotated_at: now,
      updated_at: now,
    })
    .where('id', '=', id)
    .execute();
}

/** Revokes the key; false when it was revoked already. */
export async function revokeApiKey(tx: Tx, id: string): Promise<boolean> {
  const now = new Date();
  const result = await tx
    .updateTable('api_key')
    .set({ revoked_at: now, updated_at: now, previous_secret_hash: null, previous_secret_expires_at: null })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Locks the key's row for a change, so two rotations or a rotation and a revocation take turns. */
export function lockApiKey(tx: Tx, id: string) {
  return tx.selectFrom('api_key').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
}

export interface UsageRow {
  keyId: string;
  minute: string;
  requests: number;
  errors: number;
  lastAt: string;
}

/**
 * Adds a process's counts to the table. Rows go in key and minute order, so two processes flushing
 * the same keys lock them in the same order; keys deleted meanwhile are skipped.
 */
export async function addUsage(db: Db, rows: UsageRow[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    INSERT INTO api_key_usage (api_key_id, minute, requests, errors, last_at)
    SELECT u."keyId", u.minute, u.requests, u.errors, u."lastAt"
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS u("keyId" uuid, minute timestamptz, requests int, errors int, "lastAt" timestamptz)
    WHERE EXISTS (SELECT 1 FROM api_key k WHERE k.id = u."keyId")
    ORDER BY u."keyId", u.minute
    ON CONFLICT (api_key_id, minute) DO UPDATE SET
      requests = api_key_usage.requests + excluded.requests,
      errors = api_key_usage.errors + excluded.errors,
      last_at = greatest(api_key_usage.last_at, excluded.last_at)
  `.execute(db);
}

export function listUsage(db: Db, keyId: string, since: Date) {
  return db
    .selectFrom('api_key_usage')
    .select(['minute', 'requests', 'errors'])
    .where('api_key_id', '=', keyId)
    .where('minute', '>=', since)
    .orderBy('minute')
    .execute();
}

/** Deletes up to `limit` usage rows older than `before`, keeping each key's newest (its last use). */
export async function deleteOldUsage(db: Db, before: Date, limit: number): Promise<number> {
  const result = await sql`
    DELETE FROM api_key_usage AS u
    WHERE (u.api_key_id, u.minute) IN (
      SELECT o.api_key_id, o.minute FROM api_key_usage o
      WHERE o.minute < ${before}
        AND o.minute < (SELECT max(n.minute) FROM api_key_usage n WHERE n.api_key_id = o.api_key_id)
      LIMIT ${limit})
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
