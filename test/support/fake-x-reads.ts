// The fake X server's reads of posts by timeline and search (test/support/fake-x-server.ts routes them here):
// GET /2/users/:id/mentions and GET /2/tweets/search/recent, over v2 post objects a test adds (addPost), answered as
// X documents them (x-api/users/get-mentions.mdx, x-api/posts/search/integrate/build-a-query.mdx and paginate.mdx):
// newest first; `since_id` (exclusive) and `start_time`; `max_results` 5–100 (mentions) or 10–100 (search);
// `pagination_token` (search also takes `next_token`); `meta` with newest_id, oldest_id, result_count and next_token;
// `includes` with the authors, the referenced posts and their authors, and the media the post was added with.
// Search understands `conversation_id:<id>` terms joined by OR, and refuses queries over 512 characters as X does
// for self-serve access.

/** A v2 post as X's data dictionary describes it (id, text, author_id, conversation_id, referenced_tweets, …). */
export type FakeV2Post = Record<string, unknown> & { id: string; text: string; author_id: string; created_at?: string };

export type FakeReadAnswer = { status: number; body?: unknown };

const SEARCH_QUERY_MAX_CHARS = 512;

/** The posts the timeline and search reads find. */
export class FakeXPostReads {
  readonly posts: { post: FakeV2Post; media: Record<string, unknown>[] }[] = [];

  constructor(
    private readonly users: Map<string, Record<string, unknown>>,
    private readonly now: () => number,
  ) {}

  /** Adds a post (any author); `media` are its `includes.media` objects. */
  add(post: FakeV2Post, media: Record<string, unknown>[] = []): void {
    this.posts.push({ post: { created_at: new Date(this.now()).toISOString(), edit_history_tweet_ids: [post.id], ...post }, media });
  }

  clear(): void {
    this.posts.length = 0;
  }

  /** GET /2/users/:id/mentions: posts that mention the user or reply to them. */
  mentions(query: Record<string, string>, userId: string): FakeReadAnswer {
    const mentioning = this.posts.filter(({ post }) => {
      const entities = post.entities as { mentions?: { id?: string }[] } | undefined;
      return post.author_id !== userId && (post.in_reply_to_user_id === userId || (entities?.mentions ?? []).some((m) => m.id === userId));
    });
    return this.page(query, mentioning, 5, query.pagination_token);
  }

  /** GET /2/tweets/search/recent with `conversation_id:` terms. */
  searchRecent(query: Record<string, string>): FakeReadAnswer {
    const q = query.query ?? '';
    if (q.length === 0 || q.length > SEARCH_QUERY_MAX_CHARS) {
      return invalid('query', `The \`query\` param must be between 1 and ${SEARCH_QUERY_MAX_CHARS} characters long.`);
    }
    const terms = q.split(' OR ').map((term) => /^conversation_id:(\d{1,19})$/.exec(term.trim())?.[1]);
    if (terms.some((t) => t === undefined)) return invalid('query', 'The fake understands only conversation_id: terms joined by OR.');
    const ids = new Set(terms);
    const matching = this.posts.filter(({ post }) => ids.has(String(post.conversation_id)));
    return this.page(query, matching, 10, query.next_token ?? query.pagination_token);
  }

  private page(query: Record<string, string>, found: { post: FakeV2Post; media: Record<string, unknown>[] }[], min: number, token: string | undefined): FakeReadAnswer {
    const max = query.max_results === undefined ? 10 : Number(query.max_results);
    if (!Number.isInteger(max) || max < min || max > 100) return invalid('max_results', `max_results must be between ${min} and 100.`);
    const sinceId = query.since_id === undefined ? undefined : BigInt(query.since_id);
    const startTime = query.start_time === undefined ? undefined : Date.parse(query.start_time);
    const newestFirst = found
      .filter(({ post }) => (sinceId === undefined || BigInt(post.id) > sinceId) && (startTime === undefined || Date.parse(String(post.created_at)) >= startTime))
      .sort((a, b) => (BigInt(a.post.id) < BigInt(b.post.id) ? 1 : -1));
    const offset = token === undefined ? 0 : Number.parseInt(token, 36);
    if (!Number.isInteger(offset) || offset < 0) return invalid('pagination_token', 'pagination_token is invalid.');
    const slice = newestFirst.slice(offset, offset + max);
    const meta = {
      result_count: slice.length,
      ...(slice.length ? { newest_id: slice[0]!.post.id, oldest_id: slice.at(-1)!.post.id } : {}),
      ...(offset + max < newestFirst.length ? { next_token: (offset + max).toString(36) } : {}),
    };
    if (slice.length === 0) return { status: 200, body: { meta } };
    const referenced = slice.flatMap(({ post }) =>
      ((post.referenced_tweets as { id: string }[] | undefined) ?? []).flatMap((ref) => {
        const hit = this.posts.find((p) => p.post.id === ref.id);
        return hit ? [hit.post] : [];
      }),
    );
    const authorIds = [...new Set([...slice.map(({ post }) => post.author_id), ...referenced.map((p) => p.author_id)])];
    const users = authorIds.flatMap((id) => {
      const user = this.users.get(id);
      return user ? [user] : [];
    });
    const media = slice.flatMap(({ media: m }) => m);
    const includes = {
      ...(users.length ? { users } : {}),
      ...(referenced.length ? { tweets: referenced } : {}),
      ...(media.length ? { media } : {}),
    };
    return { status: 200, body: { data: slice.map(({ post }) => post), ...(Object.keys(includes).length ? { includes } : {}), meta } };
  }
}

function invalid(parameter: string, message: string): FakeReadAnswer {
  return {
    status: 400,
    body: {
      errors: [{ parameters: { [parameter]: [] }, message }],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.twitter.com/2/problems/invalid-request',
    },
  };
}
