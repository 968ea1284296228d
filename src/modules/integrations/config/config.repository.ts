import type { Db, Tx } from '../../../db/database.ts';
import type { PmsConfigDocument } from './config.types.ts';

export interface ConfigRow {
  id: string;
  pms_type: string;
  version: string;
  description: string | null;
  document: PmsConfigDocument;
  checksum: string;
  origin: 'upload' | 'shipped';
  created_at: Date;
  updated_at: Date;
}

const columns = [
  'id',
  'pms_type',
  'version',
  'description',
  'document',
  'checksum',
  'origin',
  'created_at',
  'updated_at',
] as const;

export function findConfig(db: Db | Tx, pmsType: string, version: string): Promise<ConfigRow | undefined> {
  return db
    .selectFrom('pms_config')
    .select(columns)
    .where('pms_type', '=', pmsType)
    .where('version', '=', version)
    .executeTakeFirst() as unknown as Promise<ConfigRow | undefined>;
}

export function findConfigById(db: Db | Tx, id: string): Promise<ConfigRow | undefined> {
  return db
    .selectFrom('pms_config')
    .select(columns)
    .where('id', '=', id)
    .executeTakeFirst() as unknown as Promise<ConfigRow | undefined>;
}

export function listConfigs(db: Db): Promise<ConfigRow[]> {
  return db
    .selectFrom('pms_config')
    .select(columns)
    .orderBy('pms_type')
    .orderBy('version')
    .execute() as unknown as Promise<ConfigRow[]>;
}

/**
 * Inserts or replaces a config by (pms_type, version). `onlyOrigin` restricts a replacement to
 * rows of that origin (shipped configs never overwrite an uploaded fix).
 */
export async function upsertConfig(
  tx: Tx,
  doc: PmsConfigDocument,
  checksum: string,
  origin: 'upload' | 'shipped',
  createdBy: string | null,
): Promise<{ row: ConfigRow; created: boolean; changed: boolean } | undefined> {
  const before = await findConfig(tx, doc.pms_type, doc.version);
  if (before && origin === 'shipped' && before.origin !== 'shipped') return undefined;
  if (before && before.checksum === checksum) return { row: before, created: false, changed: false };
  const row = (await tx
    .insertInto('pms_config')
    .values({
      pms_type: doc.pms_type,
      version: doc.version,
      description: doc.description ?? null,
      document: JSON.stringify(doc),
      checksum,
      origin,
      created_by: createdBy,
    })
    .onConflict((oc) =>
      oc.columns(['pms_type', 'version']).doUpdateSet((eb) => ({
        description: eb.ref('excluded.description'),
        document: eb.ref('excluded.document'),
        checksum: eb.ref('excluded.checksum'),
        origin: eb.ref('excluded.origin'),
        updated_at: new Date(),
      })),
    )
    .returning(columns)
    .executeTakeFirstOrThrow()) as unknown as ConfigRow;
  return { row, created: before === undefined, changed: true };
}
