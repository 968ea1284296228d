/**
 * What erasing a guest does to a stored document or text, without the database (the right to
 * erasure, GDPR art. 17; docs/runbook.md, "Personal data"). A value is the guest's when it is
 * under a personal field of a record about the guest (its reservations, its profile), or when it
 * contains one of the guest's e-mails or phones anywhere. Names alone identify nobody reliably
 * ("Anna"), so they count only in the guest's own records.
 */

/** What replaces an erased value in history (events, audit diffs, stored responses). */
export const ERASED = '[erased]';

/** Fields that hold a guest's personal data wherever they appear in a record about the guest. */
export const PERSONAL_FIELDS = new Set(['first_name', 'last_name', 'full_name', 'email', 'phone', 'notes']);

export interface Needles {
  /** The guest's e-mails and phones as written, lower case: a value containing one is the guest's. */
  contacts: string[];
  /** The guest's names, lower case: a value with one as a word is the guest's, in its own records. */
  names: string[];
  /** The digits of the guest's phones: a phone-shaped value with these digits is the guest's. */
  phoneDigits: string[];
}

export interface GuestValues {
  emails: Array<string | null>;
  phones: Array<string | null>;
  names: Array<string | null>;
}

const PHONE_SHAPE = /^[+0-9 ().\-/]+$/;
/** An id made only of digits is still an id, not a phone. */
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const digitsOf = (text: string) => text.replace(/\D/g, '');

/** The needles of a guest's values; short ones are dropped (they would match other people). */
export function needlesOf(values: GuestValues): Needles {
  const clean = (list: Array<string | null>, min: number) => [
    ...new Set(list.map((v) => v?.trim().toLowerCase() ?? '').filter((v) => v.length >= min)),
  ];
  const phones = clean(values.phones, 6);
  return {
    contacts: [...new Set([...clean(values.emails, 3), ...phones])],
    names: clean(values.names, 3),
    phoneDigits: [...new Set(phones.map(digitsOf).filter((d) => d.length >= 7))],
  };
}

/** LIKE patterns (ILIKE) that find the rows that may hold one of the guest's contacts. */
export function likePatterns(needles: Needles): string[] {
  return [...needles.contacts, ...needles.phoneDigits].map(
    (text) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
  );
}

const matchers = new WeakMap<Needles, RegExp | null>();

/** The names as whole words ("Ada" is not in "Canada"), any case. */
function nameMatcher(needles: Needles): RegExp | null {
  let matcher = matchers.get(needles);
  if (matcher === undefined) {
    const names = [...needles.names].sort((a, b) => b.length - a.length).map(escapeRegExp);
    matcher = names.length
      ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${names.join('|')})(?![\\p{L}\\p{N}])`, 'iu')
      : null;
    matchers.set(needles, matcher);
  }
  return matcher;
}

function isGuestValue(text: string, needles: Needles, withNames: boolean): boolean {
  const lower = text.toLowerCase();
  if (needles.contacts.some((needle) => lower.includes(needle))) return true;
  if (withNames && nameMatcher(needles)?.test(text)) return true;
  if (needles.phoneDigits.length > 0 && PHONE_SHAPE.test(text) && !UUID_SHAPE.test(text)) {
    const digits = digitsOf(text);
    return needles.phoneDigits.some((needle) => digits.includes(needle));
  }
  return false;
}

/** Every leaf replaced: the value of a personal field of the guest's record. */
function eraseAll(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(eraseAll);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, eraseAll(child)]));
  }
  return typeof value === 'string' || typeof value === 'number' ? ERASED : value;
}

/**
 * A JSON document with the guest's values replaced by {@link ERASED}, whole (a note that names the
 * guest goes as a whole, not just the name in it). `ofGuest`: a record about the guest (its
 * reservation's events, audit entries and stored responses, its profile's), where personal fields
 * are erased whatever they hold. Keys are kept unless they hold a contact of the guest.
 */
export function scrubDocument(document: unknown, needles: Needles, ofGuest: boolean): unknown {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value).map(([key, child]): [string, unknown] => [
        isGuestValue(key, needles, false) ? ERASED : key,
        ofGuest && PERSONAL_FIELDS.has(key) ? eraseAll(child) : walk(child),
      ]);
      return Object.fromEntries(entries);
    }
    if (typeof value === 'string') return isGuestValue(value, needles, ofGuest) ? ERASED : value;
    if (typeof value === 'number') return isGuestValue(String(value), needles, false) ? ERASED : value;
    return value;
  };
  return walk(document);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A free text (a quarantine message, an error, a hold reference) with each of the guest's values in
 * it replaced by {@link ERASED}, the rest kept: "guest.email: \"[erased]\" is not an e-mail".
 */
export function scrubText(text: string, needles: Needles, withNames: boolean): string {
  const contacts = [...needles.contacts].sort((a, b) => b.length - a.length).map(escapeRegExp);
  // A phone written another way: its digits as one run, not inside a longer number.
  const numbers = needles.phoneDigits.map((digits) => `(?<![0-9])\\+?${digits}(?![0-9])`);
  const names = withNames
    ? [...needles.names]
        .sort((a, b) => b.length - a.length)
        .map((name) => `(?<![\\p{L}\\p{N}])${escapeRegExp(name)}(?![\\p{L}\\p{N}])`)
    : [];
  const all = [...contacts, ...numbers, ...names];
  if (all.length === 0) return text;
  return text.replace(new RegExp(all.join('|'), 'giu'), ERASED);
}

/** Whether scrubbing changed a value (JSON documents compared by their text). */
export function changed(before: unknown, after: unknown): boolean {
  return JSON.stringify(before) !== JSON.stringify(after);
}
