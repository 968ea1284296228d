import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Connection secrets at rest: AES-256-GCM over their JSON, stored as iv (12) | tag (16) | data.
 * The property id is the additional authenticated data, so a ciphertext moved to another
 * connection row does not decrypt.
 */
export function sealSecrets(key: Buffer, propertyId: string, secrets: Record<string, string>): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(propertyId));
  const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), data]);
}

export function openSecrets(key: Buffer, propertyId: string, sealed: Buffer | null): Record<string, string> {
  if (!sealed || sealed.length === 0) return {};
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(propertyId));
  decipher.setAuthTag(sealed.subarray(12, 28));
  const text = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
  return JSON.parse(text) as Record<string, string>;
}
