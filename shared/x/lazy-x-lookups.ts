// The ingest function's X look-ups, loaded on the first look-up: most batches find every author in the body or the
// cache, so the read client (shared/x/x-read-client.ts, a signed fetch) is not loaded at a cold start for them.
import type { XLookups } from './x-reads';

type Credentials = { apiKey: string; apiSecret: string; accessToken?: string; accessTokenSecret?: string; apiBaseUrl?: string };

/**
 * `createXLookupsFor(x)` from shared/x/x-read-client.ts, behind a dynamic import made at the first call. Undefined, like
 * it, when the account's token is not configured (nothing can be read).
 */
export function lazyXLookupsFor(x: Credentials): XLookups | undefined {
  if (!x.accessToken || !x.accessTokenSecret) return undefined;
  let loaded: Promise<XLookups> | undefined;
  const client = (): Promise<XLookups> => {
    loaded ??= import('./x-read-client').then(({ createXLookupsFor }) => {
      const lookups = createXLookupsFor(x);
      if (!lookups) throw new Error('X credentials vanished between the check and the load');
      return lookups;
    });
    // A failed load (it should not happen in a bundle) is tried again on the next call, not remembered.
    loaded.catch(() => (loaded = undefined));
    return loaded;
  };
  return {
    users: async (ids) => (await client()).users(ids),
    posts: async (ids) => (await client()).posts(ids),
  };
}
