import { sql } from 'kysely';
import type { Db, Tx } from '../../db/database.ts';
import type { UserRole } from '../../db/schema.ts';

export interface UserRecord {
  id: string;
  email: string;
  role: UserRole;
  full_name: string | null;
  is_active: boolean;
  password_hash: string;
  token_version: number;
  last_login_at: Date | null;
  created_at: Date;
  updated_at: Date;
  property_ids: string[];
}

function userWithProperties(db: Db | Tx) {
  return db.selectFrom('app_user as u').select([
    'u.id',
    'u.email',
    'u.role',
    'u.full_name',
    'u.is_active',
    'u.password_hash',
    'u.token_version',
    'u.last_login_at',
    'u.created_at',
    'u.updated_at',
    sql<string[]>`coalesce((SELECT array_agg(up.property_id ORDER BY up.property_id)
        FROM user_property up WHERE up.user_id = u.id), '{}')`.as('property_ids'),
  ]);
}

export function findUserByEmail(db: Db | Tx, email: string): Promise<UserRecord | undefined> {
  return userWithProperties(db).where(sql`lower(u.email)`, '=', email.toLowerCase()).executeTakeFirst();
}

export function findUserById(db: Db | Tx, id: string): Promise<UserRecord | undefined> {
  return userWithProperties(db).where('u.id', '=', id).executeTakeFirst();
}

export interface ActorRecord {
  id: string;
  email: string;
  role: UserRole;
  is_active: boolean;
  token_version: number;
  property_ids: string[];
  /** Whether the sign-in (refresh-token family) still has a token that was not revoked; null when none was asked. */
  session_live: boolean | null;
}

/** What authenticating an access token needs, in one round trip: the user and whether its sign-in still stands. */
export function findActorState(
  db: Db | Tx,
  id: string,
  sessionId: string | undefined,
): Promise<ActorRecord | undefined> {
  return db
    .selectFrom('app_user as u')
    .select([
      'u.id',
      'u.email',
      'u.role',
      'u.is_active',
      'u.token_version',
      sql<string[]>`coalesce((SELECT array_agg(up.property_id ORDER BY up.property_id)
        FROM user_property up WHERE up.user_id = u.id), '{}')`.as('property_ids'),
      // A rotated token is used, not revoked: a family stands while any of its tokens is unrevoked.
      (sessionId === undefined
        ? sql<boolean | null>`null`
        : sql<boolean | null>`EXISTS (SELECT 1 FROM refresh_token rt
            WHERE rt.family_id = ${sessionId} AND rt.user_id = u.id AND rt.revoked_at IS NULL)`
      ).as('session_live'),
    ])
    .where('u.id', '=', id)
    .executeTakeFirst();
}

export interface UserFilter {
  /** Only users assigned to one of these properties (null: no property filter). */
  propertyIds: string[] | null;
  roles?: UserRole[];
  search?: string;
  after?: { createdAt: string; id: string };
  limit: number;
}

// The cursor carries a JavaScript Date (milliseconds); PostgreSQL keeps microseconds, so pages are
// ordered and compared at millisecond precision or a row could repeat on the next page.
const createdMs = sql`date_trunc('milliseconds', u.created_at)`;

export function listUsers(db: Db, filter: UserFilter): Promise<UserRecord[]> {
  let query = userWithProperties(db);
  if (filter.propertyIds !== null) {
    const ids = filter.propertyIds;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('user_property as up')
          .select('up.user_id')
          .whereRef('up.user_id', '=', 'u.id')
          .where('up.property_id', 'in', ids.length > 0 ? ids : ['00000000-0000-0000-0000-000000000000']),
      ),
    );
  }
  if (filter.roles) query = query.where('u.role', 'in', filter.roles);
  if (filter.search) {
    const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([eb('u.email', 'ilike', pattern), eb('u.full_name', 'ilike', pattern)]),
    );
  }
  if (filter.after) {
    const { createdAt, id } = filter.after;
    query = query.where(sql<boolean>`(${createdMs}, u.id) > (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  return query
    .orderBy(createdMs)
    .orderBy('u.id')
    .limit(filter.limit + 1)
    .execute();
}

export async function insertUser(
  tx: Tx,
  user: {
    email: string;
    password_hash: string;
    role: UserRole;
    full_name: string | null;
    is_active?: boolean;
  },
): Promise<string> {
  const row = await tx.insertInto('app_user').values(user).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function updateUser(
  tx: Tx,
  id: string,
  changes: Partial<{
    email: string;
    password_hash: string;
    role: UserRole;
    full_name: string | null;
    is_active: boolean;
  }>,
): Promise<void> {
  await tx
    .updateTable('app_user')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

export async function setUserProperties(tx: Tx, userId: string, propertyIds: string[]): Promise<void> {
  await tx.deleteFrom('user_property').where('user_id', '=', userId).execute();
  if (propertyIds.length > 0) {
    await tx
      .insertInto('user_property')
      .values(propertyIds.map((property_id) => ({ user_id: userId, property_id })))
      .execute();
  }
}

export async function deleteUser(tx: Tx, id: string): Promise<void> {
  await tx.deleteFrom('app_user').where('id', '=', id).execute();
}

export async function countExistingProperties(db: Db | Tx, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const row = await db
    .selectFrom('property')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('id', 'in', ids)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function recordLogin(db: Db, id: string): Promise<void> {
  await db.updateTable('app_user').set({ last_login_at: new Date() }).where('id', '=', id).execute();
}

export async function insertRefreshToken(
  db: Db | Tx,
  token: { id: string; user_id: string; family_id: string; expires_at: Date },
): Promise<void> {
  await db.insertInto('refresh_token').values(token).execute();
}

/** Revokes one sign-in (its refresh-token family) of a user; true when it had a token left to revoke. */
export async function revokeUserSession(db: Db | Tx, userId: string, familyId: string): Promise<boolean> {
  const result = await db
    .updateTable('refresh_token')
    .set({ revoked_at: new Date() })
    .where('family_id', '=', familyId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Marks a refresh token used, atomically: of two concurrent uses only one gets the row back. */
export function consumeRefreshToken(tx: Tx, id: string) {
  return tx
    .updateTable('refresh_token')
    .set({ used_at: new Date() })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date())
    .returning(['id', 'user_id', 'family_id'])
    .executeTakeFirst();
}

/** Deletes up to `limit` refresh tokens that expired before `before`; returns how many. */
export async function deleteExpiredRefreshTokens(db: Db, before: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('refresh_token')
    .where('id', 'in', (eb) =>
      eb.selectFrom('refresh_token').select('id').where('expires_at', '<', before).limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function revokeRefreshFamily(db: Db | Tx, familyId: string): Promise<void> {
  await db
    .updateTable('refresh_token')
    .set({ revoked_at: new Date() })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function revokeUserTokens(db: Db | Tx, userId: string): Promise<void> {
  await db
    .updateTable('refresh_token')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
}
