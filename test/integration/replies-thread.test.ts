// Threads through the bot on real local services and the fake X on loopback: `split: true` posts each part once, in
// order, each under the one before, with the reply worker killed after X took part 2; a part X refuses stops the
// thread and says which parts X has.
import { describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createReplyHandler } from '../../functions/reply/handler';
import { loadFunctionHandlers, type HandlerFactories } from '../../infra/local/bridge';
import { createAwsClients } from '../../shared/aws/clients';
import type { Config } from '../../shared/config';
import { xResponses } from '../support/fake-x-server';
import { useReplyHarness } from '../support/reply-harness';

const harness = useReplyHarness('replies-thread-test');
const { helpdesk, x } = harness;
const bridge = (handlers?: HandlerFactories) => harness.bridge(handlers ? { handlers } : {});
/** About 700 characters: three parts. */
const THREE_PARTS = Array.from({ length: 16 }, (_, i) => `Step ${i + 1}: unplug the router, wait ten seconds.`).join(' ');

const { mentionTicket } = harness;

const { replyEvents } = harness;
const postsSent = () => x.requestsTo('POST', '/2/tweets').map((r) => r.body as { text: string; reply: { in_reply_to_tweet_id: string } });

describe('threads', () => {
  it('a 3-part thread is posted once per part, in order, across a worker killed after X took part 2', async () => {
    let killed = 0;
    const real = await loadFunctionHandlers();
    const dying = (config: Config) => {
      const own = createAwsClients(config);
      const handler = createReplyHandler(config, own, { inFlightGraceMs: 500 });
      (own.dynamodb as DynamoDBClient).middlewareStack.add(
        (next, context) => async (args) => {
          // The write that records part 2 (and marks part 3 posting): the worker dies there, once.
          const write = /^(PutItem|TransactWriteItems|UpdateItem)Command$/.test(context.commandName ?? '');
          if (write && killed === 0 && x.requestsTo('POST', '/2/tweets').length === 2) {
            killed++;
            throw new Error('worker killed after X took part 2');
          }
          return next(args);
        },
        { step: 'initialize', name: 'killAfterPart2' },
      );
      return handler;
    };
    const b = await bridge({ ...real, reply: dying });
    const { ticketId, postId } = await mentionTicket(b, '4200000001');
    const answer = await b.api('POST', `/tickets/${ticketId}/replies`, { text: THREE_PARTS, split: true });
    expect(answer.status).toBe(202);
    const parts = (answer.json as { reply: { parts: string[] } }).reply.parts;
    expect(parts.map((p) => p.slice(p.lastIndexOf(' ') + 1))).toEqual(['1/3', '2/3', '3/3']);

    await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 20_000);
    expect(killed).toBe(1);
    // The next worker asked X whether part 2 was there (the bot's timeline) instead of posting it again.
    expect(x.requestsTo('GET', /^\/2\/users\/\d+\/tweets$/).length).toBeGreaterThanOrEqual(1);
    const sent = postsSent();
    expect(sent.map((p) => p.text)).toEqual(parts);
    const ids = x.posts.filter((p) => parts.includes(p.text)).map((p) => p.id);
    expect(sent.map((p) => p.reply.in_reply_to_tweet_id)).toEqual([postId, ids[0], ids[1]]);
    const events = replyEvents(ticketId);
    expect(events.map((e) => e.type)).toEqual(['ticket.reply_posted']);
    expect(events[0]!.json.data).toMatchObject({ reply: { status: 'posted', xId: ids[0], xIds: ids, parts } });
  });

  it('a part X refuses stops the thread: reply_failed with the parts X has', async () => {
    const b = await bridge();
    const { ticketId } = await mentionTicket(b, '4200000002');
    x.failNext(1, xResponses.duplicateContent(), (r) => r.method === 'POST' && r.path === '/2/tweets' && String((r.body as { text?: string }).text).endsWith(' 2/3'));
    await b.api('POST', `/tickets/${ticketId}/replies`, { text: THREE_PARTS, split: true });
    await helpdesk.waitFor(() => replyEvents(ticketId).length > 0, 15_000);
    await b.waitForIdle({ timeoutMs: 10_000 });
    expect(postsSent()).toHaveLength(2);
    const [failed] = replyEvents(ticketId);
    expect(failed!.json).toMatchObject({
      type: 'ticket.reply_failed',
      data: { reply: { status: 'failed', xIds: [x.posts[0]!.id], error: { code: 'duplicate_content', message: expect.stringContaining('part 2 of 3') } } },
    });
  });
});
