import type { AppConfig } from './config.ts';
import { persistentSecret } from './config.ts';

/** The JWT signing key: JWT_SECRET (or the seed's SECRET_KEY), else one generated under the data dir. */
export function resolveJwtKey(config: AppConfig): Uint8Array {
  const secret = config.jwtSecret ?? persistentSecret(config.dataDir, 'jwt-secret');
  return new TextEncoder().encode(secret);
}

/** The 256-bit key that encrypts stored connection secrets: PMS_SECRETS_KEY, else one under the data dir. */
export function resolveSecretsKey(config: AppConfig): Buffer {
  return Buffer.from(config.secretsKey ?? persistentSecret(config.dataDir, 'secrets-key'), 'hex');
}
