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

export async function signAccessToken(settings: TokenSettings, user: { id: string; role: UserRole }) {
  return new SignJWT({ role: user.role, token_type: 'access' })
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
) {
  return new SignJWT({ token_type: 'refresh', fam: familyId })
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
    if (payload.token_type !== type || typeof payload.sub !== 'string' || typeof payload.jti !== 'string') {
      throw new UnauthenticatedError(`The token is not a valid ${type} token.`);
    }
    return payload as typeof payload & { sub: string; jti: string; fam?: string };
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
