// The X adapter against a fake X API on loopback, through the real twitter-api-v2 client: what the reply worker sees
// for every answer X can give (contract §5: 429 waits for the reset, 5xx and network errors retry, refusals do not).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, PermanentError, RetryableError } from '../../shared/errors';
import {
  createXOpsClient,
  createXPoster,
  createReplyPoster,
  createXReplyPoster,
  DryRunPoster,
  isDryRunXId,
  type XPoster,
} from '../../shared/x/x-client';
import { FakeXServer, xProblems, xResponses, type FakeXServerOptions } from '../support/fake-x-server';

const creds = {
  consumerKey: 'test-consumer-key',
  consumerSecret: 'test-consumer-secret',
  accessToken: '1602999888777666555-testAccessToken',
  accessTokenSecret: 'test-access-token-secret',
};
const posterCreds = {
  apiKey: creds.consumerKey,
  apiSecret: creds.consumerSecret,
  accessToken: creds.accessToken,
  accessTokenSecret: creds.accessTokenSecret,
};
const SECRETS = Object.values(posterCreds);
const TIMEOUT_MS = 400;
const START = Date.UTC(2026, 10, 16, 12, 0, 0);

let clock = START;
const fakes: FakeXServer[] = [];

async function startFake(options: FakeXServerOptions = {}): Promise<FakeXServer> {
  const fake = new FakeXServer({ credentials: creds, now: () => clock, ...options });
  await fake.start();
  fakes.push(fake);
  return fake;
}

afterAll(async () => {
  await Promise.all(fakes.map((f) => f.stop()));
});

/** Runs `work`, expecting it to throw, and returns what it threw. */
async function failure(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, got success');
}

async function permanent(work: () => Promise<unknown>): Promise<PermanentError> {
  const error = await failure(work);
  expect(error).toBeInstanceOf(PermanentError);
  const message = (error as Error).message;
  for (const secret of SECRETS) expect(message).not.toContain(secret);
  return error as PermanentError;
}

async function retryable(work: () => Promise<unknown>): Promise<RetryableError> {
  const error = await failure(work);
  expect(error).toBeInstanceOf(RetryableError);
  for (const secret of SECRETS) expect((error as Error).message).not.toContain(secret);
  return error as RetryableError;
}

const reply = (text = 'Sorry about that! We are on it.') => ({ text, inReplyToXId: '1990000000000000001' });
const dm = (text = 'Hi! Could you send us your order number?') => ({ participantXUserId: '1357924680', text });

describe('createXPoster against the fake X API', () => {
  let fake: FakeXServer;
  let poster: XPoster;

  beforeAll(async () => {
    fake = await startFake({ dmClosedUserIds: ['1111111111'] });
    poster = createXPoster({ ...posterCreds, apiBaseUrl: fake.url, timeoutMs: TIMEOUT_MS });
  });
  beforeEach(() => {
    clock = START;
    fake.reset();
  });

  describe('success', () => {
    it('posts a public reply to the given post and answers with the new post id (a string above 2^53)', async () => {
      const { xId } = await poster.postReply(reply('Hello from the bridge 👋'));

      expect(fake.posts).toEqual([expect.objectContaining({ id: xId, text: 'Hello from the bridge 👋', inReplyToTweetId: '1990000000000000001' })]);
      expect(BigInt(xId) > 2n ** 53n).toBe(true);
      const [request] = fake.requestsTo('POST', '/2/tweets');
      expect(request?.body).toEqual({ text: 'Hello from the bridge 👋', reply: { in_reply_to_tweet_id: '1990000000000000001' } });
    });

    it('signs with OAuth 1.0a user context over the URL it actually requested (the fake verifies the signature)', async () => {
      await poster.postReply(reply());

      const authorization = String(fake.requests[0]?.headers.authorization);
      expect(authorization).toMatch(/^OAuth /);
      expect(authorization).toContain(`oauth_consumer_key="${creds.consumerKey}"`);
      expect(authorization).toContain('oauth_token="1602999888777666555-testAccessToken"');
      expect(authorization).toMatch(/oauth_signature="[^"]+"/);
      expect(authorization).toContain('oauth_signature_method="HMAC-SHA1"');
    });

    it('honours apiBaseUrl (with a trailing slash too): every request reaches the fake, none goes to api.x.com', async () => {
      const slashed = createXPoster({ ...posterCreds, apiBaseUrl: fake.url + '/', timeoutMs: TIMEOUT_MS });
      await slashed.postReply(reply('one'));
      await slashed.sendDm(dm('two'));

      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /2/tweets',
        'POST /2/dm_conversations/with/1357924680/messages',
      ]);
    });

    it('sends a DM and answers with the dm_event_id', async () => {
      const { xId } = await poster.sendDm(dm());

      expect(fake.dms).toEqual([
        expect.objectContaining({
          dmEventId: xId,
          participantId: '1357924680',
          senderId: '1602999888777666555',
          dmConversationId: '1357924680-1602999888777666555',
        }),
      ]);
      expect(fake.requests[0]?.body).toEqual({ text: dm().text });
    });

    it('refuses a non-numeric id before anything reaches X', async () => {
      const error = await permanent(() => poster.postReply({ text: 'x', inReplyToXId: '../users/1' }));
      expect(error.code).toBe('rejected');
      await permanent(() => poster.sendDm({ participantXUserId: '1/../2', text: 'x' }));
      expect(fake.requests).toHaveLength(0);
    });

    it('throws ConfigError for a base URL that is not http(s)', () => {
      expect(() => createXPoster({ ...posterCreds, apiBaseUrl: 'ftp://example.com' })).toThrow(ConfigError);
      expect(() => createXPoster({ ...posterCreds, apiBaseUrl: 'not a url' })).toThrow(ConfigError);
    });
  });

  describe('permanent refusals carry X’s own detail and a stable code', () => {
    it('duplicate content: the same text posted twice', async () => {
      await poster.postReply(reply('Thanks, fixed!'));
      const error = await permanent(() => poster.postReply(reply('Thanks, fixed!')));
      expect(error).toMatchObject({ code: 'duplicate_content', message: xProblems.duplicate.detail });
    });

    it('not summoned: the author never mentioned the bot', async () => {
      fake.failNext(1, xResponses.notSummoned());
      const error = await permanent(() => poster.postReply(reply()));
      expect(error).toMatchObject({ code: 'not_summoned', message: xProblems.notSummoned.detail });
    });

    it('not summoned, in X’s newer wording: only posts where the bot is mentioned or the author', async () => {
      fake.failNext(1, xResponses.notSummonedAuthorOnly());
      const error = await permanent(() => poster.postReply(reply()));
      expect(error).toMatchObject({
        code: 'not_summoned',
        message: 'You can only reply to or quote posts where you are mentioned or are the author.',
      });
      expect(fake.requestsTo('POST', '/2/tweets')).toHaveLength(1);
    });

    it('target deleted: the post replied to is deleted or not visible to the bot (403, and 400 on the parameter)', async () => {
      fake.failNext(1, xResponses.targetDeleted());
      const error = await permanent(() => poster.postReply(reply()));
      expect(error).toMatchObject({ code: 'target_deleted', message: xProblems.targetDeleted.detail });

      fake.failNext(1, {
        status: 400,
        body: {
          errors: [{ parameters: { 'reply.in_reply_to_tweet_id': ['1990000000000000001'] }, message: 'The post you are replying to is deleted or not visible to you.' }],
          title: 'Invalid Request',
          detail: 'One or more parameters to your request was invalid.',
          type: 'https://api.x.com/2/problems/invalid-request',
        },
      });
      expect((await permanent(() => poster.postReply(reply()))).code).toBe('target_deleted');
    });

    it('credits depleted: a 402 is permanent, on a post and on a DM, whatever rate-limit headers it carries', async () => {
      const reset = Math.floor(START / 1000) + 900;
      fake.failNext(1, { status: 402, body: xProblems.creditsDepleted, headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) } });
      const error = await permanent(() => poster.postReply(reply()));
      expect(error).toMatchObject({ code: 'credits_depleted', message: 'credits depleted' });
      fake.failNext(1, xResponses.creditsDepleted());
      expect((await permanent(() => poster.sendDm(dm()))).code).toBe('credits_depleted');
    });

    it('reply restricted: the author limited who can reply', async () => {
      fake.failNext(1, xResponses.replyRestricted());
      const error = await permanent(() => poster.postReply(reply()));
      expect(error).toMatchObject({ code: 'reply_restricted', message: xProblems.replyRestricted.detail });
    });

    it('too long: X counts 281 weighted characters', async () => {
      const error = await permanent(() => poster.postReply(reply('a'.repeat(281))));
      expect(error).toMatchObject({ code: 'too_long', message: xProblems.tooLong.detail });
    });

    it('too long also when X says it with a 403', async () => {
      fake.failNext(1, { status: 403, body: { ...xProblems.tooLong, status: 403, title: 'Forbidden' } });
      expect((await permanent(() => poster.postReply(reply()))).code).toBe('too_long');
    });

    it('DM closed: the customer does not take DMs from the bot', async () => {
      const error = await permanent(() => poster.sendDm({ participantXUserId: '1111111111', text: 'Hello' }));
      expect(error).toMatchObject({ code: 'dm_closed', message: xProblems.dmClosed.detail });
    });

    it('DM closed for any other 403 on the DM endpoint, with X’s wording kept', async () => {
      const body = { title: 'Forbidden', detail: 'You are not permitted to send this message.', type: 'about:blank', status: 403 };
      fake.failNext(1, { status: 403, body });
      const error = await permanent(() => poster.sendDm(dm()));
      expect(error).toMatchObject({ code: 'dm_closed', message: body.detail });
    });

    it('usage capped: X’s monthly cap answers 429 with the usage-capped type, which no wait fixes', async () => {
      fake.failNext(1, xResponses.usageCapped());
      const error = await permanent(() => poster.postReply(reply()));
      expect(error).toMatchObject({ code: 'usage_capped', message: 'Usage cap exceeded: Monthly product cap' });
    });

    it('usage capped is not a rate limit: a 429 UsageCapExceeded with a reset header is still permanent', async () => {
      const reset = Math.floor(START / 1000) + 900;
      fake.failNext(1, { status: 429, body: xProblems.usageCapped, headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) } });
      expect((await permanent(() => poster.postReply(reply()))).code).toBe('usage_capped');
      // Known by its title too, should X leave the type out.
      const { type: _type, ...untyped } = xProblems.usageCapped;
      fake.failNext(1, { status: 429, body: untyped });
      expect((await permanent(() => poster.postReply(reply()))).code).toBe('usage_capped');
    });

    it('usage capped whatever the host in the problem type (X still answers api.twitter.com types)', async () => {
      fake.failNext(1, { status: 403, body: { ...xProblems.usageCapped, type: 'https://api.twitter.com/2/problems/usage-capped' } });
      expect((await permanent(() => poster.postReply(reply()))).code).toBe('usage_capped');
    });

    it('unauthorized: credentials X does not accept (the fake checks the signature)', async () => {
      const wrong = createXPoster({ ...posterCreds, accessTokenSecret: 'not-the-secret', apiBaseUrl: fake.url, timeoutMs: TIMEOUT_MS });
      const error = await permanent(() => wrong.postReply(reply()));
      expect(error).toMatchObject({ code: 'unauthorized', message: 'Unauthorized' });
      expect(fake.posts).toHaveLength(0);
    });

    it('unauthorized: an app without write or DM permission (403 oauth1-permissions) needs ops, not a DM-closed label', async () => {
      const body = {
        title: 'Forbidden',
        status: 403,
        detail: 'Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.',
        type: 'https://api.twitter.com/2/problems/oauth1-permissions',
      };
      fake.failNext(1, { status: 403, body });
      const error = await permanent(() => poster.sendDm(dm()));
      expect(error).toMatchObject({ code: 'unauthorized', message: body.detail });
    });

    it('rejected: any other 4xx, with X’s detail and its per-parameter messages', async () => {
      fake.failNext(1, {
        status: 400,
        body: {
          errors: [{ parameters: { 'reply.exclude_reply_user_ids': ['12'] }, message: 'The `reply.exclude_reply_user_ids` value [12] is not valid.' }],
          title: 'Invalid Request',
          detail: 'One or more parameters to your request was invalid.',
          type: 'https://api.x.com/2/problems/invalid-request',
        },
      });
      const error = await permanent(() => poster.postReply(reply()));
      expect(error.code).toBe('rejected');
      expect(error.message).toBe(
        'One or more parameters to your request was invalid. — The `reply.exclude_reply_user_ids` value [12] is not valid.',
      );
    });

    it('rejected with the status when X gives no body', async () => {
      fake.failNext(1, { status: 404 });
      const error = await permanent(() => poster.postReply(reply()));
      expect(error).toMatchObject({ code: 'rejected', message: 'X answered HTTP 404' });
    });

    it('never echoes a token, even when X’s text happens to contain one', async () => {
      fake.failNext(1, { status: 400, body: { title: 'Bad Request', detail: `bad token ${creds.accessToken}`, type: 'about:blank', status: 400 } });
      const error = await permanent(() => poster.postReply(reply()));
      expect(error.message).toBe('bad token [redacted]');
    });
  });

  describe('rate limits: 429 waits for the reset X names', () => {
    it('notBefore is x-rate-limit-reset in ms', async () => {
      const reset = Math.floor(START / 1000) + 600;
      fake.failNext(1, xResponses.rateLimited({ reset }));
      const error = await retryable(() => poster.postReply(reply()));
      expect(error.notBefore).toBe(reset * 1000);
    });

    it('the 24-hour window wins when it is the exhausted one', async () => {
      const reset = Math.floor(START / 1000) + 600;
      const dailyReset = Math.floor(START / 1000) + 20 * 3600;
      fake.failNext(1, xResponses.rateLimited({ reset, dailyReset }));
      expect((await retryable(() => poster.sendDm(dm()))).notBefore).toBe(dailyReset * 1000);
    });

    it('the app-wide 24-hour window counts too', async () => {
      const reset = Math.floor(START / 1000) + 600;
      fake.failNext(1, {
        status: 429,
        body: xProblems.tooManyRequests,
        headers: {
          'x-rate-limit-limit': '100',
          'x-rate-limit-remaining': '57',
          'x-rate-limit-reset': String(reset),
          'x-app-limit-24hour-limit': '10000',
          'x-app-limit-24hour-remaining': '0',
          'x-app-limit-24hour-reset': String(reset + 7200),
        },
      });
      expect((await retryable(() => poster.postReply(reply()))).notBefore).toBe((reset + 7200) * 1000);
    });

    it('a later but unexhausted 24-hour reset does not delay the retry', async () => {
      const reset = Math.floor(START / 1000) + 600;
      fake.failNext(1, {
        status: 429,
        body: xProblems.tooManyRequests,
        headers: {
          'x-rate-limit-limit': '100',
          'x-rate-limit-remaining': '0',
          'x-rate-limit-reset': String(reset),
          'x-user-limit-24hour-limit': '2400',
          'x-user-limit-24hour-remaining': '1200',
          'x-user-limit-24hour-reset': String(reset + 50_000),
        },
      });
      expect((await retryable(() => poster.postReply(reply()))).notBefore).toBe(reset * 1000);
    });

    it('no notBefore when X sends no reset header', async () => {
      fake.failNext(1, { status: 429, body: xProblems.tooManyRequests, headers: { 'x-rate-limit-limit': '', 'x-rate-limit-reset': '' } });
      expect((await retryable(() => poster.postReply(reply()))).notBefore).toBeUndefined();
    });
  });

  describe('transient failures are retryable, without a notBefore', () => {
    it('503', async () => {
      fake.failNext(1, xResponses.serviceUnavailable());
      const error = await retryable(() => poster.postReply(reply()));
      expect(error.notBefore).toBeUndefined();
      expect(error.message).toContain('503');
    });

    it('500 with no body', async () => {
      fake.failNext(1, { status: 500 });
      await retryable(() => poster.sendDm(dm()));
    });

    it('a hang: given up within timeoutMs', async () => {
      fake.failNext(1, xResponses.hang());
      // The fake never answers: only the client's own timeout can end the call (the test's timeout guards a hang).
      const error = await retryable(() => poster.postReply(reply()));
      expect(error.message).toMatch(/time|abort/i);
    });

    it('a connection reset before any answer', async () => {
      fake.failNext(1, xResponses.connectionReset());
      await retryable(() => poster.postReply(reply()));
    });

    it('a 201 without the id (the post may exist: not a refusal)', async () => {
      fake.failNext(1, { status: 201, body: { data: { text: 'x' } } });
      await retryable(() => poster.postReply(reply()));
    });

    it('the next call after a transient failure goes through', async () => {
      fake.failNext(1, xResponses.serviceUnavailable());
      await retryable(() => poster.postReply(reply()));
      await expect(poster.postReply(reply())).resolves.toEqual({ xId: expect.stringMatching(/^\d+$/) });
      expect(fake.requestsTo('POST', '/2/tweets')).toHaveLength(2);
    });
  });
});

describe('createXReplyPoster.findPosted: settling a reply whose attempt got no answer', () => {
  let fake: FakeXServer;
  let poster: ReturnType<typeof createXReplyPoster>;
  const botUserId = '1602999888777666555';
  const post = { kind: 'post', inReplyToXId: '1990000000000000001' } as const;

  beforeAll(async () => {
    fake = await startFake();
    poster = createXReplyPoster({ ...posterCreds, botUserId, apiBaseUrl: fake.url, timeoutMs: TIMEOUT_MS });
  });
  beforeEach(() => {
    clock = START;
    fake.reset();
  });

  it('finds the bot’s reply to the post, though X escaped its text and shortened its link', async () => {
    const text = 'Fixed <3 & shipped: https://status.example.com/incidents/42?ref=support';
    const { xId } = await poster.postReply({ text, inReplyToXId: post.inReplyToXId });
    expect(fake.posts[0]?.text).toBe(text);

    const since = new Date(START).toISOString();
    await expect(poster.findPosted({ target: post, text, since })).resolves.toEqual({ xId });
    const [lookup] = fake.requestsTo('GET', `/2/users/${botUserId}/tweets`);
    expect(lookup?.query.start_time).toBe('2026-11-16T11:59:59Z');
  });

  it('does not mistake another reply to the same post, or the same text to another post, for it', async () => {
    await poster.postReply({ text: 'First answer', inReplyToXId: post.inReplyToXId });
    await poster.postReply({ text: 'Second answer', inReplyToXId: '1990000000000000999' });
    const since = new Date(START).toISOString();

    await expect(poster.findPosted({ target: post, text: 'Second answer', since })).resolves.toBeUndefined();
    await expect(poster.findPosted({ target: post, text: 'Never sent', since })).resolves.toBeUndefined();
  });

  it('ignores posts from before `since`', async () => {
    await poster.postReply({ text: 'Old answer', inReplyToXId: post.inReplyToXId });
    clock = START + 60_000;
    const since = new Date(START + 30_000).toISOString();
    await expect(poster.findPosted({ target: post, text: 'Old answer', since })).resolves.toBeUndefined();
  });

  it('follows X’s pagination', async () => {
    await poster.postReply({ text: 'The one', inReplyToXId: post.inReplyToXId });
    for (let i = 0; i < 120; i += 1) {
      // Past X's 100 posts per 15 minutes, a new window.
      if (i === 90) clock += 15 * 60_000;
      await poster.postReply({ text: `filler ${i}`, inReplyToXId: '1990000000000000999' });
    }
    const found = await poster.findPosted({ target: post, text: 'The one', since: new Date(START).toISOString() });
    expect(found).toEqual({ xId: fake.posts[0]?.id });
    expect(fake.requestsTo('GET', `/2/users/${botUserId}/tweets`)).toHaveLength(2);
  });

  it('finds the bot’s DM in the conversation, not the customer’s message with the same text', async () => {
    const target = { kind: 'dm', participantXUserId: '1357924680' } as const;
    const { xId } = await poster.sendDm({ participantXUserId: target.participantXUserId, text: 'Your order ships today.' });
    const since = new Date(START).toISOString();

    await expect(poster.findPosted({ target, text: 'Your order ships today.', since })).resolves.toEqual({ xId });
    await expect(poster.findPosted({ target, text: 'Something else', since })).resolves.toBeUndefined();
  });

  it('fails like a post would when X cannot answer', async () => {
    fake.failNext(1, xResponses.serviceUnavailable());
    await retryable(() => poster.findPosted({ target: post, text: 'x', since: new Date(START).toISOString() }));
  });
});

describe('createXPoster: refused connection', () => {
  it('is retryable', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const poster = createXPoster({ ...posterCreds, apiBaseUrl: `http://127.0.0.1:${port}`, timeoutMs: TIMEOUT_MS });
    const error = await retryable(() => poster.postReply(reply()));
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('the fake’s own rate limits, seen through the client', () => {
  it('the third post in a 2-per-15-min window waits for that window’s reset', async () => {
    clock = START;
    const fake = await startFake({ limits: { postsPer15Min: 2 } });
    const poster = createXPoster({ ...posterCreds, apiBaseUrl: fake.url, timeoutMs: TIMEOUT_MS });
    await poster.postReply(reply('one'));
    await poster.postReply(reply('two'));
    const error = await retryable(() => poster.postReply(reply('three')));
    expect(error.notBefore).toBe(START + 15 * 60_000);
    expect(fake.posts).toHaveLength(2);

    clock = START + 15 * 60_000;
    await expect(poster.postReply(reply('three'))).resolves.toBeDefined();
  });

  it('a DM over the 24-hour limit waits for the 24-hour reset, though the 15-minute window has room', async () => {
    clock = START;
    const fake = await startFake({ limits: { dmsPer24Hours: 1 } });
    const poster = createXPoster({ ...posterCreds, apiBaseUrl: fake.url, timeoutMs: TIMEOUT_MS });
    await poster.sendDm(dm('one'));
    const error = await retryable(() => poster.sendDm(dm('two')));
    expect(error.notBefore).toBe(START + 24 * 3600_000);
  });
});

describe('a 429 announces a window the fake holds the client to', () => {
  it('a retry before the announced reset is refused again; at the reset it posts', async () => {
    clock = START;
    const fake = await startFake();
    const poster = createXPoster({ ...posterCreds, apiBaseUrl: fake.url, timeoutMs: TIMEOUT_MS });
    const reset = Math.floor(START / 1000) + 120;
    fake.failNext(1, xResponses.rateLimited({ reset }), { method: 'POST', path: '/2/tweets' });
    expect((await retryable(() => poster.postReply(reply('first')))).notBefore).toBe(reset * 1000);

    clock = reset * 1000 - 1;
    expect((await retryable(() => poster.postReply(reply('early')))).notBefore).toBe(reset * 1000);
    expect(fake.posts).toHaveLength(0);

    clock = reset * 1000;
    await expect(poster.postReply(reply('on time'))).resolves.toBeDefined();
    expect(fake.posts.map((p) => p.text)).toEqual(['on time']);
  });

  it("the user's exhausted 24-hour window holds DMs until its own reset", async () => {
    clock = START;
    const fake = await startFake();
    const poster = createXPoster({ ...posterCreds, apiBaseUrl: fake.url, timeoutMs: TIMEOUT_MS });
    const dailyReset = Math.floor(START / 1000) + 20 * 3600;
    fake.failNext(1, xResponses.rateLimited({ reset: Math.floor(START / 1000) + 600, dailyReset }), { method: 'POST' });
    await retryable(() => poster.sendDm(dm('first')));
    clock = START + 3600_000;
    expect((await retryable(() => poster.sendDm(dm('an hour later')))).notBefore).toBe(dailyReset * 1000);
    clock = dailyReset * 1000;
    await expect(poster.sendDm(dm('next day'))).resolves.toBeDefined();
  });
});

describe('the fake X server itself', () => {
  let fake: FakeXServer;
  beforeAll(async () => {
    fake = await startFake();
  });

  it('keeps its problem bodies identical to the shared X fixture', () => {
    const fixture = JSON.parse(readFileSync(new URL('../fixtures/x/x-api-responses.json', import.meta.url), 'utf8')) as Record<
      string,
      { body: unknown }
    >;
    expect(xProblems.duplicate).toEqual(fixture['POST /2/tweets 403 duplicate']?.body);
    expect(xProblems.notSummoned).toEqual(fixture['POST /2/tweets 403 reply not summoned (self-serve tiers, since 2026-02-23)']?.body);
    expect(xProblems.tooLong).toEqual(fixture['POST /2/tweets 400 too long']?.body);
    expect(xProblems.tooManyRequests).toEqual(fixture['ANY 429']?.body);
    const ops = JSON.parse(readFileSync(new URL('../fixtures/x/x-ops-responses.json', import.meta.url), 'utf8')) as Record<
      string,
      { body: unknown }
    >;
    expect(xProblems.usageCapped).toEqual(ops['ANY 429 usage capped']?.body);
    // Every problem body of the ops fixture is an RFC 7807 problem as X's OpenAPI Problem schema requires.
    for (const [name, entry] of Object.entries(ops).filter(([key]) => !key.startsWith('_') && !key.includes('oauth2'))) {
      expect(entry.body, name).toMatchObject({ type: expect.any(String), title: expect.any(String) });
    }
  });

  it('answers 201 posts in the fixture’s shape, with rate-limit headers on every answer', async () => {
    const signedFetch = createXPoster({ ...posterCreds, apiBaseUrl: fake.url });
    await signedFetch.postReply(reply('shape check'));
    const unauthenticated = await fetch(`${fake.url}/2/tweets`, { method: 'POST', body: '{}' });
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toEqual(xProblems.unauthorized);

    // A raw request with an OAuth header signed by the library is easiest to get through the client; check headers on
    // a scripted answer instead, which the fake decorates like any other.
    fake.failNext(1, xResponses.duplicateContent());
    const withHeaders = await fetch(`${fake.url}/2/tweets`, { method: 'POST', body: '{}' });
    expect(withHeaders.status).toBe(403);
    expect(withHeaders.headers.get('x-rate-limit-limit')).toBe('100');
    expect(withHeaders.headers.get('x-user-limit-24hour-limit')).toBe('2400');
    expect(Number(withHeaders.headers.get('x-rate-limit-reset'))).toBe(Math.ceil((clock + 15 * 60_000) / 1000));
  });
});

describe('createXOpsClient against the fake X API', () => {
  let fake: FakeXServer;
  let receiver: http.Server;
  let receiverUrl: string;
  let crcOk = true;

  beforeAll(async () => {
    fake = await startFake({ maxWebhooks: 1 });
    // A stand-in for the bridge's GET /x/webhook CRC answer.
    receiver = http.createServer((req, res) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('crc_token') ?? '';
      const secret = crcOk ? creds.consumerSecret : 'wrong-secret';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ response_token: 'sha256=' + createHmac('sha256', secret).update(token).digest('base64') }));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/x/webhook`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('registers, lists, re-validates, replays, subscribes and deletes', async () => {
    clock = START;
    const ops = createXOpsClient({ ...posterCreds, apiBaseUrl: fake.url, timeoutMs: 2_000 });

    const webhook = await ops.registerWebhook(receiverUrl);
    expect(webhook).toMatchObject({ url: receiverUrl, valid: true, id: expect.stringMatching(/^\d+$/) });
    expect(await ops.listWebhooks()).toEqual([webhook]);
    await ops.revalidateWebhook(webhook.id);

    const { jobId } = await ops.replayWebhook({ webhookId: webhook.id, from: new Date(START - 3600_000), to: new Date(START - 600_000) });
    expect(fake.replayJobs).toEqual([
      expect.objectContaining({ job_id: jobId, webhook_id: webhook.id, from_date: '202611161100', to_date: '202611161150' }),
    ]);

    const subscription = await ops.subscribe({ eventType: 'dm.received', userId: '1602999888777666555', webhookId: webhook.id, tag: 'demo' });
    expect(subscription).toMatchObject({ eventType: 'dm.received', filter: { user_id: '1602999888777666555' }, webhookId: webhook.id, tag: 'demo' });
    expect(await ops.listSubscriptions()).toEqual([subscription]);
    await ops.unsubscribe(subscription.subscriptionId);
    expect(await ops.listSubscriptions()).toEqual([]);

    await ops.deleteWebhook(webhook.id);
    expect(await ops.listWebhooks()).toEqual([]);
  });

  it('signs the Bearer-only calls with the app-only token, asked for once, and the others as the bot', async () => {
    clock = START;
    fake.reset();
    const ops = createXOpsClient({ ...posterCreds, apiBaseUrl: fake.url, timeoutMs: 2_000 });
    const webhook = await ops.registerWebhook(receiverUrl);
    await ops.listWebhooks();
    await ops.replayWebhook({ webhookId: webhook.id, from: new Date(START - 3600_000), to: new Date(START - 600_000) });
    const subscription = await ops.subscribe({ eventType: 'dm.received', userId: '1602999888777666555', webhookId: webhook.id });
    await ops.listSubscriptions();
    await ops.unsubscribe(subscription.subscriptionId);
    await ops.revalidateWebhook(webhook.id);
    await ops.deleteWebhook(webhook.id);

    const scheme = (r: { headers: http.IncomingHttpHeaders }) => String(r.headers.authorization).split(' ')[0];
    expect(fake.requests.map((r) => `${r.method} ${r.path.replace(/\d{5,}/g, ':id')} ${scheme(r)}`)).toEqual([
      'POST /2/webhooks OAuth',
      'POST /oauth2/token Basic',
      'GET /2/webhooks Bearer',
      'POST /2/webhooks/replay Bearer',
      'POST /2/activity/subscriptions OAuth',
      'GET /2/activity/subscriptions OAuth',
      'DELETE /2/activity/subscriptions/:id Bearer',
      'PUT /2/webhooks/:id OAuth',
      'DELETE /2/webhooks/:id OAuth',
    ]);
    expect(fake.requestsTo('GET', '/2/webhooks')[0]?.headers.authorization).toBe(`Bearer ${fake.appBearerToken}`);
  });

  it('maps X’s 403 Unsupported Authentication and a refused token request to unauthorized, and asks again next time', async () => {
    fake.reset();
    const wrongSecret = createXOpsClient({ ...posterCreds, apiSecret: 'not-the-consumer-secret', apiBaseUrl: fake.url, timeoutMs: 2_000 });
    const refused = await permanent(() => wrongSecret.listWebhooks());
    expect(refused).toMatchObject({ code: 'unauthorized', message: 'Unable to verify your credentials' });
    expect(refused.message).not.toContain('not-the-consumer-secret');
    await permanent(() => wrongSecret.listWebhooks());
    expect(fake.requestsTo('POST', '/oauth2/token')).toHaveLength(2);
    expect(fake.requestsTo('GET', '/2/webhooks')).toEqual([]);

    // X's answer when a Bearer-only endpoint is signed as the user, as the fake gives it.
    fake.failNext(1, { status: 403, body: xProblems.unsupportedAuthentication });
    const ops = createXOpsClient({ ...posterCreds, apiBaseUrl: fake.url, timeoutMs: 2_000 });
    const unsupported = await permanent(() => ops.listWebhooks());
    expect(unsupported).toMatchObject({ code: 'unauthorized', message: xProblems.unsupportedAuthentication.detail });
  });

  it('takes a created subscription in each shape X documents: data.subscription, data, and a one-element data array', async () => {
    fake.reset();
    const ops = createXOpsClient({ ...posterCreds, apiBaseUrl: fake.url, timeoutMs: 2_000 });
    const subscription = {
      subscription_id: '1976325569252868096',
      event_type: 'post.mention.create',
      filter: { user_id: '1602999888777666555' },
      created_at: '2025-10-09T16:35:08.000Z',
      updated_at: '2025-10-09T16:35:08.000Z',
      tag: 'support-bridge',
      webhook_id: '1976325569252868099',
    };
    const expected = {
      subscriptionId: subscription.subscription_id,
      eventType: 'post.mention.create',
      filter: { user_id: '1602999888777666555' },
      webhookId: subscription.webhook_id,
      tag: 'support-bridge',
    };
    for (const body of [{ data: { subscription } }, { data: subscription }, { data: [subscription], meta: { total_subscriptions: 1 } }]) {
      fake.failNext(1, { status: 200, body }, { method: 'POST', path: '/2/activity/subscriptions' });
      const created = await ops.subscribe({ eventType: 'post.mention.create', userId: '1602999888777666555' });
      expect(created).toEqual(expected);
    }
  });

  it('reports X’s reason when the CRC check fails, and registers nothing', async () => {
    const ops = createXOpsClient({ ...posterCreds, apiBaseUrl: fake.url, timeoutMs: 5_000 });
    crcOk = false;
    try {
      const error = await permanent(() => ops.registerWebhook(receiverUrl));
      expect(error.code).toBe('rejected');
      expect(error.message).toContain('CrcValidationFailed');
      expect(await ops.listWebhooks()).toEqual([]);
    } finally {
      crcOk = true;
    }
  });
});

describe('DryRunPoster', () => {
  it('sends nothing, records what it would have sent, and labels its ids', async () => {
    const logged: unknown[] = [];
    const poster = new DryRunPoster({ log: (record) => logged.push(record), now: () => START });

    const post = await poster.postReply(reply('would post'));
    const message = await poster.sendDm(dm('would DM'));

    expect(poster.dryRun).toBe(true);
    expect(post.dryRun).toBe(true);
    expect(isDryRunXId(post.xId)).toBe(true);
    expect(isDryRunXId(message.xId)).toBe(true);
    expect(post.xId).not.toBe(message.xId);
    expect(isDryRunXId('1990000000000000001')).toBe(false);
    expect(poster.sent).toEqual([
      expect.objectContaining({ kind: 'post', text: 'would post', inReplyToXId: '1990000000000000001', xId: post.xId }),
      expect.objectContaining({ kind: 'dm', text: 'would DM', participantXUserId: '1357924680', xId: message.xId }),
    ]);
    expect(logged).toEqual(poster.sent);
  });

  it('finds what it recorded, for the same target and text only', async () => {
    const poster = new DryRunPoster({ log: () => undefined, now: () => START });
    const { xId } = await poster.postReply(reply('recorded'));
    const since = new Date(START).toISOString();
    const target = { kind: 'post', inReplyToXId: '1990000000000000001' } as const;
    expect(await poster.findPosted({ target, text: 'recorded', since })).toEqual({ xId });
    expect(await poster.findPosted({ target, text: 'other', since })).toBeUndefined();
    expect(await poster.findPosted({ target: { kind: 'dm', participantXUserId: '1' }, text: 'recorded', since })).toBeUndefined();
  });

  it('is what createReplyPoster gives when the bot has no access token, and the real client otherwise', () => {
    const base = { apiKey: 'k', apiSecret: 's', apiBaseUrl: 'http://127.0.0.1:9', botUserId: '1602999888777666555' };
    expect(createReplyPoster(base)).toBeInstanceOf(DryRunPoster);
    expect(createReplyPoster({ ...base, accessToken: 't' })).toBeInstanceOf(DryRunPoster);
    expect(createReplyPoster({ ...base, accessToken: 't', accessTokenSecret: 'ts' })).not.toBeInstanceOf(DryRunPoster);
  });
});
