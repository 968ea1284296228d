import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../pipeline/pipeline.ts';
import type { PmsConfigDocument } from './config.types.ts';
import { validateConfigDocument } from './config.validate.ts';
import { compileJsonPath } from './jsonpath.ts';

const dir = new URL('../../../../pms-configs/', import.meta.url);
const read = (path: string) => JSON.parse(readFileSync(new URL(path, dir), 'utf8'));
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('shipped PMS configs', () => {
  it('ship at least three dialects, each with recorded fixtures', () => {
    expect(new Set(files.map((f) => read(f).pms_type)).size).toBeGreaterThanOrEqual(3);
    const fixtures = readdirSync(new URL('fixtures/', dir));
    for (const file of files) expect(fixtures, file).toContain(file.replace(/\.json$/, ''));
  });

  for (const file of files) {
    const name = file.replace(/\.json$/, '');
    describe(name, () => {
      const config = read(file) as PmsConfigDocument;

      it('is valid and named after its pms_type and version', () => {
        expect(validateConfigDocument(config)).toEqual([]);
        expect(`${config.pms_type}-${config.version}`).toBe(name);
      });

      it('maps the recorded raw pages to exactly the expected canonical bookings and quarantines', () => {
        const pages = read(`fixtures/${name}/pages.json`) as unknown[];
        const expected = read(`fixtures/${name}/expected.json`);
        const pipeline = compilePipeline(config);
        const records = compileJsonPath(config.source.records);
        const bookings: unknown[] = [];
        const quarantined: unknown[] = [];
        for (const page of pages) {
          for (const raw of records.all(page)) {
            const result = pipeline.process(raw, { roomTypeCodes: new Set(['STD', 'DBL', 'STE']) });
            if (result.ok) bookings.push(result.booking);
            else
              quarantined.push({
                external_id: result.externalId,
                stage: result.error.stage,
                error_type: result.error.errorType,
              });
          }
        }
        expect(bookings).toEqual(expected.bookings);
        expect(quarantined).toEqual(expected.quarantined);
        const kinds = new Set(expected.quarantined.map((q: { stage: string }) => q.stage));
        expect([...kinds].sort()).toEqual(['business_rules', 'field_rules', 'mapping', 'raw_schema']);
      });
    });
  }
});
