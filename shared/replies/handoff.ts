// The text a reply becomes before it is measured and posted: what the agent typed (NFC, as X counts it), and with the DM
// hand-off X's link that opens a DM with the account on a line of its own. Pure and free of Node's modules: the API
// composes with it, and the local console counts with it, so both count the same text.
import type { Account } from './summoned';

/**
 * X's link that opens a DM with the account (X's "Direct Message deep link": `recipient_id` is the account's numeric
 * id). A link in a post: it counts 23 weighted characters, and X bills a post with a link at its link price.
 */
export function dmHandoffLink(account: Pick<Account, 'xUserId'>): string {
  return `https://x.com/messages/compose?recipient_id=${account.xUserId}`;
}

/** The reply's text as the API records and posts it: `handoff: 'dm'` appends the hand-off link on its own line. */
export function composeReplyText(typed: string, handoff: 'dm' | undefined, account: Pick<Account, 'xUserId'>): string {
  const text = typed.normalize('NFC');
  return handoff === 'dm' ? `${text.trimEnd()}\n${dmHandoffLink(account)}` : text;
}
