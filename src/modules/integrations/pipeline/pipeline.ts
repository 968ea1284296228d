import { pointerToNul } from '../../../app/unstorable.ts';
import type { PmsConfigDocument } from '../config/config.types.ts';
import { PMSDataValidationError, PMSError, PMSMappingError } from '../integrations.errors.ts';
import { compileJoins, type Joined, type PageIndex } from '../mapping/joins.ts';
import { compileMapper } from '../mapping/mapper.ts';
import { EMPTY_ENV, type MapEnv } from '../mapping/transforms.ts';
import { type CanonicalBooking, toCanonical } from './canonical.ts';
import {
  type BusinessContext,
  compileBusinessRules,
  compileFieldRules,
  compileRawSchemaStage,
  compileSanitiser,
} from './stages.ts';

export type RecordOutcome =
  | { ok: true; booking: CanonicalBooking }
  | {
      ok: false;
      error: PMSError;
      externalId: string | null;
      /** What the record's joins matched on its page, kept with it in quarantine for a replay. */
      joined?: Joined;
    };

export interface ProcessContext extends BusinessContext {
  /** The hotel's value maps and time zone (v2); none and UTC when absent. */
  env?: MapEnv;
  /** The response body the record came from: joins read its side lists. */
  page?: unknown;
  /** What the record's joins matched when it was quarantined (a replay reads no page). */
  joined?: Joined;
}

export interface Pipeline {
  /** Runs one raw record through raw schema → mapping → sanitisation → field rules → business rules. */
  process(raw: unknown, context: ProcessContext): RecordOutcome;
}

/**
 * Compiles a (validated) config into the per-record pipeline. The first failing stage decides
 * the outcome; anything unexpected inside a stage is reported as a mapping error of that record
 * rather than failing the run.
 */
export function compilePipeline(config: PmsConfigDocument): Pipeline {
  const checkRaw = compileRawSchemaStage(config.raw_schema);
  const joins = compileJoins(config.joins);
  const mapper = compileMapper(config);
  const grouped = config.rooms?.mode === 'grouped';
  const sanitise = compileSanitiser(config.sanitization);
  const checkFields = compileFieldRules(config.validation_rules, grouped);
  const checkBusiness = compileBusinessRules(config.validation_rules);
  // A page's side lists are indexed once, for all its records.
  const pages = new WeakMap<object, PageIndex>();
  const indexOf = (page: unknown): PageIndex | undefined => {
    if (joins.names.length === 0 || page === null || typeof page !== 'object') return undefined;
    let index = pages.get(page);
    if (!index) {
      index = joins.indexPage(page);
      pages.set(page, index);
    }
    return index;
  };
  return {
    process(raw, context) {
      const env = context.env ?? EMPTY_ENV;
      let joined: Joined | undefined;
      try {
        const unstorable = pointerToNul(raw, '');
        if (unstorable !== undefined) {
          throw new PMSDataValidationError(
            'raw_schema',
            unstorable || null,
            'holds a NUL character (U+0000), which cannot be stored',
          );
        }
        checkRaw(raw);
        joined = joins.resolve(raw, context.joined ? undefined : indexOf(context.page), context.joined);
        const record = mapper.map(raw, env, joined);
        const rooms = mapper.mapRooms(raw, env, joined);
        sanitise(record, rooms);
        checkFields(record, rooms);
        checkBusiness(record, context, rooms);
        return { ok: true, booking: toCanonical(record, rooms, grouped) };
      } catch (error) {
        const pmsError =
          error instanceof PMSError
            ? error
            : new PMSMappingError(
                null,
                `unexpected failure: ${error instanceof Error ? error.message : String(error)}`,
              );
        if (joins.names.length > 0 && joined === undefined) {
          // The raw schema or a required join failed first: keep whatever the page had for it.
          joined = joins.resolve(raw, indexOf(context.page), context.joined, true);
        }
        return {
          ok: false,
          error: pmsError,
          externalId: mapper.externalId(raw, env, joined),
          ...(joins.names.length > 0 ? { joined } : {}),
        };
      }
    },
  };
}
