import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * An API key reads `pms_key_<id>_<secret>`: a prefix that secret scanners and people recognise, the
 * key's id (its UUID as 32 hex digits) to find its row, and 43 characters drawn uniformly from
 * [0-9A-Za-z] by the CSPRNG, 256 bits. Letters and digits only, so a double click selects it whole.
 */
export const API_KEY_PREFIX = 'pms_key_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_LENGTH = 43;
const KEY = /^pms_key_([0-9a-f]{32})_([0-9A-Za-z]{43})$/;

/** Whether a bearer credential is meant as an API key (a JWT starts with `eyJ`). */
export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_PREFIX);
}

const hexOf = (id: string) => id.replaceAll('-', '');
const uuidOf = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/** The part of a key that is not secret: it names the key in lists and logs. */
export function keyPrefixOf(id: string): string {
  return `${API_KEY_PREFIX}${hexOf(id)}`;
}

export function generateApiKey(id: string): string {
  let secret = '';
  for (let i = 0; i < SECRET_LENGTH; i++) secret += ALPHABET[randomInt(ALPHABET.length)];
  return `${keyPrefixOf(id)}_${secret}`;
}

/** The key's id, or undefined when the text is not a well-formed key (nothing is looked up then). */
export function apiKeyId(key: string): string | undefined {
  const match = KEY.exec(key);
  return match ? uuidOf(match[1]!) : undefined;
}

/**
 * What is stored of a key: its SHA-256. A key carries 256 random bits, so its hash cannot be reversed
 * or searched; a slow password hash (argon2) would only cost every request milliseconds of CPU.
 */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export function hashMatches(hash: Buffer, stored: Buffer | null): boolean {
  return stored !== null && stored.length === hash.length && timingSafeEqual(hash, stored);
}
