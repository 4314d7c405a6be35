// Secondary adapter: the two reads the reconciler makes on X, the account's mentions timeline
// (`GET /2/users/:id/mentions`) and recent search (`GET /2/tweets/search/recent`), signed as the bot account (X's
// OpenAPI document accepts OAuth 1.0a user context on both). It asks for every field and expansion a complete message
// needs, so the answer's posts read like an X Activity API payload with its `includes`. Call it only through
// shared/x/x-reads.ts (`page`), which budgets and prices it. X's answers are mapped as every X call is (x-client.ts):
// a 429 becomes a RetryableError carrying X's reset.
import { PermanentError } from '../errors';
import { createXReadClient, X_LOOKUP_USER_FIELDS } from './x-read-client';
import type { XCredentials } from './x-answers';

/**
 * What a complete message needs (X's data dictionary, x-api/fundamentals/data-dictionary.mdx): the author and time,
 * the thread (`conversation_id`, x-api/fundamentals/conversation-id.mdx; `in_reply_to_user_id`, `referenced_tweets`),
 * links and mentions (`entities`, `display_text_range`), media, long posts (`note_tweet`), edits and language.
 */
export const X_RECONCILE_TWEET_FIELDS = [
  'author_id',
  'created_at',
  'conversation_id',
  'in_reply_to_user_id',
  'referenced_tweets',
  'entities',
  'attachments',
  'note_tweet',
  'edit_history_tweet_ids',
  'display_text_range',
  // The post's language (BCP 47, `und` when X cannot tell): the brand's language rules read it.
  'lang',
].join(',');
/** Authors, media, and the quoted or replied-to post with its author, in `includes`. */
export const X_RECONCILE_EXPANSIONS = 'author_id,attachments.media_keys,referenced_tweets.id,referenced_tweets.id.author_id';
export const X_RECONCILE_MEDIA_FIELDS = 'media_key,type,url,preview_image_url,alt_text,width,height,duration_ms,variants';

/** One page of posts as X answers a timeline or search: `data` is absent when there is none. */
export type XPostsPage = {
  data?: unknown[];
  includes?: Record<string, unknown>;
  meta?: { newest_id?: string; oldest_id?: string; result_count?: number; next_token?: string };
};

/** The reads the reconciler makes. Both throw RetryableError (429 with `notBefore`, 5xx, network) or PermanentError. */
export type XTimelineReads = {
  /** A page of `GET /2/users/:id/mentions` (max_results 5 to 100), newest first. */
  mentions(input: { userId: string; sinceId?: string; startTime?: string; paginationToken?: string; maxResults: number }): Promise<XPostsPage>;
  /** A page of `GET /2/tweets/search/recent` (query ≤ 512 characters on self-serve, max_results 10 to 100), newest first. */
  searchRecent(input: { query: string; sinceId?: string; startTime?: string; nextToken?: string; maxResults: number }): Promise<XPostsPage>;
};

const NUMERIC_ID = /^\d{1,20}$/;

/** The reconciler's reads as the bot account, at `apiBaseUrl` (a loopback fake in tests). */
export function createXTimelineReads(options: XCredentials & { apiBaseUrl?: string; timeoutMs?: number }): XTimelineReads {
  const client = createXReadClient(options);
  const fields = {
    'tweet.fields': X_RECONCILE_TWEET_FIELDS,
    expansions: X_RECONCILE_EXPANSIONS,
    'user.fields': X_LOOKUP_USER_FIELDS,
    'media.fields': X_RECONCILE_MEDIA_FIELDS,
  };
  const get = async (path: string, query: Record<string, string | number | undefined>): Promise<XPostsPage> => {
    const defined = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
    return (await client.get(path, { ...fields, ...defined })) as XPostsPage;
  };
  return {
    mentions: ({ userId, sinceId, startTime, paginationToken, maxResults }) => {
      if (!NUMERIC_ID.test(userId)) throw new PermanentError('userId must be a numeric X id', 'rejected');
      return get(`users/${userId}/mentions`, { since_id: sinceId, start_time: startTime, pagination_token: paginationToken, max_results: maxResults });
    },
    searchRecent: ({ query, sinceId, startTime, nextToken, maxResults }) =>
      get('tweets/search/recent', { query, since_id: sinceId, start_time: startTime, next_token: nextToken, max_results: maxResults }),
  };
}
