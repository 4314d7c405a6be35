// The bridge's small error vocabulary. Each entry point maps these to an HTTP status or a retry decision in one
// place; nothing else decides how an error looks to a caller.

/** A webhook whose signature is missing or does not match: answered 401, never parsed. */
export class SignatureError extends Error {
  override readonly name = 'SignatureError';
}

/** Input that breaks the contract: answered 400 (or 413/422 where `status` says so), naming the field. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    readonly field?: string,
    readonly status: 400 | 413 | 422 = 400,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** The caller's bearer token is missing or wrong: 401. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
}

/** A ticket, message or reply that does not exist: 404. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** A state conflict the caller can resolve (for example an idempotency key reused with another body): 409. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/**
 * An upstream (X, the helpdesk, AWS) failed in a way that may pass: try again later.
 * `notBefore` (epoch ms) is when trying again makes sense, for example X's rate-limit reset.
 */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  constructor(
    message: string,
    readonly notBefore?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An upstream refused for good (X says duplicate content, not summoned, ...): never retried. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The bridge was started with configuration that cannot work: the message names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
