import { describe, expect, it } from 'vitest';
import { PMSConnectionError } from '../integrations.errors.ts';
import { fill, RawXml, redactor, renderForm, renderJson, renderXml, scopeOf } from './placeholders.ts';

const scope = scopeOf({
  values: {
    'hotel.external_id': 'H&1',
    'secret.key': 's3cr<e>t"',
    cursor: 1700000000,
    page_cursor: null,
    'ack.id': ['a', 'b'],
    'ack.each': new RawXml('<i/><i/>'),
  },
  instants: { now: Date.parse('2031-03-10T12:30:00Z') },
  format: { kind: 'epoch_seconds' },
  zone: 'Europe/Paris',
});

describe('placeholders', () => {
  it('keep their type where a JSON body places them whole, and are text inside text', () => {
    expect(
      renderJson(
        {
          since: '{cursor}',
          next: '{page_cursor}',
          ids: '{ack.id}',
          label: 'hotel {hotel.external_id} at {now}',
          n: 3,
          nested: ['{now:iso8601}'],
        },
        scope,
      ),
    ).toEqual({
      since: 1700000000,
      next: null,
      ids: ['a', 'b'],
      label: 'hotel H&1 at 1930912200',
      n: 3,
      nested: ['2031-03-10T12:30:00.000Z'],
    });
    expect(fill('{ack.id}|{page_cursor}|{now:yyyy-MM-dd HH:mm}', scope)).toBe('a,b||2031-03-10 13:30');
  });

  it('XML-escape every value, except rendered XML fragments', () => {
    expect(renderXml('<a k="{secret.key}">{hotel.external_id}{ack.each}</a>', scope)).toBe(
      '<a k="s3cr&lt;e&gt;t&quot;">H&amp;1<i/><i/></a>',
    );
  });

  it('leave out a form field that is one null placeholder, and fail on a missing secret by name only', () => {
    expect(renderForm({ a: '{page_cursor}', b: '{hotel.external_id}' }, scope)).toBe('b=H%261');
    expect(() => fill('{secret.other}', scope)).toThrow(
      new PMSConnectionError('the connection has no secret named "other"'),
    );
  });

  it('redact a secret in every form a request gives it, and values learned later', () => {
    const redact = redactor({ key: 's3cr<e>t"' });
    for (const form of [
      's3cr<e>t"',
      's3cr%3Ce%3Et%22',
      's3cr%3Ce%3Et%22',
      's3cr<e>t\\"',
      's3cr&lt;e&gt;t&quot;',
    ])
      expect(redact(`x ${form} y`), form).toBe('x [redacted] y');
    expect(redact('a token-abc b')).toBe('a token-abc b');
    redact.add('token-abc');
    expect(redact('a token-abc b')).toBe('a [redacted] b');
  });
});
