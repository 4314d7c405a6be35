// Replies X would refuse never reach X (CONTRACT.md §5): on real local services and the fake X on loopback, a reply
// under a post that does not summon the account, or with two cashtags, is answered 422 with its code and nothing is
// posted; X_REPLY_POLICY=any lets the first through; the DM hand-off link arrives in the post X receives.
import { describe, expect, it } from 'vitest';
import { useReplyHarness } from '../support/reply-harness';
import type { TestBridge } from '../support/test-bridge';
import { BOT, nextXId, xaaMention, xaaReply } from '../support/x-payloads';

const harness = useReplyHarness('replies-preflight-test');
const { helpdesk, x } = harness;
const bridge = (env: Record<string, string> = {}) => harness.bridge({ env });

/** A mention ticket, then the customer's follow-up in their own thread that does not name the account. */
async function ticketWithUnsummonedFollowUp(b: TestBridge, userId: string) {
  const author = { id: userId, username: `user${userId}`, name: 'Customer' };
  const postId = nextXId();
  expect((await b.postWebhook(xaaMention({ id: postId, author }))).status).toBe(200);
  const ticketId = `mn-${userId}-1`;
  await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === ticketId), 15_000);
  const followUpId = nextXId();
  const followUp = xaaReply({ id: followUpId, author, text: 'also the box was open', inReplyTo: { id: postId, user: author } });
  expect((await b.postWebhook(followUp)).status).toBe(200);
  await helpdesk.waitFor(() => helpdesk.delivered.some((e) => e.json.data.ticket?.id === ticketId && e.type === 'ticket.message_added'), 15_000);
  return { ticketId, postId, followUpMessageId: `msg-${followUpId}` };
}

const { replyEvents } = harness;

describe('replies X would refuse are refused before anything is sent', () => {
  it('not_summoned (the default policy) and too_many_cashtags: 422 with the code, nothing posted, nothing queued', async () => {
    const b = await bridge();
    const { ticketId, followUpMessageId } = await ticketWithUnsummonedFollowUp(b, '4100000001');
    const notSummoned = await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Sorry!', inReplyToMessageId: followUpMessageId });
    expect(notSummoned.status).toBe(422);
    expect(notSummoned.json).toMatchObject({ error: { code: 'not_summoned', field: 'inReplyToMessageId' } });
    const cashtags = await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Compare $TSLA with $AAPL' });
    expect(cashtags.status).toBe(422);
    expect(cashtags.json).toMatchObject({ error: { code: 'too_many_cashtags', cashtags: 2, max: 1 } });
    const tooLong = await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'a'.repeat(281) });
    expect(tooLong.json).toMatchObject({ error: { code: 'too_long', weightedLength: 281, max: 280 } });
    await b.waitForIdle({ timeoutMs: 10_000 });
    const view = (await b.api('GET', `/tickets/${ticketId}`)).json as { replies: unknown[] };
    expect(view.replies).toEqual([]);
    expect(x.requestsTo('POST', '/2/tweets')).toHaveLength(0);
  });

  it('X_REPLY_POLICY=any posts under the same post', async () => {
    const b = await bridge({ X_REPLY_POLICY: 'any' });
    const { ticketId, followUpMessageId } = await ticketWithUnsummonedFollowUp(b, '4100000002');
    const answer = await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Sorry!', inReplyToMessageId: followUpMessageId });
    expect(answer.status).toBe(202);
    await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 15_000);
    expect(x.requestsTo('POST', '/2/tweets').map((r) => (r.body as { reply: unknown }).reply)).toEqual([
      { in_reply_to_tweet_id: followUpMessageId.slice(4) },
    ]);
  });

  it("handoff: dm posts the text with X's link to a DM with the account", async () => {
    const b = await bridge();
    const { ticketId, postId } = await ticketWithUnsummonedFollowUp(b, '4100000003');
    const answer = await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Send us your order number by DM', handoff: 'dm' });
    expect(answer.status).toBe(202);
    await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 15_000);
    expect(replyEvents(ticketId).map((e) => e.type)).toEqual(['ticket.reply_posted']);
    expect(x.requestsTo('POST', '/2/tweets').map((r) => r.body)).toEqual([
      {
        text: `Send us your order number by DM\nhttps://x.com/messages/compose?recipient_id=${BOT.id}`,
        reply: { in_reply_to_tweet_id: postId },
      },
    ]);
  });
});
