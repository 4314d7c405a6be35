// Bearer-token check for the helpdesk API, in constant time: both sides are hashed to equal-length digests first,
// so neither the token's content nor its length leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError } from './errors';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Throws AuthError unless `authorization` is `Bearer <expected>`. */
export function requireBearer(authorization: string | undefined, expected: string): void {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  const given = match?.[1] ?? '';
  const ok = timingSafeEqual(digest(given), digest(expected));
  if (!match || !ok) throw new AuthError('a valid Authorization: Bearer token is required');
}
