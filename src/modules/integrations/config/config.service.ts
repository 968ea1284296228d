import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { NotFoundError, ValidationError } from '../../../app/errors.ts';
import type { Db } from '../../../db/database.ts';
import { type RequestContext, recordAudit, systemContext } from '../../audit/audit.repository.ts';
import { type Actor, assertCanSeeProperty } from '../../auth/auth.context.ts';
import { extractRecords } from '../connector/http-connector.ts';
import { ResponseShapeError, responseReader } from '../connector/response.ts';
import { assertConfigAuthor, assertIntegrationAdmin } from '../integrations.access.ts';
import { PMSConnectionError } from '../integrations.errors.ts';
import { compilePipeline } from '../pipeline/pipeline.ts';
import { hotelMapEnv, roomTypeCodes } from '../sync/lookup.repository.ts';
import * as repo from './config.repository.ts';
import type { PmsConfigDocument } from './config.types.ts';
import { configChecksum, validateConfigDocument } from './config.validate.ts';

export interface ConfigView {
  id: string;
  pms_type: string;
  version: string;
  description: string | null;
  checksum: string;
  origin: 'upload' | 'shipped';
  created_at: string;
  updated_at: string;
  document?: PmsConfigDocument;
}

export function toConfigView(row: repo.ConfigRow, withDocument = false): ConfigView {
  return {
    id: row.id,
    pms_type: row.pms_type,
    version: row.version,
    description: row.description,
    checksum: row.checksum,
    origin: row.origin,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    ...(withDocument ? { document: row.document } : {}),
  };
}

/** Throws VALIDATION_ERROR listing every problem, pointers rooted at `prefix` (e.g. /body). */
export function assertValidConfig(doc: unknown, prefix: string): asserts doc is PmsConfigDocument {
  const problems = validateConfigDocument(doc);
  if (problems.length > 0) {
    throw new ValidationError(
      `The PMS config is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}).`,
      problems.map((p) => ({ pointer: `${prefix}${p.pointer}`, message: p.message })),
    );
  }
}

/** Longest stretch a preview computes before letting other requests run. */
const PREVIEW_SLICE_MS = 20;

export interface PreviewInput {
  config: unknown;
  records?: unknown[];
  /** A sample answer, as the PMS sends it (v2): its records are extracted as the connector does. */
  response_body?: string;
  property_id?: string;
}

/** Most records a preview maps, whether given or extracted from a sample answer. */
const PREVIEW_MAX_RECORDS = 1000;

/** The records the connector would extract from a sample answer; VALIDATION_ERROR when it would fail it. */
export async function recordsOfSample(
  config: PmsConfigDocument,
  body: string,
): Promise<{ records: unknown[]; page: unknown }> {
  const refuse = (message: string): never => {
    throw new ValidationError('The sample answer is not one the connector reads.', [
      { pointer: '/body/response_body', message },
    ]);
  };
  const reader = responseReader(config.source.response);
  let page: unknown;
  try {
    page = await reader.parse(200, body);
  } catch (error) {
    if (error instanceof ResponseShapeError) refuse(`is ${error.message}`);
    throw error;
  }
  const failure = reader.failure(page);
  if (failure !== undefined)
    refuse(`is an answer the connector fails: the PMS reported a failure: ${failure}`);
  try {
    return { records: extractRecords(config.source, page, 'the sample'), page };
  } catch (error) {
    if (error instanceof PMSConnectionError)
      return refuse(`is an answer the connector fails: ${error.message}`);
    throw error;
  }
}

export function createConfigService(db: Db) {
  return {
    async list(actor: Actor) {
      assertIntegrationAdmin(actor);
      return { results: (await repo.listConfigs(db)).map((row) => toConfigView(row)) };
    },

    async get(actor: Actor, pmsType: string, version: string) {
      assertIntegrationAdmin(actor);
      const row = await repo.findConfig(db, pmsType, version);
      if (!row) throw new NotFoundError('PMS config', `${pmsType} ${version}`);
      return toConfigView(row, true);
    },

    /** Stores a config by (pms_type, version): created, or replaced when its content changed. */
    async upload(ctx: RequestContext & { actor: Actor }, doc: unknown) {
      assertConfigAuthor(ctx.actor);
      assertValidConfig(doc, '/body');
      const checksum = configChecksum(doc);
      return db.transaction().execute(async (tx) => {
        const result = (await repo.upsertConfig(tx, doc, checksum, 'upload', ctx.actor.id))!;
        if (result.changed) {
          await recordAudit(tx, ctx, {
            action: result.created ? 'pms.config.created' : 'pms.config.replaced',
            entityType: 'pms_config',
            entityId: result.row.id,
            propertyId: null,
            diff: { pms_type: doc.pms_type, version: doc.version, checksum },
          });
        }
        return { config: toConfigView(result.row), created: result.created };
      });
    },

    /** Runs sample raw records through a config's pipeline; nothing is written. */
    async preview(actor: Actor, input: PreviewInput) {
      assertIntegrationAdmin(actor);
      assertValidConfig(input.config, '/body/config');
      if ((input.records === undefined) === (input.response_body === undefined)) {
        throw new ValidationError('Give either records or response_body.', [
          { pointer: '/body/records', message: 'give either records or response_body (a sample answer)' },
        ]);
      }
      const sample =
        input.response_body === undefined
          ? undefined
          : await recordsOfSample(input.config, input.response_body);
      const raws = sample ? sample.records.slice(0, PREVIEW_MAX_RECORDS) : input.records!;
      let codes: Set<string> | undefined;
      // A hotel's time zone and value maps, for `timezone: "property"` and `value_map` (records half).
      let env = { timezone: 'UTC', valueMaps: {} as Record<string, Record<string, string>> };
      if (input.property_id) {
        assertCanSeeProperty(actor, input.property_id);
        codes = new Set(await roomTypeCodes(db, input.property_id));
        env = await hotelMapEnv(db, input.property_id);
      }
      const pipeline = compilePipeline(input.config);
      const results = [];
      let sliceStart = performance.now();
      for (const [index, raw] of raws.entries()) {
        // Other requests are served between records: a preview never holds the process for long.
        if (performance.now() - sliceStart > PREVIEW_SLICE_MS) {
          await setImmediate();
          sliceStart = performance.now();
        }
        const outcome = pipeline.process(raw, { roomTypeCodes: codes, env, page: sample?.page });
        results.push(
          outcome.ok
            ? { index, booking: outcome.booking, error: null }
            : {
                index,
                booking: null,
                error: {
                  stage: outcome.error.stage,
                  error_type: outcome.error.errorType,
                  field: outcome.error.field,
                  message: outcome.error.message,
                  external_id: outcome.externalId,
                },
              },
        );
      }
      const mapped = results.filter((r) => r.booking !== null).length;
      const warnings = codes
        ? []
        : [
            'room_type_known is not checked without a property_id; give one to check room type codes.',
            'Without a property_id, value_map reads no value maps and timezone "property" is UTC.',
          ];
      if (sample && sample.records.length > PREVIEW_MAX_RECORDS)
        warnings.push(
          `The sample has ${sample.records.length} records; the first ${PREVIEW_MAX_RECORDS} are mapped.`,
        );
      return {
        ...(sample ? { records: raws } : {}),
        mapped,
        failed: results.length - mapped,
        results,
        warnings,
      };
    },
  };
}

export type ConfigService = ReturnType<typeof createConfigService>;

/**
 * Loads the configs shipped in `dir` (one JSON per PMS type and version), inserting new ones and
 * replacing shipped ones whose content changed. An uploaded config of the same type and version
 * is left alone: it is an operator's fix. Returns what it did, per file.
 */
export async function loadShippedConfigs(
  db: Db,
  dir: string,
): Promise<
  Array<{
    file: string;
    outcome: 'created' | 'updated' | 'unchanged' | 'kept-upload' | 'invalid';
    detail?: string;
  }>
> {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
  const report = [];
  for (const file of files) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
      assertValidConfig(doc, '');
    } catch (error) {
      const detail =
        error instanceof ValidationError
          ? JSON.stringify((error.details as { errors: unknown }).errors)
          : (error as Error).message;
      report.push({ file, outcome: 'invalid' as const, detail });
      continue;
    }
    const valid = doc as PmsConfigDocument;
    const outcome = await db.transaction().execute(async (tx) => {
      const result = await repo.upsertConfig(tx, valid, configChecksum(valid), 'shipped', null);
      if (!result) return 'kept-upload' as const;
      if (!result.changed) return 'unchanged' as const;
      await recordAudit(tx, systemContext, {
        action: result.created ? 'pms.config.created' : 'pms.config.replaced',
        entityType: 'pms_config',
        entityId: result.row.id,
        propertyId: null,
        diff: {
          pms_type: valid.pms_type,
          version: valid.version,
          checksum: result.row.checksum,
          origin: 'shipped',
        },
      });
      return result.created ? ('created' as const) : ('updated' as const);
    });
    report.push({ file, outcome });
  }
  return report;
}
