// Client-facing error shape: a code and a message, never SQL text, file paths or stacks.
// GatewayErrors show their message; GraphQL's own validation errors pass; everything else is masked and logged.

import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ERROR_CODES, isGatewayError } from '../errors';

const PASS_CODES = new Set<string>([
  ...Object.keys(ERROR_CODES),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

function originalOf(error: unknown): unknown {
  let e = error;
  // Resolver errors arrive wrapped in a GraphQLError whose originalError is what the resolver threw.
  while (e instanceof GraphQLError && e.originalError && e.originalError !== e) e = e.originalError;
  return e;
}

export function createErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown, requestId?: string): GraphQLFormattedError => {
    const original = originalOf(error);
    const base = { locations: formatted.locations, path: formatted.path };
    if (isGatewayError(original)) {
      if (original.code === 'INTERNAL_SERVER_ERROR' || original.code === 'LAKE_UNAVAILABLE') {
        log.error({ err: original.cause ?? original, requestId, path: formatted.path }, original.message);
      }
      return { ...base, message: original.message, extensions: { code: original.code, ...(original.details ?? {}) } };
    }
    if (formatted.extensions?.limitExceeded === true) return { ...base, message: formatted.message, extensions: { code: 'LIMIT_EXCEEDED' } };
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && PASS_CODES.has(code) && !(original instanceof Error && !(original instanceof GraphQLError))) {
      return { ...base, message: formatted.message, extensions: { code } };
    }
    if (original instanceof GraphQLError && !original.originalError && formatted.extensions?.code === undefined) {
      // Errors graphql-js makes itself (e.g. variable coercion) are about the request, not the server.
      return { ...base, message: formatted.message, extensions: { code: 'BAD_USER_INPUT' } };
    }
    log.error({ err: original, requestId, path: formatted.path }, 'unexpected error');
    return { ...base, message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) } };
  };
}
