// The set-up every reply test file shares: a signature-checking helpdesk receiver and the fake X on loopback, started
// once per file and reset after each test, and local bridges wired to both with the bot's OAuth 1.0a credentials (the
// fake X checks them) and a reply queue that hands a message back after a second.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { HandlerFactories } from '../../infra/local/bridge';
import { FakeXServer } from './fake-x-server';
import { createHelpdeskReceiver, type HelpdeskReceiver } from './helpdesk-receiver';
import { startTestBridge, type TestBridge } from './test-bridge';
import { BOT, nextXId, xaaMention, type XUserRef } from './x-payloads';

export const REPLY_TEST_CREDENTIALS = {
  consumerKey: 'test-consumer-key',
  consumerSecret: 'test-consumer-secret',
  accessToken: `${BOT.id}-test-access-token`,
  accessTokenSecret: 'test-access-token-secret',
};

export type ReplyHarness = {
  helpdesk: HelpdeskReceiver;
  x: FakeXServer;
  /** A started bridge (stopped after the test), with `env` on top of the harness's settings. */
  bridge(options?: { env?: Record<string, string>; handlers?: HandlerFactories }): Promise<TestBridge>;
  /** A customer's mention that opened a ticket the helpdesk has heard of. */
  mentionTicket(b: TestBridge, userId: string): Promise<{ ticketId: string; postId: string; author: XUserRef }>;
  /** The reply events the helpdesk accepted for a ticket, in order. */
  replyEvents(ticketId: string): HelpdeskReceiver['delivered'];
};

/** Registers the file's hooks; `name` makes the helpdesk secret this file's own. */
export function useReplyHarness(name: string): ReplyHarness {
  const secret = `whsec_${Buffer.from(name.padEnd(32, '!').slice(0, 32)).toString('base64')}`;
  const helpdesk = createHelpdeskReceiver(secret);
  const x = new FakeXServer({ credentials: REPLY_TEST_CREDENTIALS });
  const bridges: TestBridge[] = [];
  beforeAll(async () => {
    await helpdesk.start();
    await x.start();
  });
  afterAll(async () => {
    await helpdesk.stop();
    await x.stop();
  });
  afterEach(async () => {
    await Promise.all(bridges.splice(0).map((b) => b.stop()));
    helpdesk.reset();
    x.reset();
  });
  return {
    helpdesk,
    x,
    async bridge({ env = {}, handlers } = {}) {
      const b = await startTestBridge({
        env: {
          HELPDESK_WEBHOOK_URL: helpdesk.url,
          HELPDESK_WEBHOOK_SECRET: secret,
          X_API_BASE_URL: x.url,
          X_API_KEY: REPLY_TEST_CREDENTIALS.consumerKey,
          X_API_SECRET: REPLY_TEST_CREDENTIALS.consumerSecret,
          X_ACCESS_TOKEN: REPLY_TEST_CREDENTIALS.accessToken,
          X_ACCESS_TOKEN_SECRET: REPLY_TEST_CREDENTIALS.accessTokenSecret,
          ...env,
        },
        queueSpecs: { reply: { visibilityTimeoutSeconds: 1 } },
        ...(handlers ? { handlers } : {}),
      });
      bridges.push(b);
      return b;
    },
    async mentionTicket(b, userId) {
      const author = { id: userId, username: `user${userId}`, name: 'Customer' };
      const postId = nextXId();
      expect((await b.postWebhook(xaaMention({ id: postId, author }))).status).toBe(200);
      const ticketId = `mn-${userId}-1`;
      await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === ticketId), 15_000);
      return { ticketId, postId, author };
    },
    replyEvents: (ticketId) => helpdesk.delivered.filter((e) => e.json.data.ticket?.id === ticketId && e.type.startsWith('ticket.reply_')),
  };
}
