import type { PmsConfigDocument } from '../config/config.types.ts';
import { PMSError, PMSMappingError } from '../integrations.errors.ts';
import { compileMapper } from '../mapping/mapper.ts';
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
  | { ok: false; error: PMSError; externalId: string | null };

export interface Pipeline {
  /** Runs one raw record through raw schema → mapping → sanitisation → field rules → business rules. */
  process(raw: unknown, context: BusinessContext): RecordOutcome;
}

/**
 * Compiles a (validated) config into the per-record pipeline. The first failing stage decides
 * the outcome; anything unexpected inside a stage is reported as a mapping error of that record
 * rather than failing the run.
 */
export function compilePipeline(config: PmsConfigDocument): Pipeline {
  const checkRaw = compileRawSchemaStage(config.raw_schema);
  const mapper = compileMapper(config);
  const sanitise = compileSanitiser(config.sanitization);
  const checkFields = compileFieldRules(config.validation_rules);
  const checkBusiness = compileBusinessRules(config.validation_rules);
  return {
    process(raw, context) {
      try {
        checkRaw(raw);
        const record = mapper.map(raw);
        sanitise(record);
        checkFields(record);
        checkBusiness(record, context);
        return { ok: true, booking: toCanonical(record) };
      } catch (error) {
        const pmsError =
          error instanceof PMSError
            ? error
            : new PMSMappingError(
                null,
                `unexpected failure: ${error instanceof Error ? error.message : String(error)}`,
              );
        return { ok: false, error: pmsError, externalId: mapper.externalId(raw) };
      }
    },
  };
}
