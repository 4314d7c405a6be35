// What X would refuse, found before anything is posted: at the API (422 with the code) and again in the reply worker
// against what is stored then (a `ticket.reply_failed` with the code). Pure. The text's checks are in post-text.ts,
// which loads X's counter (twitter-text): the API imports it at the first reply, the reply worker never.
import type { StoredXItem } from '../tickets/ticket-store';
import { accountSummonedBy, type Account, type ReplyPolicy } from './summoned';

/** A reason X would refuse a post, with a stable code naming what to change (README, "Reasons"). */
export type Refusal = { code: string; message: string; field: string; details?: Record<string, unknown> };

/**
 * The post a reply goes under, as stored: deleted on X (`target_deleted`: a tombstone, a redacted message, or nothing
 * stored under its id), or, under the `summoned` policy, one X does not let a self-serve app answer (`not_summoned`).
 */
export function targetRefusal(item: StoredXItem | undefined, policy: ReplyPolicy, account: Account): Refusal | undefined {
  if (!item || item.kind === 'tombstone' || item.message.redacted) {
    return {
      code: 'target_deleted',
      field: 'inReplyToMessageId',
      message: 'the post this reply answers was deleted on X; reply under another post of the ticket or by DM',
    };
  }
  if (policy === 'summoned' && !accountSummonedBy(item.message, account)) {
    return {
      code: 'not_summoned',
      field: 'inReplyToMessageId',
      message:
        `X lets the account reply only under posts that mention or quote @${account.username}, or that it wrote; ` +
        'reply under such a post (inReplyToMessageId), by DM, or ask the customer to mention the account',
    };
  }
  return undefined;
}
