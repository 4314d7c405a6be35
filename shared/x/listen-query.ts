// The query a listening run sends X for one of the brand's listening queries: the brand's words, minus retweets and
// the account's own posts, which never become tickets (README, Ticket rules, 5). Kept apart from listen.ts so the
// configuration can check a query's length without loading the reader.

/** X's limit on a recent search query for self-serve access (x-api/posts/search/integrate/build-a-query.mdx). */
export const X_SEARCH_QUERY_MAX_CHARS = 512;

/** At most this many listening queries per brand: each is at least one request per reconciliation run. */
export const MAX_LISTEN_QUERIES = 10;

/**
 * `(<query>) -is:retweet -from:<handle>`: X's `is:retweet` and `from:` operators (build-a-query.mdx, "Operators"),
 * negated. The brand's query is grouped so an `OR` in it cannot escape the exclusions.
 */
export function listeningSearchQuery(query: string, botUsername: string): string {
  return `(${query}) -is:retweet -from:${botUsername}`;
}

/**
 * The brand's listening queries from X_LISTEN_QUERIES (`;` between queries), or why they do not hold: each must be
 * non-empty and, with the exclusions added, fit X's 512 characters.
 */
export function parseListenQueries(value: string | undefined, botUsername: string): { queries: string[] } | { error: string } {
  const queries = (value ?? '')
    .split(';')
    .map((q) => q.trim())
    .filter((q) => q.length > 0);
  if (queries.length > MAX_LISTEN_QUERIES) return { error: `must hold at most ${MAX_LISTEN_QUERIES} queries (separated by ;)` };
  if (new Set(queries).size !== queries.length) return { error: 'must not repeat a query' };
  const tooLong = queries.find((q) => listeningSearchQuery(q, botUsername).length > X_SEARCH_QUERY_MAX_CHARS);
  if (tooLong !== undefined) {
    const room = X_SEARCH_QUERY_MAX_CHARS - listeningSearchQuery('', botUsername).length;
    return { error: `query "${tooLong.slice(0, 40)}…" is longer than the ${room} characters X's 512 leave once retweets and the account's own posts are excluded` };
  }
  return { queries };
}
