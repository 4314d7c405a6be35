// X's reads without twitter-api-v2: the OAuth 1.0a signer (shared/x/oauth1.ts) against the published vectors of
// RFC 5849 and X's docs, and the signed-fetch reads (shared/x/x-read-client.ts) against the fake X API, which verifies
// every signature; X's answers map exactly as they do for a post made through twitter-api-v2 (one mapping,
// shared/x/x-answers.ts).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../shared/errors';
import { hmacSha1Signature, oauth1Header, signatureBaseString } from '../../shared/x/oauth1';
import { createXLookups, createXPoster, createXReadClient } from '../../shared/x/x-client';
import { FakeXServer, xProblems, xResponses, type ScriptedResponse } from '../support/fake-x-server';

describe('the OAuth 1.0a signer against published vectors', () => {
  // X's docs, resources/fundamentals/authentication/oauth-1-0a/creating-a-signature.mdx (xdevplatform/docs).
  const x = {
    apiKey: 'xvz1evFS4wEEPTGEFPHBog',
    apiSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
    accessToken: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
    accessTokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
  };
  const status: [string, string][] = [['status', 'Hello Ladies + Gentlemen, a signed OAuth request!']];
  const signing = { formParams: status, nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg', timestamp: 1318622958 };
  const signatureOf = (header: string) => decodeURIComponent(/oauth_signature="([^"]+)"/.exec(header)?.[1] ?? '');

  it("reproduces X's signature base string and signature byte for byte", () => {
    const base = signatureBaseString('POST', 'https://api.x.com/1.1/statuses/update.json?include_entities=true', [
      ['oauth_consumer_key', x.apiKey],
      ['oauth_nonce', signing.nonce],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', String(signing.timestamp)],
      ['oauth_token', x.accessToken],
      ['oauth_version', '1.0'],
      ...status,
    ]);
    expect(base).toBe(
      'POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521',
    );
    expect(hmacSha1Signature(base, x.apiSecret, x.accessTokenSecret)).toBe('Ls93hJiZbQ3akF3HF3x1Bz8/zU4=');
    // The header carries it, percent-encoded, with every oauth_* parameter.
    const header = oauth1Header('POST', 'https://api.x.com/1.1/statuses/update.json?include_entities=true', x, signing);
    expect(header).toMatch(/^OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", /);
    expect(header).toContain('oauth_signature="Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D"');
    // The same request on X's former host, the value the docs carried for years.
    expect(signatureOf(oauth1Header('POST', 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true', x, signing))).toBe(
      'hCtSmYh+iHYCEqBWrE7C7hYmtUk=',
    );
  });

  it("reproduces RFC 5849 §3.4.1.1's base string: repeated keys, encoded query values, an empty value, a form body", () => {
    const base = signatureBaseString('POST', 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b', [
      ['oauth_consumer_key', '9djdj82h48djs9d2'],
      ['oauth_token', 'kkk9d7dh3k39sjv7'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131201'],
      ['oauth_nonce', '7d8f3e4a'],
      ['c2', ''],
      ['a3', '2 q'],
    ]);
    expect(base).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });
});

const creds = {
  consumerKey: 'test-consumer-key',
  consumerSecret: 'test-consumer-secret',
  accessToken: '1602999888777666555-testAccessToken',
  accessTokenSecret: 'test-access-token-secret',
};
const account = { apiKey: creds.consumerKey, apiSecret: creds.consumerSecret, accessToken: creds.accessToken, accessTokenSecret: creds.accessTokenSecret };
const SECRETS = Object.values(account);
const START = Date.UTC(2026, 10, 16, 12, 0, 0);

async function failure(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    for (const secret of SECRETS) expect((error as Error).message).not.toContain(secret);
    return error as Error;
  }
  throw new Error('expected a failure, got success');
}

describe('reads signed without twitter-api-v2, against the fake X API (which checks every signature)', () => {
  const fake = new FakeXServer({ credentials: creds, now: () => START });
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it('looks users and posts up as the bot account', async () => {
    fake.addUser({ id: '2244994945', username: 'XDevelopers', name: 'Developers' });
    fake.addPost({ id: '1990000000000000001', text: 'Where is my order?', authorId: '2244994945' });
    const lookups = createXLookups({ ...account, apiBaseUrl: fake.url });
    expect(await lookups.users(['2244994945', '404'])).toMatchObject({
      users: [{ xUserId: '2244994945', username: 'XDevelopers', name: 'Developers' }],
      notFound: ['404'],
    });
    const posts = await lookups.posts(['1990000000000000001']);
    expect(posts.posts).toEqual([{ xId: '1990000000000000001', text: 'Where is my order?', authorId: '2244994945' }]);
    const [request] = fake.requestsTo('GET', '/2/users');
    expect(request?.headers.authorization).toMatch(/^OAuth .*oauth_signature_method="HMAC-SHA1"/);
  });

  it("signs a query holding the characters RFC 5849 encodes and encodeURIComponent does not (!'()*), spaces and quotes", async () => {
    const read = createXReadClient({ ...account, apiBaseUrl: `${fake.url}/` });
    const query = '(refund OR "order #42*") -is:retweet lang:en!';
    const page = (await read.get('tweets/search/recent', { query, max_results: 10 })) as { meta?: unknown };
    expect(page.meta).toBeDefined();
    expect(fake.requestsTo('GET', '/2/tweets/search/recent')[0]?.query.query).toBe(query);
  });

  it('is unauthorized when X does not accept the signature', async () => {
    const wrong = createXLookups({ ...account, accessTokenSecret: 'not-the-secret', apiBaseUrl: fake.url });
    const error = await failure(() => wrong.users(['2244994945']));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'unauthorized' });
  });

  const reset = Math.floor(START / 1000) + 600;
  const answers: [string, ScriptedResponse, Record<string, unknown>][] = [
    ['429 with its reset', xResponses.rateLimited({ reset }), { name: 'RetryableError', notBefore: reset * 1000 }],
    ['429 from the exhausted 24-hour window', xResponses.rateLimited({ reset, dailyReset: reset + 80_000 }), { notBefore: (reset + 80_000) * 1000 }],
    ['401', xResponses.unauthorized(), { name: 'PermanentError', code: 'unauthorized' }],
    ['402 credits depleted', xResponses.creditsDepleted(), { name: 'PermanentError', code: 'credits_depleted' }],
    ['429 usage cap', xResponses.usageCapped(), { name: 'PermanentError', code: 'usage_capped' }],
    ['403 usage cap', { status: 403, body: xProblems.usageCapped }, { code: 'usage_capped' }],
    ['503', xResponses.serviceUnavailable(), { name: 'RetryableError', notBefore: undefined }],
    ['500 without a body', { status: 500 }, { name: 'RetryableError' }],
    ['404', { status: 404, body: xProblems.notFound }, { name: 'PermanentError', code: 'rejected' }],
  ];
  it.each(answers)('maps %s as a post through twitter-api-v2 maps it: same class, code, words and reset', async (_, answer, expected) => {
    const lookups = createXLookups({ ...account, apiBaseUrl: fake.url });
    const poster = createXPoster({ ...account, apiBaseUrl: fake.url });
    fake.failNext(1, answer);
    const read = await failure(() => lookups.users(['2244994945']));
    fake.failNext(1, answer);
    const posted = await failure(() => poster.postReply({ text: 'Hello', inReplyToXId: '1990000000000000001' }));
    expect(read).toMatchObject(expected);
    expect(read).toBeInstanceOf(expected.name === 'RetryableError' ? RetryableError : expected.name === 'PermanentError' ? PermanentError : Error);
    const shape = (e: Error) => ({ name: e.name, message: e.message, code: (e as PermanentError).code, notBefore: (e as RetryableError).notBefore });
    expect(shape(read)).toEqual(shape(posted));
  });

  it('gives up within timeoutMs on a hang, and retries a reset connection and a refused one', async () => {
    const lookups = createXLookups({ ...account, apiBaseUrl: fake.url, timeoutMs: 300 });
    fake.failNext(1, xResponses.hang());
    expect(await failure(() => lookups.users(['2244994945']))).toMatchObject({ name: 'RetryableError', message: expect.stringMatching(/in time/) });
    fake.failNext(1, xResponses.connectionReset());
    expect(await failure(() => lookups.users(['2244994945']))).toBeInstanceOf(RetryableError);
    const closed = createXLookups({ ...account, apiBaseUrl: 'http://127.0.0.1:9', timeoutMs: 300 });
    expect(await failure(() => closed.users(['2244994945']))).toMatchObject({ name: 'RetryableError', message: expect.stringMatching(/could not be reached/) });
  });

  it('refuses a non-numeric id before anything reaches X', async () => {
    const lookups = createXLookups({ ...account, apiBaseUrl: fake.url });
    expect(await failure(() => lookups.users(['12/../34']))).toMatchObject({ code: 'rejected' });
    expect(fake.requestsTo('GET', '/2/users')).toHaveLength(0);
  });
});
