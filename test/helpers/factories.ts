import type { FastifyInstance } from 'fastify';
import type { Db } from '../../src/db/database.ts';
import type { UserRole } from '../../src/db/schema.ts';
import * as users from '../../src/modules/auth/auth.repository.ts';
import { hashPassword } from '../../src/modules/auth/password.ts';

let sequence = 0;
export const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(sequence++).toString(36)}`;

const PASSWORD = 'correct-horse-battery';
let cachedHash: Promise<string> | undefined;

/** Inserts a user through the real repository; returns it with its password. */
export async function createUser(
  db: Db,
  options: { role?: UserRole; propertyIds?: string[]; email?: string; isActive?: boolean } = {},
) {
  cachedHash ??= hashPassword(PASSWORD);
  const email = options.email ?? `${unique('user')}@example.test`;
  const id = await db.transaction().execute(async (tx) => {
    const userId = await users.insertUser(tx, {
      email,
      password_hash: await cachedHash!,
      role: options.role ?? 'STAFF',
      full_name: null,
      is_active: options.isActive ?? true,
    });
    await users.setUserProperties(tx, userId, options.propertyIds ?? []);
    return userId;
  });
  return { id, email, password: PASSWORD };
}

/** Logs in through the API and returns the access token. */
export async function login(app: FastifyInstance, email: string, password = PASSWORD): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/auth/token/',
    payload: { email, password },
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return (JSON.parse(response.body) as { access: string }).access;
}

/** Creates a user and logs in: the usual first line of an API test. */
export async function userWithToken(
  app: FastifyInstance,
  db: Db,
  options: { role?: UserRole; propertyIds?: string[] } = {},
) {
  const user = await createUser(db, options);
  return { ...user, token: await login(app, user.email) };
}
