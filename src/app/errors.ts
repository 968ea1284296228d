/**
 * Typed domain errors. Services throw these (never HTTP errors) so jobs and sockets can reuse
 * them; the single error handler maps each to an RFC 9457 problem with its stable code.
 */
export class DomainError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details?: Record<string, unknown>;
  constructor(code: string, status: number, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export interface FieldProblem {
  pointer: string;
  message: string;
}

export class ValidationError extends DomainError {
  constructor(message: string, errors: FieldProblem[] = []) {
    super('VALIDATION_ERROR', 400, message, { errors });
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = 'Authentication credentials were not provided or are invalid.') {
    super('UNAUTHENTICATED', 401, message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'You do not have permission to perform this action.', code = 'FORBIDDEN') {
    super(code, 403, message);
  }
}

export class NotFoundError extends DomainError {
  constructor(entity: string, id?: string) {
    super('NOT_FOUND', 404, id ? `${entity} ${id} was not found.` : `${entity} was not found.`);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, code = 'CONFLICT', details?: Record<string, unknown>) {
    super(code, 409, message, details);
  }
}

export class ResourceInUseError extends ConflictError {
  constructor(message: string) {
    super(message, 'RESOURCE_IN_USE');
  }
}

/** What the client asks for existed once and was removed for good (e.g. past a retention window). */
export class GoneError extends DomainError {
  constructor(message: string, code = 'GONE') {
    super(code, 410, message);
  }
}

export class ServiceUnavailableError extends DomainError {
  constructor(message = 'The service is temporarily unavailable; retry shortly.') {
    super('SERVICE_UNAVAILABLE', 503, message);
  }
}

export class RateLimitedError extends DomainError {
  constructor(retryAfter: string) {
    super('RATE_LIMITED', 429, `Too many requests; retry after ${retryAfter}.`);
  }
}
