// The helpdesk round trip on real local services and a fake X on loopback: the helpdesk replies through the API,
// the reply worker posts it with twitter-api-v2 exactly once, and the outcome comes back as a signed event.
import { describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createReplyHandler } from '../../functions/reply/handler';
import { loadFunctionHandlers, type HandlerFactories } from '../../infra/local/bridge';
import { createAwsClients } from '../../shared/aws/clients';
import type { Config } from '../../shared/config';
import { xResponses } from '../support/fake-x-server';
import { useReplyHarness } from '../support/reply-harness';
import { BOT, xaaDm, xaaReply } from '../support/x-payloads';

const harness = useReplyHarness('replies-test');
const { helpdesk, x } = harness;
const bridge = (handlers?: HandlerFactories) => harness.bridge(handlers ? { handlers } : {});

const { mentionTicket } = harness;

const { replyEvents } = harness;

describe('replies through the bot', () => {
  it('posts once under the customer post, signed with OAuth 1.0a, and reports reply_posted', async () => {
    const b = await bridge();
    const { ticketId, postId } = await mentionTicket(b, '4000000001');
    const answer = await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Sorry about that, checking now.' });
    expect(answer.status).toBe(202);
    expect(answer.json).toMatchObject({ reply: { status: 'queued', ticketId } });

    const [posted] = await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 15_000).then(() => replyEvents(ticketId));
    expect(posted!.json).toMatchObject({ type: 'ticket.reply_posted', data: { reply: { status: 'posted' } } });
    const posts = x.requestsTo('POST', '/2/tweets');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body).toEqual({ text: 'Sorry about that, checking now.', reply: { in_reply_to_tweet_id: postId } });
    expect(String(posts[0]!.headers.authorization)).toMatch(/^OAuth .*oauth_signature=/);
    const xId = (posted!.json.data as unknown as { reply: { xId: string } }).reply.xId;
    expect(x.posts.map((p) => p.id)).toContain(xId);
  });

  it('the same Idempotency-Key twice posts once and returns the same reply', async () => {
    const b = await bridge();
    const { ticketId } = await mentionTicket(b, '4000000002');
    const headers = { 'idempotency-key': 'agent-42-reply-1' };
    const send = () =>
      fetch(`${b.url}/tickets/${ticketId}/replies`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${b.config.helpdesk.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'One reply only' }),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as { reply: { id: string } } }));
    const [first, second] = await Promise.all([send(), send()]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(first.json.reply.id).toBe(second.json.reply.id);
    await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 15_000);
    const third = await send();
    expect(third.json.reply).toMatchObject({ id: first.json.reply.id, status: 'posted' });
    await b.waitForIdle({ timeoutMs: 10_000 });
    expect(x.requestsTo('POST', '/2/tweets')).toHaveLength(1);
  });

  it('a 429 waits for the reset through the queue, then posts', async () => {
    const b = await bridge();
    const { ticketId } = await mentionTicket(b, '4000000003');
    // The reset is further away than the reply queue's visibility timeout (1 s), and the fake X refuses every post
    // before the reset it announced: a worker that retried on the queue's timing instead of X's would show a third
    // attempt (a second 429).
    const reset = Math.ceil(Date.now() / 1000) + 3;
    x.failNext(1, xResponses.rateLimited({ reset }), { method: 'POST', path: '/2/tweets' });
    await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'After the limit' });
    await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 20_000);
    const attempts = x.requestsTo('POST', '/2/tweets');
    expect(attempts.map((a) => a.at >= reset * 1000)).toEqual([false, true]);
    expect(replyEvents(ticketId).map((e) => e.type)).toEqual(['ticket.reply_posted']);
  });

  it("403 duplicate content: reply_failed with X's reason, one attempt", async () => {
    const b = await bridge();
    const { ticketId } = await mentionTicket(b, '4000000004');
    x.failNext(1, xResponses.duplicateContent(), { method: 'POST', path: '/2/tweets' });
    await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Said before' });
    await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 15_000);
    expect(replyEvents(ticketId)[0]!.json).toMatchObject({
      type: 'ticket.reply_failed',
      data: { reply: { status: 'failed', error: { code: 'duplicate_content', message: expect.stringContaining('duplicate content') } } },
    });
    await b.waitForIdle({ timeoutMs: 10_000 });
    expect(x.requestsTo('POST', '/2/tweets')).toHaveLength(1);
  });

  it('402 credits depleted: reply_failed with credits_depleted, one attempt, no wait for a reset', async () => {
    const b = await bridge();
    const { ticketId } = await mentionTicket(b, '4000000010');
    // Rate-limit headers on the 402 must not make the worker wait and try again: no credit arrives by waiting.
    x.failNext(1, xResponses.creditsDepleted(), { method: 'POST', path: '/2/tweets' });
    await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'No credits left' });
    await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 15_000);
    expect(replyEvents(ticketId)[0]!.json).toMatchObject({
      type: 'ticket.reply_failed',
      data: { reply: { status: 'failed', error: { code: 'credits_depleted', message: expect.stringContaining('credits depleted') } } },
    });
    await b.waitForIdle({ timeoutMs: 10_000 });
    expect(x.requestsTo('POST', '/2/tweets')).toHaveLength(1);
    expect(x.posts).toEqual([]);
  });

  it('a DM ticket answers on the DM endpoint', async () => {
    const b = await bridge();
    const sender = { id: '4000000005', username: 'dm_customer', name: 'DM' };
    await b.postWebhook(xaaDm({ sender }));
    await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === 'dm-4000000005-1'), 15_000);
    await b.api('POST', '/tickets/dm-4000000005-1/replies', { text: 'Thanks, found your order' });
    await helpdesk.waitFor(() => replyEvents('dm-4000000005-1').length > 0, 15_000);
    expect(x.requestsTo('POST', '/2/dm_conversations/with/4000000005/messages')).toHaveLength(1);
    expect(x.requestsTo('POST', '/2/tweets')).toHaveLength(0);
  });

  it('a worker that dies after X accepted the post never posts it again', async () => {
    let killed = 0;
    const real = await loadFunctionHandlers();
    const dying = (config: Config) => {
      // Its own clients: the bridge shares one set between all functions, and only the reply worker dies here.
      const own = createAwsClients(config);
      const handler = createReplyHandler(config, own, { inFlightGraceMs: 500 });
      (own.dynamodb as DynamoDBClient).middlewareStack.add(
        (next, context) => async (args) => {
          // The settle after X's 201 is the reply worker's only transaction: die there, once.
          if (context.commandName === 'TransactWriteItemsCommand' && killed === 0) {
            killed++;
            throw new Error('worker killed after X accepted the post');
          }
          return next(args);
        },
        { step: 'initialize', name: 'killBeforeRecord' },
      );
      return handler;
    };
    const b = await bridge({ ...real, reply: dying });
    const { ticketId } = await mentionTicket(b, '4000000006');
    await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Posted before the crash' });
    await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 20_000);
    expect(killed).toBe(1);
    expect(x.requestsTo('POST', '/2/tweets')).toHaveLength(1);
    expect(x.requestsTo('GET', /^\/2\/users\/\d+\/tweets$/).length).toBeGreaterThanOrEqual(1);
    expect(replyEvents(ticketId).map((e) => e.type)).toEqual(['ticket.reply_posted']);
  });

  it("the bot's own post echoing back through the webhook is the reply, not a new message", async () => {
    const b = await bridge();
    const { ticketId, postId, author } = await mentionTicket(b, '4000000007');
    await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Echo me' });
    await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 15_000);
    const posted = x.posts.at(-1)!;
    // X delivers the bot's reply back to the webhook, with the handle it answers in front.
    await b.postWebhook(xaaReply({ id: posted.id, author: BOT, text: 'Echo me', inReplyTo: { id: postId, user: author } }));
    await b.waitForIdle({ timeoutMs: 10_000 });
    const view = (await b.api('GET', `/tickets/${ticketId}`)).json as { messages: { xId: string; direction: string }[]; ticket: { sequence: number } };
    expect(view.messages.filter((m) => m.direction === 'outbound')).toEqual([expect.objectContaining({ xId: posted.id })]);
    expect(view.ticket.sequence).toBe(2);
  });

  it('refuses text over 280 weighted characters with the measured length', async () => {
    const b = await bridge();
    const { ticketId } = await mentionTicket(b, '4000000008');
    const tooLong = await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'a'.repeat(281) });
    expect(tooLong.status).toBe(422);
    expect(tooLong.json).toMatchObject({ error: { weightedLength: 281, max: 280 } });
    const url = `see https://example.com/${'x'.repeat(300)} `;
    expect((await b.api('POST', `/tickets/${ticketId}/replies`, { text: url + 'a'.repeat(280 - 4 - 23 - 1) })).status).toBe(202);
    expect((await b.api('POST', `/tickets/${ticketId}/replies`, { text: '字'.repeat(141) })).status).toBe(422);
    expect((await b.api('POST', `/tickets/${ticketId}/replies`, { text: '' })).status).toBe(400);
    expect((await b.api('POST', '/tickets/mn-1-1/replies', { text: 'hi' })).status).toBe(404);
  });

  it('PATCH sets the status once and announces it', async () => {
    const b = await bridge();
    const { ticketId } = await mentionTicket(b, '4000000009');
    const solved = await b.api('PATCH', `/tickets/${ticketId}`, { status: 'solved' });
    expect(solved.status).toBe(200);
    expect(solved.json).toMatchObject({ ticket: { status: 'solved', sequence: 2 } });
    expect((await b.api('PATCH', `/tickets/${ticketId}`, { status: 'solved' })).json).toMatchObject({ ticket: { sequence: 2 } });
    expect((await b.api('PATCH', `/tickets/${ticketId}`, { status: 'closed' })).status).toBe(400);
    const events = await helpdesk.waitFor(
      (all) => all.some((e) => e.json.data.ticket?.id === ticketId && e.type === 'ticket.status_changed'),
      15_000,
    );
    expect(events.find((e) => e.type === 'ticket.status_changed')!.json.data).toMatchObject({ previousStatus: 'open' });
  });
});
