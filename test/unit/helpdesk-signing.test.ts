// Contract §4: Standard Webhooks signatures, checked by the reference library rather than by our own code.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signEvent, webhookHeaders } from '../../shared/helpdesk/signing';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const body = JSON.stringify({ type: 'ticket.created', timestamp: '2025-03-14T09:26:53.589Z', data: { text: 'héllo 👋 "quoted"' } });

describe('signEvent', () => {
  it('matches the Standard Webhooks reference implementation', () => {
    const now = new Date();
    const headers = webhookHeaders(secret, 'evt_mn-1-1_1', body, now);
    expect(headers['webhook-id']).toBe('evt_mn-1-1_1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(now.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('evt_mn-1-1_1', now, body));
  });

  it('signs the spec\'s example', () => {
    // From the Standard Webhooks spec's reference test vectors.
    const specSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const specBody = '{"test": 2432232314}';
    expect(signEvent(specSecret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, specBody)).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('fails verification with the wrong secret', () => {
    const headers = webhookHeaders(secret, 'evt_mn-1-1_1', body, new Date());
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    expect(() => new Webhook(other).verify(body, headers)).toThrow(/No matching signature/);
  });

  it('fails verification when one byte of the body changes', () => {
    const headers = webhookHeaders(secret, 'evt_mn-1-1_1', body, new Date());
    expect(() => new Webhook(secret).verify(body.replace('héllo', 'hello'), headers)).toThrow(/No matching signature/);
  });

  it('signs the id and the timestamp too, so neither can be swapped', () => {
    const now = new Date();
    const headers = webhookHeaders(secret, 'evt_mn-1-1_1', body, now);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'evt_mn-1-1_2' })).toThrow();
    const later = String(Number(headers['webhook-timestamp']) + 1);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-timestamp': later })).toThrow();
  });

  it('keys the HMAC with the decoded secret bytes, not the text', () => {
    const raw = randomBytes(24);
    const s = `whsec_${raw.toString('base64')}`;
    const headers = webhookHeaders(s, 'evt_x_1', body, new Date());
    expect(() => new Webhook(raw, { format: 'raw' }).verify(body, headers)).not.toThrow();
  });
});
