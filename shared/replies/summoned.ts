// Whether X lets a self-serve app reply under a post, decided from the post as the bridge stores it. Pure.
//
// X's rule (changelog, 2026-02-23; see NOTES.md "Prices and rules for posting"): self-serve apps may reply to or quote
// only posts where the author mentioned or quoted the account, or posts the account wrote itself ("You can only reply
// to or quote posts where you are mentioned or are the author."). A reply to one of the account's posts counts as a
// mention: X puts the handles it answers in the reply's `entities.mentions`. Enterprise apps are not bound by it
// (`X_REPLY_POLICY=any`).
import type { Message } from '../tickets/model';

/** X_REPLY_POLICY: `summoned` refuses replies X's self-serve rule would refuse before posting; `any` does not check. */
export type ReplyPolicy = 'summoned' | 'any';

export type Account = { xUserId: string; username: string };

/**
 * True when X lets the account reply under `post`: the account wrote it, the author mentioned the account (ingest's
 * `summonsBot`: a typed mention, a reply to the account's post, a quote of it), or it quotes one of the account's posts.
 * A message stored before `summonsBot` was kept is judged by its text: an `@handle` of the account in it.
 */
export function accountSummonedBy(post: Pick<Message, 'author' | 'summonsBot' | 'quoted' | 'text'>, account: Account): boolean {
  if (post.author.xUserId === account.xUserId) return true;
  if (post.summonsBot === true) return true;
  if (post.quoted?.author?.xUserId === account.xUserId) return true;
  if (post.summonsBot === undefined) {
    const handle = new RegExp(`(?:^|[^A-Za-z0-9_])[@\\uFF20]${account.username}(?![A-Za-z0-9_])`, 'i');
    return handle.test(post.text);
  }
  return false;
}
