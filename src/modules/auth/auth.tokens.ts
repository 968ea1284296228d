import type { KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { UnauthenticatedError } from '../../app/errors.ts';
import type { UserRole } from '../../db/schema.ts';

export interface TokenSettings {
  /** A KeyObject is imported once; raw bytes would be re-imported on every sign and verify. */
  key: KeyObject | Uint8Array;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

const ISSUER = 'pms';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Who an access token is for, and what must still hold for it to be accepted. */
export interface AccessTokenSubject {
  id: string;
  role: UserRole;
  /** The user's token_version when issued (`sv`): a new password or a deactivation bumps it. */
  tokenVersion: number;
  /** The sign-in it belongs to (`sid`): its refresh-token family; revoking that ends the token too. */
  sessionId?: string;
}

export async function signAccessToken(settings: TokenSettings, user: AccessTokenSubject) {
  return new SignJWT({
    role: user.role,
    token_type: 'access',
    sv: user.tokenVersion,
    ...(user.sessionId !== undefined && { sid: user.sessionId }),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(`${settings.accessTtlSeconds}s`)
    .sign(settings.key);
}

export async function signRefreshToken(
  settings: TokenSettings,
  userId: string,
  tokenId: string,
  familyId: string,
  tokenVersion: number,
) {
  return new SignJWT({ token_type: 'refresh', fam: familyId, sv: tokenVersion })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setJti(tokenId)
    .setExpirationTime(`${settings.refreshTtlSeconds}s`)
    .sign(settings.key);
}

async function verifyToken(settings: TokenSettings, token: string, type: 'access' | 'refresh') {
  try {
    const { payload } = await jwtVerify(token, settings.key, { issuer: ISSUER, algorithms: ['HS256'] });
    if (
      payload.token_type !== type ||
      typeof payload.sub !== 'string' ||
      typeof payload.jti !== 'string' ||
      (payload.sv !== undefined && !(Number.isSafeInteger(payload.sv) && (payload.sv as number) >= 0)) ||
      (payload.sid !== undefined && (typeof payload.sid !== 'string' || !UUID.test(payload.sid)))
    ) {
      throw new UnauthenticatedError(`The token is not a valid ${type} token.`);
    }
    return payload as typeof payload & { sub: string; jti: string; fam?: string; sv?: number; sid?: string };
  } catch (error) {
    if (error instanceof UnauthenticatedError) throw error;
    if (error instanceof errors.JWTExpired) throw new UnauthenticatedError('The token has expired.');
    throw new UnauthenticatedError(`The token is not a valid ${type} token.`);
  }
}

export const verifyAccessToken = (settings: TokenSettings, token: string) =>
  verifyToken(settings, token, 'access');
export const verifyRefreshToken = (settings: TokenSettings, token: string) =>
  verifyToken(settings, token, 'refresh');
