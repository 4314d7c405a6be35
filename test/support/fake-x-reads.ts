// The fake X server's reads of posts by timeline and search (test/support/fake-x-server.ts routes them here):
// GET /2/users/:id/mentions and GET /2/tweets/search/recent, over v2 post objects a test adds (addPost), answered as
// X documents them (x-api/users/get-mentions.mdx, x-api/posts/search/integrate/build-a-query.mdx and paginate.mdx):
// newest first; `since_id` (exclusive) and `start_time`; `max_results` 5–100 (mentions) or 10–100 (search);
// `pagination_token` (search also takes `next_token`); `meta` with newest_id, oldest_id, result_count and next_token;
// `includes` with the authors, the referenced posts and their authors, and the media the post was added with.
// Search understands the part of X's query language the bridge sends (build-a-query.mdx): keywords (a tokenised,
// case-insensitive match), "exact phrases", implicit AND, OR (AND binds tighter), parentheses, negation with `-`,
// and the operators `conversation_id:`, `from:` (handle or id), `is:retweet` and `lang:`; any other operator is
// refused, as are queries over 512 characters, as X does for self-serve access.

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

  /** GET /2/tweets/search/recent. */
  searchRecent(query: Record<string, string>): FakeReadAnswer {
    const q = query.query ?? '';
    if (q.length === 0 || q.length > SEARCH_QUERY_MAX_CHARS) {
      return invalid('query', `The \`query\` param must be between 1 and ${SEARCH_QUERY_MAX_CHARS} characters long.`);
    }
    let matches: Matcher;
    try {
      matches = parseSearchQuery(q, (id) => this.users.get(id));
    } catch (error) {
      return invalid('query', `There were errors processing your request: ${(error as Error).message}`);
    }
    const matching = this.posts.filter(({ post }) => matches(post));
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

type Matcher = (post: FakeV2Post) => boolean;

/** Parses a recent search query into a matcher: OR of ANDs of (negated) terms, with parentheses. Throws on what X refuses. */
function parseSearchQuery(query: string, userOf: (id: string) => Record<string, unknown> | undefined): Matcher {
  const tokens = query.match(/"[^"]*"|\(|\)|-?[^\s()"]+|-(?=["(])/g) ?? [];
  let at = 0;
  const or = (): Matcher => {
    const parts = [and()];
    while (tokens[at] === 'OR') {
      at += 1;
      parts.push(and());
    }
    return (post) => parts.some((p) => p(post));
  };
  const and = (): Matcher => {
    const parts: Matcher[] = [];
    while (at < tokens.length && tokens[at] !== ')' && tokens[at] !== 'OR') parts.push(unary());
    if (parts.length === 0) throw new Error(`expected a term at position ${at}`);
    return (post) => parts.every((p) => p(post));
  };
  const unary = (): Matcher => {
    const token = tokens[at]!;
    if (token === '-') {
      at += 1;
      const inner = primary();
      return (post) => !inner(post);
    }
    if (token.startsWith('-') && token.length > 1) {
      tokens[at] = token.slice(1);
      const inner = primary();
      return (post) => !inner(post);
    }
    return primary();
  };
  const primary = (): Matcher => {
    const token = tokens[at++]!;
    if (token === '(') {
      const inner = or();
      if (tokens[at++] !== ')') throw new Error('unbalanced parentheses');
      return inner;
    }
    if (token.startsWith('"')) return keyword(token.slice(1, -1));
    const operator = /^([a-z_]+):(.+)$/.exec(token);
    if (!operator) return keyword(token);
    const [, name, value] = operator as unknown as [string, string, string];
    switch (name) {
      case 'conversation_id':
        return (post) => String(post.conversation_id) === value;
      case 'from':
        return (post) =>
          post.author_id === value || String(userOf(post.author_id)?.username ?? '').toLowerCase() === value.replace(/^@/, '').toLowerCase();
      case 'is':
        if (value !== 'retweet') throw new Error(`the fake does not know is:${value}`);
        return (post) => ((post.referenced_tweets as { type?: string }[] | undefined) ?? []).some((r) => r.type === 'retweeted');
      case 'lang':
        return (post) => post.lang === value;
      default:
        throw new Error(`Reference to invalid operator '${name}'`);
    }
  };
  const matcher = or();
  if (at !== tokens.length) throw new Error(`unexpected ${tokens[at]} at position ${at}`);
  return matcher;
}

/** X's keyword match: the words in the post's text, as whole words, in any case. */
function keyword(words: string): Matcher {
  const escaped = words.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  const pattern = new RegExp(`(?:^|[^\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'iu');
  return (post) => pattern.test(post.text);
}
