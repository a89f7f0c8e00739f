// One error class for the whole gateway, with a closed union of codes.
// The code becomes `extensions.code` for clients; anything that is not a GatewayError is masked.

export const ERROR_CODES = {
  BAD_USER_INPUT: { retriable: false, http: 400 },
  FORBIDDEN: { retriable: false, http: 403 },
  LIMIT_EXCEEDED: { retriable: false, http: 400 },
  QUERY_TIMEOUT: { retriable: true, http: 504 },
  LAKE_UNAVAILABLE: { retriable: true, http: 503 },
  BROKER_UNAVAILABLE: { retriable: true, http: 503 },
  CONFIG_INVALID: { retriable: false, http: 500 },
  INTERNAL_SERVER_ERROR: { retriable: false, http: 500 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  /** Safe-to-show details that go to `extensions` (never SQL, paths or stacks). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.retriable = ERROR_CODES[code].retriable;
    this.details = opts.details;
  }
}

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}

export function badInput(message: string, details?: Record<string, unknown>): GatewayError {
  return new GatewayError('BAD_USER_INPUT', message, { details });
}

export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
