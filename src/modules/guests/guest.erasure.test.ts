import { describe, expect, it } from 'vitest';
import { ERASED, likePatterns, needlesOf, scrubDocument, scrubText } from './guest.erasure.ts';

const needles = needlesOf({
  emails: ['  Hedy.Lamarr@Example.COM ', null],
  phones: ['+44 20 7946 8065', ''],
  names: ['Hedy', 'Lamarr', 'Hedy Lamarr', 'Al'],
});

describe('erasure needles', () => {
  it('keeps the contacts in lower case, the phone digits, and drops values too short to be the guest', () => {
    expect(needles.contacts).toEqual(['hedy.lamarr@example.com', '+44 20 7946 8065']);
    expect(needles.phoneDigits).toEqual(['442079468065']);
    expect(needles.names).toEqual(['hedy', 'lamarr', 'hedy lamarr']);
  });

  it('finds rows by contacts and phone digits only, with LIKE characters taken literally', () => {
    const odd = needlesOf({ emails: ['a_b%c@x.test'], phones: [], names: ['Ada'] });
    expect(likePatterns(odd)).toEqual(['%a\\_b\\%c@x.test%']);
    expect(likePatterns(needles)).toContain('%442079468065%');
  });
});

describe('scrubDocument', () => {
  const event = {
    type: 'pms.reservation.modified',
    data: {
      reservation: {
        id: 'r-1',
        notes: 'Allergic to nuts',
        guest: { id: 'g-1', first_name: 'Hedy', full_name: 'Hedy Lamarr', email: 'HEDY.LAMARR@example.com' },
        rooms: [{ adults: 2 }],
        source: 'direct',
      },
      previous: { guest: { phone: '+442079468065' }, notes: null },
    },
  };

  it("erases every personal field of the guest's own records, whatever it holds, and nothing else", () => {
    expect(scrubDocument(event, needles, true)).toEqual({
      type: 'pms.reservation.modified',
      data: {
        reservation: {
          id: 'r-1',
          notes: ERASED,
          guest: { id: 'g-1', first_name: ERASED, full_name: ERASED, email: ERASED },
          rooms: [{ adults: 2 }],
          source: 'direct',
        },
        previous: { guest: { phone: ERASED }, notes: null },
      },
    });
  });

  it("in other records, erases only values holding the guest's contacts, a phone in any spelling", () => {
    const other = {
      note: 'Booked by hedy.lamarr@example.com for her friend',
      phone: '0044 (20) 7946-8065',
      count: 442079468065,
      name: 'Hedy Lamarr',
      id: '44207946-8065-4000-8000-000000000000',
    };
    expect(scrubDocument(other, needles, false)).toEqual({
      note: ERASED,
      phone: ERASED,
      count: ERASED,
      // Names identify nobody outside the guest's own records; ids are not phones.
      name: 'Hedy Lamarr',
      id: '44207946-8065-4000-8000-000000000000',
    });
  });

  it('matches names as whole words, so the guest "Al" or "Hedy" does not erase "Alps" or "Hedyland"', () => {
    const doc = { a: 'Hedyland tour', b: 'Dear Hedy,', c: 'LAMARR' };
    expect(scrubDocument(doc, needles, true)).toEqual({ a: 'Hedyland tour', b: ERASED, c: ERASED });
  });

  it('renames a key that holds a contact', () => {
    expect(scrubDocument({ 'hedy.lamarr@example.com': 1 }, needles, false)).toEqual({ [ERASED]: 1 });
  });
});

describe('scrubText', () => {
  it("replaces the guest's values inside a text and keeps the rest", () => {
    expect(scrubText('guest.email: "Hedy.Lamarr@example.com" is not valid', needles, false)).toBe(
      `guest.email: "${ERASED}" is not valid`,
    );
    expect(scrubText('call +442079468065 or 1442079468065', needles, false)).toBe(
      `call ${ERASED} or 1442079468065`,
    );
    expect(scrubText('Hedy Lamarr arrives late', needles, true)).toBe(`${ERASED} arrives late`);
    expect(scrubText('Hedy Lamarr arrives late', needles, false)).toBe('Hedy Lamarr arrives late');
  });
});
