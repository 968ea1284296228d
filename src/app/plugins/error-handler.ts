import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QueryTimeoutError } from '../../db/database.ts';
import { DomainError, type FieldProblem } from '../errors.ts';
import { toFieldProblems } from './validation.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  request_id: string;
  errors?: FieldProblem[];
  details?: Record<string, unknown>;
}

type ProblemBody = Pick<Problem, 'status' | 'code' | 'detail' | 'errors'> & Record<string, unknown>;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** PostgreSQL SQLSTATEs a client's input or a busy database can cause, and what they mean to a client. */
const PG_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  '23505': { status: 409, code: 'CONFLICT', detail: 'A record with the same unique value already exists.' },
  '23503': {
    status: 409,
    code: 'RESOURCE_IN_USE',
    detail: 'The record is referenced by other records, or refers to one that does not exist.',
  },
  // ON DELETE RESTRICT reports restrict_violation, not foreign_key_violation.
  '23001': {
    status: 409,
    code: 'RESOURCE_IN_USE',
    detail: 'The record is referenced by other records.',
  },
  '23514': { status: 409, code: 'CONFLICT', detail: 'The change would violate a consistency rule.' },
  // An exclusion constraint (one stay per room and night, one out-of-order block per room and night).
  '23P01': {
    status: 409,
    code: 'CONFLICT',
    detail: 'The change overlaps another record for the same nights.',
  },
  '23502': { status: 400, code: 'VALIDATION_ERROR', detail: 'A required value is missing.' },
  '22001': { status: 400, code: 'VALIDATION_ERROR', detail: 'A value is too long.' },
  '22003': { status: 400, code: 'VALIDATION_ERROR', detail: 'A number is out of range.' },
  '22007': { status: 400, code: 'VALIDATION_ERROR', detail: 'A date or time is malformed.' },
  '22008': { status: 400, code: 'VALIDATION_ERROR', detail: 'A date or time is out of range.' },
  '22P02': { status: 400, code: 'VALIDATION_ERROR', detail: 'A value has the wrong format.' },
  // A NUL character (the NUL guard refuses those in requests; this covers what reaches SQL otherwise).
  '22021': {
    status: 400,
    code: 'VALIDATION_ERROR',
    detail: 'A value holds a character that cannot be stored.',
  },
  '22P05': {
    status: 400,
    code: 'VALIDATION_ERROR',
    detail: 'A value holds a character that cannot be stored.',
  },
  '40001': { status: 409, code: 'CONFLICT', detail: 'A concurrent change conflicted; retry the request.' },
  '40P01': { status: 409, code: 'CONFLICT', detail: 'A concurrent change conflicted; retry the request.' },
  '55P03': {
    status: 409,
    code: 'INVENTORY_BUSY',
    detail: 'The records are locked by another request; retry.',
  },
  '57014': { status: 503, code: 'SERVICE_UNAVAILABLE', detail: 'The database took too long; retry shortly.' },
  '57P01': { status: 503, code: 'SERVICE_UNAVAILABLE', detail: 'The database is restarting; retry shortly.' },
  '57P02': { status: 503, code: 'SERVICE_UNAVAILABLE', detail: 'The database is restarting; retry shortly.' },
  '57P03': {
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    detail: 'The database is starting up; retry shortly.',
  },
  '53300': { status: 503, code: 'SERVICE_UNAVAILABLE', detail: 'The database is at its connection limit.' },
};

const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
};

function isConnectionFailure(error: { code?: string; message?: string }): boolean {
  if (error.code && NETWORK_ERRORS.has(error.code)) return true;
  const message = error.message ?? '';
  return (
    message.includes('Connection terminated') ||
    message.includes('connection timeout') ||
    message.includes('Client has encountered a connection error')
  );
}

function classify(error: FastifyError & { code?: string }): ProblemBody {
  if (error instanceof DomainError) {
    // Details add fields; they never override the problem's own status, code or detail.
    return { ...(error.details ?? {}), status: error.status, code: error.code, detail: error.message };
  }
  if (error.validation) {
    const part = error.validationContext ?? 'body';
    const errors = toFieldProblems(error.validation as never, part);
    const summary = errors.map((e) => `${e.pointer} ${e.message}`).join('; ');
    return { status: 400, code: 'VALIDATION_ERROR', detail: `Invalid request: ${summary}`, errors };
  }
  if (error instanceof QueryTimeoutError) {
    return {
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      detail:
        'The database did not answer in time; retry shortly (with the same Idempotency-Key for a booking).',
    };
  }
  if (error.code && PG_ERRORS[error.code]) {
    const known = PG_ERRORS[error.code]!;
    return { status: known.status, code: known.code, detail: known.detail };
  }
  if (isConnectionFailure(error)) {
    return {
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      detail: 'The database is unreachable; retry shortly.',
    };
  }
  if (error.statusCode === 429) {
    return { status: 429, code: 'RATE_LIMITED', detail: 'Too many requests; slow down and retry later.' };
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    const code =
      (error.code && FASTIFY_CODES[error.code]) ?? (error.statusCode === 404 ? 'NOT_FOUND' : 'BAD_REQUEST');
    const detail = error instanceof SyntaxError ? 'The request body is not valid JSON.' : error.message;
    return { status: error.statusCode, code: code === 'BAD_REQUEST' ? 'VALIDATION_ERROR' : code, detail };
  }
  return { status: 500, code: 'INTERNAL_ERROR', detail: 'An unexpected error occurred.' };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, body: ProblemBody) {
  const problem = {
    ...body,
    type: `/problems/${body.code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[body.status] ?? 'Error',
    instance: request.url.split('?')[0] ?? request.url,
    request_id: String(request.id),
  };
  if (body.status === 503) reply.header('retry-after', '1');
  return reply.status(body.status).type('application/problem+json').send(problem);
}

/**
 * Errors the router raises before any route or hook runs (a malformed URL, a path parameter over
 * the length limit): problems like every other refusal, not Fastify's own JSON.
 */
export function frameworkErrorProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  return sendProblem(request, reply, classify(error));
}

/** The one error handler: typed domain errors, validation and PostgreSQL errors become RFC 9457 problems. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = classify(error);
    if (problem.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    } else {
      request.log.info({ code: problem.code, status: problem.status }, 'request refused');
    }
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, {
      status: 404,
      code: 'NOT_FOUND',
      detail: `No route for ${request.method} ${request.url.split('?')[0]}.`,
    }),
  );
}
