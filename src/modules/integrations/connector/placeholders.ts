import { PMSConnectionError } from '../integrations.errors.ts';

/** Values a request template may use: hotel.external_id, cursor, secret.NAME, page, offset, limit. */
export type PlaceholderValues = Record<string, string>;

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Fills `{name}` placeholders; a secret the connection does not have fails the run, by name only. */
export function fill(
  template: string,
  values: PlaceholderValues,
  encode: (s: string) => string = (s) => s,
): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) {
      if (name.startsWith('secret.')) {
        throw new PMSConnectionError(`the connection has no secret named "${name.slice(7)}"`);
      }
      throw new PMSConnectionError(`the placeholder {${name}} has no value here`);
    }
    return encode(value);
  });
}

export function placeholderValues(input: {
  hotelExternalId: string;
  cursor: string | null;
  secrets: Record<string, string>;
}): PlaceholderValues {
  const values: PlaceholderValues = { 'hotel.external_id': input.hotelExternalId };
  if (input.cursor !== null) values.cursor = input.cursor;
  for (const [name, value] of Object.entries(input.secrets)) values[`secret.${name}`] = value;
  return values;
}

/**
 * Replaces every secret value (as given, and as it appears URL-encoded) with [redacted], so no
 * error message, log line or stored run ever carries one.
 */
export function redactor(secrets: Record<string, string>): (text: string) => string {
  const needles = new Set<string>();
  for (const value of Object.values(secrets)) {
    if (value.length < 3) continue;
    needles.add(value);
    needles.add(encodeURIComponent(value));
    needles.add(new URLSearchParams({ v: value }).toString().slice(2));
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const needle of sorted) out = out.split(needle).join('[redacted]');
    return out;
  };
}
