import type { Db, Tx } from '../../db/database.ts';
import type { SalesState } from './business-date.ts';

const SALES_COLUMNS = [
  'id',
  'code',
  'status',
  'timezone',
  'currency',
  'business_date',
  'default_rate_plan_id',
] as const;

/** The property's sales state without a lock: a first answer; the booking transaction decides. */
export function readSalesState(db: Db | Tx, propertyId: string): Promise<SalesState | undefined> {
  return db.selectFrom('property').select(SALES_COLUMNS).where('id', '=', propertyId).executeTakeFirst();
}

/**
 * The sales state under a share lock, for a transaction that sells: the night audit takes the row
 * exclusively while it rolls the business date and marks no-shows, so a sale of the closing day
 * commits either before the audit looks (and is then marked) or after it (and is then refused).
 * Share locks do not block one another, so bookings still run side by side.
 */
export function lockSalesState(tx: Tx, propertyId: string): Promise<SalesState | undefined> {
  return tx
    .selectFrom('property')
    .select(SALES_COLUMNS)
    .where('id', '=', propertyId)
    .forShare()
    .executeTakeFirst();
}
