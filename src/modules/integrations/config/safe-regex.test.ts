import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDate } from '../mapping/dates.ts';
import { templatePieces } from '../mapping/mapper.ts';
import { compilePipeline } from '../pipeline/pipeline.ts';
import { compileRawSchemaStage } from '../pipeline/stages.ts';
import { lintConfig } from './config.lint.ts';
import type { PmsConfigDocument } from './config.types.ts';
import { jsonPathProblem } from './jsonpath.ts';
import { compileLinearRegex, estimatedSize, MAX_PROGRAM_SIZE } from './safe-regex.ts';

/**
 * Issue #17: every regular expression a tenant writes (or that is built from what it writes) is
 * matched in linear time. Each input below takes a backtracking engine (a JavaScript RegExp,
 * Luxon's format parser) seconds; the bound is generous against the microseconds RE2 needs.
 */
const GENEROUS_MS = 1000;

const acme = (): PmsConfigDocument =>
  JSON.parse(readFileSync(new URL('../../../../pms-configs/acme-2.1.json', import.meta.url), 'utf8'));

const raw = (extra: Record<string, unknown> = {}) => ({
  id: 1,
  state: 'BOOKED',
  arrival: '2031-05-01',
  departure: '2031-05-03',
  updated: '2031-01-01T00:00:00Z',
  ...extra,
});

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

describe('tenant patterns match in linear time', () => {
  it('field rules: ^(a+)+$ over a value that backtracks for seconds', () => {
    const config = acme();
    config.validation_rules!.fields!.notes = { pattern: '^(a+)+$' };
    const pipeline = compilePipeline(config);
    const { value, ms } = timed(() =>
      pipeline.process(raw({ comment: `${'a'.repeat(26)}!` }), { roomTypeCodes: undefined }),
    );
    expect(value).toMatchObject({ ok: false, error: { stage: 'field_rules', field: 'notes' } });
    expect(ms).toBeLessThan(GENEROUS_MS);
  });

  it('raw_schema: pattern, patternProperties and propertyNames', () => {
    const check = compileRawSchemaStage({
      type: 'object',
      properties: { comment: { type: 'string', pattern: '(x+x+)+y' } },
      patternProperties: { '^(a|aa)+$': { type: 'integer' } },
      propertyNames: { pattern: '^(\\w+\\s?)*$' },
    });
    for (const record of [
      { comment: 'x'.repeat(26) },
      { [`${'a'.repeat(30)}!`]: 1 },
      { [`${'a'.repeat(26)}!`]: 'v' },
    ]) {
      const { value: error, ms } = timed(() => {
        try {
          check(record);
          return undefined;
        } catch (e) {
          return e;
        }
      });
      expect(error, JSON.stringify(record)).toMatchObject({ stage: 'raw_schema' });
      expect(ms).toBeLessThan(GENEROUS_MS);
    }
    // Matching keys are still validated by their subschema.
    expect(() => check({ aaaa: 'text' })).toThrow(/must be integer/);
    expect(() => check({ aaaa: 1, comment: 'xxy' })).not.toThrow();
  });

  it('format email (our own pattern, on tenant data)', () => {
    const config = acme();
    const pipeline = compilePipeline(config);
    const email = `a@${'.'.repeat(100_000)}@`;
    const { value, ms } = timed(() =>
      pipeline.process(raw({ guest: { contact: { email } } }), { roomTypeCodes: undefined }),
    );
    expect(value).toMatchObject({ ok: false, error: { stage: 'field_rules', field: 'guest.email' } });
    expect(ms).toBeLessThan(GENEROUS_MS);
  });

  it('templates: a piece that never closes', () => {
    const { value, ms } = timed(() => templatePieces(`{{${' '.repeat(1998)}`));
    expect(value).toEqual([]);
    expect(ms).toBeLessThan(GENEROUS_MS);
    expect(templatePieces('{{ $.a }} and {{$.b}}')).toEqual(['$.a', '$.b']);
  });

  it('date formats: 27 adjacent number tokens, which Luxon made into a backtracking RegExp', () => {
    const format = `yyyyMMdd${'sHm'.repeat(9)}`;
    const { value, ms } = timed(() => parseDate(`20310101${'1'.repeat(40)}x`, format));
    expect(value.ok).toBe(false);
    expect(ms).toBeLessThan(GENEROUS_MS);
    expect(parseDate(`20310101${'12'.repeat(27)}`, format)).toEqual({ ok: true, value: '2031-01-01' });
  });
});

/** A pointer of the lint for the pattern of a field rule, or of a raw_schema property. */
const FIELD = '/validation_rules/fields/notes/pattern';
const RAW = '/raw_schema/properties/comment/pattern';

/** A small config with `pattern` in a field rule and in raw_schema (small, so the property test is quick). */
function withPatterns(pattern: string): PmsConfigDocument {
  return {
    pms_type: 'regex',
    version: '1',
    source: { request: { path: '/b' }, records: '$[*]' },
    raw_schema: { type: 'object', properties: { comment: { type: 'string', pattern } } },
    field_mappings: {
      external_id: { path: '$.id' },
      status: { const: 'confirmed' },
      check_in: { path: '$.arrival' },
      check_out: { path: '$.departure' },
      notes: { path: '$.comment' },
    },
    validation_rules: { fields: { notes: { pattern } } },
  };
}

describe('the dialect: RE2, the same for the lint and the runtime', () => {
  it('refuses backreferences, lookaround, possessive and oversized patterns with the reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['^(a)\\1$', /^uses a backreference \(\\1, \\k<name>\), which the linear-time engine \(RE2 syntax\)/],
      ['(?<n>a)\\k<n>', /^uses a backreference/],
      ['^(?=a)a$', /^uses lookahead or lookbehind \(\(\?=…\)\)/],
      ['^(?!a)b$', /^uses lookahead or lookbehind \(\(\?!…\)\)/],
      ['(?<=a)b', /^uses lookahead or lookbehind \(\(\?<=…\)\)/],
      ['(?<!a)b', /^uses lookahead or lookbehind \(\(\?<!…\)\)/],
      ['a++', /^uses a possessive quantifier/],
      ['\\u00e9', /^is not a regular expression in RE2 syntax: invalid escape sequence: `\\u`/],
      ['[a-z', /^is not a regular expression in RE2 syntax: missing closing \]/],
      [
        'x{300}y{300}z{300}w{300}',
        /^is too large for the linear-time engine \(about \d+ instructions, at most 1000/,
      ],
      ['a'.repeat(1001), /^is longer than 1000 characters/],
    ];
    for (const [pattern, message] of cases) {
      const problems = lintConfig(withPatterns(pattern));
      expect(problems.find((p) => p.pointer === FIELD)?.message, pattern).toMatch(message);
      expect(problems.find((p) => p.pointer === RAW)?.message, pattern).toMatch(message);
      expect(() => compilePipeline(withPatterns(pattern)), pattern).toThrow();
    }
  });

  it('names the pointer of a pattern anywhere in raw_schema', () => {
    const config = acme();
    config.raw_schema = {
      type: 'object',
      $defs: { code: { type: 'string', pattern: '(a)\\1' } },
      properties: {
        rooms: { type: 'array', items: { properties: { no: { pattern: '(?=1)' } } } },
        tags: { type: 'object', propertyNames: { pattern: '(?!x)' } },
      },
      patternProperties: { 'a/b(?<=a)': {} },
      anyOf: [{ not: { properties: { pattern: { pattern: '\\k<x>' } } } }],
      const: { pattern: '(?=data, not a schema)' },
    };
    const pointers = lintConfig(config)
      .filter((p) => p.pointer.startsWith('/raw_schema'))
      .map((p) => p.pointer)
      .sort();
    expect(pointers).toEqual(
      [
        '/raw_schema/$defs/code/pattern',
        '/raw_schema/anyOf/0/not/properties/pattern/pattern',
        '/raw_schema/patternProperties/a~1b(?<=a)',
        '/raw_schema/properties/rooms/items/properties/no/pattern',
        '/raw_schema/properties/tags/propertyNames/pattern',
      ].sort(),
    );
  });

  it('JSONPath carries no regular expression: a filter that would match one is refused', () => {
    expect(jsonPathProblem('$..[?(@.name =~ /^(a+)+$/)]')).toMatch(
      /regular expressions and scripts are not allowed/,
    );
  });

  it('format: url (a RegExp of ajv-formats that backtracks) reads URLs in linear time', () => {
    const check = compileRawSchemaStage({ properties: { site: { type: 'string', format: 'url' } } });
    const { value: error, ms } = timed(() => {
      try {
        check({ site: `http://${'[::'.repeat(14_000)}` });
        return undefined;
      } catch (e) {
        return e;
      }
    });
    expect(error).toMatchObject({ stage: 'raw_schema', field: '/site' });
    expect(ms).toBeLessThan(GENEROUS_MS);
    expect(() => check({ site: 'https://pms.example/x?y=1' })).not.toThrow();
    expect(() => check({ site: 'mailto:a@b.example' })).toThrow(/must match format "url"/);
  });

  it('format: regex means a pattern of this dialect', () => {
    const check = compileRawSchemaStage({ properties: { re: { type: 'string', format: 'regex' } } });
    expect(() => check({ re: '^[A-Z]{3}$' })).not.toThrow();
    expect(() => check({ re: '(a)\\1' })).toThrow(/must match format "regex"/);
    expect(() => check({ re: '(?=a)' })).toThrow(/must match format "regex"/);
  });

  it('accepts at runtime exactly what the lint accepts, and the reverse', () => {
    const piece = fc.constantFrom(
      ...'ab.|*+?()[]{}^$\\-,:=!<>1dswpPkxuLz'.split(''),
      '(?:',
      '(?=',
      '(?<!',
      '(?P<n>',
      '{2}',
      '{2,5}',
      '{300}',
      '\\1',
      '\\d',
      '\\p{L}',
      '[a-z]',
      '[[:alpha:]]',
    );
    const pattern = fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join(''));
    const agree = (config: PmsConfigDocument, pointer: string, p: string) => {
      const refused = lintConfig(config).some((x) => x.pointer === pointer);
      let compiled = true;
      try {
        compilePipeline(config);
      } catch {
        compiled = false;
      }
      expect(compiled, p).toBe(!refused);
      return refused;
    };
    // Field rules alone are quick to compile: many runs. A raw schema costs an Ajv compile: fewer.
    fc.assert(
      fc.property(pattern, (p) => {
        const { raw_schema: _, ...config } = withPatterns(p);
        agree(config, FIELD, p);
      }),
      { numRuns: 800 },
    );
    fc.assert(
      fc.property(pattern, (p) => {
        const config = withPatterns(p);
        const refused = agree(config, FIELD, p);
        expect(lintConfig(config).some((x) => x.pointer === RAW)).toBe(refused);
      }),
      { numRuns: 100 },
    );
  });

  it('estimates the compiled size before compiling, close to what RE2 builds', () => {
    for (const pattern of ['^[A-Z]{3}$', 'a{2,9}', '(a{10}){10}', '(?:ab|cd){50}', '\\p{L}{1,200}']) {
      const size = estimatedSize(pattern);
      expect(size, pattern).toBeLessThan(MAX_PROGRAM_SIZE);
      expect(() => compileLinearRegex(pattern)).not.toThrow();
    }
    expect(estimatedSize('((a{10}){10}){10}')).toBeGreaterThan(MAX_PROGRAM_SIZE);
  });
});
