import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/database.ts';
import { createTestDatabase } from '../helpers/context.ts';
import { createProperty, createUser } from '../helpers/factories.ts';
import { loginOverHttp, type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

/**
 * Issue #17: a property admin's regular expressions (field rules, raw_schema) must not freeze the
 * process that serves every property. The API runs as its own process, so that a backtracking
 * engine (which would spend hours on one of these records) fails this test by its deadline instead
 * of freezing the test runner. The deadline is generous; the evidence is the other property's
 * requests being answered while the preview runs.
 */
const RECORDS = 1000;
const VALUE_LENGTH = 800;
/** Far beyond what a linear engine needs, far below 2^800 backtracking steps. */
const DEADLINE_MS = 60_000;

let database: { url: string; drop: () => Promise<void> };
let db: Db;
let api: ServerProcess;
let tenantA: { token: string; propertyId: string };
let tenantB: { token: string; propertyId: string };

const acme = () =>
  JSON.parse(readFileSync(new URL('../../pms-configs/acme-2.1.json', import.meta.url), 'utf8'));

async function tenant() {
  const property = await createProperty(db);
  const user = await createUser(db, { role: 'PROPERTY_ADMIN', propertyIds: [property.id] });
  return { token: await loginOverHttp(api.url, user), propertyId: property.id };
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url, max: 3 });
  api = await startServerProcess({ env: { DATABASE_URL: database.url, KAFKA_BROKERS: '', NATS_URL: '' } });
  tenantA = await tenant();
  tenantB = await tenant();
}, 120_000);

afterAll(async () => {
  // SIGKILL: a process stuck in a backtracking match would not get to its signal handler.
  await api?.kill('SIGKILL');
  await db?.destroy();
  await database?.drop();
});

const record = (i: number, comment: string) => ({
  id: i,
  state: 'BOOKED',
  arrival: '2031-05-01',
  departure: '2031-05-03',
  room: { category: 'dbl' },
  updated: '2031-01-01T00:00:00Z',
  comment,
});

interface Served {
  status: number;
  doneAt: number;
}

/**
 * Tenant A previews `config` over its records while tenant B reads its own property again and
 * again until the preview has answered (or the deadline passed).
 */
async function previewWhileAnotherTenantReads(config: unknown, records: unknown[]) {
  const body = JSON.stringify({ config, records, property_id: tenantA.propertyId });
  expect(Buffer.byteLength(body)).toBeLessThan(1_048_576);
  const deadline = AbortSignal.timeout(DEADLINE_MS);
  let previewAt: number | undefined;
  const preview = fetch(`${api.url}/api/integrations/pms/configs/preview/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenantA.token}`, 'content-type': 'application/json' },
    body,
    signal: deadline,
  }).then(async (response) => {
    const answer = { status: response.status, body: (await response.json()) as any };
    previewAt = performance.now();
    return answer;
  });
  const previewOutcome = preview.then(
    () => undefined,
    (error: unknown) => error,
  );
  const served: Served[] = [];
  while (previewAt === undefined && !deadline.aborted) {
    const response = await fetch(`${api.url}/api/properties/${tenantB.propertyId}/`, {
      headers: { authorization: `Bearer ${tenantB.token}` },
      signal: deadline,
    }).catch(() => undefined);
    if (!response) break;
    await response.arrayBuffer();
    served.push({ status: response.status, doneAt: performance.now() });
  }
  const failure = await previewOutcome;
  expect(failure, 'the preview did not answer within the deadline').toBeUndefined();
  return { preview: await preview, served, previewAt: previewAt! };
}

describe('a property admin’s regular expressions run in linear time (#17)', () => {
  it('a catastrophic field rule pattern over 1,000 long values answers, and another property is served meanwhile', async () => {
    const config = acme();
    config.validation_rules.fields.notes = { pattern: '^(a+)+$' };
    const records = Array.from({ length: RECORDS }, (_, i) => record(i, `${'a'.repeat(VALUE_LENGTH)}!`));
    const { preview, served, previewAt } = await previewWhileAnotherTenantReads(config, records);

    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ mapped: 0, failed: RECORDS });
    for (const result of preview.body.results) {
      expect(result.error).toMatchObject({ stage: 'field_rules', field: 'notes' });
      expect(result.error.message).toMatch(/does not match \^\(a\+\)\+\$$/);
    }
    expect(served.length).toBeGreaterThan(0);
    expect(served.every((s) => s.status === 200)).toBe(true);
    expect(served[0]!.doneAt).toBeLessThan(previewAt);
  });

  it('catastrophic raw_schema patterns (pattern, patternProperties, propertyNames) answer too', async () => {
    const config = acme();
    config.raw_schema.properties.comment = { type: 'string', pattern: '(x+x+)+y' };
    config.raw_schema.patternProperties = { '^(a|aa)+$': { type: 'string' } };
    config.raw_schema.propertyNames = { pattern: '^([a-z]+_?)*$' };
    const long = 'x'.repeat(VALUE_LENGTH);
    const records = Array.from({ length: RECORDS }, (_, i) => record(i, long));
    const { preview, served, previewAt } = await previewWhileAnotherTenantReads(config, records);

    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ mapped: 0, failed: RECORDS });
    for (const result of preview.body.results) {
      expect(result.error).toMatchObject({ stage: 'raw_schema', field: '/comment' });
      expect(result.error.message).toMatch(/must match pattern "\(x\+x\+\)\+y"/);
    }
    expect(served.length).toBeGreaterThan(0);
    expect(served.every((s) => s.status === 200)).toBe(true);
    expect(served[0]!.doneAt).toBeLessThan(previewAt);

    // The other keywords' patterns are matched by the same engine: long keys answer at once too.
    const key = `${'a'.repeat(VALUE_LENGTH)}!`;
    const byKey = await previewWhileAnotherTenantReads(config, [{ ...record(1, 'y'), [key]: 'v' }]);
    expect(byKey.preview.status).toBe(200);
    expect(byKey.preview.body.results[0].error).toMatchObject({ stage: 'raw_schema' });
    expect(byKey.preview.body.results[0].error.message).toMatch(
      /must match pattern "\^\(\[a-z\]\+_\?\)\*\$"/,
    );
  });

  it('refuses patterns the linear engine cannot run, naming each by JSON pointer', async () => {
    const config = acme();
    config.validation_rules.fields.notes = { pattern: '^(a)\\1$' };
    config.raw_schema.properties.comment = { type: 'string', pattern: '^(?=x)x+$' };
    config.raw_schema.patternProperties = { '(?<!a)b': {} };
    const response = await fetch(`${api.url}/api/integrations/pms/configs/preview/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenantA.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ config, records: [record(1, 'x')] }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      code: string;
      errors: Array<{ pointer: string; message: string }>;
    };
    expect(body.code).toBe('VALIDATION_ERROR');
    expect(body.errors).toEqual([
      {
        pointer: '/body/config/validation_rules/fields/notes/pattern',
        message: expect.stringMatching(/^uses a backreference .*RE2 syntax/),
      },
      {
        pointer: '/body/config/raw_schema/patternProperties/(?<!a)b',
        message: expect.stringMatching(/^uses lookahead or lookbehind \(\(\?<!…\)\)/),
      },
      {
        pointer: '/body/config/raw_schema/properties/comment/pattern',
        message: expect.stringMatching(/^uses lookahead or lookbehind \(\(\?=…\)\)/),
      },
    ]);
  });
});
