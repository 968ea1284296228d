import fc from 'fast-check';
import { JSONPath } from 'jsonpath-plus';
import { describe, expect, it } from 'vitest';
import { compileJsonPath, evaluateJsonPath, jsonPathProblem } from './jsonpath.ts';

const doc = {
  id: 7,
  guest: { first: 'Ada', contact: { email: 'a@b.c' } },
  rooms: [{ code: 'DBL' }, { code: 'STE' }],
  'odd key': { x: 1 },
  nothing: null,
};

describe('compileJsonPath', () => {
  it('reads the first match of plain and general paths', () => {
    expect(compileJsonPath('$.guest.contact.email').first(doc)).toBe('a@b.c');
    expect(compileJsonPath('$.rooms[1].code').first(doc)).toBe('STE');
    expect(compileJsonPath("$['odd key'].x").first(doc)).toBe(1);
    expect(compileJsonPath('$.rooms[*].code').all(doc)).toEqual(['DBL', 'STE']);
    expect(compileJsonPath('$..code').first(doc)).toBe('DBL');
    expect(compileJsonPath('$.rooms[-1:].code').all(doc)).toEqual(['STE']);
    expect(compileJsonPath('$.nothing').first(doc)).toBeNull();
    expect(compileJsonPath('$.missing.deeper').first(doc)).toBeUndefined();
    expect(compileJsonPath('$.id.more').first(doc)).toBeUndefined();
  });

  it('refuses script expressions and anything outside the grammar', () => {
    for (const path of ['$.rooms[(@.length-1)]', '$[(1)]']) {
      expect(jsonPathProblem(path), path).toMatch(/script expressions \[\(…\)\] are not allowed/);
      expect(() => compileJsonPath(path)).toThrow();
    }
    for (const path of [
      'guest.first',
      '$.',
      '$[',
      '$.a[b]',
      '$.a@string()',
      '$.a~',
      '$.a^',
      '$.`x',
      '$.a[?(1)]',
      '$.a[?(@.x + 1 == 2)]',
      '$.a[?(@.x.match(/a/))]',
      '$.a[?(@..x)]',
      '$.a[?(@.x == )]',
      '$.a[?(@.x == "a")',
      "$.a[?(@.x == 'a']",
      '$.a[?(@.x = 1)]',
      '$.a[?(@.x == `x`)]',
      '$.a[?(length(@.x) > 1)]',
    ]) {
      expect(jsonPathProblem(path), path).toBeDefined();
    }
    expect(jsonPathProblem('$.data[*]')).toBeUndefined();
    expect(jsonPathProblem("$['a.b'][0,2]")).toBeUndefined();
  });

  it('reads names that start with @ or carry dots and colons when quoted', () => {
    const json = {
      '@id': 'R1',
      '@odata.nextLink': '/next?page=2',
      stay: { '@Start': '2031-01-02', 'a:b': 1 },
      rooms: [{ '@type': 'x' }, { '@type': 'y' }],
    };
    expect(compileJsonPath("$['@id']").first(json)).toBe('R1');
    expect(compileJsonPath('$["@odata.nextLink"]').first(json)).toBe('/next?page=2');
    expect(compileJsonPath("$.stay['@Start']").first(json)).toBe('2031-01-02');
    expect(compileJsonPath("$.stay['a:b']").first(json)).toBe(1);
    expect(compileJsonPath("$..['@type']").all(json)).toEqual(['x', 'y']);
    expect(compileJsonPath("$.rooms[*]['@type']").all(json)).toEqual(['x', 'y']);
    expect(compileJsonPath("$['it\\'s']").first({ "it's": 1 })).toBe(1);
  });

  it('filters with comparisons, && || ! and parentheses, never running a script', () => {
    const json = {
      rooms: [
        { type: 'x', n: 1, '@Status': 'Book', tags: ['a'] },
        { type: 'y', n: 2, '@Status': 'Cancel', extra: null },
        { type: 'x', n: 3, '@Status': 'Modify', nested: { deep: true } },
        'plain text',
      ],
      limit: 2,
    };
    const all = (path: string) => compileJsonPath(path).all(json);
    expect(all("$.rooms[?(@.type=='x')].n")).toEqual([1, 3]);
    expect(all('$.rooms[?(@.type=="x" && @.n > 1)].n')).toEqual([3]);
    expect(all("$.rooms[?(@.type=='y' || @.n >= 3)].n")).toEqual([2, 3]);
    expect(all("$.rooms[?(!(@.type=='x'))].n")).toEqual([2]);
    expect(all("$.rooms[?(@['@Status'] != 'Cancel')].n")).toEqual([1, 3]);
    expect(all('$.rooms[?(@.n <= $.limit)].n')).toEqual([1, 2]);
    // Existence, null included; a missing value equals only a missing value.
    expect(all('$.rooms[?(@.extra)].n')).toEqual([2]);
    expect(all('$.rooms[?(@.extra == null)].n')).toEqual([2]);
    expect(all('$.rooms[?(@.nested.deep == true)].n')).toEqual([3]);
    expect(all('$.rooms[?(@.tags[0] == "a")].n')).toEqual([1]);
    // Order only between two numbers or two texts.
    expect(all("$.rooms[?(@.n > '1')].n")).toEqual([]);
    expect(all('$.rooms[?@.type == "y"].n')).toEqual([2]);
    expect(all("$..[?(@.type == 'x')].n")).toEqual([1, 3]);
    expect(compileJsonPath("$.rooms[?(@.type=='x')]").first(json)).toEqual(json.rooms[0]);
    // A script-looking text is only a literal: nothing is evaluated.
    expect(all("$.rooms[?(@.type == 'process.exit(1)')]")).toEqual([]);
  });

  it('gives the same first match as jsonpath-plus for plain paths (fast path)', () => {
    const key = fc.constantFrom('a', 'b', 'c', '0', '1');
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 0 }),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(key, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    // Raw records are objects or lists; jsonpath-plus answers nothing for a bare scalar.
    const json = fc.oneof(fc.dictionary(key, tree, { maxKeys: 5 }), fc.array(tree, { maxLength: 3 }));
    const segment = fc.oneof(
      key.map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)),
      key.map((k) => `['${k}']`),
    );
    fc.assert(
      fc.property(json, fc.array(segment, { minLength: 1, maxLength: 4 }), (value, segments) => {
        const path = `$${segments.join('')}`;
        const expected = (JSONPath({ path, json: value as object, eval: false, wrap: true }) as unknown[])[0];
        expect(compileJsonPath(path).first(value)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('evaluates the whole grammar as jsonpath-plus does, so filters and @ names change nothing else', () => {
    const key = fc.constantFrom('a', 'b', 'c', '0', '1');
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 0 }),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(key, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    const json = fc.oneof(fc.dictionary(key, tree, { maxKeys: 5 }), fc.array(tree, { maxLength: 3 }));
    const segment = fc.oneof(
      key.map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)),
      key.map((k) => `['${k}']`),
      fc.constant('.*'),
      fc.constant('[*]'),
      key.filter((k) => !/^\d+$/.test(k)).map((k) => `..${k}`),
      fc.constant('..*'),
      fc.constantFrom('[0,1]', "['a','b']", '[1:]', '[:2]', '[::-1]', '[-2:]', '[0:3:2]'),
    );
    fc.assert(
      fc.property(json, fc.array(segment, { minLength: 1, maxLength: 4 }), (value, segments) => {
        const path = `$${segments.join('')}`;
        const expected = JSONPath({ path, json: value as object, eval: false, wrap: true }) as unknown[];
        expect(evaluateJsonPath(path, value)).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
