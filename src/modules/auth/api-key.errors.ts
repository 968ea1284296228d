import { DomainError } from '../../app/errors.ts';
import type { ApiKeyScope } from '../../db/schema.ts';

/** An API key on a route its scopes do not cover, or on one no key may use (`required_scope` null). */
export class InsufficientScopeError extends DomainError {
  constructor(requiredScope: ApiKeyScope | null) {
    super(
      'INSUFFICIENT_SCOPE',
      403,
      requiredScope
        ? `This API key lacks the scope "${requiredScope}" this endpoint needs.`
        : 'This endpoint is not available to API keys; it needs a signed-in user.',
      { required_scope: requiredScope },
    );
  }
}
