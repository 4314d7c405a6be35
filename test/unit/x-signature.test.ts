// X webhook cryptography: the CRC answer (contract §2, GET /x/webhook) and the POST signature check.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crcResponseToken,
  isValidCrcToken,
  signWebhookBody,
  verifyWebhookSignature,
} from '../../shared/x/signature';

const fixtureBytes = readFileSync(fileURLToPath(new URL('../fixtures/x/aaa-tweet-create-mention.json', import.meta.url)));
const FIXTURE_SECRET = 'test_consumer_secret';
const FIXTURE_SIGNATURE = 'sha256=96GklUUYbeWUFhNmE1FIT05pklsq0/yV7BpoG5QBPQY=';

describe('CRC challenge', () => {
  it("answers X's documented vector", () => {
    expect(crcResponseToken('my_consumer_secret', 'challenge_string')).toBe(
      'sha256=xHgZcz09m35qwbyhR9BRzhnX8yXbAZpOn2dqCPp6Enw=',
    );
  });

  it('depends on the secret and the token', () => {
    const base = crcResponseToken('my_consumer_secret', 'challenge_string');
    expect(crcResponseToken('other_secret', 'challenge_string')).not.toBe(base);
    expect(crcResponseToken('my_consumer_secret', 'challenge_strinG')).not.toBe(base);
  });

  it.each([
    ['a single character', 'a'],
    ['256 characters', 'x'.repeat(256)],
    ['every printable ASCII character but space', Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i)).join('')],
    ['a base64-looking token', 'OTJlNDRlZDctYmFlYi00ZmM1LTkxNzktNTk2YjRmMDQ5ZTZk+/=='],
  ])('accepts %s', (_label, token) => {
    expect(isValidCrcToken(token)).toBe(true);
  });

  it.each([
    ['a missing token', undefined],
    ['null', null],
    ['an empty token', ''],
    ['257 characters', 'x'.repeat(257)],
    ['a space (a query string decoded from a raw +)', 'abc def'],
    ['only a space', ' '],
    ['a tab', 'abc\tdef'],
    ['a newline', 'abc\n'],
    ['DEL', 'abc\x7f'],
    ['a non-ASCII letter', 'challengé'],
    ['an emoji', 'token👋'],
    ['a repeated query parameter (array)', ['a', 'b']],
    ['a number', 12345],
  ])('refuses %s', (_label, token) => {
    expect(isValidCrcToken(token)).toBe(false);
  });
});

describe('webhook signature', () => {
  it('signs the exact bytes of the fixture to the documented vector', () => {
    expect(signWebhookBody(FIXTURE_SECRET, fixtureBytes)).toBe(FIXTURE_SIGNATURE);
  });

  it('signs a string body as its UTF-8 bytes', () => {
    const text = '{"text":"Hi 👋 &amp;"}';
    expect(signWebhookBody(FIXTURE_SECRET, text)).toBe(signWebhookBody(FIXTURE_SECRET, Buffer.from(text, 'utf8')));
  });

  it('accepts the signature X sends for the exact bytes', () => {
    expect(verifyWebhookSignature(FIXTURE_SECRET, fixtureBytes, FIXTURE_SIGNATURE)).toBe(true);
  });

  it('accepts surrounding whitespace a proxy may leave on the header', () => {
    expect(verifyWebhookSignature(FIXTURE_SECRET, fixtureBytes, ` ${FIXTURE_SIGNATURE} `)).toBe(true);
  });

  it('refuses a body changed by one byte (for example re-serialised JSON)', () => {
    const changed = Buffer.from(fixtureBytes);
    const at = changed.length - 2;
    changed.writeUInt8(changed.readUInt8(at) ^ 0x01, at);
    expect(verifyWebhookSignature(FIXTURE_SECRET, changed, FIXTURE_SIGNATURE)).toBe(false);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(fixtureBytes.toString('utf8'))));
    expect(verifyWebhookSignature(FIXTURE_SECRET, reserialised, FIXTURE_SIGNATURE)).toBe(false);
  });

  it('refuses a signature made with another secret', () => {
    const forged = signWebhookBody('attacker_secret', fixtureBytes);
    expect(verifyWebhookSignature(FIXTURE_SECRET, fixtureBytes, forged)).toBe(false);
  });

  it('refuses everything when the secret is empty (anyone could sign with it)', () => {
    expect(verifyWebhookSignature('', fixtureBytes, signWebhookBody('', fixtureBytes))).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['only the prefix', 'sha256='],
    ['without the prefix', FIXTURE_SIGNATURE.slice('sha256='.length)],
    ['another algorithm prefix', FIXTURE_SIGNATURE.replace('sha256=', 'sha1=')],
    ['an upper-case prefix', FIXTURE_SIGNATURE.replace('sha256=', 'SHA256=')],
    ['hex instead of base64', `sha256=${Buffer.from(FIXTURE_SIGNATURE.slice(7), 'base64').toString('hex')}`],
    ['a truncated digest', FIXTURE_SIGNATURE.slice(0, -4)],
    ['a digest with extra bytes', `${FIXTURE_SIGNATURE.slice(0, -1)}AAAA`],
    ['base64url characters', FIXTURE_SIGNATURE.replace(/\//g, '_')],
    ['two signatures', `${FIXTURE_SIGNATURE},${FIXTURE_SIGNATURE}`],
    ['a non-canonical last character', FIXTURE_SIGNATURE.replace('Y=', 'Z=')],
  ])('refuses a header that is %s', (_label, header) => {
    expect(verifyWebhookSignature(FIXTURE_SECRET, fixtureBytes, header)).toBe(false);
  });

  it('refuses a repeated header (Node gives it as an array)', () => {
    const header = [FIXTURE_SIGNATURE, FIXTURE_SIGNATURE] as unknown as string;
    expect(verifyWebhookSignature(FIXTURE_SECRET, fixtureBytes, header)).toBe(false);
  });

  it('refuses a digest that differs only in its first or only in its last byte', () => {
    const digest = Buffer.from(FIXTURE_SIGNATURE.slice(7), 'base64');
    for (const position of [0, digest.length - 1]) {
      const altered = Buffer.from(digest);
      altered.writeUInt8(altered.readUInt8(position) ^ 0x80, position);
      expect(verifyWebhookSignature(FIXTURE_SECRET, fixtureBytes, `sha256=${altered.toString('base64')}`)).toBe(false);
    }
  });

  it('accepts what it signs and nothing signed for other bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.uint8Array({ maxLength: 512 }), fc.string({ minLength: 1 }), (a, b, secret) => {
        const bodyA = Buffer.from(a);
        const bodyB = Buffer.from(b);
        const signature = signWebhookBody(secret, bodyA);
        expect(verifyWebhookSignature(secret, bodyA, signature)).toBe(true);
        expect(verifyWebhookSignature(secret, bodyB, signature)).toBe(bodyA.equals(bodyB));
      }),
    );
  });

  it('never throws, whatever the header (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (header) => {
        expect(typeof verifyWebhookSignature(FIXTURE_SECRET, fixtureBytes, header)).toBe('boolean');
        expect(verifyWebhookSignature(FIXTURE_SECRET, fixtureBytes, `sha256=${header}`)).toBe(false);
      }),
    );
  });
});
