// Posts read back from X (reconciliation, listening) become the items X's webhook would have delivered: the event type
// decides whether a post summons the account, so it must be the one X would have sent.
import { describe, expect, it } from 'vitest';
import { readPostsAsEvents, webhookEventTypeOf } from '../../shared/x/read-posts';

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport' };
const RECEIVED_AT = '2026-12-04T10:00:00.000Z';

/** A post in X's v2 shape (GET /2/users/:id/mentions, GET /2/tweets/search/recent: `data[]`). */
function post(id: string, text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, text, author_id: '2244994945', created_at: '2026-12-04T09:59:00.000Z', edit_history_tweet_ids: [id], ...extra };
}
const author = { id: '2244994945', username: 'ana', name: 'Ana' };

describe('webhookEventTypeOf', () => {
  it('calls a reply to the account a direct reply (post.reply.create)', () => {
    const reply = post('1800000000000000001', '@AcmeSupport still broken', {
      in_reply_to_user_id: BOT.xUserId,
      referenced_tweets: [{ type: 'replied_to', id: '1800000000000000000' }],
    });
    expect(webhookEventTypeOf(reply, {}, BOT.xUserId, 'post.mention.create')).toBe('post.reply.create');
  });

  it("calls a quote of the account's own post a quote (post.quote.create)", () => {
    const quote = post('1800000000000000002', 'look at this', { referenced_tweets: [{ type: 'quoted', id: '1800000000000000000' }] });
    const includes = { tweets: [{ id: '1800000000000000000', text: 'We are on it', author_id: BOT.xUserId }] };
    expect(webhookEventTypeOf(quote, includes, BOT.xUserId, 'post.create')).toBe('post.quote.create');
  });

  it("falls back for a quote of someone else's post, a reply to someone else, or a plain mention", () => {
    const quoteOfOther = post('1800000000000000003', 'so true @AcmeSupport', { referenced_tweets: [{ type: 'quoted', id: '1700000000000000000' }] });
    const includes = { tweets: [{ id: '1700000000000000000', text: 'meh', author_id: '42' }] };
    expect(webhookEventTypeOf(quoteOfOther, includes, BOT.xUserId, 'post.mention.create')).toBe('post.mention.create');
    const replyToOther = post('1800000000000000004', '@bob @AcmeSupport same', { in_reply_to_user_id: '42' });
    expect(webhookEventTypeOf(replyToOther, {}, BOT.xUserId, 'post.create')).toBe('post.create');
    expect(webhookEventTypeOf(post('1800000000000000005', '@AcmeSupport hi'), {}, BOT.xUserId, 'post.mention.create')).toBe('post.mention.create');
  });

  it('reads a body that is not an object as the fallback instead of throwing', () => {
    expect(webhookEventTypeOf(null, {}, BOT.xUserId, 'post.create')).toBe('post.create');
    expect(webhookEventTypeOf('x', { tweets: 'no' }, BOT.xUserId, 'post.mention.create')).toBe('post.mention.create');
  });
});

describe('readPostsAsEvents', () => {
  it("normalises each post with the page's includes, named, with the webhook's event type as via", () => {
    const events = readPostsAsEvents(
      [
        post('1800000000000000006', '@AcmeSupport my order is late'),
        post('1800000000000000007', '@AcmeSupport still late', { in_reply_to_user_id: BOT.xUserId }),
      ],
      { users: [author] },
      BOT,
      RECEIVED_AT,
      'post.mention.create',
    );
    expect(events.map((e) => [e.kind, e.xId, e.via, e.receivedAt])).toEqual([
      ['post', '1800000000000000006', 'post.mention.create', RECEIVED_AT],
      ['post', '1800000000000000007', 'post.reply.create', RECEIVED_AT],
    ]);
    expect(events.every((e) => e.kind === 'post' && e.author.username === 'ana')).toBe(true);
  });
});
