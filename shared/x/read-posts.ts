// Posts X returned to a read (the mentions timeline, recent search) → inbound items, through the webhook's own X
// Activity API reader (xaa-format.ts): one envelope per post, with the page's `includes`. The envelope's event type is
// the one X's webhook would have used (the item's `via`), since the ticket rules read it: a quote of the account's post
// summons it, a reply to it is a direct reply.
import type { InboundEvent } from './inbound-event';
import { normaliseWebhookBody } from './normalise';

type Bot = { xUserId: string; username: string };

/** The webhook's event type for a post read from X; `otherwise` when it neither quotes nor replies to the account. */
export function webhookEventTypeOf(
  payload: unknown,
  includes: Record<string, unknown>,
  botUserId: string,
  otherwise: 'post.mention.create' | 'post.create',
): string {
  const post = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  const refs = Array.isArray(post.referenced_tweets) ? (post.referenced_tweets as { type?: unknown; id?: unknown }[]) : [];
  const quotedId = refs.find((r) => r.type === 'quoted')?.id;
  const tweets = Array.isArray(includes.tweets) ? (includes.tweets as { id?: unknown; author_id?: unknown }[]) : [];
  if (quotedId !== undefined && tweets.some((t) => t.id === quotedId && t.author_id === botUserId)) return 'post.quote.create';
  if (post.in_reply_to_user_id === botUserId) return 'post.reply.create';
  return otherwise;
}

/** The posts as the webhook would have delivered them, normalised (retweets and unreadable posts dropped). */
export function readPostsAsEvents(
  posts: unknown[],
  includes: Record<string, unknown>,
  bot: Bot,
  receivedAt: string,
  otherwise: 'post.mention.create' | 'post.create',
): InboundEvent[] {
  const body = {
    data: posts.map((payload) => ({
      event_type: webhookEventTypeOf(payload, includes, bot.xUserId, otherwise),
      filter: { user_id: bot.xUserId },
      payload,
      includes,
    })),
  };
  return normaliseWebhookBody(body, { botUserId: bot.xUserId, botUsername: bot.username, receivedAt }).events;
}
