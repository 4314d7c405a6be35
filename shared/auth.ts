// Bearer-token check for the helpdesk API, in constant time: both sides are hashed to equal-length digests first,
// so neither the token's content nor its length leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError } from './errors';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** During a rotation, the token being replaced and the moment it stops being accepted. */
export type PreviousToken = { token: string; until: Date };

/**
 * Throws AuthError unless `authorization` is `Bearer <expected>`, or, before `previous.until`, `Bearer
 * <previous.token>` (a rotation's overlap). Both comparisons are always made, so the time taken does not tell which
 * token was given or whether an overlap is running.
 */
export function requireBearer(authorization: string | undefined, expected: string, previous?: PreviousToken, now: Date = new Date()): void {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  const given = digest(match?.[1] ?? '');
  const current = timingSafeEqual(given, digest(expected));
  const old = timingSafeEqual(given, digest(previous?.token ?? expected)) && previous !== undefined && now < previous.until;
  if (!match || !(current || old)) throw new AuthError('a valid Authorization: Bearer token is required');
}
