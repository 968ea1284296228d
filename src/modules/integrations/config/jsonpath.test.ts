import fc from 'fast-check';
import { JSONPath } from 'jsonpath-plus';
import { describe, expect, it } from 'vitest';
import { compileJsonPath, jsonPathProblem } from './jsonpath.ts';

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
    for (const path of ['$..[?(@.x)]', '$.rooms[?(@.code=="DBL")]', '$.rooms[(@.length-1)]', '$.a[?(1)]']) {
      expect(jsonPathProblem(path), path).toMatch(/script expressions are not allowed/);
      expect(() => compileJsonPath(path)).toThrow();
    }
    for (const path of ['guest.first', '$.', '$[', '$.a[b]', '$.a@string()', '$.a~', '$.a^', '$.`x']) {
      expect(jsonPathProblem(path), path).toBeDefined();
    }
    expect(jsonPathProblem('$.data[*]')).toBeUndefined();
    expect(jsonPathProblem("$['a.b'][0,2]")).toBeUndefined();
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
});
