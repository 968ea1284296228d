import { addDays } from '../../../app/dates.ts';
import type { CanonicalStatus } from '../config/config.types.ts';

/**
 * Deterministic bookings for the PMS simulator: the same seed, hotel and base date always give
 * the same bookings, so tests and benchmarks can reason about exact counts.
 */

/** Which pipeline stage a deliberately bad record should fail at. */
export type BadKind = 'raw_schema' | 'mapping' | 'field_rules' | 'business_rules';
export const BAD_KINDS: BadKind[] = ['raw_schema', 'mapping', 'field_rules', 'business_rules'];

export interface SimBooking {
  hotel: string;
  index: number;
  ref: number;
  status: CanonicalStatus;
  checkIn: string;
  checkOut: string;
  first: string;
  last: string;
  email: string;
  phone: string | null;
  roomType: 'STD' | 'DBL' | 'STE';
  roomNumber: string;
  adults: number;
  children: number;
  amountCents: number;
  currency: string;
  notes: string | null;
  /** Whole seconds, so every dialect (some speak epoch seconds) sees the same instant. */
  updatedMs: number;
  version: number;
  bad: BadKind | null;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a small, good-enough PRNG with a 32-bit seed. */
export function rng(seed: string): () => number {
  let a = fnv1a(seed);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  'Ada',
  'Grace',
  'Alan',
  'Edsger',
  'Barbara',
  'Donald',
  'Margaret',
  'Ken',
  'Radia',
  'Linus',
  'Frances',
  'John',
  'Hedy',
  'Tim',
  'Katherine',
  'Dennis',
  'Anita',
  'Niklaus',
  'Sophie',
  'José',
];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Hamilton',
  'Thompson',
  'Perlman',
  'Torvalds',
  'Allen',
  'McCarthy',
  'Lamarr',
  'Berners-Lee',
  'Johnson',
  'Ritchie',
  'Borg',
  'Wirth',
  'Wilson',
  "O'Neil",
];
const NOTES = [
  null,
  null,
  null,
  'Late arrival',
  'Quiet room please',
  '<b>VIP</b> & returning guest',
  '  Needs a cot  ',
  '',
];
const RATES = { STD: 9000, DBL: 13000, STE: 25000 } as const;

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function weighted<T>(random: () => number, table: ReadonlyArray<readonly [T, number]>): T {
  let roll = random();
  for (const [value, weight] of table) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return table[table.length - 1]![0];
}

export interface GeneratorOptions {
  seed: string;
  /** Stays fall from 30 days before to 335 days after this date. */
  baseDate: string;
  /** Share of records generated broken on purpose (0..1). */
  badRatio: number;
}

/** The first modification time of the simulator's history: the base date minus a week. */
export function clockStart(baseDate: string): number {
  return Date.parse(`${baseDate}T00:00:00Z`) - 7 * 86_400_000;
}

/** Booking `index` of `hotel` in version `version` (a new version is a change at the PMS). */
export function generateBooking(
  options: GeneratorOptions,
  hotel: string,
  index: number,
  version: number,
  updatedMs: number,
): SimBooking {
  const random = rng(`${options.seed}|${hotel}|${index}|${version}`);
  const stable = rng(`${options.seed}|${hotel}|${index}`);
  const first = pick(stable, FIRST);
  const last = pick(stable, LAST);
  const badRoll = stable();
  const bad = badRoll < options.badRatio ? BAD_KINDS[index % BAD_KINDS.length]! : null;
  const roomType = weighted(random, [
    ['STD', 0.5],
    ['DBL', 0.35],
    ['STE', 0.15],
  ] as const);
  const nights = weighted(random, [
    [1, 0.2],
    [2, 0.25],
    [3, 0.2],
    [4, 0.1],
    [5, 0.1],
    [7, 0.1],
    [14, 0.05],
  ] as const);
  const checkIn = addDays(options.baseDate, Math.floor(random() * 365) - 30);
  const floor = roomType === 'STD' ? 1 : roomType === 'DBL' ? 2 : 3;
  return {
    hotel,
    index,
    ref: 100_000 + index,
    status: weighted(random, [
      ['confirmed', 0.7],
      ['tentative', 0.05],
      ['checked_in', 0.05],
      ['checked_out', 0.1],
      ['cancelled', 0.08],
      ['no_show', 0.02],
    ] as const),
    checkIn,
    checkOut: addDays(checkIn, nights),
    first,
    last,
    email: `${first}.${last}@example.com`.toLowerCase().replace(/[^a-z0-9.@-]/g, ''),
    phone: random() < 0.7 ? `+44 20 7946 ${String(Math.floor(random() * 10000)).padStart(4, '0')}` : null,
    roomType,
    roomNumber: `${floor}${String(1 + Math.floor(random() * 30)).padStart(2, '0')}`,
    adults: 1 + Math.floor(random() * 3),
    children: random() < 0.8 ? 0 : 1 + Math.floor(random() * 2),
    amountCents: nights * RATES[roomType] + Math.floor(random() * 100),
    currency: 'EUR',
    notes: pick(random, NOTES),
    updatedMs: updatedMs,
    version,
    bad,
  };
}
