import { sql } from 'kysely';
import type { Db, Tx } from '../../../db/database.ts';

export interface ConnectionRow {
  id: string;
  property_id: string;
  config_id: string;
  pms_type: string;
  version: string;
  base_url: string;
  hotel_external_id: string;
  secrets_ciphertext: Buffer | null;
  secret_names: string[];
  /** Origins the secrets were given for besides base_url's (an auth URL's); null: base_url's only. */
  secret_origins: string[] | null;
  schedule_seconds: number;
  cursor: string | null;
  enabled: boolean;
  /** The hotel's value maps by name (PMS value → this hotel's), for the config's `value_map`. */
  value_maps: Record<string, Record<string, string>>;
  next_run_at: Date;
  last_run_id: string | null;
  last_run_status: string | null;
  last_run_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** created_at with microseconds, as text: the exact keyset of the list. */
  sort_key: string;
}

function withConfig(db: Db | Tx) {
  return db
    .selectFrom('pms_connection as c')
    .innerJoin('pms_config as cfg', 'cfg.id', 'c.config_id')
    .select([
      'c.id',
      'c.property_id',
      'c.config_id',
      'cfg.pms_type',
      'cfg.version',
      'c.base_url',
      'c.hotel_external_id',
      'c.secrets_ciphertext',
      'c.secret_names',
      'c.secret_origins',
      'c.schedule_seconds',
      'c.cursor',
      'c.enabled',
      'c.value_maps',
      'c.next_run_at',
      'c.last_run_id',
      'c.last_run_status',
      'c.last_run_at',
      'c.created_at',
      'c.updated_at',
      sql<string>`to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`.as('sort_key'),
    ]);
}

export function findConnection(db: Db | Tx, propertyId: string): Promise<ConnectionRow | undefined> {
  return withConfig(db).where('c.property_id', '=', propertyId).executeTakeFirst();
}

export function findConnectionById(db: Db | Tx, id: string): Promise<ConnectionRow | undefined> {
  return withConfig(db).where('c.id', '=', id).executeTakeFirst();
}

/** Locks a hotel's connection row: batches of one hotel commit one after the other. */
export async function lockConnection(tx: Tx, id: string): Promise<{ cursor: string | null } | undefined> {
  return tx.selectFrom('pms_connection').select('cursor').where('id', '=', id).forUpdate().executeTakeFirst();
}

export interface ConnectionFilter {
  propertyIds: string[] | null;
  propertyId?: string;
  after?: { sortKey: string; id: string };
  limit: number;
}

export function listConnections(db: Db, filter: ConnectionFilter): Promise<ConnectionRow[]> {
  let query = withConfig(db);
  if (filter.propertyIds !== null) {
    if (filter.propertyIds.length === 0) return Promise.resolve([]);
    query = query.where('c.property_id', 'in', filter.propertyIds);
  }
  if (filter.propertyId) query = query.where('c.property_id', '=', filter.propertyId);
  if (filter.after) {
    const { sortKey, id } = filter.after;
    query = query.where(
      sql<boolean>`(c.created_at, c.id) > (${sortKey}::timestamp AT TIME ZONE 'UTC', ${id}::uuid)`,
    );
  }
  return query
    .orderBy('c.created_at')
    .orderBy('c.id')
    .limit(filter.limit + 1)
    .execute();
}

export interface ConnectionWrite {
  property_id: string;
  config_id: string;
  base_url: string;
  hotel_external_id: string;
  secrets_ciphertext: Buffer | null;
  secret_names: string[];
  secret_origins: string[] | null;
  schedule_seconds: number;
  enabled: boolean;
  cursor: string | null;
  value_maps: Record<string, Record<string, string>>;
}

export async function upsertConnection(tx: Tx, write: ConnectionWrite): Promise<void> {
  await tx
    .insertInto('pms_connection')
    .values({ ...write, value_maps: JSON.stringify(write.value_maps), next_run_at: new Date() })
    .onConflict((oc) =>
      oc.column('property_id').doUpdateSet({
        config_id: write.config_id,
        base_url: write.base_url,
        hotel_external_id: write.hotel_external_id,
        secrets_ciphertext: write.secrets_ciphertext,
        secret_names: write.secret_names,
        secret_origins: write.secret_origins,
        schedule_seconds: write.schedule_seconds,
        enabled: write.enabled,
        cursor: write.cursor,
        value_maps: JSON.stringify(write.value_maps),
        updated_at: new Date(),
      }),
    )
    .execute();
}

/** A connection's value maps, locked: a patch reads, merges and writes them in one transaction. */
export async function lockValueMaps(
  tx: Tx,
  propertyId: string,
): Promise<{ id: string; value_maps: Record<string, Record<string, string>> } | undefined> {
  return tx
    .selectFrom('pms_connection')
    .select(['id', 'value_maps'])
    .where('property_id', '=', propertyId)
    .forUpdate()
    .executeTakeFirst();
}

export async function saveValueMaps(
  tx: Tx,
  id: string,
  maps: Record<string, Record<string, string>>,
): Promise<void> {
  await tx
    .updateTable('pms_connection')
    .set({ value_maps: JSON.stringify(maps), updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

export function propertyExists(db: Db | Tx, propertyId: string): Promise<{ id: string } | undefined> {
  return db.selectFrom('property').select('id').where('id', '=', propertyId).executeTakeFirst();
}
