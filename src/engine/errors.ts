import type { ErrorBody } from './schemas/common.js';

/** §12 error taxonomy. */
export const ERROR_CODES = [
  'PERMISSION_DENIED',
  'LEASE_SUBSET_VIOLATION',
  'JOB_NOT_FOUND',
  'DUPLICATE_KEY',
  'AGENT_NOT_AVAILABLE',
  'AGENT_VERSION_NOT_AVAILABLE',
  'CANCELLED',
  'TIMEOUT',
  'RESUME_WINDOW_EXPIRED',
  'HEARTBEAT_LOST',
  'LEASE_EXPIRED',
  'BUDGET_EXHAUSTED',
  'INVALID_REQUEST',
  'UNAUTHENTICATED',
  'INTERNAL_ERROR',
] as const;
export type WireErrorCode = (typeof ERROR_CODES)[number];
export const isWireErrorCode = (c: string): c is WireErrorCode => (ERROR_CODES as readonly string[]).includes(c);

/**
 * `retryable` per code. §12 fixes INTERNAL_ERROR (always true) and LEASE_EXPIRED /
 * BUDGET_EXHAUSTED (false); the rest follow whether a naive retry could succeed.
 */
export const RETRYABLE: Record<WireErrorCode, boolean> = {
  PERMISSION_DENIED: false,
  LEASE_SUBSET_VIOLATION: false,
  JOB_NOT_FOUND: false,
  DUPLICATE_KEY: false,
  AGENT_NOT_AVAILABLE: false,
  AGENT_VERSION_NOT_AVAILABLE: false,
  CANCELLED: false,
  TIMEOUT: true,
  RESUME_WINDOW_EXPIRED: false,
  HEARTBEAT_LOST: true,
  LEASE_EXPIRED: false,
  BUDGET_EXHAUSTED: false,
  INVALID_REQUEST: false,
  UNAUTHENTICATED: false,
  INTERNAL_ERROR: true,
};

/** Codes whose `retryable` value the spec makes normative (§12). */
export const NORMATIVE_RETRYABLE: Partial<Record<WireErrorCode, boolean>> = {
  INTERNAL_ERROR: true,
  LEASE_EXPIRED: false,
  BUDGET_EXHAUSTED: false,
};

/** Any thrown thing as a wire error: unexpected ones are INTERNAL_ERROR (§12). */
export const toArcpError = (e: unknown): ArcpError =>
  e instanceof ArcpError ? e : new ArcpError('INTERNAL_ERROR', e instanceof Error ? e.message : String(e));

/** An error that belongs on the wire: it carries a §12 code. */
export class ArcpError extends Error {
  readonly code: WireErrorCode;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;
  constructor(code: WireErrorCode, message: string, details?: Record<string, unknown>, retryable?: boolean) {
    super(message);
    this.name = 'ArcpError';
    this.code = code;
    this.retryable = retryable ?? RETRYABLE[code];
    this.details = details;
  }
  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details) body.details = this.details;
    return body;
  }
  static fromBody(body: ErrorBody): ArcpError {
    const code = isWireErrorCode(body.code) ? body.code : 'INTERNAL_ERROR';
    const e = new ArcpError(code, body.message, body.details, body.retryable);
    if (code !== body.code) (e as { code: string }).code = body.code;
    return e;
  }
}
