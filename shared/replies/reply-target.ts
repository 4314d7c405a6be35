// Where a reply goes on X (contract §5), decided when the helpdesk asks for it. Pure.
import { ValidationError } from '../errors';
import type { Message, Ticket } from '../tickets/model';
import type { StoredReply } from '../tickets/ticket-store';

/**
 * DM tickets answer in the customer's DM conversation. Mention tickets reply under the named message's post, or by
 * default under the latest inbound post that summoned the bot: X lets self-serve apps reply only where the author
 * mentioned, replied to or quoted the bot. Without such a post the latest inbound post is the target, which the
 * preflight (preflight.ts) refuses as `not_summoned` under X_REPLY_POLICY=summoned.
 */
export function replyTarget(ticket: Ticket, messages: Message[], inReplyToMessageId?: string): StoredReply['target'] {
  if (ticket.channel === 'dm') return { kind: 'dm', participantXUserId: ticket.customer.xUserId };
  if (inReplyToMessageId !== undefined) {
    const named = messages.find((m) => m.id === inReplyToMessageId);
    if (!named) throw new ValidationError(`message ${inReplyToMessageId} is not in ticket ${ticket.id}`, 'inReplyToMessageId');
    // A deleted post is refused by the preflight (422 target_deleted), like one deleted while the reply waits.
    return { kind: 'post', inReplyToXId: named.xId };
  }
  const inbound = messages
    .filter((m) => m.direction === 'inbound' && !m.redacted)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const target = inbound.find((m) => m.summonsBot) ?? inbound[0];
  if (!target) throw new ValidationError(`ticket ${ticket.id} has no customer post to reply to`, 'inReplyToMessageId');
  return { kind: 'post', inReplyToXId: target.xId };
}

/** The limit X puts on a reply's text: 280 weighted characters for a post, 10,000 characters for a DM. */
export const DM_MAX_CHARACTERS = 10_000;

/** Compares an echoed text with the requested one, ignoring what X rewrites (links become t.co, spacing). */
export function sameReplyText(requested: string, echoed: string): boolean {
  const canonical = (s: string) =>
    s
      .normalize('NFC')
      .replace(/https?:\/\/\S+/g, 'URL')
      // X puts the handles a reply answers in front of its text; they are not part of what the agent wrote.
      .replace(/^(?:\s*@\w{1,15})+\s*/, '')
      .replace(/\s+/g, ' ')
      .trim();
  return canonical(requested) === canonical(echoed);
}
