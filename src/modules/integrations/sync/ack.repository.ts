import type { Db, Tx } from '../../../db/database.ts';

export interface PendingAck {
  ack_key: string;
  items: Array<Record<string, string | number | boolean | null>>;
  scope: string;
  attempts: number;
}

/** Records a page's acknowledgements in the transaction that commits its records: they survive a crash. */
export async function insertPendingAcks(
  tx: Tx,
  connectionId: string,
  scope: string,
  acks: Array<{ key: string; items: PendingAck['items'] }>,
): Promise<void> {
  if (acks.length === 0) return;
  await tx
    .insertInto('pms_pending_ack')
    .values(
      acks.map((ack) => ({
        connection_id: connectionId,
        ack_key: ack.key,
        items: JSON.stringify(ack.items),
        scope,
      })),
    )
    // A record delivered again while its acknowledgement is pending keeps one row.
    .onConflict((oc) => oc.columns(['connection_id', 'ack_key']).doNothing())
    .execute();
}

export function pendingAcks(db: Db, connectionId: string, limit: number): Promise<PendingAck[]> {
  return db
    .selectFrom('pms_pending_ack')
    .select(['ack_key', 'items', 'scope', 'attempts'])
    .where('connection_id', '=', connectionId)
    .orderBy('created_at')
    .orderBy('ack_key')
    .limit(limit)
    .execute();
}

export async function deletePendingAcks(db: Db, connectionId: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await db
    .deleteFrom('pms_pending_ack')
    .where('connection_id', '=', connectionId)
    .where('ack_key', 'in', keys)
    .execute();
}

export async function failPendingAck(
  db: Db,
  connectionId: string,
  key: string,
  error: string,
): Promise<void> {
  await db
    .updateTable('pms_pending_ack')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: error }))
    .where('connection_id', '=', connectionId)
    .where('ack_key', '=', key)
    .execute();
}

export async function countPendingAcks(db: Db | Tx, connectionId: string): Promise<number> {
  const row = await db
    .selectFrom('pms_pending_ack')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('connection_id', '=', connectionId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
