// The brand's monthly X spend cap on real local services and the fake X on loopback: with X_MONTHLY_SPEND_CAP_USD
// at three replies' worth, three replies are posted with their cost in ticket.reply_posted and the fourth is refused
// 422 spend_cap with nothing sent; the table holds the month's and the day's spend.
import { describe, expect, it } from 'vitest';
import { dynamoSpendCounter } from '../../shared/aws/dynamo-spend-counter';
import { createAwsClients } from '../../shared/aws/clients';
import { spendPeriods } from '../../shared/replies/spend';
import { useReplyHarness } from '../support/reply-harness';
import { nextXId, xaaMention } from '../support/x-payloads';

const harness = useReplyHarness('replies-spend-test');
const { helpdesk, x } = harness;
const { replyEvents } = harness;

describe('the monthly X spend cap', () => {
  it('three replies at $0.01 fit a $0.03 cap; the fourth is refused with nothing sent', async () => {
    const b = await harness.bridge({ env: { X_MONTHLY_SPEND_CAP_USD: '0.03' } });
    const author = { id: '4300000001', username: 'user4300000001', name: 'Customer' };
    expect((await b.postWebhook(xaaMention({ id: nextXId(), author }))).status).toBe(200);
    const ticketId = 'mn-4300000001-1';
    await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === ticketId), 15_000);

    for (const [i, text] of ['One', 'Two', 'Three'].entries()) {
      expect((await b.api('POST', `/tickets/${ticketId}/replies`, { text })).status).toBe(202);
      await helpdesk.waitFor(() => replyEvents(ticketId).length > i, 15_000);
    }
    expect(replyEvents(ticketId).map((e) => [e.type, (e.json.data as { reply: { cost: number } }).reply.cost])).toEqual([
      ['ticket.reply_posted', 0.01],
      ['ticket.reply_posted', 0.01],
      ['ticket.reply_posted', 0.01],
    ]);
    const fourth = await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Four' });
    expect(fourth.status).toBe(422);
    expect(fourth.json).toMatchObject({ error: { code: 'spend_cap', spentUsd: 0.03, capUsd: 0.03, costUsd: 0.01 } });
    await b.waitForIdle({ timeoutMs: 10_000 });
    expect(x.requestsTo('POST', '/2/tweets').map((r) => (r.body as { text: string }).text)).toEqual(['One', 'Two', 'Three']);

    const clients = createAwsClients(b.config);
    const counter = dynamoSpendCounter(clients.dynamodb, b.config.aws.tableName!, b.config.brand);
    const { month, day } = spendPeriods(new Date());
    expect([await counter.month(month), await counter.day(day)]).toEqual([30_000, 30_000]);
    // What the reply worker asks before posting: the table's conditional add never takes the month past the cap.
    expect(await counter.reserve({ month, day, microUsd: 10_000, capMicroUsd: 30_000 })).toBeUndefined();
    expect(await counter.reserve({ month, day, microUsd: 10_000, capMicroUsd: 40_000 })).toBe(40_000);
    expect(await counter.month(month)).toBe(40_000);
  });
});
