// API Gateway HTTP API (payload 2.0) plumbing shared by the two HTTP functions: raw body bytes, JSON answers, and
// the one place the error vocabulary becomes a status code. Callers never see a stack trace.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AuthError, ConflictError, NotFoundError, RetryableError, SignatureError, ValidationError } from './errors';
import { logger } from './logger';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** The request body exactly as the client sent it (API Gateway may hand it over base64-encoded). */
export function rawBody(event: HttpEvent): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** A header by name, whatever its case. */
export function header(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** A JSON answer. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** The contract's error body: `{"error": {"code", "message"}}` plus any details (a field, a measured length). */
export function errorBody(statusCode: number, code: string, message: string, details: Record<string, unknown> = {}) {
  return json(statusCode, { error: { code, message, ...details } });
}

// What AWS answers when it is busy or briefly unreachable, after the SDK's own retries gave up: the caller should try
// again (503), not be told the bridge is broken (500). Told apart by shape, without importing the SDK into this module.
const TRANSIENT_AWS_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServerError',
  'ServiceUnavailable',
]);
const TRANSIENT_CANCELLATIONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'TransactionConflict']);
const TRANSIENT_SOCKET_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']);

function isTransientAwsError(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const e = error as Error & {
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    code?: unknown;
    CancellationReasons?: { Code?: string }[];
  };
  const status = e.$metadata?.httpStatusCode;
  return (
    Boolean(e.$retryable) ||
    TRANSIENT_AWS_ERRORS.has(e.name) ||
    (typeof status === 'number' && (status === 429 || status >= 500)) ||
    (typeof e.code === 'string' && TRANSIENT_SOCKET_ERRORS.has(e.code)) ||
    // A transaction cancelled only because DynamoDB was busy, not because a condition failed.
    (e.CancellationReasons?.some((r) => TRANSIENT_CANCELLATIONS.has(r.Code ?? '')) ?? false)
  );
}

/**
 * Maps the error vocabulary to an answer; AWS being busy or unreachable is 503 with Retry-After (try again), anything
 * else unexpected is logged and answered 500 without detail.
 */
export function errorResponse(error: unknown): HttpResult {
  if (error instanceof ValidationError) {
    const code = error.status === 413 ? 'payload_too_large' : error.status === 422 ? 'unprocessable' : 'bad_request';
    return errorBody(error.status, code, error.message, {
      ...(error.field ? { field: error.field } : {}),
      ...(error.details ?? {}),
    });
  }
  if (error instanceof SignatureError) return errorBody(401, 'bad_signature', error.message);
  if (error instanceof AuthError) {
    return { ...errorBody(401, 'unauthorized', error.message), headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' } };
  }
  if (error instanceof NotFoundError) return errorBody(404, 'not_found', error.message);
  if (error instanceof ConflictError) return errorBody(409, 'conflict', error.message);
  if (error instanceof RetryableError || isTransientAwsError(error)) {
    logger.warn('request could not complete now', { reason: (error as Error).message });
    return { ...errorBody(503, 'unavailable', 'busy; try again shortly'), headers: { 'content-type': 'application/json', 'retry-after': '1' } };
  }
  logger.error('unhandled error', { error: error as Error });
  return errorBody(500, 'internal', 'internal error');
}
