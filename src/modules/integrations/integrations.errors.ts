import { DomainError } from '../../app/errors.ts';

/** Where in the pipeline a record (or a fetch) failed. */
export type PipelineStage =
  | 'fetch'
  | 'raw_schema'
  | 'mapping'
  | 'sanitisation'
  | 'field_rules'
  | 'business_rules'
  | 'upsert';

export const PMS_ERROR_TYPES = [
  'PMSConnectionError',
  'PMSDataValidationError',
  'PMSBusinessRuleError',
  'PMSMappingError',
] as const;
export type PmsErrorType = (typeof PMS_ERROR_TYPES)[number];

/** A pipeline failure: which stage, which canonical field (when one is to blame) and why. */
export abstract class PMSError extends Error {
  abstract readonly errorType: PmsErrorType;
  readonly stage: PipelineStage;
  readonly field: string | null;
  readonly reason: string;
  constructor(stage: PipelineStage, field: string | null, reason: string) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = new.target.name;
    this.stage = stage;
    this.field = field;
    this.reason = reason;
  }
}

/** The PMS could not be reached, refused us, or answered something that is not a page of records. */
export class PMSConnectionError extends PMSError {
  readonly errorType = 'PMSConnectionError' as const;
  readonly status: number | null;
  readonly retryable: boolean;
  /** The full cause (ECONNREFUSED, a TLS alert…), for server logs: `reason` is what the tenant reads. */
  readonly detail: string | undefined;
  constructor(reason: string, status: number | null = null, retryable = false, detail?: string) {
    super('fetch', null, reason);
    this.status = status;
    this.retryable = retryable;
    this.detail = detail;
  }
}

/** A raw record does not match raw_schema, or a mapped value breaks a field rule. */
export class PMSDataValidationError extends PMSError {
  readonly errorType = 'PMSDataValidationError' as const;
}

/** A mapped booking breaks a business rule (stay length, dates, unknown room type…). */
export class PMSBusinessRuleError extends PMSError {
  readonly errorType = 'PMSBusinessRuleError' as const;
  constructor(field: string | null, reason: string) {
    super('business_rules', field, reason);
  }
}

/** A value could not be turned into its canonical form (bad date, unmapped status, wrong type). */
export class PMSMappingError extends PMSError {
  readonly errorType = 'PMSMappingError' as const;
  constructor(field: string | null, reason: string) {
    super('mapping', field, reason);
  }
}

/** HTTP-facing: the PMS integration of a property is not set up. */
export class ConnectionMissingError extends DomainError {
  constructor(propertyId: string) {
    super('NOT_FOUND', 404, `Property ${propertyId} has no PMS connection.`);
  }
}

/**
 * HTTP-facing: the connection would send its stored secrets to an origin they were never given
 * for. A tenant who re-points base_url must give the secrets again in the same request.
 */
export class SecretsRequiredError extends DomainError {
  constructor(from: string, to: string, reason?: string) {
    const why =
      reason ??
      `base_url moves from ${from} to ${to}, and the stored secrets are only ever sent to the origin ` +
        'they were given for: give secrets again in this request';
    super('SECRETS_REQUIRED', 400, `The PMS connection's secrets are required: ${why}.`, {
      errors: [{ pointer: '/body/secrets', message: `is required: ${why}` }],
    });
  }

  /** The config's auth block would send the stored secrets to an origin they were not given for (v2). */
  static forAuthOrigin(origin: string): SecretsRequiredError {
    return new SecretsRequiredError(
      '',
      origin,
      `the config's auth block sends the secrets to ${origin}, an origin the stored secrets were not ` +
        'given for: give secrets again in this request',
    );
  }
}

/** A value, shortened for an error message (raw payloads are kept whole in quarantine). */
export function shown(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
