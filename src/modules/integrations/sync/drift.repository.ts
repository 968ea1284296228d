import { sql } from 'kysely';
import type { Db, Tx } from '../../../db/database.ts';
import type { FieldCensus, KnownField } from './drift.ts';

export function knownFields(db: Db | Tx, pmsType: string, version: string): Promise<KnownField[]> {
  return db
    .selectFrom('pms_raw_field')
    .select(['path', 'always_present'])
    .where('pms_type', '=', pmsType)
    .where('version', '=', version)
    .execute();
}

/** Folds a run's census into the fingerprint: a path stays always_present only while every record has it. */
export async function saveFingerprint(
  tx: Tx,
  pmsType: string,
  version: string,
  census: FieldCensus,
  runId: string,
): Promise<void> {
  if (census.records === 0) return;
  const paths = [...census.counts.keys()];
  const always = paths.map((p) => census.counts.get(p) === census.records);
  await sql`
    INSERT INTO pms_raw_field (pms_type, version, path, always_present, last_seen_run_id)
    SELECT ${pmsType}, ${version}, p, a, ${runId}::uuid FROM unnest(${paths}::text[], ${always}::boolean[]) AS v(p, a)
    ON CONFLICT (pms_type, version, path) DO UPDATE
    SET always_present = pms_raw_field.always_present AND excluded.always_present,
        last_seen_at = now(), last_seen_run_id = excluded.last_seen_run_id`.execute(tx);
  // Fields no record of this run had are no longer always present (all of them, when the run's
  // records were scalars with no fields at all: `not in ()` is not SQL).
  let absent = tx
    .updateTable('pms_raw_field')
    .set({ always_present: false })
    .where('pms_type', '=', pmsType)
    .where('version', '=', version)
    .where('always_present', '=', true);
  if (paths.length > 0) absent = absent.where('path', 'not in', paths);
  await absent.execute();
}
